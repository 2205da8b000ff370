"""The auto-watch report, from the worker into the masters' shared database.

``StoreWatchReport`` reads the report the ``auto-watch`` step wrote on the
worker (at most ``MAX_REPORT_BYTES``, counted on the master too: a worker
may ignore the limit it is given) and stores it in Buildbot's state
storage under the buildout's name (``sharedstate``), where every master
of a multi-master setup reads it at its next configuration load.

The report is untrusted and is stored as sent: the masters check it when
they read it (``watching.parse_report``), so one set of checks decides
what is polled. The step runs the same checks first only to tell, in its
log, what the next reconfig will keep and drop. Auto-watch is optional:
any fault ends the step with WARNINGS and a ``problem`` log, never the
build.
"""

from __future__ import annotations

from buildbot.process import buildstep, remotecommand
from buildbot.process.results import SUCCESS, WARNINGS
from buildbot.worker.protocols import base

from ..sharedstate import STATE_CLASS, STATE_OBJECT, state_value
from ..watching import MAX_REPORT_BYTES, parse_report


class BoundedWriter(base.FileWriterImpl):
    """Receives a file from the worker into memory, keeping at most ``limit``
    bytes and noting that more came."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.chunks: list[bytes] = []
        self.size = 0
        self.overflow = False

    def remote_write(self, data) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8", "replace")
        self.size += len(data)
        if self.size > self.limit:
            self.overflow = True
            return
        self.chunks.append(data)

    def remote_close(self) -> None:
        pass

    def remote_utime(self, accessed_modified) -> None:
        pass

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)


class StoreWatchReport(buildstep.BuildStep):
    """Store ``workersrc`` (in ``workdir``) as the report of ``buildout``."""

    renderables = ["workersrc"]

    def __init__(self, workersrc: str, buildout: str, **kwargs) -> None:
        kwargs.update(haltOnFailure=False, flunkOnFailure=False, warnOnFailure=True,
                      warnOnWarnings=True)
        super().__init__(**kwargs)
        self.workersrc = workersrc
        self.buildout = buildout

    async def run(self) -> int:
        self.checkWorkerHasCommand("uploadFile")
        stdio = await self.addLog("stdio")
        writer = BoundedWriter(MAX_REPORT_BYTES)
        cmd = remotecommand.RemoteCommand("uploadFile", {
            "workdir": self.workdir, "workersrc": self.workersrc, "writer": writer,
            "maxsize": MAX_REPORT_BYTES, "blocksize": 32 * 1024, "keepstamp": False},
            decodeRC={None: SUCCESS, 0: SUCCESS})
        cmd.useLog(stdio)
        await self.runCommand(cmd)
        # a worker stops at ``maxsize`` and fails; one that ignores it overflows
        if writer.overflow or (cmd.didFail() and writer.size >= MAX_REPORT_BYTES):
            return await self._give_up(f"The report is larger than {MAX_REPORT_BYTES} bytes: "
                                       "it was not stored.", "see the auto-watch step")
        if cmd.didFail():
            return await self._give_up(f"The worker could not send {self.workersrc} (see "
                                       "the stdio log).", "see the steps before this one")
        raw = writer.data
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return await self._give_up("The report is not UTF-8 text: it was not stored.",
                                       "see the auto-watch step")
        source = f"{self.build.builder.name} #{self.build.number}"
        try:
            objectid = await self.master.db.state.getObjectId(STATE_OBJECT, STATE_CLASS)
            await self.master.db.state.setState(objectid, self.buildout,
                                                state_value(text, source))
        except Exception as exc:  # the database: a report is not worth the build
            return await self._give_up(f"The master could not store the report in its "
                                       f"database: {type(exc).__name__}.",
                                       "see the master's twistd.log")
        watches, warnings = parse_report(raw, self.buildout, "this report")
        lines = [f"Stored as the auto-watch report of buildout [{self.buildout}], "
                 "read by every master at its next reconfig:"]
        lines.extend(f"  {w.vcs} {w.url} {w.branch or ''}".rstrip() for w in watches)
        lines.extend(warnings)
        await self.addCompleteLog("report", "\n".join(lines) + "\n")
        self.descriptionDone = [f"auto-watch report stored ({len(watches)} repositories)"]
        return WARNINGS if warnings else SUCCESS

    async def _give_up(self, what: str, fix: str) -> int:
        await self.addCompleteLog("problem", f"{what}\nHow to fix: {fix}.\n"
                                  "The auto-watch report is optional: this step warns and "
                                  "the build goes on.\n")
        self.descriptionDone = ["auto-watch report not stored"]
        return WARNINGS


__all__ = ["BoundedWriter", "StoreWatchReport"]
