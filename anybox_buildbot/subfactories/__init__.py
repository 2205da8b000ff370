"""Step sets ("subfactories"): named groups of steps a manifest can ask for.

``post-dl-steps``, ``db-steps`` and ``post-buildout-steps`` list step-set
names. A step set is a callable ``(options, context) -> StepSet``:

- ``options``: the buildout's ``NAME.OPTION`` values for that set
  (``pytest.args = -x`` gives ``{"args": "-x"}``), strings as written;
- ``context``: a ``StepContext`` (the parsed buildout, the build
  environment renderable, the buildout's working directory, the master
  directory) with ``option_error()`` to report a bad option with its
  manifest line.

It returns its steps and optional cleanup steps; cleanup steps run at the
end of every build, even after a failure. A step set may carry an
``options`` attribute (a set of names): then any other ``NAME.OPTION`` is a
configuration error. Third-party packages register their own through the
``anybox_buildbot.subfactories`` entry point group.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from buildbot.plugins import util

from ..errors import Errors
from ..manifest import BuildoutSpec
from ..steps.capabilities import ENV_PROPERTY

ENTRY_POINT_GROUP = "anybox_buildbot.subfactories"


@dataclass(frozen=True)
class StepContext:
    """What a step set may use to build its steps."""

    buildout: BuildoutSpec
    env: Any = field(default_factory=lambda: util.Property(ENV_PROPERTY, default={}))
    workdir: str = "build"      # where bin/buildout ran: bin/, parts/ are here
    master_dir: Path | None = None
    errors: Errors = field(default_factory=Errors)

    def option_error(self, stepset: str, option: str, problem: str,
                     text: str | None = None, hint: str | None = None) -> None:
        """Report a bad ``stepset.option`` value at its manifest line."""
        key = f"{stepset}.{option}"
        location = self.buildout.step_option_locations.get(key, self.buildout.location)
        self.errors.add(location, problem, text, hint,
                        subject=f"buildout [{self.buildout.name}] {key}")


@dataclass
class StepSet:
    steps: list = field(default_factory=list)
    cleanup: list = field(default_factory=list)   # made alwaysRun by the factory


StepSetFactory = Callable[[Mapping[str, str], StepContext], StepSet]


def builtin_step_sets() -> dict[str, StepSetFactory]:
    """The step sets shipped with anybox_buildbot, by name."""
    from . import db, odoo, quality, testing

    registry: dict[str, StepSetFactory] = {}
    for module in (testing, db, quality, odoo):
        registry.update(module.STEP_SETS)
    return registry


def load_registry() -> dict[str, StepSetFactory]:
    """Built-in step sets plus those of installed plugins (a plugin can't
    shadow a built-in: on a name clash ours is kept)."""
    registry: dict[str, StepSetFactory] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        registry[ep.name] = ep.load()
    registry.update(builtin_step_sets())
    return registry
