"""What a pip user gets: the wheel and the sdist, and the tutorial run from them.

The sdist and the wheel are built once for the module by
``tools/build_dist.py`` (``python -m build``: no warning allowed, then
``twine check``). The wheel must hold the product only. Then the tutorial
(docs/tutorial.rst) is followed literally, in a temp dir, from a fresh
virtualenv where the wheel is installed (the source tree is nowhere on
``sys.path``): every ``$`` line of its ``console`` blocks is run in order
in one shell, so it makes the master with ``create-master``, checks it
with ``check`` and ``plan``, starts it with a worker, forces builds that
must succeed, and runs a throw-away PostgreSQL cluster of its own.

What the test changes in the text, and why:

- the wheel's placeholder path becomes the wheel just built;
- the ports 8010, 9989 and 5433 become free ports, so that the test runs
  beside anything else on the machine;
- a ``literalinclude`` with a ``:caption:`` naming a file of the tutorial
  directory is checked against that file (``create-master`` wrote it;
  random passwords aside); one preceded by the comment ``.. tutorial:
  write PATH`` is an edit the reader makes, which the test makes by
  writing the included file there.

As root (CI), the commands run as the ``postgres`` system user, as a
reader would run them as their own user: PostgreSQL refuses root.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "docs" / "tutorial.rst"
EXAMPLES_OUTPUT = ROOT / "examples" / "docs" / "output"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
WHEEL_NAME = f"anybox_buildbot-{VERSION}-py3-none-any.whl"
PLACEHOLDER = f"/path/to/{WHEEL_NAME}"
PORTS = ("8010", "9989", "5433")
TUTORIAL_USER = "postgres"        # exists wherever the PostgreSQL server is installed
SCRIPT_TIMEOUT = 1200


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sdist and the wheel; building them fails on any warning."""
    outdir = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "build_dist.py"), str(outdir)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {"sdist": next(outdir.glob("*.tar.gz")), "wheel": outdir / WHEEL_NAME}


