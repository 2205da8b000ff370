"""The bootstrap script's warm path: a venv that is whole is checked with
one run of its Python (issue 14: warm build cost).

The venvs here are stand-ins, cheap enough for the unit suite: a folder
with the ``pyvenv.cfg`` and completion marker a bootstrap leaves, whose
``bin/python`` is a small shell script that notes each run in a file and
then runs this interpreter (which has pip) with a folder holding a
``zc.buildout`` distribution's metadata first on ``PYTHONPATH``. Real
venvs made by the real script are in tests/e2e/test_bootstrap.py.
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from unit_helpers import load_worker_script

from anybox_buildbot.factory import SCRIPTS_DIR
from anybox_buildbot.manifest import DEFAULT_BUILDOUT_VERSION

VERSION = DEFAULT_BUILDOUT_VERSION


bootstrap = load_worker_script("bootstrap")


def stand_in_venv(folder: Path, version: str = VERSION, python_flags: str = "") -> Path:
    """A whole venv as far as the script can tell, holding zc.buildout
    ``version``; its ``bin/python`` counts its runs in ``folder/runs``."""
    venv = folder / "venv"
    site = folder / "site"
    dist = site / f"zc.buildout-{version}.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: zc.buildout\nVersion: {version}\n")
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text(
        "home = /nowhere\ninclude-system-site-packages = false\n"
        "version = {}.{}.{}\n".format(*sys.version_info[:3]))
    (venv / bootstrap.MARKER).write_text(f"zc.buildout=={version}\npython x\n")
    python = venv / "bin" / "python"
    python.write_text(
        "#!/bin/sh\n"
        f"echo run >> {shlex.quote(str(folder / 'runs'))}\n"
        f"PYTHONPATH={shlex.quote(str(site))} exec {shlex.quote(sys.executable)} "
        f"{python_flags} \"$@\"\n")
    python.chmod(0o755)
    return venv


def runs(folder: Path) -> int:
    path = folder / "runs"
    return len(path.read_text().splitlines()) if path.exists() else 0


def run_script(folder: Path) -> subprocess.CompletedProcess:
    """The script as the bootstrap step runs it, in the build folder."""
    return subprocess.run(
        [sys.executable, f"{SCRIPTS_DIR}/bootstrap.py", "--version", VERSION,
         "--venv", "venv", "--cache", str(folder / "caches")],
        cwd=folder, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PIP_NO_INDEX": "1"})


def test_a_whole_venv_is_reused_after_one_run_of_its_python(tmp_path: Path) -> None:
    """Its zc.buildout version and its pip are asked in one interpreter
    start (there were two: a probe, then ``python -m pip --version``)."""
    stand_in_venv(tmp_path)
    result = run_script(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"zc.buildout {VERSION} already installed in venv" in result.stdout
    assert runs(tmp_path) == 1


def test_the_probe_reads_the_version_and_runs_pip(tmp_path: Path) -> None:
    venv = stand_in_venv(tmp_path, version="5.0.0")
    assert bootstrap.venv_state(str(venv)) == (None, "5.0.0")


def has_zc_buildout() -> bool:
    """find_spec imports the parent package: without any ``zc`` package it
    raises instead of answering None."""
    try:
        return importlib.util.find_spec("zc.buildout") is not None
    except ModuleNotFoundError:
        return False


@pytest.mark.skipif(has_zc_buildout(),
                    reason="the stand-in venv runs this interpreter, which has zc.buildout "
                    "(not a dependency of the test environment: make install leaves it out)")
def test_a_venv_without_zc_buildout_is_not_taken_for_one(tmp_path: Path) -> None:
    venv = stand_in_venv(tmp_path)
    for dist in (tmp_path / "site").iterdir():
        for path in dist.iterdir():
            path.unlink()
        dist.rmdir()
    assert bootstrap.venv_state(str(venv)) == (None, None)


def test_a_venv_whose_pip_does_not_run_is_not_reused(tmp_path: Path) -> None:
    """Without site-packages (``-S``) pip is not importable: the probe
    fails as ``python -m pip --version`` would, and says pip."""
    venv = stand_in_venv(tmp_path, python_flags="-S")
    problem, version = bootstrap.venv_state(str(venv))
    assert problem is not None and problem.startswith("its pip does not run")
    assert "pip" in problem.split("(", 1)[1]
    assert version == VERSION


def test_a_venv_whose_python_does_not_run_is_not_reused(tmp_path: Path) -> None:
    venv = stand_in_venv(tmp_path)
    (venv / "bin" / "python").write_bytes(b"")
    problem, version = bootstrap.venv_state(str(venv))
    assert problem is not None and problem.startswith("its Python does not run")
    assert version is None


def test_cheap_checks_come_before_running_the_venv(tmp_path: Path) -> None:
    venv = stand_in_venv(tmp_path)
    (venv / bootstrap.MARKER).unlink()
    assert bootstrap.venv_state(str(venv)) == ("was not finished by a previous bootstrap", None)
    assert runs(tmp_path) == 0


def test_a_venv_made_without_the_setuptools_bound_is_made_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A zc.buildout 3 venv made before the bound existed may hold a
    setuptools too new for it (Python 3.12): its marker records no bound,
    so the next bootstrap makes it again, with the bound. (Making the new
    venv is stubbed out here; tests/e2e/test_bootstrap.py makes real ones.)"""
    venv = stand_in_venv(tmp_path, version="3.3")
    made: list[str] = []
    monkeypatch.setattr(bootstrap, "create", lambda path: made.append(path) or 1)
    code = bootstrap.main(["--version", "3.3", "--venv", str(venv),
                           "--cache", str(tmp_path / "caches")])
    out = capsys.readouterr().out
    assert "holds other packages than asked (none instead of setuptools<80); recreating it" \
        in out
    assert made == [str(venv)] and code == 1
    assert not venv.exists()


