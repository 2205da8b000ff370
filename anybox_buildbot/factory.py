"""One Buildbot ``BuildFactory`` per buildout, shared by all its builders.

The builders a ``build-for`` line multiplies differ only by properties
(the pinned versions), so they share the factory; the capability step
finds its builder's instance decision at build time (``ChoiceBook``).
Order of steps follows SPEC section 6.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from buildbot.config.errors import ConfigErrors
from buildbot.plugins import steps, util
from buildbot.process import buildstep
from buildbot.process.factory import BuildFactory

from .confine import SAFE_NAME_RULE, file_in
from .dispatch import ChoiceBook
from .errors import Errors
from .manifest import BuildoutSpec
from .registry import CapabilitySpec
from .steps.capabilities import ENV_PROPERTY, PYTHON_PROPERTY, ChooseCapabilities
from .steps.source import ARCHIVE_DIR, source_steps
from .steps.transfer import BestEffortUpload
from .subfactories import StepContext, StepSetFactory
from .watching import MAX_REPORT_BYTES

CACHE_LOCK = util.WorkerLock("anybox-buildout-caches", maxCount=1)
WATCH_REPORT = ".anybox-watch.json"


SCRIPTS_DIR = str(resources.files("anybox_buildbot") / "worker_scripts")


def ship(script: str, workdir: str = "build") -> steps.FileDownload:
    """Copy one of our worker scripts next to the build, as anybox-<script>."""
    return steps.FileDownload(name=f"ship-{script}", mastersrc=f"{SCRIPTS_DIR}/{script}",
                              workerdest=f"anybox-{script}", workdir=workdir,
                              haltOnFailure=True)


def buildout_dir(spec: BuildoutSpec) -> tuple[str, str]:
    """(workdir of the buildout steps, CFG relative to it).

    Buildout puts bin/ and parts/ next to its config file, so the steps run
    in the config file's folder: test commands like ``bin/test`` then work
    whatever the checkout layout (``subdir=``, archives, nested CFG).
    """
    parts = ["build"]
    if spec.source.kind == "archive":
        parts.append(ARCHIVE_DIR)
    if spec.source.subdir:
        parts.append(spec.source.subdir)
    folder, cfg = posixpath.split(spec.source.cfg)
    if folder:
        parts.append(folder)
    return posixpath.normpath(posixpath.join(*parts)), cfg


def cache_dir(workdir: str) -> str:
    """Path from ``workdir`` to ``<worker basedir>/buildout-caches``.

    Step workdirs are relative to ``<worker basedir>/<builder>``.
    """
    depth = len(workdir.split("/")) + 1
    return "/".join([".."] * depth + ["buildout-caches"])


def buildout_command(spec: BuildoutSpec, cfg: str, caches: str) -> list[str]:
    """``bin/buildout`` with the per-worker caches and the manifest's options."""
    command = ["venv/bin/buildout", "-c", cfg,
               f"buildout:eggs-directory={caches}/eggs",
               f"buildout:download-cache={caches}/downloads"]
    command.extend(f"{section}:{option}={value}"
                   for section, option, value in spec.buildout_options)
    return command


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
        self.watch_dir = watch_dir
        self.master_dir = master_dir
        self.errors = errors if errors is not None else Errors()
        self.env = util.Property(ENV_PROPERTY, default={})
        self.lock = [CACHE_LOCK.access("exclusive")]
        self._steps: dict[tuple, object] = {}

    def shared(self, key: tuple, make) -> object:
        step = self._steps.get(key)
        if step is None:
            step = self._steps[key] = make()
        return step

    def make(self, spec: BuildoutSpec) -> BuildFactory:
        env, lock = self.env, self.lock
        workdir, cfg = buildout_dir(spec)
        caches = cache_dir(workdir)
        factory = BuildFactory()
        factory.addStep(self.shared(("capabilities", spec.env), lambda: (
            ChooseCapabilities(self.choices, self.registry, spec.env))))
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
                try:
                    step_set = self.step_sets[name](spec.step_options.get(name, {}), context)
                except ConfigErrors as exc:
                    self.errors.extend(exc)
                    continue
                except Exception as exc:  # a plugin's bug must not be a bare traceback
                    self.errors.add(spec.location, f"step set {name!r} failed to build its "
                                    f"steps: {exc!r}", hint="report it to the step set's "
                                    "authors", subject=f"buildout [{spec.name}]")
                    continue
                for step in step_set.steps:
                    factory.addStep(step)
                cleanup.extend(step_set.cleanup)

        add_sets(spec.post_dl_steps)
        factory.addStep(self.shared(("ship", "bootstrap.py", workdir),
                                    lambda: ship("bootstrap.py", workdir)))
        factory.addStep(self.shared(("bootstrap", spec.buildout_version, workdir), lambda: (
            steps.ShellCommand(
                name="bootstrap", haltOnFailure=True, env=env, locks=lock, workdir=workdir,
                command=[util.Property(PYTHON_PROPERTY, default="python3"),
                         "anybox-bootstrap.py", "--version", spec.buildout_version,
                         "--venv", "venv", "--cache", caches]))))
        command = buildout_command(spec, cfg, caches)
        factory.addStep(self.shared(("buildout", tuple(command), workdir), lambda: (
            steps.ShellCommand(name="buildout", haltOnFailure=True, env=env, locks=lock,
                               workdir=workdir, command=command))))
        if spec.auto_watch and self.watch_dir is not None:
            self._add_auto_watch(factory, spec, workdir, cfg)
        add_sets(spec.db_steps)
        add_sets(spec.post_buildout_steps)
        for step in cleanup:
            factory.addStep(always_run(step))
        return factory

    def _add_auto_watch(self, factory: BuildFactory, spec: BuildoutSpec, workdir: str,
                        cfg: str) -> None:
        """Report the repositories the buildout uses; upload to ``watch/``.

        The destination is checked again here (the manifest parser already
        refuses such names): no spec, however made, writes outside watch/.
        """
        assert self.watch_dir is not None
        try:
            report = file_in(self.watch_dir, spec.name, ".json")
        except ValueError:
            self.errors.add(spec.location, "the auto-watch report of this buildout would be "
                            f"written outside {self.watch_dir}", spec.name,
                            hint=f"buildout names are {SAFE_NAME_RULE}",
                            subject=f"buildout [{spec.name}]")
            return
        factory.addStep(ship("autowatch.py", workdir))
        factory.addStep(steps.ShellCommand(
            name="auto-watch", workdir=workdir, env=self.env, flunkOnFailure=False,
            warnOnFailure=True,
            command=["python3", "anybox-autowatch.py", cfg, WATCH_REPORT]))
        factory.addStep(BestEffortUpload(
            name="upload-auto-watch", workersrc=WATCH_REPORT, workdir=workdir,
            masterdest=str(report), root=str(self.watch_dir),
            purpose="the auto-watch report", maxsize=MAX_REPORT_BYTES, mode=0o644))


def make_factory(spec: BuildoutSpec, choices: ChoiceBook | None,
                 registry: Mapping[str, CapabilitySpec],
                 step_sets: Mapping[str, StepSetFactory],
                 watch_dir: Path | None = None) -> BuildFactory:
    """One factory on its own (the configurator shares steps across many).

    ``choices`` is the book the plan fills (None: an empty one, for tests
    of the other steps). Bad step-set options raise ``ConfigError``."""
    errors = Errors()
    factory = FactoryMaker(choices, registry, step_sets, watch_dir, errors=errors).make(spec)
    errors.raise_if_any()
    return factory
