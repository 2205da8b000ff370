"""One Buildbot ``BuildFactory`` per buildout, shared by all its builders.

The builders a ``build-for`` line multiplies differ only by properties
(the pinned versions), so they share the factory; the capability step
finds its builder's instance decision at build time (``ChoiceBook``).
Order of steps follows SPEC section 6.

This module composes: the steps come from :mod:`.steps` and from the step
sets (:mod:`.subfactories`), which get the option values the manifest
loader parsed. A step set that raises or gives something other than a
``StepSet`` of steps is a configuration error naming it, where it comes
from and the manifest line asking for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from buildbot.config.errors import ConfigErrors
from buildbot.interfaces import IBuildStepFactory
from buildbot.plugins import steps, util
from buildbot.process import buildstep
from buildbot.process.factory import BuildFactory

from .buildoutspec import BuildoutSpec
from .errors import Errors, Location
from .plan import ChoiceBook
from .registry import CapabilitySpec
from .steploading import STEP_LISTS
from .stepoptions import StepOptions
from .steps.capabilities import ENV_PROPERTY, PYTHON_PROPERTY, ChooseCapabilities
from .steps.common import (
    SCRIPTS_DIR,
    buildout_command,
    buildout_dir,
    cache_dir,
    locked_buildout_command,
    ship,
    ship_scripts,
)
from .steps.develop import check_develop_step
from .steps.source import source_steps
from .steps.watchreport import StoreWatchReport
from .subfactories import BrokenStepSet, StepContext, StepSet, StepSetFactory, origin_of
from .subfactories.db import database_naming

WATCH_REPORT = ".anybox-watch.json"
#: The worker scripts every build runs, shipped by one ``ship-scripts`` step.
BUILD_SCRIPTS = ("bootstrap.py", "buildout.py", "develop_check.py")


def always_run(step):
    """The recipe of ``step`` with ``alwaysRun=True``: cleanup steps of step
    sets (drop a database...) must run even after a failure, whatever their
    author passed."""
    recipe = buildstep.get_factory_from_step_or_factory(step)
    if recipe.kwargs.get("alwaysRun"):
        return recipe
    return buildstep._BuildStepFactory(recipe.step_class, *recipe.args,
                                       **{**recipe.kwargs, "alwaysRun": True})


class FactoryMaker:
    """Makes the factories of one configuration, sharing identical steps.

    A step object is an immutable recipe (Buildbot records its constructor
    arguments and instantiates a fresh step per build), so factories can
    share one recipe. Most buildouts of a fleet have the same bootstrap,
    buildout and test steps: building each distinct one once keeps a
    1000-buildout reconfig close to the cost of its distinct parts.
    """

    def __init__(self, choices: ChoiceBook | None,
                 registry: Mapping[str, CapabilitySpec],
                 step_sets: Mapping[str, StepSetFactory],
                 watch_dir: Path | None = None, master_dir: Path | None = None,
                 errors: Errors | None = None) -> None:
        # The plan's instance decisions, filled when the plan is made.
        self.choices = choices if choices is not None else ChoiceBook()
        self.registry = registry
        self.step_sets = step_sets
        # Set by a configurator: its builds report what they watch (stored in
        # the database; the folder only holds reports of older masters).
        self.watch_dir = watch_dir
        self.master_dir = master_dir
        self.errors = errors if errors is not None else Errors()
        self.env = util.Property(ENV_PROPERTY, default={})
        self._steps: dict[tuple, object] = {}

    def shared(self, key: tuple, make) -> object:
        step = self._steps.get(key)
        if step is None:
            step = self._steps[key] = make()
        return step

    def make(self, spec: BuildoutSpec) -> BuildFactory:
        env = self.env
        workdir, cfg = buildout_dir(spec)
        caches = cache_dir(workdir)
        factory = BuildFactory()
        # With a database, env.VAR is rendered once it is named (testing-db).
        naming = database_naming(spec)
        extra_env = spec.env if naming is None else ()
        factory.addStep(self.shared(("capabilities", extra_env), lambda: (
            ChooseCapabilities(self.choices, self.registry, extra_env))))
        if naming is not None:
            factory.addStep(naming)
        if spec.source.kind == "standalone":
            key = ("standalone", spec.source.path, spec.source.root)
            factory.addStep(self.shared(key, lambda: source_steps(spec, ship)[0]))
        else:
            for step in source_steps(spec, ship):
                factory.addStep(step)
        context = StepContext(spec, env, workdir, self.master_dir, self.errors)
        cleanup: list = []

        def add_sets(names: tuple[str, ...]) -> None:
            for name in names:
                made = self._step_set(spec, name, context)
                if made is not None:
                    for step in made.steps:
                        factory.addStep(step)
                    cleanup.extend(made.cleanup)

        add_sets(spec.post_dl_steps)
        # one step for the three scripts: a step costs more than these transfers
        factory.addStep(self.shared(("ship", BUILD_SCRIPTS, workdir),
                                    lambda: ship_scripts(BUILD_SCRIPTS, workdir)))
        requires = [f"--require={r}" for r in spec.bootstrap_packages]
        factory.addStep(self.shared(("bootstrap", spec.buildout_version, workdir, *requires),
                                    lambda: (
            steps.ShellCommand(
                name="bootstrap", haltOnFailure=True, env=env, workdir=workdir,
                command=[util.Property(PYTHON_PROPERTY, default="python3"),
                         "anybox-bootstrap.py", "--version", spec.buildout_version,
                         "--venv", "venv", "--cache", caches, *requires]))))
        # No Buildbot lock: the scripts lock the worker's caches themselves,
        # only while a missing distribution is fetched (docs/decisions.rst)
        command = locked_buildout_command(caches, buildout_command(spec, cfg, caches))
        factory.addStep(self.shared(("buildout", tuple(command), workdir), lambda: (
            steps.ShellCommand(name="buildout", haltOnFailure=True, env=env,
                               workdir=workdir, command=command))))
        factory.addStep(self.shared(("check-develop", spec.buildout_version, workdir), lambda: (
            check_develop_step(spec.buildout_version, workdir, env))))
        if spec.auto_watch and self.watch_dir is not None:
            self._add_auto_watch(factory, spec, workdir, cfg)
        add_sets(spec.db_steps)
        add_sets(spec.post_buildout_steps)
        for step in cleanup:
            factory.addStep(always_run(step))
        return factory

    def _step_set(self, spec: BuildoutSpec, name: str, context: StepContext
                  ) -> StepSet | None:
        """Call step set ``name``; None after reporting why it gave nothing."""
        list_option, location = _named_at(spec, name)
        subject = f"buildout [{spec.name}] {list_option}"

        def fault(problem: str, hint: str) -> None:
            origin = origin_of(self.step_sets, name)
            what = f"step set {name!r}" + (f" ({origin})" if origin else "")
            self.errors.add(location, f"{what} {problem}", hint=f"{hint}, or take {name!r} out "
                            f"of {list_option}", subject=subject)

        step_set = self.step_sets[name]
        if isinstance(step_set, BrokenStepSet):   # the loader reported it already
            step_set(StepOptions(), context)
            return None
        options = spec.step_options.get(name)
        if not isinstance(options, StepOptions) or not options.checked:
            self.errors.add(location, f"the options of step set {name!r} were not checked",
                            hint="load the manifests with the step sets' schemas: "
                            "load_manifests(..., step_sets=...)", subject=subject)
            return None
        try:
            made = step_set(options, context)
        except ConfigErrors as exc:
            self.errors.extend(exc)
            return None
        except Exception as exc:  # a plugin's bug must not be a bare traceback
            fault(f"failed to build its steps: {type(exc).__name__}: {exc}",
                  "report it to its authors")
            return None
        problem = _not_a_step_set(made)
        if problem is not None:
            fault(problem, "a step set returns anybox_buildbot.subfactories.StepSet(steps=[...],"
                  " cleanup=[...]) of Buildbot steps; report it to its authors")
            return None
        return made

    def _add_auto_watch(self, factory: BuildFactory, spec: BuildoutSpec, workdir: str,
                        cfg: str) -> None:
        """Report the repositories the buildout uses; store the report in the
        database every master reads (``steps.watchreport``)."""
        factory.addStep(ship("autowatch.py", workdir))
        factory.addStep(steps.ShellCommand(
            name="auto-watch", workdir=workdir, env=self.env, flunkOnFailure=False,
            warnOnFailure=True,
            command=["python3", "anybox-autowatch.py", cfg, WATCH_REPORT]))
        factory.addStep(StoreWatchReport(name="upload-auto-watch", workersrc=WATCH_REPORT,
                                         buildout=spec.name, workdir=workdir))


def _named_at(spec: BuildoutSpec, name: str) -> tuple[str, Location]:
    """The step-list option naming step set ``name``, and its line."""
    for option in STEP_LISTS:
        location = spec.step_set_locations.get((option, name))
        if location is not None:
            return option, location
    return "post-buildout-steps", spec.location


def _is_step(step: Any) -> bool:
    return isinstance(step, buildstep.BuildStep) or IBuildStepFactory.providedBy(step)


def _not_a_step_set(made: Any) -> str | None:
    """What is wrong with a step set's result, or None when it is usable."""
    if not isinstance(made, StepSet):
        return f"returned a {type(made).__name__}, not a StepSet"
    for what in ("steps", "cleanup"):
        items = getattr(made, what)
        if not isinstance(items, list | tuple):
            return f"returned a StepSet whose {what} is a {type(items).__name__}, not a list"
        bad = next((item for item in items if not _is_step(item)), None)
        if bad is not None:
            return (f"returned a StepSet whose {what} holds a {type(bad).__name__}, "
                    "not a Buildbot step")
    return None


def make_factory(spec: BuildoutSpec, choices: ChoiceBook | None,
                 registry: Mapping[str, CapabilitySpec],
                 step_sets: Mapping[str, StepSetFactory],
                 watch_dir: Path | None = None) -> BuildFactory:
    """One factory on its own (the configurator shares steps across many).

    ``spec`` comes from ``load_manifests(..., step_sets=...)``, which
    checked its step-set options; ``choices`` is the book the plan fills
    (None: an empty one, for tests of the other steps). A step set that
    fails raises ``ConfigError``."""
    errors = Errors()
    factory = FactoryMaker(choices, registry, step_sets, watch_dir, errors=errors).make(spec)
    errors.raise_if_any()
    return factory


__all__ = ["SCRIPTS_DIR", "WATCH_REPORT", "FactoryMaker", "always_run",
           "buildout_command", "buildout_dir", "cache_dir", "locked_buildout_command",
           "make_factory", "ship"]
