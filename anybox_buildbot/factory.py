"""One Buildbot ``BuildFactory`` per buildout, shared by all its builders.

The builders a ``build-for`` line multiplies differ only by properties
(the pinned versions), so they share the factory; the capability step
reads the pins at build time. Order of steps follows SPEC section 6.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources

from buildbot.plugins import steps, util
from buildbot.process.factory import BuildFactory

from .capability import Capability
from .manifest import BuildoutSpec
from .registry import CapabilitySpec, spec_for
from .steps.capabilities import ENV_PROPERTY, PYTHON_PROPERTY, ChooseCapabilities, Wanted
from .subfactories import StepContext, StepSetFactory

CACHE_DIR = "../../buildout-caches"
BOOTSTRAP_SCRIPT = "anybox-bootstrap.py"
CACHE_LOCK = util.WorkerLock("anybox-buildout-caches", maxCount=1)


def _bootstrap_script_path() -> str:
    return str(resources.files("anybox_buildbot") / "worker_scripts" / "bootstrap.py")


def wanted_capabilities(spec: BuildoutSpec,
                        registry: Mapping[str, CapabilitySpec]) -> tuple[Wanted, ...]:
    pinned = {req.name for req in spec.build_for}
    result = []
    for name in spec.capability_names:
        reqs = tuple(r for r in spec.build_requires if r.name == name)
        result.append(Wanted(name, spec_for(registry, name).version_prop, name in pinned,
                             reqs))
    return tuple(result)


def _source_steps(spec: BuildoutSpec) -> list:
    source = spec.source
    if source.kind == "standalone":
        return [steps.FileDownload(name="download buildout", mastersrc=str(source.path),
                                   workerdest="buildout.cfg", haltOnFailure=True)]
    raise NotImplementedError(source.kind)  # rejected earlier by the configurator


def buildout_command(spec: BuildoutSpec) -> list[str]:
    """``bin/buildout`` with the per-worker caches and the manifest's options."""
    command = ["venv/bin/buildout", "-c", spec.source.cfg,
               f"buildout:eggs-directory={CACHE_DIR}/eggs",
               f"buildout:download-cache={CACHE_DIR}/downloads"]
    command.extend(f"{section}:{option}={value}"
                   for section, option, value in spec.buildout_options)
    return command


def make_factory(spec: BuildoutSpec, fleet: Mapping[str, tuple[Capability, ...]],
                 registry: Mapping[str, CapabilitySpec],
                 step_sets: Mapping[str, StepSetFactory]) -> BuildFactory:
    env = util.Property(ENV_PROPERTY, default={})
    lock = [CACHE_LOCK.access("exclusive")]
    factory = BuildFactory()
    factory.addStep(ChooseCapabilities(fleet, wanted_capabilities(spec, registry), registry,
                                       spec.env))
    for step in _source_steps(spec):
        factory.addStep(step)
    context = StepContext(spec, env)
    cleanup: list = []

    def add_sets(names: tuple[str, ...]) -> None:
        for name in names:
            step_set = step_sets[name](spec.step_options.get(name, {}), context)
            for step in step_set.steps:
                factory.addStep(step)
            cleanup.extend(step_set.cleanup)

    add_sets(spec.post_dl_steps)
    factory.addStep(steps.FileDownload(name="ship bootstrap", mastersrc=_bootstrap_script_path(),
                                       workerdest=BOOTSTRAP_SCRIPT, haltOnFailure=True))
    factory.addStep(steps.ShellCommand(
        name="bootstrap", haltOnFailure=True, env=env, locks=lock,
        command=[util.Property(PYTHON_PROPERTY, default="python3"), BOOTSTRAP_SCRIPT,
                 "--version", spec.buildout_version, "--venv", "venv", "--cache", CACHE_DIR]))
    factory.addStep(steps.ShellCommand(name="buildout", haltOnFailure=True, env=env,
                                       locks=lock, command=buildout_command(spec)))
    add_sets(spec.db_steps)
    add_sets(spec.post_buildout_steps)
    for step in cleanup:
        factory.addStep(step)
    return factory
