"""Shared helpers of the unit tests (imported by conftest and test modules)."""

from __future__ import annotations

import textwrap
from pathlib import Path

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
