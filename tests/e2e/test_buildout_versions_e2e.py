"""anybox-buildout.py with the zc.buildout releases workers use (issue 14).

Each release (2.13 to 6, with the setuptools it requires) is installed from
the package index into a folder of its own and put on PYTHONPATH; the real
wrapper then runs a real buildout whose recipe egg is missing from the
caches. Its recipe reports whether the caches' write lock is held while
the part installs (a non-blocking ``flock`` of the lock file fails while
another open file holds it):

- as the release is: the wrapper locks only the egg download ("taking
  their write lock"), so the lock is free again when the part installs;
- with one of the internals it wraps changed (``_satisfied`` taking other
  parameters, patched in by a ``sitecustomize``): it says so and holds the
  lock for the whole run, instead of crashing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from anybox_buildbot.factory import SCRIPTS_DIR

RELEASES = ("2.13.8", "3.3", "4.1.12", "5.2.0", "6.0.1")
#: zc.buildout 3 and 4 import pkg_resources without bounding setuptools, whose
#: releases from 81 on no longer ship it (nor, from 80, package_index, which
#: zc.buildout 3 imports): those need an older setuptools to run.
WITH = {"3.3": ("setuptools<70",), "4.1.12": ("setuptools<81",)}

PROBE = """\
import fcntl
import os


class Recipe:
    def __init__(self, buildout, name, options):
        self.lock = os.path.join(options["caches"], ".anybox-write-lock")

    def install(self):
        fd = os.open(self.lock, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            state = "free"
        except BlockingIOError:
            state = "held"
        finally:
            os.close(fd)
        print("probe: lock", state, flush=True)
        return ()

    update = install
"""

CHANGED_INTERNALS = """\
import zc.buildout.easy_install as easy_install

_original = easy_install.Installer._satisfied


def _satisfied(self, *args, **kwargs):
    return _original(self, *args, **kwargs)


easy_install.Installer._satisfied = _satisfied
"""


def probe_wheel(folder: Path) -> None:
    dist = "lockprobe-1.0.dist-info"
    files = {
        "lockprobe.py": PROBE,
        f"{dist}/METADATA": "Metadata-Version: 2.1\nName: lockprobe\nVersion: 1.0\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                         "Tag: py3-none-any\n",
        f"{dist}/entry_points.txt": "[zc.buildout]\ndefault = lockprobe:Recipe\n",
        f"{dist}/top_level.txt": "lockprobe\n",
        f"{dist}/RECORD": "",
    }
    with zipfile.ZipFile(folder / "lockprobe-1.0-py3-none-any.whl", "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each release with its dependencies, installed side by side."""
    root = tmp_path_factory.mktemp("releases")
    installs = {version: subprocess.Popen(
        [sys.executable, "-m", "pip", "install", "-q", "--no-compile",
         "--disable-pip-version-check", "--target", str(root / version),
         f"zc.buildout=={version}", *WITH.get(version, ())],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for version in RELEASES}
    for version, process in installs.items():
        _out, err = process.communicate(timeout=600)
        assert process.returncode == 0, (version, err.decode(errors="replace"))
    return {version: root / version for version in RELEASES}


def run(folder: Path, release: Path, extra_path: Path | None = None
        ) -> subprocess.CompletedProcess:
    folder.mkdir()
    (folder / "links").mkdir()
    probe_wheel(folder / "links")
    caches = folder / "caches"
    (folder / "buildout.cfg").write_text(textwrap.dedent(f"""\
        [buildout]
        parts = probe
        newest = false
        find-links = {folder / 'links'}
        index = http://127.0.0.1:9/simple

        [probe]
        recipe = lockprobe
        caches = {caches}
        """))
    path = [str(release)] if extra_path is None else [str(extra_path), str(release)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PYTHONPATH"] = os.pathsep.join(path)
    return subprocess.run(
        [sys.executable, str(Path(SCRIPTS_DIR, "buildout.py")), "--caches", str(caches),
         "--", "bin/buildout", "-c", "buildout.cfg", f"buildout:eggs-directory={caches}/eggs",
         f"buildout:download-cache={caches}/downloads"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("version", RELEASES)
def test_each_release_is_wrapped(version: str, releases: dict[str, Path], tmp_path: Path
                                 ) -> None:
    plain = run(tmp_path / "plain", releases[version])
    out = plain.stdout + plain.stderr
    assert plain.returncode == 0, out
    assert "lockprobe is not in the worker caches: taking their write lock" in out
    assert "Got lockprobe 1.0" in out
    assert "probe: lock free" in out
    assert "whole run" not in out


@pytest.mark.parametrize("version", (RELEASES[0], RELEASES[-1]))
def test_changed_internals_hold_the_lock_for_the_whole_run(
        version: str, releases: dict[str, Path], tmp_path: Path) -> None:
    """The oldest and the newest release (what follows the check does not
    depend on the release)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(CHANGED_INTERNALS)
    changed = run(tmp_path / "changed", releases[version], site)
    out = changed.stdout + changed.stderr
    assert changed.returncode == 0, out
    assert (f"zc.buildout {version} is not the one this script knows: its "
            "Installer._satisfied takes other parameters") in out
    assert "holding the worker caches' write lock for the whole run" in out
    assert "probe: lock held" in out
    assert not (tmp_path / "changed" / "caches" / ".anybox-writing").exists()
