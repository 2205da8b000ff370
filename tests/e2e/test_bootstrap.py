"""The worker's bootstrap script rebuilds a broken venv by itself (issue 10).

Real venvs made by the real script with the real zc.buildout, run the way
the bootstrap step runs it. The module shares one worker cache: its first
run downloads zc.buildout into the wheel cache, every later run installs
from the cache, offline (``--no-index``). Each test breaks a venv the way a
full disk, a killed build or a careless admin would, then checks that the
next bootstrap notices, starts over and leaves a venv that works.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from anybox_buildbot.buildoutspec import DEFAULT_BUILDOUT_VERSION
from anybox_buildbot.factory import SCRIPTS_DIR

VERSION = DEFAULT_BUILDOUT_VERSION
MARKER = ".anybox-bootstrap-complete"


def bootstrap(builder: Path, cache: Path, version: str = VERSION,
              env: dict[str, str] | None = None,
              requires: tuple[str, ...] = (),
              python: str = sys.executable) -> subprocess.CompletedProcess:
    """Run the script as the bootstrap step does: in the build folder."""
    builder.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [python, f"{SCRIPTS_DIR}/bootstrap.py", "--version", version,
         "--venv", "venv", "--cache", str(cache), *(f"--require={r}" for r in requires)],
        cwd=builder, capture_output=True, text=True, timeout=600,
        env={**os.environ, **(env or {})})


def output(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def assert_works(venv: Path) -> None:
    """What the buildout step needs: a Python that runs, pip, zc.buildout."""
    pip = subprocess.run([venv / "bin" / "python", "-m", "pip", "--version"],
                         capture_output=True, text=True)
    assert pip.returncode == 0, pip.stderr
    probe = subprocess.run([venv / "bin" / "python", "-c",
                            "import importlib.metadata as m; print(m.version('zc.buildout'))"],
                           capture_output=True, text=True)
    assert probe.stdout.strip() == VERSION, probe.stderr
    assert (venv / "bin" / "buildout").exists()


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A worker cache holding the zc.buildout wheels (downloaded once)."""
    cache = tmp_path_factory.mktemp("worker") / "buildout-caches"
    first = bootstrap(tmp_path_factory.mktemp("first-builder"), cache)
    assert first.returncode == 0, output(first)
    return cache


@pytest.fixture
def built(tmp_path: Path, cache: Path) -> Path:
    """A builder folder whose venv a first bootstrap made (from the cache)."""
    result = bootstrap(tmp_path, cache)
    assert result.returncode == 0, output(result)
    assert "installed from the worker wheel cache" in result.stdout
    assert_works(tmp_path / "venv")
    return tmp_path


def test_a_working_venv_is_reused_as_is(built: Path, cache: Path) -> None:
    before = (built / "venv" / "pyvenv.cfg").stat().st_ino
    again = bootstrap(built, cache)
    assert again.returncode == 0, output(again)
    assert "already installed" in again.stdout
    assert "recreating" not in again.stdout
    assert (built / "venv" / "pyvenv.cfg").stat().st_ino == before


