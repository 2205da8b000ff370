"""Step sets ("subfactories"): named groups of steps a manifest can ask for.

``post-dl-steps``, ``db-steps`` and ``post-buildout-steps`` list step-set
names. A step set is a callable ``(options, context) -> StepSet`` where
``options`` holds the buildout's ``NAME.OPTION`` values for that set and
``context`` what the steps need to know about the build. Third-party
packages register their own through the ``anybox_buildbot.subfactories``
entry point group, without touching this package.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from buildbot.plugins import steps, util

from ..manifest import BuildoutSpec
from ..steps.capabilities import ENV_PROPERTY

ENTRY_POINT_GROUP = "anybox_buildbot.subfactories"


@dataclass(frozen=True)
class StepContext:
    """What a step set may use: the buildout and the build environment."""

    buildout: BuildoutSpec
    env: Any = field(default_factory=lambda: util.Property(ENV_PROPERTY, default={}))
    workdir: str = "build"      # where bin/buildout ran: bin/, parts/ are here


@dataclass
class StepSet:
    steps: list = field(default_factory=list)
    cleanup: list = field(default_factory=list)   # run alwaysRun at the end


StepSetFactory = Callable[[Mapping[str, str], StepContext], StepSet]


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


BUILTIN: dict[str, StepSetFactory] = {"test": test_steps}


def load_registry() -> dict[str, StepSetFactory]:
    """Built-in step sets plus those of installed plugins (plugins can't
    shadow a built-in: a clash keeps ours)."""
    registry: dict[str, StepSetFactory] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        registry[ep.name] = ep.load()
    registry.update(BUILTIN)
    return registry
