"""A plugin whose distribution declares broken entry points next to a
working one (``still-fine``)."""

from __future__ import annotations

from collections.abc import Mapping

from buildbot.plugins import steps

from anybox_buildbot.subfactories import StepContext, StepSet


def echo_steps(options: Mapping[str, str], context: StepContext) -> StepSet:
    """One step printing the buildout's name."""
    return StepSet(steps=[steps.ShellCommand(
        name="still-fine", command=["echo", "still fine in", context.buildout.name],
        workdir=context.workdir, env=context.env)])


echo_steps.options = frozenset()  # type: ignore[attr-defined]
