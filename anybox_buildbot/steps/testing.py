"""Steps of test runs whose report is read on the master: ``RunTests``
runs the tests, ``JUnitSummary`` counts the outcomes of the uploaded JUnit
report (``parse_junit``) and shows them in the build.
"""

from __future__ import annotations

import posixpath
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from buildbot.plugins import steps
from buildbot.process import buildstep, remotecommand
from buildbot.process.results import FAILURE, SUCCESS, WARNINGS
from twisted.internet import threads


class RunTests(steps.ShellCommand):
    """A test run that removes its previous report first and records its
    exit code.

    Why: the report is uploaded after the run; if the program cannot even
    start, a report left by the previous build must not be uploaded and
    summarised as this build's. The exit code (a build property) lets the
    summary step fail when the run failed without failing tests (pytest
    exits 4 on a usage error, 5 when nothing was collected).
    """

    renderables = ["report"]

    def __init__(self, report: str | None = None, returncode_property: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.report = report
        self.returncode_property = returncode_property

    async def run(self) -> int:
        if self.report:
            await self._remove_report(posixpath.join(self.workdir, self.report))
        cmd = await self.makeRemoteShellCommand()
        await self.runCommand(cmd)
        if self.returncode_property:
            self.setProperty(self.returncode_property, cmd.rc, "RunTests", runtime=True)
        return cmd.results()

    async def _remove_report(self, path: str) -> None:
        """``rmfile`` worker command (path relative to the builder folder);
        a missing file is fine, its error is not logged."""
        command = remotecommand.RemoteCommand("rmfile", {"path": path, "logEnviron": False})
        await self.runCommand(command)


@dataclass(frozen=True)
class JUnitCounts:
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errors + self.skipped

    def summary(self) -> str:
        text = f"{self.passed} passed, {self.failed} failed, {self.skipped} skipped"
        return text + (f", {self.errors} errors" if self.errors else "")


def parse_junit(path: str | Path) -> JUnitCounts:
    """Count the test cases of a JUnit XML report by outcome.

    Test cases are counted rather than the ``<testsuite>`` attributes,
    which tools fill differently (nested suites, missing ``skipped``).
    ElementTree resolves no external entity and Python's expat refuses
    entity-expansion bombs; the size is bounded by the upload step.
    """
    counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        tags = {child.tag for child in case}
        if "error" in tags:
            counts["errors"] += 1
        elif "failure" in tags:
            counts["failed"] += 1
        elif "skipped" in tags:
            counts["skipped"] += 1
        else:
            counts["passed"] += 1
    return JUnitCounts(**counts)


class JUnitSummary(buildstep.BuildStep):
    """Summarise an uploaded JUnit report (on the master).

    Sets ``tests_passed``, ``tests_failed``, ``tests_errors``,
    ``tests_skipped``, ``tests_total`` and ``tests_report`` (the report's
    path on the master) and shows the counts as the step's summary. Fails
    (and halts, like ``test``) on failed or erroneous tests, or when the
    test command failed anyway. A missing or unreadable report fails too
    when the command failed (it could not even start), and is only a
    warning otherwise.
    """

    name = "tests-summary"
    renderables = ["report"]

    def __init__(self, report: Any = None, returncode_property: str | None = None,
                 prefix: str = "tests", **kwargs: Any) -> None:
        kwargs.setdefault("haltOnFailure", True)
        super().__init__(**kwargs)
        self.report = report
        self.returncode_property = returncode_property
        self.prefix = prefix

    async def run(self) -> int:
        rc = (self.getProperty(self.returncode_property)
              if self.returncode_property else 0)
        try:
            counts = await threads.deferToThread(parse_junit, self.report)
        except (OSError, ElementTree.ParseError) as exc:
            await self.addCompleteLog("error", f"cannot read the JUnit report "
                                      f"{self.report}: {exc}\n")
            self.descriptionDone = ["no", "test", "report"]
            # the command failed without a report (not found, crashed): stop here
            return FAILURE if rc else WARNINGS
        for key in ("passed", "failed", "errors", "skipped", "total"):
            self.setProperty(f"{self.prefix}_{key}", getattr(counts, key), "JUnitSummary",
                             runtime=True)
        self.setProperty(f"{self.prefix}_report", str(self.report), "JUnitSummary",
                         runtime=True)
        summary = counts.summary()
        await self.addCompleteLog("summary", summary + "\n")
        self.descriptionDone = [summary]
        return FAILURE if counts.failed or counts.errors or rc else SUCCESS
