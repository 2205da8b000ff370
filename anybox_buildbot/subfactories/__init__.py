"""Step sets ("subfactories"): named groups of steps a manifest can ask for.

``post-dl-steps``, ``db-steps`` and ``post-buildout-steps`` list step-set
names. A step set is a callable ``(options, context) -> StepSet``:

- ``options``: the buildout's ``NAME.OPTION`` values for that set, parsed
  by the manifest loader with the step set's ``schema`` (see
  :mod:`..stepoptions`): ``pytest.args = -x`` gives ``{"args": ("-x",),
  ...}``, every declared option present (its default when not given);
- ``context``: a ``StepContext`` (the parsed buildout, the build
  environment renderable, the buildout's working directory, the master
  directory).

It returns its steps and optional cleanup steps; cleanup steps run at the
end of every build, even after a failure. The modules of this package
only compose steps; the step classes live in :mod:`..steps`, by family.
Third-party packages register their own step sets through the
``anybox_buildbot.subfactories`` entry point group.

A plugin is imported the first time a manifest names one of its step sets,
never before: an installed plugin that cannot be imported (a module
missing, an exception at import) is an error only for the buildouts that
use it, naming the entry point and its distribution, and every other
configuration loads as if it were not installed.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, PackageNotFoundError, entry_points, version
from pathlib import Path
from typing import Any, ClassVar

from buildbot.plugins import util

from ..buildoutspec import BuildoutSpec
from ..errors import Errors
from ..steploading import Catalog, StepSetInfo, info_of
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
        """Report a bad ``stepset.option`` value at its manifest line.

        For step sets without a schema; a schema reports at load time."""
        key = f"{stepset}.{option}"
        location = self.buildout.step_option_locations.get(key, self.buildout.location)
        self.errors.add(location, problem, text, hint,
                        subject=f"buildout [{self.buildout.name}] {key}")


@dataclass
class StepSet:
    """What a step set gives: steps where the manifest lists it, and cleanup
    steps at the very end of the build (made ``alwaysRun`` by the factory)."""

    steps: list = field(default_factory=list)
    cleanup: list = field(default_factory=list)


StepSetFactory = Callable[[Mapping[str, Any], StepContext], StepSet]


def _own_distribution() -> str:
    try:
        return f"anybox_buildbot {version('anybox_buildbot')}"
    except PackageNotFoundError:   # run from a source tree
        return "anybox_buildbot"


#: The origin of the built-in step sets, in messages.
BUILT_IN = f"built into {_own_distribution()}"


def builtin_step_sets() -> dict[str, StepSetFactory]:
    """The step sets shipped with anybox_buildbot, by name."""
    from . import db, odoo, odoofunctional, ports, quality, testing

    registry: dict[str, StepSetFactory] = {}
    for module in (testing, db, quality, odoo, ports, odoofunctional):
        registry.update(module.STEP_SETS)
    return registry


def builtin_catalog() -> Catalog:
    """The built-in step sets as the manifest loader sees them (schemas)."""
    return Catalog(builtin_step_sets(), lambda name, step_set: info_of(name, step_set,
                                                                       BUILT_IN))


def _distribution(ep: EntryPoint) -> str:
    """``NAME VERSION`` of the distribution declaring ``ep``."""
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "an unknown distribution"
    return f"{dist.name} {dist.version}"


@dataclass(frozen=True)
class BrokenStepSet:
    """What stands for a plugin's step set whose entry point cannot be loaded.

    The configurator reports it, at the manifest line naming it, for each
    buildout that uses it; called anyway (``make_factory``), it reports the
    same error and gives no steps.
    """

    name: str
    entry_point: str      # as in entry_points.txt: 'NAME = module:attr'
    distribution: str     # 'NAME VERSION'
    problem: str          # what failed, with the exception
    options: ClassVar[None] = None

    def info(self) -> StepSetInfo:
        return StepSetInfo(self.name, None, f"entry point {self.entry_point!r} of "
                           f"{self.distribution}", self.problem)

    def message(self) -> str:
        return self.info().unusable_message()

    def hint(self, option: str) -> str:
        return self.info().unusable_hint(option)

    def __call__(self, options: Mapping[str, str], context: StepContext) -> StepSet:
        spec = context.buildout
        for option in ("post-dl-steps", "db-steps", "post-buildout-steps"):
            location = spec.step_set_locations.get((option, self.name))
            if location is not None:
                break
        else:
            option, location = "post-buildout-steps", spec.location
        context.errors.add(location, self.message(), hint=self.hint(option),
                           subject=f"buildout [{spec.name}] {option}")
        return StepSet()


def load_entry_point(ep: EntryPoint) -> StepSetFactory | BrokenStepSet:
    """Import a plugin's step set; a failure becomes a ``BrokenStepSet``.

    Done by hand rather than with ``ep.load()`` to tell an import that
    failed (and which module) from an attribute that is missing.
    """
    def broken(problem: str) -> BrokenStepSet:
        return BrokenStepSet(ep.name, f"{ep.name} = {ep.value}", _distribution(ep), problem)

    try:
        module = importlib.import_module(ep.module)
    except (Exception, SystemExit) as exc:   # a plugin's import must not stop the load
        return broken(f"importing module {ep.module!r} failed: {type(exc).__name__}: {exc}")
    try:
        factory = functools.reduce(getattr, filter(None, (ep.attr or "").split(".")), module)
    except AttributeError as exc:
        return broken(str(exc))
    if not callable(factory):
        return broken(f"{ep.value!r} is a {type(factory).__name__}, not a callable step set")
    return factory


class StepSetRegistry(Mapping[str, "StepSetFactory | BrokenStepSet"]):
    """Step sets by name: the built-in ones, then the installed plugins'.

    A plugin's entry point is loaded when its name is first looked up
    (``registry[name]``, ``.get``); ``in``, iteration and ``len`` only use
    the names. A plugin cannot shadow a built-in step set: on a name clash
    ours is kept and the plugin is never imported (``shadowed`` says so).
    """

    def __init__(self, builtins: Mapping[str, StepSetFactory],
                 plugins: Iterable[EntryPoint] = ()) -> None:
        self._builtins = dict(builtins)
        self._plugins: dict[str, EntryPoint] = {}
        self._loaded: dict[str, StepSetFactory | BrokenStepSet] = {}
        self.shadowed: list[str] = []
        for ep in plugins:
            if ep.name in self._builtins:
                self.shadowed.append(
                    f"step set {ep.name!r} of {_distribution(ep)} (entry point "
                    f"'{ep.name} = {ep.value}') is ignored: a built-in step set has that name")
            else:
                self._plugins[ep.name] = ep    # the last one of a name wins

    def __getitem__(self, name: str) -> StepSetFactory | BrokenStepSet:
        if name in self._builtins:
            return self._builtins[name]
        if name not in self._loaded:
            self._loaded[name] = load_entry_point(self._plugins[name])
        return self._loaded[name]

    def __contains__(self, name: object) -> bool:
        return name in self._builtins or name in self._plugins

    def __iter__(self) -> Iterator[str]:
        yield from self._plugins
        yield from self._builtins

    def __len__(self) -> int:
        return len(self._builtins) + len(self._plugins)

    def origin(self, name: str) -> str:
        """Where step set ``name`` comes from, for messages."""
        ep = self._plugins.get(name) if name not in self._builtins else None
        if ep is None:
            return BUILT_IN
        return f"entry point '{ep.name} = {ep.value}' of {_distribution(ep)}"

    def describe(self, name: str, step_set: object) -> StepSetInfo:
        if isinstance(step_set, BrokenStepSet):
            return step_set.info()
        return info_of(name, step_set, self.origin(name))

    @property
    def catalog(self) -> Catalog:
        """The step sets' schemas, for ``manifest.load_manifests``; a plugin
        is imported when the loader first asks for its name."""
        return Catalog(self, self.describe)


def origin_of(step_sets: Mapping[str, Any], name: str) -> str | None:
    """``StepSetRegistry.origin`` of any mapping of step sets (None: a plain
    mapping, which knows no origin)."""
    origin = getattr(step_sets, "origin", None)
    return origin(name) if origin is not None else None


def catalog_of(step_sets: Mapping[str, Any]) -> Catalog:
    """The catalog of a registry, or of any mapping of step-set callables."""
    if isinstance(step_sets, StepSetRegistry):
        return step_sets.catalog
    return Catalog(step_sets, lambda name, step_set: (
        step_set.info() if isinstance(step_set, BrokenStepSet) else info_of(name, step_set)))


def load_registry() -> StepSetRegistry:
    """Built-in step sets plus those of installed plugins, which are only
    imported when a manifest names them (see ``StepSetRegistry``)."""
    return StepSetRegistry(builtin_step_sets(), entry_points(group=ENTRY_POINT_GROUP))