def test_wheel_holds_the_product_only(dist: dict[str, Path]) -> None:
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        names = set(wheel.namelist())
        metadata = wheel.read(f"anybox_buildbot-{VERSION}.dist-info/METADATA").decode()
    assert not [n for n in names if re.search(r"localrun|examplerun|tests?/|examples/", n)]
    for template in ("master/master.cfg", "master/MANIFEST.cfg", "master/hello.cfg",
                     "master/workers.cfg", "workers.cfg.sample"):
        assert f"anybox_buildbot/templates/{template}" in names
    # the Fleet page's template and the scripts shipped to workers
    assert "anybox_buildbot/fleet/templates/fleet.html" in names
    assert "anybox_buildbot/worker_scripts/buildout.py" in names
    assert f"anybox_buildbot-{VERSION}.dist-info/licenses/LICENSE" in names
    assert "License-Expression: GPL-3.0-or-later" in metadata
    assert "Requires-Python: >=3.11" in metadata
    runtime = [line for line in metadata.splitlines()
               if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert sorted(runtime) == ["Requires-Dist: Flask>=3", "Requires-Dist: Twisted",
                               "Requires-Dist: buildbot-wsgi-dashboards==4.3.*",
                               "Requires-Dist: buildbot-www==4.3.*",
                               "Requires-Dist: buildbot==4.3.*"]


def test_sdist_has_docs_tests_and_examples(dist: dict[str, Path]) -> None:
    with tarfile.open(dist["sdist"]) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    for name in ("LICENSE", "README.rst", "Makefile", "docs/tutorial.rst",
                 "tests/support/localrun.py", "tests/e2e/test_wheel.py",
                 "examples/demo.py", "examples/docs/ci/master.cfg",
                 "anybox_buildbot/templates/workers.cfg.sample", "tools/build_dist.py"):
        assert name in names, name


# -- the tutorial ------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """One thing the reader does: ``run`` a command, ``write`` or ``check`` a file."""

    kind: str
    text: str
    path: str = ""


def _block(lines: list[str], start: int) -> tuple[list[str], int]:
    """The indented body after line ``start`` (a directive), and where it ends."""
    body, i = [], start + 1
    while i < len(lines) and (not lines[i].strip() or lines[i].startswith(" ")):
        body.append(lines[i])
        i += 1
    return body, i


def tutorial_steps(text: str) -> list[Step]:
    """The tutorial's commands and files, in reading order."""
    lines = text.splitlines()
    steps: list[Step] = []
    write_next: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(".. tutorial: write "):
            write_next = line.removeprefix(".. tutorial: write ").strip()
        if line.startswith(".. code-block:: console"):
            body, i = _block(lines, i)
            command = ""
            for raw in body:
                stripped = raw.strip()
                if command or stripped.startswith("$ "):
                    command += stripped.removeprefix("$ ") if not command else " " + stripped
                    if command.endswith("\\"):
                        command = command[:-1].rstrip()
                        continue
                    steps.append(Step("run", command))
                    command = ""
            continue
        if line.startswith(".. literalinclude:: "):
            source = (TUTORIAL.parent / line.split("::", 1)[1].strip()).resolve()
            body, i = _block(lines, i)
            options = dict(re.findall(r"^\s+:([\w-]+):\s*(.*)$", "\n".join(body), re.M))
            if write_next is not None:
                steps.append(Step("write", source.read_text(), write_next))
            elif "caption" in options and "lines" not in options:
                steps.append(Step("check", source.read_text(), options["caption"]))
            write_next = None
            continue
        i += 1
    return steps


def test_tutorial_steps_are_found() -> None:
    """The extraction itself: the commands a reader types, the one edit."""
    steps = tutorial_steps(TUTORIAL.read_text())
    commands = [s.text for s in steps if s.kind == "run"]
    assert commands[0] == "mkdir tutorial" and commands[1] == "cd tutorial"
    assert f"venv/bin/pip install {PLACEHOLDER} \"buildbot-worker==4.3.*\"" in commands
    assert any(c.startswith("venv/bin/anybox-buildbot create-master ci ") for c in commands)
    assert "venv/bin/anybox-buildbot check ci" in commands
    assert "venv/bin/anybox-buildbot plan ci" in commands
    assert "venv/bin/buildbot start ci" in commands
    assert sum(c.endswith(" --wait") for c in commands) == 2
    assert [s.path for s in steps if s.kind == "write"] == ["ci-next/buildouts/MANIFEST.cfg"]
    assert {s.path for s in steps if s.kind == "check"} >= {
        "ci/master.cfg", "ci/workers.cfg", "ci/buildouts/MANIFEST.cfg"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _script(steps: list[Step], replace: dict[str, str], checks: Path) -> str:
    def sub(text: str) -> str:
        for old, new in replace.items():
            text = text.replace(old, new)
        return text

    out = ["set -euo pipefail"]
    for step in steps:
        if step.kind == "run":
            command = sub(step.text)
            out += [f"echo {shlex.quote('$ ' + command)}", command]
        elif step.kind == "write":
            out += [f"echo {shlex.quote('(writes ' + step.path + ')')}",
                    f"cat > {shlex.quote(step.path)} <<'TUTORIAL_EOF'",
                    sub(step.text).rstrip("\n"), "TUTORIAL_EOF"]
        else:   # a copy, compared after the run: the file as the reader sees it now
            copy = shlex.quote(str(checks / step.path))
            out += [f"mkdir -p \"$(dirname {copy})\"", f"cp {shlex.quote(step.path)} {copy}"]
    return "\n".join(out) + "\n"


def _mask_password(text: str) -> str:
    return re.sub(r"(?m)^password = \S+$", "password = ...", text)


class TutorialRun:
    """A temp dir owned by the reader's user, and how to run commands as them."""

    def __init__(self) -> None:
        self.as_root = os.geteuid() == 0
        # Under /tmp, not pytest's tmp_path: the reader's user must reach it.
        self.base = Path(tempfile.mkdtemp(prefix="anybox-tutorial-"))
        self.base.chmod(0o755)
        self.dir = self.base / "tutorial"

    def env(self) -> dict[str, str]:
        if not self.as_root:
            drop = {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}
            return {k: v for k, v in os.environ.items() if k not in drop}
        return {"HOME": str(self.base), "USER": TUTORIAL_USER, "LOGNAME": TUTORIAL_USER,
                "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}

    def argv(self, *command: str) -> list[str]:
        if not self.as_root:
            return [*command]
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"   # found with our PATH
        return [runuser, "-u", TUTORIAL_USER, "--", *command]

    def give_away(self) -> None:
        if self.as_root:
            for path in [self.base, *self.base.rglob("*")]:
                shutil.chown(path, TUTORIAL_USER, TUTORIAL_USER)

    def run(self, script: str, timeout: float) -> subprocess.CompletedProcess[str]:
        path = self.base / "tutorial.sh"
        path.write_text(script)
        self.give_away()
        return subprocess.run(self.argv("bash", str(path)), cwd=self.base, env=self.env(),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)

    def stop_leftovers(self) -> None:
        """What a failed run left running: worker, master, PostgreSQL."""
        for pidfile in (self.dir / "laptop" / "twistd.pid", self.dir / "ci" / "twistd.pid"):
            try:
                pid = int(pidfile.read_text().strip())
            except (OSError, ValueError):
                continue
            _terminate(pid)
        pgdata = self.dir / "pgdata"
        if (pgdata / "postmaster.pid").exists():
            pg_ctl = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
            command = str(pg_ctl[-1]) if pg_ctl else "pg_ctl"
            subprocess.run(self.argv(command, "-D", str(pgdata), "-m", "immediate", "stop"),
                           env=self.env(), capture_output=True, timeout=60)

    def close(self) -> None:
        try:
            self.stop_leftovers()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


def _terminate(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.fixture
def tutorial_run() -> Iterator[TutorialRun]:
    run = TutorialRun()
    try:
        yield run
    finally:
        run.close()


def _step_lines(text: str) -> list[tuple[str, str, str]]:
    """(number, name, result) of each ``step`` line of ``force --wait``."""
    return re.findall(r"^  step (\d+) (\S+): (\w+)", text, re.M)


def _tails(run: TutorialRun) -> str:
    parts = []
    for log in (run.dir / "ci" / "twistd.log", run.dir / "laptop" / "twistd.log",
                run.dir / "pgdata.log"):
        if log.exists():
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
            parts.append(f"--- {log} (tail) ---\n{tail}")
    return "\n".join(parts)


def test_tutorial_from_the_wheel(dist: dict[str, Path], tutorial_run: TutorialRun) -> None:
    run = tutorial_run
    wheel = run.base / "wheel" / WHEEL_NAME
    wheel.parent.mkdir()
    shutil.copy(dist["wheel"], wheel)
    replace = {PLACEHOLDER: str(wheel), **{port: str(_free_port()) for port in PORTS}}
    steps = tutorial_steps(TUTORIAL.read_text())
    checks = run.base / "checks"
    proc = run.run(_script(steps, replace, checks), SCRIPT_TIMEOUT)
    output = proc.stdout
    assert proc.returncode == 0, f"the tutorial failed:\n{output[-6000:]}\n{_tails(run)}"

    for step in steps:
        if step.kind == "check":
            made = (checks / step.path).read_text()
            shown = step.text
            for old, new in replace.items():
                shown = shown.replace(old, new)
            assert _mask_password(made) == _mask_password(shown), f"{step.path} differs"
    assert re.search(r"^build 1 of hello: success", output, re.M), output
    # The tutorial quotes a captured `force --wait` of this build: its steps
    # (names and results, not times) are the ones this build had.
    forced = output.split(" force hello ", 1)[1].split("\nbuild 1 of hello:", 1)[0]
    captured = (EXAMPLES_OUTPUT / "force-wait.captured.txt").read_text()
    assert _step_lines(forced) == _step_lines(captured), forced
    assert re.search(r"^build 1 of hello-pg-pg15: success", output, re.M), output
    assert "ok: 1 builder for 1 buildout on 1 worker" in output
    assert "+ builder hello-pg-pg15" in output
    # The installed package is the wheel's, in the tutorial's virtualenv.
    where = subprocess.run(
        run.argv(str(run.dir / "venv" / "bin" / "python"), "-c",
                 "import anybox_buildbot, sys; print(anybox_buildbot.__file__); "
                 "print(any(p.startswith(sys.argv[1]) for p in sys.path))", str(ROOT)),
        cwd=run.base, env=run.env(), capture_output=True, text=True, timeout=60)
    location, leaked = where.stdout.split()
    assert location.startswith(f"{run.dir}/venv/lib/"), location
    assert leaked == "False"
