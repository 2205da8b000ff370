"""Install a step-set plugin distribution for a test, apart from the venv.

Why: e2e tests need a *real* installed distribution (entry points, a
dist-info) without changing the shared test venv, so the plugin is
pip-installed into a folder of its own that the test puts on PYTHONPATH.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def install_to_folder(source: Path, factory: pytest.TempPathFactory, name: str) -> Path:
    """pip-install the project at ``source`` into a new folder; return it.

    pip builds in the source folder (build/, *.egg-info): build from a copy.
    """
    target = factory.mktemp(f"{name}-site")
    copy = factory.mktemp(f"{name}-src") / source.name
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "__pycache__"))
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
         "--no-build-isolation", "--disable-pip-version-check", "--target", str(target),
         str(copy)],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return target
