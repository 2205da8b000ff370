"""Test step sets: ``test``, ``pytest``, ``nose`` and ``functional``.

Every command is an argument list run without a shell: manifest values are
split once, when the manifest is loaded (the ``schema`` of each step set,
:mod:`..stepoptions`), and each word reaches the program as one literal
argument (``; rm -rf x`` is three arguments, not a second command).
Commands run in the buildout's folder (``bin/`` is there) with the build
environment the capability step computed. The step classes are in
:mod:`..steps.testing`.

This module also holds the master-side path helpers the quality step sets
share with these.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from buildbot.plugins import steps, util

from ..rules import PART_NAME
from ..stepoptions import Arguments, Boolean, Command, Commands, Names, Option, Paths, Schema
from ..steps.capabilities import ENV_PROPERTY
from ..steps.common import buildout_command, buildout_dir, cache_dir, locked_buildout_command
from ..steps.publish import BuildResultPath
from ..steps.testing import JUnitSummary, RunTests
from ..steps.transfer import BestEffortUpload
from . import StepContext, StepSet

#: Master-side folder (under the master directory) of uploaded test reports.
RESULTS_DIR = "results"
#: An uploaded JUnit report larger than this is refused (the master parses it).
JUNIT_MAX_BYTES = 50 * 1024 * 1024


# --------------------------------------------------------------------------- #
# paths on the master and on the worker
# --------------------------------------------------------------------------- #

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


def test_steps(options: Mapping[str, Any], context: StepContext) -> StepSet:
    """Run the manifest's ``test-command`` as an argument list (no shell)."""
    return StepSet(steps=[_test_step(context.buildout.test_command, context.workdir)])


test_steps.schema = Schema()  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- #
# pytest, with a JUnit report summarised on the master
# --------------------------------------------------------------------------- #

def pytest_steps(options: Mapping[str, Any], context: StepContext) -> StepSet:
    """Run pytest; by default its JUnit report is uploaded to the master
    (``<master>/results/<builder>/<build number>/pytest.xml``) and
    summarised in the build.

    Options: ``command`` (default ``bin/pytest``), ``args``, ``paths``,
    ``junit`` (default true).
    """
    command, args, paths = options["command"], options["args"], options["paths"]
    workdir, env = context.workdir, context.env
    if not options["junit"]:
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


pytest_steps.schema = Schema(  # type: ignore[attr-defined]
    Option("command", Command(), default=("bin/pytest",), doc="the program"),
    Option("args", Arguments(), default=(), doc="extra arguments, before the paths"),
    Option("paths", Paths(), default=(), doc="test files or folders"),
    Option("junit", Boolean(), default=True, doc="upload and summarise a JUnit report"),
)


# --------------------------------------------------------------------------- #
# nose
# --------------------------------------------------------------------------- #

def nose_steps(options: Mapping[str, Any], context: StepContext) -> StepSet:
    """Run nose (``bin/nosetests``, e.g. from the ``pynose`` egg).

    Options: ``command`` (default ``bin/nosetests``), ``args``, ``paths``.
    """
    return StepSet(steps=[steps.ShellCommand(
        name="nose", command=[*options["command"], *options["args"], *options["paths"]],
        workdir=context.workdir, env=context.env, haltOnFailure=True, description=["nose"],
        descriptionDone=["nose"])])


nose_steps.schema = Schema(  # type: ignore[attr-defined]
    Option("command", Command(), default=("bin/nosetests",), doc="the program"),
    Option("args", Arguments(), default=(), doc="extra arguments, before the paths"),
    Option("paths", Paths(), default=(), doc="test files or folders"),
)


# --------------------------------------------------------------------------- #
# functional
# --------------------------------------------------------------------------- #

def install_parts_step(name: str, context: StepContext,
                       parts: tuple[str, ...]) -> steps.ShellCommand:
    """``bin/buildout install PART...`` with the caches and ``buildout-options``
    of the main buildout step, through the same locking wrapper."""
    _folder, cfg = buildout_dir(context.buildout)
    caches = cache_dir(context.workdir)
    install = locked_buildout_command(
        caches, [*buildout_command(context.buildout, cfg, caches), "install", *parts])
    return steps.ShellCommand(
        name=name, command=install, workdir=context.workdir, env=context.env,
        haltOnFailure=True,
        description=["installing", *parts], descriptionDone=["installed", *parts])


def functional_options(name: str, command_example: str, part_example: str) -> tuple:
    """The ``commands`` and ``parts`` options every functional set has."""
    return (
        Option("commands", Commands(), required=True,
               hint=f"one command per line, e.g. {name}.commands = {command_example}",
               doc="the tests, one command per line"),
        Option("parts", Names(PART_NAME, "buildout part name",
                              f"e.g. {name}.parts = {part_example}"), default=(),
               doc="buildout parts installed first"))


def functional_steps(options: Mapping[str, Any], context: StepContext) -> StepSet:
    """Functional tests: install extra buildout parts, then run commands.

    Options: ``commands`` (required; one command per line, each split like
    a shell would, run without one), ``parts`` (buildout parts installed
    first with ``bin/buildout install PART...``, same caches and
    ``buildout-options`` as the main buildout step).
    """
    commands, parts = options["commands"], options["parts"]
    workdir, env = context.workdir, context.env
    result: list = []
    if parts:
        result.append(install_parts_step("functional-parts", context, parts))
    for index, command in enumerate(commands, 1):
        name = "functional" if len(commands) == 1 else f"functional-{index}"
        result.append(steps.ShellCommand(
            name=name, command=list(command), workdir=workdir, env=env,
            haltOnFailure=True, description=[name], descriptionDone=[name]))
    return StepSet(steps=result)


functional_steps.schema = Schema(  # type: ignore[attr-defined]
    *functional_options("functional", "bin/test-functional", "selenium-driver"))

STEP_SETS: dict[str, Callable[[Mapping[str, Any], StepContext], StepSet]] = {
    "test": test_steps,
    "pytest": pytest_steps,
    "nose": nose_steps,
    "functional": functional_steps,
}
