"""Test step sets: ``test``, ``pytest``, ``nose`` and ``functional``.

Every command is an argument list run without a shell: manifest values are
split once, on the master, with :func:`shlex.split`, and each word reaches
the program as one literal argument (``; rm -rf x`` is three arguments, not
a second command). Commands run in the buildout's folder (``bin/`` is
there) with the build environment the capability step computed.

This module also holds the master-side path helpers the quality step sets
share with these.
"""

from __future__ import annotations

import functools
import posixpath
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from buildbot.interfaces import IRenderable
from buildbot.plugins import steps, util
from buildbot.process import buildstep, remotecommand
from buildbot.process.results import FAILURE, SUCCESS, WARNINGS
from twisted.internet import threads
from zope.interface import implementer

from ..confine import BUILDOUT_WORD
from ..factory import CACHE_LOCK, buildout_command, buildout_dir, cache_dir
from ..steps.capabilities import ENV_PROPERTY
from ..steps.transfer import BestEffortUpload
from . import StepContext, StepSet
from .options import OptionReader

#: Master-side folder (under the master directory) of uploaded test reports.
RESULTS_DIR = "results"
#: An uploaded JUnit report larger than this is refused (the master parses it).
JUNIT_MAX_BYTES = 50 * 1024 * 1024
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


# --------------------------------------------------------------------------- #
# paths on the master and on the worker
# --------------------------------------------------------------------------- #

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


def master_base(context: StepContext, *parts: str) -> str:
    """A folder under the master directory. Without one (a factory built
    outside a configurator), relative: a running master's cwd is its
    directory."""
    base = context.master_dir if context.master_dir is not None else Path(".")
    return str(base.joinpath(*parts))


def builder_dir_from(workdir: str) -> str:
    """Path from ``workdir`` to ``<worker basedir>/<builder>``: files we
    write there stay out of the checkout (and out of ``autocommit``)."""
    return "/".join([".."] * len(workdir.split("/")))


# --------------------------------------------------------------------------- #
# test: the manifest's test-command
# --------------------------------------------------------------------------- #

@functools.lru_cache(maxsize=4096)
def _test_step(command: tuple[str, ...], workdir: str) -> steps.ShellCommand:
    # Step objects are immutable recipes: buildouts with the same test
    # command share one (see factory.FactoryMaker).
    return steps.ShellCommand(name="test", command=list(command), workdir=workdir,
                              env=util.Property(ENV_PROPERTY, default={}),
                              haltOnFailure=True, description=["testing"],
                              descriptionDone=["test"])


def test_steps(options: Mapping[str, str], context: StepContext) -> StepSet:
    """Run the manifest's ``test-command`` as an argument list (no shell)."""
    return StepSet(steps=[_test_step(context.buildout.test_command, context.workdir)])


test_steps.options = frozenset()  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- #
# pytest, with a JUnit report summarised on the master
# --------------------------------------------------------------------------- #

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


def pytest_steps(options: Mapping[str, str], context: StepContext) -> StepSet:
    """Run pytest; by default its JUnit report is uploaded to the master
    (``<master>/results/<builder>/<build number>/pytest.xml``) and
    summarised in the build.

    Options: ``command`` (default ``bin/pytest``), ``args``, ``paths``,
    ``junit`` (default true).
    """
    read = OptionReader("pytest", options, context)
    command = read.command("command", ("bin/pytest",))
    args = read.argv("args")
    paths = read.paths("paths")
    junit = read.boolean("junit", True)
    workdir, env = context.workdir, context.env
    if not junit:
        return StepSet(steps=[steps.ShellCommand(
            name="pytest", command=[*command, *args, *paths], workdir=workdir, env=env,
            haltOnFailure=True, description=["pytest"], descriptionDone=["pytest"])])
    # Outside the checkout: never committed, never mistaken for a source.
    report = f"{builder_dir_from(workdir)}/anybox-results/pytest.xml"
    results = master_base(context, RESULTS_DIR)
    on_master = BuildResultPath(results, "pytest.xml")
    return StepSet(steps=[
        RunTests(name="pytest", command=[*command, f"--junitxml={report}", *args, *paths],
                    report=report, returncode_property="pytest_returncode",
                    workdir=workdir, env=env, haltOnFailure=False,
                    description=["pytest"], descriptionDone=["pytest"]),
        # Optional: a master that cannot store the report warns (the summary
        # then says there is none), the build goes on, never an EXCEPTION.
        BestEffortUpload(name="upload-junit", workersrc=report, masterdest=on_master,
                         root=results, purpose="the JUnit report", workdir=workdir,
                         maxsize=JUNIT_MAX_BYTES, mode=0o644),
        JUnitSummary(name="pytest-summary", report=on_master,
                     returncode_property="pytest_returncode"),
    ])


pytest_steps.options = frozenset({"command", "args", "paths", "junit"})  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- #
# nose
# --------------------------------------------------------------------------- #

def nose_steps(options: Mapping[str, str], context: StepContext) -> StepSet:
    """Run nose (``bin/nosetests``, e.g. from the ``pynose`` egg).

    Options: ``command`` (default ``bin/nosetests``), ``args``, ``paths``.
    """
    read = OptionReader("nose", options, context)
    command = read.command("command", ("bin/nosetests",))
    args = read.argv("args")
    paths = read.paths("paths")
    return StepSet(steps=[steps.ShellCommand(
        name="nose", command=[*command, *args, *paths], workdir=context.workdir,
        env=context.env, haltOnFailure=True, description=["nose"],
        descriptionDone=["nose"])])


nose_steps.options = frozenset({"command", "args", "paths"})  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- #
# functional
# --------------------------------------------------------------------------- #

def functional_steps(options: Mapping[str, str], context: StepContext) -> StepSet:
    """Functional tests: install extra buildout parts, then run commands.

    Options: ``commands`` (required; one command per line, each split like
    a shell would, run without one), ``parts`` (buildout parts installed
    first with ``bin/buildout install PART...``, same caches and
    ``buildout-options`` as the main buildout step).
    """
    read = OptionReader("functional", options, context)
    commands = read.commands("commands")
    if "commands" not in options:
        read.error("commands", "functional needs functional.commands",
                   hint="one command per line, e.g. functional.commands = bin/test-functional")
    elif not options["commands"].strip():
        read.error("commands", "no command given",
                   hint="one command per line, e.g. bin/test-functional -v")
    parts = read.words("parts", BUILDOUT_WORD, "buildout part name", "functional.parts = "
                       "selenium-driver")
    workdir, env = context.workdir, context.env
    result: list = []
    if parts:
        spec = context.buildout
        _folder, cfg = buildout_dir(spec)
        install = [*buildout_command(spec, cfg, cache_dir(workdir)), "install", *parts]
        result.append(steps.ShellCommand(
            name="functional-parts", command=install, workdir=workdir, env=env,
            locks=[CACHE_LOCK.access("exclusive")], haltOnFailure=True,
            description=["installing", *parts], descriptionDone=["installed", *parts]))
    for index, command in enumerate(commands, 1):
        name = "functional" if len(commands) == 1 else f"functional-{index}"
        result.append(steps.ShellCommand(
            name=name, command=list(command), workdir=workdir, env=env,
            haltOnFailure=True, description=[name], descriptionDone=[name]))
    return StepSet(steps=result)


functional_steps.options = frozenset({"commands", "parts"})  # type: ignore[attr-defined]

STEP_SETS: dict[str, Callable[[Mapping[str, str], StepContext], StepSet]] = {
    "test": test_steps,
    "pytest": pytest_steps,
    "nose": nose_steps,
    "functional": functional_steps,
}
