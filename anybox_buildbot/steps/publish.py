"""Files a build sends to the master, and where they land.

Uploaded results go under the master directory in folders named after the
builder or the buildout: ``safe_name`` turns such a name into one harmless
path component. ``BuildResultPath`` is a per-build destination (a test
report), ``IncomingPath`` a private folder an upload fills before
``PublishDirectory`` moves it, whole, to its public place (documentation).
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from buildbot.interfaces import IRenderable
from buildbot.process import buildstep
from buildbot.process.results import SUCCESS
from twisted.internet import threads
from zope.interface import implementer

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")
#: Publications run in threads of the master; two builders of one buildout
#: may finish together, and each swap of folders must be whole.
_PUBLISH_LOCK = threading.Lock()


def safe_name(name: str) -> str:
    """A builder or buildout name as one harmless path component on the
    master (``/`` or ``..`` in a section name must not escape the folder)."""
    cleaned = _SAFE_NAME.sub("_", name).lstrip(".")
    return cleaned or "_"


@implementer(IRenderable)
@dataclass(frozen=True)
class BuildResultPath:
    """``<base>/<builder>/<build number>/<filename>`` on the master.

    A renderable (builder name and build number are known at build time
    only): each build keeps its own report, and the path is made of
    sanitized components only.
    """

    base: str
    filename: str

    def getRenderingFor(self, props: Any) -> str:
        builder = safe_name(str(props.getProperty("buildername", "builder")))
        number = str(props.getProperty("buildnumber", 0))
        return str(Path(self.base) / builder / safe_name(number) / self.filename)


@implementer(IRenderable)
@dataclass(frozen=True)
class IncomingPath:
    """Where a build uploads its HTML before it is published: a folder of
    its own, so a half-finished upload never shows, and two builders of one
    buildout never write into the same folder at the same time."""

    base: str
    name: str

    def getRenderingFor(self, props: Any) -> str:
        builder = safe_name(str(props.getProperty("buildername", "builder")))
        number = safe_name(str(props.getProperty("buildnumber", 0)))
        return str(Path(self.base) / ".incoming" / f"{self.name}-{builder}-{number}")


def publish_directory(source: str, target: str) -> None:
    """Replace ``target`` by ``source`` (both on the master).

    Uploaded files are private (0600) by default; documentation is meant to
    be served, so the tree is made world-readable. The old tree is moved
    aside before the new one is moved in: the folder is never half new.
    """
    src, dst = Path(source), Path(target)
    if not src.is_dir():
        raise FileNotFoundError(f"nothing was uploaded to {src}")
    for root, dirs, files in os.walk(src):
        os.chmod(root, 0o755)
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
    old = src.parent / f"{src.name}.old-{time.monotonic_ns()}"
    with _PUBLISH_LOCK:
        if dst.exists():
            os.rename(dst, old)
        os.rename(src, dst)
    shutil.rmtree(old, ignore_errors=True)


class PublishDirectory(buildstep.BuildStep):
    """Master-side step: move an uploaded folder to its public place and
    record that place as a build property."""

    renderables = ["source"]

    def __init__(self, source: Any = None, target: str = "", prop: str = "docs_dir",
                 **kwargs: Any) -> None:
        kwargs.setdefault("haltOnFailure", True)
        super().__init__(**kwargs)
        self.source = source
        self.target = target
        self.prop = prop

    async def run(self) -> int:
        await threads.deferToThread(publish_directory, self.source, self.target)
        self.setProperty(self.prop, self.target, "PublishDirectory", runtime=True)
        await self.addCompleteLog("published", f"{self.target}\n")
        self.descriptionDone = ["published", os.path.basename(self.target)]
        return SUCCESS
