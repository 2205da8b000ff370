"""Builds side by side on one worker sharing its buildout caches (issue 14).

One master, one worker with ``max_builds = 2``, two buildouts ``a`` and
``b`` of the same recipe egg. The egg comes from a local ``find-links``
folder; its recipe sleeps a few seconds in ``install`` and ``update`` so
the buildout steps of two builds last long enough to see whether they run
at the same time. ``a`` and ``b`` are forced together twice:

- cold: both need the egg the worker does not have yet; both succeed and
  the egg is got (unpacked into the egg directory) by one of them only;
- warm: nothing to write in the caches, so neither waits for the other:
  their buildout steps overlap in time (they did not, one after the other,
  with the former per-worker exclusive lock).

Making the builders' venvs is not what this module tests (test_bootstrap.py
does): one venv is bootstrapped before the master starts, with the shipped
bootstrap script and the worker's caches, and copied for the second
builder; the builds' bootstrap steps find them whole and reuse them. The
egg caches stay cold: the recipe egg is in none of them.

Then the worker's wrapper script is killed while it downloads an egg into
the download cache, and the next run must clean the half-written archive
that plain zc.buildout would try to unpack forever.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import os
import shutil
import signal
import subprocess
import textwrap
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from anybox_buildbot.buildoutspec import DEFAULT_BUILDOUT_VERSION
from anybox_buildbot.factory import SCRIPTS_DIR
from localrun import Master, Rest, running_master, wait_for

BUILD_TIMEOUT = 300
SLEEP = 3   # seconds the recipe spends in install() and update()


def make_wheel(folder: Path, name: str, sleep: float, padding: int = 0) -> Path:
    """A pure-Python wheel whose module is a buildout recipe sleeping ``sleep``.

    ``padding`` bytes of incompressible data make it big enough to be cut
    half-way by a test."""
    dist = f"{name}-1.0.dist-info"
    files: dict[str, bytes] = {
        f"{name}.py": textwrap.dedent(f"""\
            import time


            class Recipe:
                def __init__(self, buildout, name, options):
                    pass

                def install(self):
                    time.sleep({sleep})
                    print("{name} installed", flush=True)
                    return ()

                def update(self):
                    start = time.time()
                    time.sleep({sleep})
                    print("{name} updated", start, time.time(), flush=True)
            """).encode(),
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                         b"Tag: py3-none-any\n",
        f"{dist}/entry_points.txt": f"[zc.buildout]\ndefault = {name}:Recipe\n".encode(),
        f"{dist}/top_level.txt": f"{name}\n".encode(),
    }
    if padding:
        files[f"{name}_data.bin"] = os.urandom(padding)
    record = [f"{path},sha256={_digest(data)},{len(data)}" for path, data in files.items()]
    record.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = folder / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def buildout_cfg(find_links: str, recipe: str) -> str:
    return textwrap.dedent(f"""\
        [buildout]
        parts = app
        newest = false
        find-links = {find_links}
        index = http://127.0.0.1:9/simple

        [app]
        recipe = {recipe}
        """)


@dataclass
class Setup:
    root: Path
    master: Master
    rest: Rest
    worker_dir: Path
    cold: dict[str, dict]
    warm: dict[str, dict]

    def steps(self, build: dict) -> dict[str, dict]:
        return {s["name"]: s for s in self.rest.steps(build["buildid"])}

    def log(self, build: dict, step: str) -> str:
        return self.rest.step_log(build["buildid"], step)


def together(rest: Rest, names: tuple[str, ...]) -> dict[str, dict]:
    """Force the builders at once; their finished builds by builder name."""
    requests = rest.force(list(names))
    return {name: rest.wait_build(brid, timeout=BUILD_TIMEOUT) for name, brid in requests.items()}


def seed_venvs(worker_dir: Path, builders: tuple[str, ...]) -> None:
    """One bootstrap, as the build's step runs it (``python3`` of PATH, the
    worker's caches), then a copy per other builder. Scripts in ``venv/bin``
    keep the first one's path in their first line; builds run the venv's
    ``python`` and zc.buildout from it, never those scripts."""
    first = worker_dir / builders[0] / "build"
    first.mkdir(parents=True)
    done = subprocess.run(
        ["python3", str(Path(SCRIPTS_DIR, "bootstrap.py")), "--version",
         DEFAULT_BUILDOUT_VERSION, "--venv", "venv", "--cache",
         str(worker_dir / "buildout-caches")], cwd=first, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    for other in builders[1:]:
        (worker_dir / other / "build").mkdir(parents=True)
        shutil.copytree(first / "venv", worker_dir / other / "build" / "venv", symlinks=True)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("cachelock")
    links = root / "links"
    links.mkdir()
    make_wheel(links, "sleepyrecipe", SLEEP)
    master_dir = root / "master"
    (master_dir / "buildouts").mkdir(parents=True)
    (master_dir / "buildouts" / "app.cfg").write_text(buildout_cfg(str(links), "sleepyrecipe"))
    (master_dir / "buildouts" / "MANIFEST.cfg").write_text(
        "[DEFAULT]\nbuildout = standalone app.cfg\npost-buildout-steps =\n\n[a]\n[b]\n")
    (master_dir / "workers.cfg").write_text("[w1]\npassword = lock-pass\nmax_builds = 2\n")
    seed_venvs(root / "w1", ("a", "b"))
    with running_master(master_dir, {"w1": "lock-pass"}) as master:
        cold = together(master.rest, ("a", "b"))
        warm = together(master.rest, ("a", "b"))
        yield Setup(root, master, master.rest, master.workers["w1"].basedir, cold, warm)


def test_two_builds_needing_a_new_egg_both_succeed_and_it_is_got_once(setup: Setup) -> None:
    assert [b["results"] for b in setup.cold.values()] == [0, 0], setup.cold
    for build in setup.cold.values():   # the seeded venvs were taken as they are
        assert "already installed" in setup.log(build, "bootstrap")
    logs = [setup.log(build, "buildout") for build in setup.cold.values()]
    assert sum("Got sleepyrecipe 1.0." in log for log in logs) == 1, logs
    assert all("sleepyrecipe installed" in log for log in logs)
    assert not any("unexpectedly already exists" in log for log in logs)
    eggs = setup.worker_dir / "buildout-caches" / "eggs"
    assert len([p for p in eggs.rglob("sleepyrecipe-1.0*.egg")]) == 1
    assert not (setup.worker_dir / "buildout-caches" / ".anybox-writing").exists()


def test_warm_builds_run_their_buildout_steps_at_the_same_time(setup: Setup) -> None:
    """The recipe prints when its update started and ended; a step's own
    timestamps would not do (a step waiting for a Buildbot lock has started)."""
    assert [b["results"] for b in setup.warm.values()] == [0, 0], setup.warm
    spans = []
    for build in setup.warm.values():
        log = setup.log(build, "buildout")
        assert "write lock" not in log
        line = next(x for x in log.splitlines() if "sleepyrecipe updated" in x)
        start, end = (float(word) for word in line.split()[-2:])
        spans.append((start, end))
    print("warm buildout runs", spans)
    (a_start, a_end), (b_start, b_end) = spans
    assert a_start < b_end and b_start < a_end, spans


class StallingServer(http.server.ThreadingHTTPServer):
    """Serves a find-links page and a wheel; sends half of the wheel and
    stalls until ``release`` is set (then serves it whole)."""

    def __init__(self, wheel: Path) -> None:
        self.wheel = wheel.read_bytes()
        self.name = wheel.name
        self.half_sent = threading.Event()
        self.release = threading.Event()
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: StallingServer

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        server = self.server
        if not self.path.endswith(".whl"):
            body = f'<a href="{server.name}">{server.name}</a>'.encode()
            self._send(body, len(body), "text/html")   # setuptools reads html pages only
            return
        if server.release.is_set():
            self._send(server.wheel, len(server.wheel))
            return
        half = len(server.wheel) // 2
        self._send(server.wheel[:half], len(server.wheel))
        server.half_sent.set()
        server.release.wait(60)

    def _send(self, body: bytes, length: int, kind: str = "application/octet-stream") -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()


def test_a_build_killed_while_downloading_does_not_poison_the_cache(setup: Setup) -> None:
    """The worker's wrapper, run as the buildout step runs it, killed while
    it writes an archive into the download cache; the next run recovers."""
    venv = setup.worker_dir / "a" / "build" / "venv"
    folder = setup.root / "killed"
    (folder / "links").mkdir(parents=True)
    wheel = make_wheel(folder / "links", "killedrecipe", 0, padding=400_000)
    server = StallingServer(wheel)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        build = folder / "build"
        build.mkdir()
        (build / "buildout.cfg").write_text(
            buildout_cfg(f"http://127.0.0.1:{server.server_address[1]}/", "killedrecipe"))
        (build / "anybox-buildout.py").write_bytes(Path(SCRIPTS_DIR, "buildout.py").read_bytes())
        caches = folder / "caches"
        buildout = [str(venv / "bin" / "buildout"), "-c", "buildout.cfg",
                    f"buildout:eggs-directory={caches}/eggs",
                    f"buildout:download-cache={caches}/downloads"]
        wrapped = [str(venv / "bin" / "python"), "anybox-buildout.py", "--caches", str(caches),
                   "--", *buildout]
        first = subprocess.Popen(wrapped, cwd=build, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            assert server.half_sent.wait(60), "the download never started"
            archive = caches / "downloads" / "dist" / wheel.name
            wait_for(lambda: archive.exists() and archive.stat().st_size > 0, 30,
                     what="half of the archive on disk")
        finally:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
        assert 0 < archive.stat().st_size < wheel.stat().st_size   # the harm is real
        server.release.set()
        # plain zc.buildout (what the buildout step ran before) trusts the
        # truncated archive; it keeps failing as long as it is there
        plain = subprocess.run(buildout, cwd=build, capture_output=True, text=True)
        assert plain.returncode != 0
        again = subprocess.run(wrapped, cwd=build, capture_output=True, text=True)
        out = again.stdout + again.stderr
        assert again.returncode == 0, out
        assert "the last build writing the caches did not finish" in out
        assert f"removing downloads/dist/{wheel.name}" in out
        assert archive.read_bytes() == wheel.read_bytes()
        assert not (caches / ".anybox-writing").exists()
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
