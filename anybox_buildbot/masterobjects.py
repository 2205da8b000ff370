"""Buildbot's objects made from our values: workers, builders, the force
scheduler.

The last stage of a load (files -> values -> plan -> Buildbot objects):
each function takes values that were checked already and only calls
Buildbot's constructors, so nothing here can fail on a user's text. Kept
apart from ``configurator`` so that the stages a load runs and the
objects a master ends up with read separately.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from buildbot.config.builder import BuilderConfig
from buildbot.plugins import schedulers, util, worker
from buildbot.process.factory import BuildFactory

from .buildoutspec import BuildoutSpec
from .fleet.model import builder_description
from .plan import Plan
from .steps.source import TAG_PROPERTY
from .workerchoice import chosen_worker_only, worker_parameter
from .workers import WorkerSpec

FORCE_SCHEDULER = "force"
#: Worker options passed on to ``Worker`` when workers.cfg sets them.
WORKER_OPTIONS = ("max_builds", "keepalive_interval", "missing_timeout")


def prefer_priority(builder, workers, buildrequest):
    """``nextWorker``: the available worker with the highest
    ``worker_priority`` property (ties: first in Buildbot's list)."""
    if not workers:
        return None

    def priority(wfb) -> float:
        # a decimal from a file written for anybox.buildbot.odoo orders too
        value = wfb.worker.properties.getProperty("worker_priority", 0)
        try:
            return float(value)
        except (TypeError, ValueError):
            return 0

    return max(workers, key=priority)


def worker_objects(specs: Iterable[WorkerSpec]) -> list:
    """One ``Worker`` per spec, in name order; a ``%(secret:NAME)s``
    password stays a secret reference (``Interpolate``), never its value."""
    made = []
    for spec in sorted(specs, key=lambda s: s.name):
        password = util.Interpolate(spec.password) if spec.secret_name else spec.password
        kwargs = {key: getattr(spec, key) for key in WORKER_OPTIONS
                  if getattr(spec, key) is not None}
        if spec.notify_on_missing:
            kwargs["notify_on_missing"] = list(spec.notify_on_missing)
        made.append(worker.Worker(spec.name, password, properties=spec.build_properties,
                                  **kwargs))
    return made


def builder_configs(plan: Plan, factories: Mapping[str, BuildFactory],
                    buildouts: Mapping[str, BuildoutSpec]) -> list:
    """One ``BuilderConfig`` per builder of the plan."""
    # BuilderConfig imported from its module: ``util.BuilderConfig`` goes
    # through Buildbot's plugin lookup, 20 000 times at 10 000 buildouts.
    return [BuilderConfig(name=item.name, workernames=list(item.workers),
                          factory=factories[item.buildout],
                          properties=dict(item.properties), tags=list(item.tags) or None,
                          nextWorker=prefer_priority, canStartBuild=chosen_worker_only,
                          description=builder_description(item, buildouts[item.buildout]))
            for item in plan.builders]


def force_scheduler(builder_names: Sequence[str], worker_names: Iterable[str]):
    """The ``force`` scheduler over every builder, with the buildout tag
    and worker fields."""
    return schedulers.ForceScheduler(
        name=FORCE_SCHEDULER, builderNames=list(builder_names),
        properties=[util.StringParameter(name=TAG_PROPERTY, label="Buildout tag", default=""),
                    worker_parameter(worker_names)])
