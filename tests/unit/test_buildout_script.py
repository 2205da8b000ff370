"""worker_scripts/buildout.py without zc.buildout: the write journal of
the shared caches is removed whenever a locked download ends without the
process being killed (the e2e test tests/e2e/test_cache_lock_e2e.py runs
real buildouts, a killed one included)."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from unit_helpers import load_worker_script


class Installer:
    """The part of zc.buildout's Installer ``lock_egg_writes`` meets, with
    the parameter names it checks (``internals_problem``): an installer
    that differs makes the whole run hold the lock instead."""

    def __init__(self, dest: Path) -> None:
        self._dest = str(dest)
        self._env = types.SimpleNamespace(scan=lambda dirs: None)

    def _satisfied(self, req, source=None):
        return None, None          # never in the caches: it has to be got

    def _get_dist(self, requirement, ws, *args, **kwargs):
        raise OSError(f"download of {requirement} failed: 404")


@pytest.fixture
def fake_zc_buildout(monkeypatch: pytest.MonkeyPatch) -> type[Installer]:
    easy_install = types.ModuleType("zc.buildout.easy_install")
    easy_install.Installer = type("Installer", (Installer,), {})
    buildout = types.ModuleType("zc.buildout")
    buildout.easy_install = easy_install
    zc = types.ModuleType("zc")
    zc.buildout = buildout
    for name, module in (("zc", zc), ("zc.buildout", buildout),
                         ("zc.buildout.easy_install", easy_install)):
        monkeypatch.setitem(sys.modules, name, module)
    return easy_install.Installer


def test_a_failed_download_leaves_no_journal(tmp_path: Path, fake_zc_buildout) -> None:
    """Else a later run's recover() would remove whatever changed in
    downloads/ since: a file another build just put there."""
    script = load_worker_script("buildout")
    (tmp_path / "eggs").mkdir()
    script.lock_egg_writes(str(tmp_path))
    installer = fake_zc_buildout(tmp_path / "eggs")
    with pytest.raises(OSError, match="download of demo.x failed"):
        installer._get_dist("demo.x", None)
    assert script._whole_run_fd is None   # the per-egg lock was used, not the fallback
    assert not (tmp_path / script.JOURNAL).exists()
    assert script._held == 0       # the lock was given back too
