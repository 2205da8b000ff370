"""anybox-buildout.py facing a zc.buildout whose internals are not the ones
it wraps (issue 14): it holds the write lock for the whole run and says so,
instead of crashing.

The zc.buildout here is a small stand-in package put first on PYTHONPATH:
its ``buildout.main`` reports whether the worker caches' write lock is held
(a second ``flock`` of the lock file, non-blocking, fails while another
open file holds it), and can restart itself the way zc.buildout does
(``subprocess.call`` of ``sys.argv``). The real zc.buildout releases are
run in tests/e2e/test_buildout_versions_e2e.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest
from unit_helpers import load_worker_script

from anybox_buildbot.factory import SCRIPTS_DIR

wrapper = load_worker_script("buildout")

KNOWN_INSTALLER = """\
class Installer:
    def __init__(self, dest=None):
        self._dest = dest
        self._env = {}

    def _satisfied(self, req, source=None):
        return None, None

    def _get_dist(self, requirement, ws):
        return []
"""

MAIN = """\
import fcntl, os, subprocess, sys


def lock_state():
    fd = os.open(os.path.join(os.environ["CACHES"], ".anybox-write-lock"),
                 os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return "free"
    except BlockingIOError:
        return "held"
    finally:
        os.close(fd)


def main(args):
    if "get" in args:      # what zc.buildout does for a missing egg
        from zc.buildout import easy_install
        easy_install.Installer(dest="eggs")._get_dist("egg", None)
    print("lock", lock_state(), "in", os.getpid(), flush=True)
    if "restart" in args and not os.environ.get("RESTARTED"):
        env = dict(os.environ, RESTARTED="1")
        sys.exit(subprocess.call([sys.executable] + sys.argv, env=env, timeout=60))
    return 0
"""


def fake_buildout(root: Path, easy_install: str) -> Path:
    package = root / "fake" / "zc" / "buildout"
    package.mkdir(parents=True)
    (root / "fake" / "zc" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "easy_install.py").write_text(easy_install)
    (package / "buildout.py").write_text(MAIN)
    return root / "fake"


def run_wrapper(root: Path, easy_install: str, *args: str) -> subprocess.CompletedProcess:
    fake = fake_buildout(root, easy_install)
    caches = root / "caches"
    env = dict(os.environ, PYTHONPATH=str(fake), CACHES=str(caches))
    env.pop("ANYBOX_BUILDOUT_LOCKED_BY", None)
    return subprocess.run([sys.executable, str(Path(SCRIPTS_DIR, "buildout.py")),
                           "--caches", str(caches), "--", "bin/buildout", *args],
                          cwd=root, env=env, capture_output=True, text=True, timeout=120)


def module(source: str) -> types.ModuleType:
    made = types.ModuleType("easy_install")
    exec(source, made.__dict__)   # noqa: S102  (test source written above)
    return made


def test_the_known_installer_has_nothing_missing() -> None:
    assert wrapper.internals_problem(module(KNOWN_INSTALLER)) is None


@pytest.mark.parametrize(("source", "problem"), [
    ("", "no Installer class"),
    ("Installer = None", "no Installer class"),
    (KNOWN_INSTALLER.replace("def _get_dist", "def _fetch"), "no _get_dist method"),
    (KNOWN_INSTALLER.replace("def _satisfied(self, req,", "def _satisfied(self, wanted,"),
     "Installer._satisfied takes other parameters"),
    (KNOWN_INSTALLER.replace("(self, requirement, ws)", "(self, ws, requirement)"),
     "Installer._get_dist takes other parameters"),
    (KNOWN_INSTALLER.replace("self._dest = dest", "self.dest = dest"), "does not set _dest"),
    (KNOWN_INSTALLER.replace("self._env = {}", "self.env = {}"), "does not set _env"),
])
def test_what_differs_is_named(source: str, problem: str) -> None:
    found = wrapper.internals_problem(module(source))
    assert found is not None and problem in found, found


def test_a_known_installer_runs_without_the_lock(tmp_path: Path) -> None:
    result = run_wrapper(tmp_path, KNOWN_INSTALLER)
    assert result.returncode == 0, result.stderr
    assert "lock free" in result.stdout
    assert "whole run" not in result.stdout


def test_an_unknown_installer_holds_the_lock_for_the_whole_run(tmp_path: Path) -> None:
    result = run_wrapper(tmp_path, KNOWN_INSTALLER.replace("def _get_dist", "def _fetch"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is not the one this script knows: its Installer has no _get_dist method" \
        in result.stdout
    assert "holding the worker caches' write lock for the whole run" in result.stdout
    assert "lock held" in result.stdout
    assert not (tmp_path / "caches" / ".anybox-writing").exists()   # a run that ended well


def test_no_easy_install_module_holds_the_lock_too(tmp_path: Path) -> None:
    fake = fake_buildout(tmp_path / "x", "")
    (fake / "zc" / "buildout" / "easy_install.py").unlink()
    caches = tmp_path / "caches"
    result = subprocess.run(
        [sys.executable, str(Path(SCRIPTS_DIR, "buildout.py")), "--caches", str(caches),
         "--", "bin/buildout"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env=dict(os.environ, PYTHONPATH=str(fake), CACHES=str(caches)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "cannot read zc.buildout's installer" in result.stdout
    assert "lock held" in result.stdout


def test_an_installer_found_different_while_running_takes_the_lock_then(tmp_path: Path
                                                                        ) -> None:
    """Right names and parameters, but ``_satisfied`` answers something else:
    found only when an egg is wanted; the rest of the run holds the lock."""
    changed = KNOWN_INSTALLER.replace("return None, None", "return None")
    result = run_wrapper(tmp_path, changed, "get")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "installer is not the one this script knows (TypeError" in result.stdout
    assert "lock held" in result.stdout


def test_a_restart_runs_under_the_lock_of_the_run_that_started_it(tmp_path: Path) -> None:
    """zc.buildout restarting itself waits for its child while holding the
    lock: the child must not wait for the lock (it would wait forever)."""
    result = run_wrapper(tmp_path, KNOWN_INSTALLER.replace("def _get_dist", "def _fetch"),
                         "restart")
    assert result.returncode == 0, result.stdout + result.stderr
    held = [line for line in result.stdout.splitlines() if line.startswith("lock held")]
    assert len(held) == 2 and held[0] != held[1], result.stdout    # parent and child
    assert "running under the write lock of the run that started this one" in result.stdout


def test_a_stray_locked_by_variable_does_not_skip_the_lock(tmp_path: Path) -> None:
    fake = fake_buildout(tmp_path, KNOWN_INSTALLER.replace("def _get_dist", "def _fetch"))
    caches = tmp_path / "caches"
    result = subprocess.run(
        [sys.executable, str(Path(SCRIPTS_DIR, "buildout.py")), "--caches", str(caches),
         "--", "bin/buildout"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env=dict(os.environ, PYTHONPATH=str(fake), CACHES=str(caches),
                 ANYBOX_BUILDOUT_LOCKED_BY="1"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "holding the worker caches' write lock for the whole run" in result.stdout
    assert "lock held" in result.stdout


def test_a_failed_whole_run_leaves_the_journal_for_the_next_writer(tmp_path: Path) -> None:
    failing = textwrap.dedent("""\
        def main(args):
            return 3
        """)
    fake = fake_buildout(tmp_path, "")
    (fake / "zc" / "buildout" / "buildout.py").write_text(failing)
    caches = tmp_path / "caches"
    result = subprocess.run(
        [sys.executable, str(Path(SCRIPTS_DIR, "buildout.py")), "--caches", str(caches),
         "--", "bin/buildout"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env=dict(os.environ, PYTHONPATH=str(fake)))
    assert result.returncode == 3, result.stdout + result.stderr
    assert (caches / ".anybox-writing").exists()
