"""Test step sets: ``test`` (the manifest's ``test-command``)."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from buildbot.plugins import steps, util

from ..steps.capabilities import ENV_PROPERTY
from . import StepContext, StepSet


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

STEP_SETS = {"test": test_steps}
