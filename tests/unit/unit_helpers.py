"""Shared helpers of the unit tests (imported by conftest and test modules)."""

from __future__ import annotations

import textwrap
from pathlib import Path

GIT = "buildout = git https://example.com/app.git main buildout.cfg"


def write(folder: Path, name: str, text: str | bytes) -> Path:
    """Write ``text`` (dedented) or raw bytes to ``folder/name``."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path
