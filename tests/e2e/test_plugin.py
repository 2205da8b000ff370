"""A third-party step set, from its own package, in real builds.

tests/plugin_example is installed with pip, as its users would, but into a
folder of its own (``pip install --target``) put on the master's
``PYTHONPATH``: entry points are found on any ``sys.path`` entry, and the
shared virtualenv (used concurrently by other test runs) is never touched,
so nothing has to be uninstalled and no other test sees the plugin.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from localrun import Master, Rest, Worker, running_master, simple_master_cfg
from plugininstall import install_to_folder

PLUGIN_SRC = Path(__file__).resolve().parents[1] / "plugin_example"
BUILD_TIMEOUT = 300
GREETING = "Bonjour; rm -rf x $(touch pwned) `touch pwned`"

MANIFEST = f"""\
[hello]
buildout = standalone empty.cfg
post-buildout-steps = hello-plugin
hello-plugin.greeting = {GREETING}

[hello-fails-early]
# 'test' fails before the greeting: the plugin's cleanup step still runs
buildout = standalone empty.cfg
post-dl-steps = test hello-plugin
test-command = false
"""


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example plugin, pip-installed into a folder of its own."""
    target = install_to_folder(PLUGIN_SRC, tmp_path_factory, "plugin")
    assert list(target.glob("anybox_hello_plugin-1.0.dist-info/entry_points.txt"))
    return target


def with_plugin(plugin_path: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(plugin_path)}


def write_master_dir(root: Path, manifest: str) -> Path:
    (root / "buildouts").mkdir(parents=True)
    (root / "buildouts" / "empty.cfg").write_text("[buildout]\nparts =\n")
    (root / "buildouts" / "MANIFEST.cfg").write_text(manifest)
    (root / "workers.cfg").write_text("[w1]\npassword = plugin-pass\n")
    return root


def test_the_plugin_is_registered_and_its_options_checked(plugin_path: Path,
                                                         tmp_path: Path) -> None:
    probe = ("from anybox_buildbot.subfactories import load_registry\n"
             "r = load_registry(); print(r.catalog['hello-plugin'].schema.names)")
    out = subprocess.run([sys.executable, "-c", probe], env=with_plugin(plugin_path),
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "('greeting',)"
    # a typo in the plugin's option is caught like for a built-in step set
    master_dir = write_master_dir(tmp_path / "m", MANIFEST.replace(
        "hello-plugin.greeting", "hello-plugin.greting"))
    (master_dir / "master.cfg").write_text(simple_master_cfg(Master(master_dir)))
    cli = Path(sys.executable).parent / "anybox-buildbot"
    check = subprocess.run([str(cli), "check", str(master_dir)], env=with_plugin(plugin_path),
                           capture_output=True, text=True)
    assert check.returncode == 1
    assert ("MANIFEST.cfg:4: buildout [hello]: unknown option of step set 'hello-plugin': "
            "'hello-plugin.greting' (did you mean 'greeting'?)") in check.stdout + check.stderr
    # a bad value of the plugin's option too, at its line, checked by its schema
    (master_dir / "buildouts" / "MANIFEST.cfg").write_text(MANIFEST.replace(
        f"hello-plugin.greeting = {GREETING}", "hello-plugin.greeting = Bonjour\n  Hello"))
    check = subprocess.run([str(cli), "check", str(master_dir)], env=with_plugin(plugin_path),
                           capture_output=True, text=True)
    assert check.returncode == 1
    assert ("MANIFEST.cfg:4: buildout [hello] hello-plugin.greeting: expected a single line: "
            "'Bonjour\\nHello' (this option takes one value)") in check.stdout + check.stderr
    # without the plugin, the name itself is unknown, and the message lists the known ones
    check = subprocess.run([str(cli), "check", str(master_dir)], capture_output=True,
                           text=True)
    assert check.returncode == 1
    assert "unknown step set 'hello-plugin'" in check.stdout + check.stderr
    assert "known: " in check.stdout + check.stderr


@dataclass
class Setup:
    master: Master
    worker: Worker
    rest: Rest


@pytest.fixture(scope="module")
def setup(plugin_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("plugin")
    with running_master(write_master_dir(root / "master", MANIFEST), {"w1": "plugin-pass"},
                        env={"PYTHONPATH": str(plugin_path)}) as master:
        yield Setup(master, master.workers["w1"], master.rest)


def build(setup: Setup, builder: str) -> tuple[dict, dict[str, dict]]:
    brid = setup.rest.force([builder])[builder]
    done = setup.rest.wait_build(brid, timeout=BUILD_TIMEOUT)
    return done, {s["name"]: s for s in setup.rest.steps(done["buildid"])}


def test_plugin_step_runs_in_a_real_build(setup: Setup) -> None:
    done, steps = build(setup, "hello")
    assert done["results"] == 0, done["state_string"]
    names = list(steps)
    assert names[names.index("check-develop") + 1:] == ["hello", "goodbye"]
    log = setup.rest.step_log(done["buildid"], "hello")
    # the greeting reached echo as one argument, metacharacters and all
    assert f"{GREETING} from hello\n" in log
    assert steps["hello"]["state_string"] == "greeted"
    assert not list(setup.worker.basedir.rglob("pwned"))


def test_plugin_cleanup_step_runs_after_a_failure(setup: Setup) -> None:
    done, steps = build(setup, "hello-fails-early")
    assert done["results"] == 2
    assert steps["test"]["results"] == 2
    assert "hello" not in steps or steps["hello"]["results"] == 3   # never greeted
    assert steps["goodbye"]["results"] == 0
    assert "goodbye" in setup.rest.step_log(done["buildid"], "goodbye")


def test_the_example_plugin_is_self_contained() -> None:
    """The example documented in docs/stepsets.rst is the one tested here."""
    text = (PLUGIN_SRC / "pyproject.toml").read_text()
    assert textwrap.dedent("""\
        [project.entry-points."anybox_buildbot.subfactories"]
        hello-plugin = "anybox_hello_plugin:hello_steps"
        """) in text
