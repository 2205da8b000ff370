"""Linters whose warnings are counted: ``CountWarnings`` (ruff, flake8)."""

from __future__ import annotations

from typing import Any

from buildbot.plugins import steps
from buildbot.process.results import SUCCESS
from twisted.internet import defer

#: ``path:line:column: message``, what ruff (concise) and flake8 print per warning.
WARNING_LINE = r"^[^\s:][^:]*:\d+:\d+: "


class CountWarnings(steps.WarningCountingShellCommand):
    """Run a linter and count its ``path:line:col:`` lines.

    Exit codes 0 and 1 are both "ran fine" (linters exit 1 when they found
    something); the verdict comes from the count: WARNINGS at or below
    ``maxWarnCount``, FAILURE above it; any other exit code (the tool
    crashed, bad option) is a FAILURE whatever the count. The count is
    the build property ``static_analysis_warnings``.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("warningPattern", WARNING_LINE)
        kwargs.setdefault("decodeRC", {0: SUCCESS, 1: SUCCESS})
        kwargs.setdefault("warnOnWarnings", True)   # the build shows them too
        super().__init__(**kwargs)

    @defer.inlineCallbacks
    def createSummary(self):  # type: ignore[override]
        yield super().createSummary()
        self.setProperty("static_analysis_warnings", self.warnCount, "static-analysis",
                         runtime=True)
        limit = "" if self.maxWarnCount is None else f" (max {self.maxWarnCount})"
        self.descriptionDone = [f"{self.warnCount} warnings{limit}"]
