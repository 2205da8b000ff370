"""A broken plugin only breaks the manifests that use it.

tests/plugin_broken is a real distribution, ``anybox-broken-plugin 0.3``,
installed with pip into a folder of its own put on ``PYTHONPATH`` (as in
test_plugin.py: the shared virtualenv is never touched). Its entry points
name a module that is not there, a module that raises at import, a function
that does not exist, a built-in step set's name (``test``), and one working
step set. Installing it used to make every configuration fail to load with
a bare ``ModuleNotFoundError`` that named neither the entry point nor the
distribution.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from localrun import Master, running_master, simple_master_cfg
from plugininstall import install_to_folder

PLUGIN_SRC = Path(__file__).resolve().parents[1] / "plugin_broken"
CLI = Path(sys.executable).parent / "anybox-buildbot"
DIST = "anybox-broken-plugin 0.3"

GOOD = """\
[hello]
buildout = standalone empty.cfg

[fine]
buildout = standalone empty.cfg
post-buildout-steps = test still-fine
"""

# line numbers matter: each error points at the line naming the step set
USES_BROKEN = """\
[hello]
buildout = standalone empty.cfg

[uses-missing]
buildout = standalone empty.cfg
post-dl-steps = broken-missing

[uses-raising]
buildout = standalone empty.cfg
db-steps = broken-raises

[uses-attr]
buildout = standalone empty.cfg
post-buildout-steps = test
    broken-attr
"""


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = install_to_folder(PLUGIN_SRC, tmp_path_factory, "broken-plugin")
    assert (target / "anybox_broken_plugin-0.3.dist-info" / "entry_points.txt").is_file()
    assert not (target / "anybox_broken_plugin_gone").exists()
    return target


def write_master_dir(root: Path, manifest: str) -> Path:
    (root / "buildouts").mkdir(parents=True)
    (root / "buildouts" / "empty.cfg").write_text("[buildout]\nparts =\n")
    (root / "buildouts" / "MANIFEST.cfg").write_text(manifest)
    (root / "workers.cfg").write_text("[w1]\npassword = broken-pass\n")
    (root / "master.cfg").write_text(simple_master_cfg(Master(root)))
    return root


def check(master_dir: Path, plugin_path: Path) -> tuple[int, str]:
    proc = subprocess.run([str(CLI), "check", str(master_dir)],
                          env={**os.environ, "PYTHONPATH": str(plugin_path)},
                          capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout + proc.stderr


def test_a_configuration_without_the_broken_step_sets_loads(plugin_path: Path,
                                                           tmp_path: Path) -> None:
    rc, out = check(write_master_dir(tmp_path / "m", GOOD), plugin_path)
    assert rc == 0, out
    assert out.startswith("ok: 2 builders for 2 buildouts on 1 worker")
    assert "Traceback" not in out


def test_each_use_of_a_broken_step_set_is_an_error_at_its_line(plugin_path: Path,
                                                              tmp_path: Path) -> None:
    rc, out = check(write_master_dir(tmp_path / "m", USES_BROKEN), plugin_path)
    assert rc == 1
    assert "Traceback" not in out
    lines = out.splitlines()
    assert lines[0] == "3 error(s):"
    assert lines[1] == (
        "  buildouts/MANIFEST.cfg:6: buildout [uses-missing] post-dl-steps: step set "
        "'broken-missing' cannot be loaded: importing module 'anybox_broken_plugin_gone' "
        "failed: ModuleNotFoundError: No module named 'anybox_broken_plugin_gone' "
        f"(entry point 'broken-missing = anybox_broken_plugin_gone:steps' of {DIST}: "
        "repair or remove that distribution, or take 'broken-missing' out of "
        "post-dl-steps)")
    assert lines[2] == (
        "  buildouts/MANIFEST.cfg:10: buildout [uses-raising] db-steps: step set "
        "'broken-raises' cannot be loaded: importing module 'anybox_broken_plugin.raises' "
        "failed: RuntimeError: the broken plugin needs ANYBOX_BROKEN_LICENCE "
        f"(entry point 'broken-raises = anybox_broken_plugin.raises:steps' of {DIST}: "
        "repair or remove that distribution, or take 'broken-raises' out of db-steps)")
    assert lines[3] == (
        "  buildouts/MANIFEST.cfg:15: buildout [uses-attr] post-buildout-steps: step set "
        "'broken-attr' cannot be loaded: module 'anybox_broken_plugin' has no attribute "
        f"'no_such_steps' (entry point 'broken-attr = anybox_broken_plugin:no_such_steps' "
        f"of {DIST}: repair or remove that distribution, or take 'broken-attr' out of "
        "post-buildout-steps)")


def test_a_running_master_with_the_plugin_installed(plugin_path: Path,
                                                    tmp_path: Path) -> None:
    """The master starts; a reconfig naming a broken step set is refused
    with the entry point named, and the running configuration stays."""
    root = write_master_dir(tmp_path / "master", GOOD)
    with running_master(root, {}, env={"PYTHONPATH": str(plugin_path)}) as master:
        assert set(master.rest.builders()) == {"hello", "fine"}
        manifest = root / "buildouts" / "MANIFEST.cfg"
        manifest.write_text(USES_BROKEN)
        rc, output = master.reconfig()
        assert rc == 1, output
        log = master.log_text(since_start=True)
        assert ("buildouts/MANIFEST.cfg:6: buildout [uses-missing] post-dl-steps: step set "
                "'broken-missing' cannot be loaded") in log
        assert f"'broken-missing = anybox_broken_plugin_gone:steps' of {DIST}" in log
        assert set(master.rest.builders()) == {"hello", "fine"}
        # the plugin repaired (here: the manifest stops naming it), reconfig works
        manifest.write_text(GOOD + "\n[again]\ninherit = fine\n")
        rc, output = master.reconfig()
        assert rc == 0, output
        assert {"hello", "fine", "again"} <= set(master.rest.builders())