def test_venv_left_without_pip_is_rebuilt(tmp_path: Path, cache: Path) -> None:
    """The issue's case: the disk filled up while the venv was made, so it
    has an interpreter and no pip; every later build used to fail."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "venv"], cwd=tmp_path,
                   check=True)
    result = bootstrap(tmp_path, cache)
    assert result.returncode == 0, output(result)
    assert "recreating" in result.stdout
    assert_works(tmp_path / "venv")


def test_pip_removed_from_a_finished_venv_is_noticed(built: Path, cache: Path) -> None:
    site = next((built / "venv" / "lib").glob("python*/site-packages"))
    for path in site.glob("pip*"):
        shutil.rmtree(path)
    result = bootstrap(built, cache)
    assert result.returncode == 0, output(result)
    assert "recreating" in result.stdout and "pip" in result.stdout
    assert_works(built / "venv")


def test_interpreter_that_does_not_run_is_rebuilt(built: Path, cache: Path) -> None:
    """``bin/python`` is a symlink to the system Python: replace the link by an
    empty file (writing through it would break the system Python)."""
    python = built / "venv" / "bin" / "python"
    python.unlink()
    python.write_bytes(b"")
    python.chmod(0o755)
    result = bootstrap(built, cache)
    assert result.returncode == 0, output(result)
    assert "recreating" in result.stdout
    assert "Traceback" not in output(result)
    assert_works(built / "venv")


def test_venv_without_completion_marker_is_rebuilt(built: Path, cache: Path) -> None:
    """A bootstrap killed between making the venv and installing zc.buildout
    leaves no marker: whatever the venv looks like, it is started over."""
    (built / "venv" / MARKER).unlink()
    result = bootstrap(built, cache)
    assert result.returncode == 0, output(result)
    assert "recreating" in result.stdout
    assert (built / "venv" / MARKER).exists()
    assert_works(built / "venv")


def test_failed_install_leaves_no_marker_and_the_next_build_recovers(
        tmp_path: Path, cache: Path) -> None:
    """An install that fails (here: a version that exists nowhere, offline)
    fails the step, and the half-made venv is not trusted by the next run."""
    failed = bootstrap(tmp_path, cache, version="0.0.0", env={"PIP_NO_INDEX": "1"})
    assert failed.returncode != 0
    assert "Traceback" not in output(failed)
    assert not (tmp_path / "venv" / MARKER).exists()
    result = bootstrap(tmp_path, cache)
    assert result.returncode == 0, output(result)
    assert_works(tmp_path / "venv")


def installed(venv: Path, name: str) -> bool:
    probe = subprocess.run([venv / "bin" / "python", "-c",
                            f"import importlib.metadata as m; m.version({name!r})"],
                           capture_output=True, text=True)
    return probe.returncode == 0


def test_bootstrap_packages_follow_the_manifest_list(built: Path, cache: Path) -> None:
    """Issue 17: bootstrap-packages are installed with zc.buildout; the venv
    is reused while the list is the same and made again when it changes,
    so a package taken out of the list leaves the venv."""
    horse = ("horse-with-no-namespace",)
    added = bootstrap(built, cache, requires=horse)
    assert added.returncode == 0, output(added)
    assert "holds other packages than asked (none instead of horse-with-no-namespace)" \
        in added.stdout
    assert installed(built / "venv", "horse-with-no-namespace")
    assert "require: horse-with-no-namespace\n" in (built / "venv" / MARKER).read_text()
    inode = (built / "venv" / "pyvenv.cfg").stat().st_ino
    same = bootstrap(built, cache, requires=horse)
    assert "already installed in venv, horse-with-no-namespace" in same.stdout, output(same)
    assert (built / "venv" / "pyvenv.cfg").stat().st_ino == inode
    removed = bootstrap(built, cache, env={"PIP_NO_INDEX": "1"})   # from the cache alone
    assert removed.returncode == 0, output(removed)
    assert "recreating" in removed.stdout
    assert not installed(built / "venv", "horse-with-no-namespace")
    assert_works(built / "venv")


def python_3_12() -> str | None:
    """A Python 3.12 that runs (its venvs come without setuptools): on
    PATH, else one pyenv installed (its shim on PATH runs only the
    versions pyenv was told to use)."""
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    candidates = [shutil.which("python3.12"),
                  *map(str, sorted(pyenv.glob("versions/3.12*/bin/python3.12")))]
    for found in filter(None, candidates):
        try:
            out = subprocess.run([found, "-c", "import sys; print(sys.version_info[:2])"],
                                 capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.stdout.strip() == "(3, 12)":
            return found
    return None


PYTHON_3_12 = python_3_12()


def run_buildout(builder: Path) -> subprocess.CompletedProcess:
    """The venv's ``bin/buildout`` on a buildout with no part, offline."""
    (builder / "buildout.cfg").write_text("[buildout]\nparts =\n")
    return subprocess.run([builder / "venv" / "bin" / "buildout", "-N", "-c", "buildout.cfg"],
                          cwd=builder, capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(PYTHON_3_12 is None, reason="no python3.12 (PATH, pyenv): the bug needs a "
                    "venv made without setuptools, as Python 3.12 and later make them")
def test_zc_buildout_3_gets_a_setuptools_it_runs_with(tmp_path: Path) -> None:
    """zc.buildout 3.3 imports pkg_resources and setuptools.package_index
    and does not bound setuptools; a Python 3.12 venv has none, so pip used
    to install the newest, which ships neither, and ``bin/buildout`` died
    at import. The bootstrap adds ``setuptools<80``; a venv made before
    that (newest setuptools, marker without the bound) is made again."""
    assert PYTHON_3_12 is not None
    builder, cache = tmp_path / "builder", tmp_path / "buildout-caches"
    made = bootstrap(builder, cache, version="3.3", python=PYTHON_3_12)
    assert made.returncode == 0, output(made)
    ran = run_buildout(builder)
    assert ran.returncode == 0, output(ran)
    assert "downloading zc.buildout==3.3 setuptools<80 into the worker wheel cache" \
        in made.stdout   # both in one pip run
    assert "require: setuptools<80\n" in (builder / "venv" / MARKER).read_text()

    # the venv as the bootstrap made it before the bound existed
    python = builder / "venv" / "bin" / "python"
    newest = subprocess.run([python, "-m", "pip", "install", "-q", "--upgrade",
                             "setuptools>=81"], capture_output=True, text=True, timeout=300)
    assert newest.returncode == 0, output(newest)
    (builder / "venv" / MARKER).write_text("zc.buildout==3.3\npython 3.12\n")
    broken = run_buildout(builder)
    assert broken.returncode != 0 and "pkg_resources" in output(broken)

    repaired = bootstrap(builder, cache, version="3.3", python=PYTHON_3_12,
                         env={"PIP_NO_INDEX": "1"})   # from the wheel cache alone
    assert repaired.returncode == 0, output(repaired)
    assert "holds other packages than asked (none instead of setuptools<80); recreating" \
        in repaired.stdout
    ran = run_buildout(builder)
    assert ran.returncode == 0, output(ran)


@pytest.mark.skipif(PYTHON_3_12 is None, reason="no python3.12 (PATH, pyenv)")
def test_zc_buildout_2_on_python_3_12_is_refused_before_a_venv_is_made(tmp_path: Path) -> None:
    """zc.buildout 2 cannot run on Python 3.12 (distutils, setuptools < 52):
    the bootstrap says so, with both ways out, instead of making a venv
    whose ``bin/buildout`` dies later on an import error."""
    assert PYTHON_3_12 is not None
    builder, cache = tmp_path / "builder", tmp_path / "buildout-caches"
    made = bootstrap(builder, cache, version="2.13.8", python=PYTHON_3_12)
    assert made.returncode == 1, output(made)
    assert "bootstrap: zc.buildout 2.13.8 does not run on Python 3.12." in made.stderr
    assert "buildout-version" in made.stderr and "python < 3.12" in made.stderr
    assert not (builder / "venv").exists()
    assert not cache.exists()
