"""File transfers between the master and a worker that keep to their place.

``BestEffortUpload`` brings back an optional result (the auto-watch
report, a JUnit report): the docs promise that auto-watch problems are
never fatal and a missing test report only warns, so any
fault, on the worker or on the master's disk (a file where the ``watch/``
folder should be, a full disk), ends the step with WARNINGS and a
``problem`` log saying what failed and how to fix it; the build goes on.
Buildbot's own ``FileUpload`` raises on a master-side ``OSError``, which
ends the build as an EXCEPTION before the tests run.

``ConfinedDownload`` sends a master file that must stay inside a folder
(a standalone buildout inside its manifest's folder). The manifest loader
checks it, and the step checks again when it runs: the folder may change
between two reconfigurations (a ``git pull`` bringing a symlink).
"""

from __future__ import annotations

import os
from pathlib import Path

from buildbot.process.results import CANCELLED, FAILURE, WARNINGS
from buildbot.steps.transfer import FileDownload, FileUpload
from twisted.internet import defer

from ..confine import resolves_inside


class BestEffortUpload(FileUpload):
    """Upload ``workersrc`` to ``masterdest``, a file inside ``root``.

    ``purpose`` names the file in messages (``"the auto-watch report"``).
    ``masterdest`` may be a renderable (``results/<builder>/<number>/...``);
    once rendered, its folder must resolve inside ``root`` (symlinks
    followed). Never halts nor fails the build: a fault gives WARNINGS.
    """

    def __init__(self, workersrc: str, masterdest: str, *, root: str, purpose: str,
                 **kwargs) -> None:
        kwargs.update(haltOnFailure=False, flunkOnFailure=False, warnOnFailure=True,
                      warnOnWarnings=True)
        super().__init__(workersrc=workersrc, masterdest=masterdest, **kwargs)
        self.root = root
        self.purpose = purpose
        self._master_fault: OSError | None = None

    async def run(self) -> int:
        dest = os.path.abspath(self.masterdest)
        root = os.path.realpath(self.root)
        folder = os.path.realpath(os.path.dirname(dest))
        if folder != root and not folder.startswith(root + os.sep):
            return await self._give_up(f"{dest} is not a file inside {self.root}: "
                                       "nothing was written.", "fix the step's destination")
        self._master_fault = None
        try:
            result = await super().run()
        except Exception as exc:
            fault = self._master_fault or (exc if isinstance(exc, OSError) else None)
            if fault is None:
                raise  # not the master's disk (a lost worker...): Buildbot's handling
            return await self._master_failed(dest, fault)
        if self._master_fault is not None:
            return await self._master_failed(dest, self._master_fault)
        if result == CANCELLED or result < FAILURE:
            return result
        return await self._give_up(f"The worker could not send {self.workersrc} (see the "
                                   "stdio log).", "see the steps before this one")

    def runTransferCommand(self, cmd, writer=None) -> defer.Deferred:
        """Note the master's own ``OSError`` while it writes the file.

        The worker calls the writer remotely; an error raised there comes
        back as a remote failure with no type to tell it apart, so each of
        the writer's remote methods records its ``OSError`` first.
        (A Deferred, not a coroutine: Buildbot's ``run`` yields it.)
        """
        if writer is not None:
            for name in ("remote_write", "remote_close", "remote_utime"):
                setattr(writer, name, self._recording(getattr(writer, name)))
        return defer.ensureDeferred(self._transfer(cmd, writer))

    async def _transfer(self, cmd, writer) -> int:
        try:
            return await super().runTransferCommand(cmd, writer)
        except OSError as exc:  # purging a half-written file failed too
            self._master_fault = self._master_fault or exc
            return FAILURE

    def _recording(self, method):
        def call(*args):
            try:
                return method(*args)
            except OSError as exc:
                self._master_fault = self._master_fault or exc
                raise
        return call

    async def _master_failed(self, dest: str, fault: OSError) -> int:
        where = fault.filename or dest
        what = f"The master could not write {self.purpose} to {dest}: {fault.strerror or fault} " \
               f"({where})."
        root = Path(self.root)
        if root.exists() and not root.is_dir():
            fix = f"{root} is not a folder: make it a folder the master can write to " \
                  f"(move the file away; the next upload creates the folder)"
        elif Path(dest).is_dir():
            fix = f"{dest} is a folder: remove it, the report is a file"
        else:
            fix = f"check that the master's user can write to {root} and that its disk " \
                  "is not full"
        return await self._give_up(what, fix)

    async def _give_up(self, what: str, fix: str) -> int:
        await self.addCompleteLog("problem", f"{what}\nHow to fix: {fix}.\n"
                                  f"{self.purpose.capitalize()} is optional: this step "
                                  "warns and the build goes on.\n")
        self.descriptionDone = [f"{self.purpose} not stored"]
        return WARNINGS


class ConfinedDownload(FileDownload):
    """Download ``mastersrc`` only if it still resolves inside ``root``."""

    def __init__(self, mastersrc: str, workerdest: str, *, root: str, **kwargs) -> None:
        super().__init__(mastersrc=mastersrc, workerdest=workerdest, **kwargs)
        self.root = root

    async def run(self) -> int:
        if resolves_inside(Path(self.mastersrc), Path(self.root)):
            return await super().run()
        # The target is not named: the log is public, the master's files are not.
        await self.addCompleteLog("problem", (
            f"{self.mastersrc} now resolves outside {self.root} (was it replaced by a "
            "symlink?): it was not sent to the worker.\nA standalone buildout file must "
            f"stay inside its manifest's folder, symlinks followed: put the file back in "
            f"{self.root}.\n"))
        self.descriptionDone = ["buildout file outside its folder"]
        return FAILURE
