"""Shared helpers of the unit tests (imported by conftest and test modules)."""

from __future__ import annotations

import importlib.util
import textwrap
import types
from pathlib import Path

import pytest

from anybox_buildbot import ConfigError, configure_from_buildouts
from anybox_buildbot.errors import Errors
from anybox_buildbot.factory import SCRIPTS_DIR
from anybox_buildbot.manifest import load_manifests

GIT = "buildout = git https://example.com/app.git main buildout.cfg"

#: A config-only master.cfg (no port anyone connects to, in-memory database)
#: calling ``configure_from_buildouts`` the way a user's master.cfg does.
MASTER_CFG = """\
from anybox_buildbot import configure_from_buildouts
c = BuildmasterConfig = {
    'buildbotNetUsageData': None,
    'protocols': {'pb': {'port': 'tcp:0:interface=127.0.0.1'}},
    'db': {'db_url': 'sqlite://'},
}
configure_from_buildouts(basedir, c)
"""


def write(folder: Path, name: str, text: str | bytes) -> Path:
    """Write ``text`` (dedented) or raw bytes to ``folder/name``."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


#: A standalone buildout section head, for step-set options under test.
STANDALONE_HEAD = "[a]\nbuildout = standalone a.cfg\n"


def configure_errors(tmp_path: Path, section: str) -> list[str]:
    """The ConfigError messages of ``configure_from_buildouts`` on a master
    whose manifest is ``STANDALONE_HEAD + section`` (one worker, one file)."""
    (tmp_path / "buildouts").mkdir(exist_ok=True)
    (tmp_path / "buildouts" / "a.cfg").write_text("[buildout]\nparts =\n")
    (tmp_path / "buildouts" / "MANIFEST.cfg").write_text(STANDALONE_HEAD + section)
    (tmp_path / "workers.cfg").write_text("[w1]\npassword = p\n")
    with pytest.raises(ConfigError) as info:
        configure_from_buildouts(str(tmp_path), {})
    return info.value.errors


def load_manifest(tmp_path: Path, text: str) -> list:
    """The buildout specs of ``text`` written as ``tmp_path/MANIFEST.cfg``;
    raises the ConfigError if it has mistakes."""
    path = tmp_path / "MANIFEST.cfg"
    path.write_text(text)
    errors = Errors()
    specs = load_manifests([path], errors)
    errors.raise_if_any()
    return specs


def load_worker_script(name: str) -> types.ModuleType:
    """``worker_scripts/NAME.py`` as a module of its own (the scripts are
    shipped as files and run by workers, not imported from the package);
    each call gives a new module object."""
    spec = importlib.util.spec_from_file_location(f"anybox_worker_script_{name}",
                                                  Path(SCRIPTS_DIR, f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