@pytest.mark.parametrize(("version", "requires", "recorded"), [
    ("3.3", [], "setuptools<80"),                      # made with the bound
    ("3.3", ["setuptools<75"], "setuptools<75"),       # the manifest's setuptools wins
    ("4.1.12", [], "setuptools<80"),
    ("5.0.0", [], "setuptools<81"),
])
def test_a_venv_made_with_the_bound_is_reused(tmp_path: Path, version: str,
                                              requires: list[str], recorded: str) -> None:
    venv = stand_in_venv(tmp_path, version=version)
    (venv / bootstrap.MARKER).write_text(f"zc.buildout=={version}\npython x\n"
                                         f"require: {recorded}\n")
    result = subprocess.run(
        [sys.executable, f"{SCRIPTS_DIR}/bootstrap.py", "--version", version,
         "--venv", "venv", "--cache", str(tmp_path / "caches"),
         *(f"--require={r}" for r in requires)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PIP_NO_INDEX": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"zc.buildout {version} already installed in venv, {recorded}" in result.stdout
    assert runs(tmp_path) == 1


def test_a_checkout_cannot_answer_for_the_venv(tmp_path: Path, monkeypatch) -> None:
    """The bootstrap runs in the build's folder, a checkout: a ``pip``
    package there (``python -c`` puts the working directory first on
    sys.path) must not stand in for the venv's own pip."""
    venv = stand_in_venv(tmp_path, python_flags="-S")      # its pip does not run
    fake = tmp_path / "checkout" / "pip"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "__main__.py").write_text("print('pip 99 (a checkout)')\n")
    checkout = fake.parent
    monkeypatch.chdir(checkout)
    problem, _version = bootstrap.venv_state(str(venv))
    assert problem is not None and problem.startswith("its pip does not run")


def test_a_zc_buildout_without_a_version_is_not_taken_for_one(tmp_path: Path) -> None:
    venv = stand_in_venv(tmp_path)
    (dist,) = (tmp_path / "site").iterdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: zc.buildout\n")
    problem, version = bootstrap.venv_state(str(venv))
    assert version is None and problem is None
