"""Forcing a build onto one worker: the force form's field and the builder's check.

Buildbot's scheduler picks no worker; a build request only carries
properties. The ``force`` scheduler therefore gets Buildbot's
``WorkerChoiceParameter`` (property ``workername``, "any worker" by
default), and every builder a ``canStartBuild`` that lets a request with
that property start only on the worker it names. The check runs after
``nextWorker``'s pick; a refused worker goes back to the pool, so other
requests of the builder still start on it (a ``nextWorker`` returning
nothing would stall them).

The field's choices are the fleet's workers and the scheduler refuses any
other name; which of them can run a given builder is the command line's
business (``anybox-buildbot force --worker`` reads it from the master).
"""

from __future__ import annotations

from collections.abc import Iterable

from buildbot.plugins import util

#: The build-request property naming the chosen worker (Buildbot's own name).
WORKER_PROPERTY = "workername"
#: The field's value for "no preference": Buildbot's sentinel
#: (``WorkerChoiceParameter.anySentinel``), written out because reading a
#: plugin attribute while this module is imported loads Buildbot's
#: scheduler modules, whose Twisted imports warn.
ANY_WORKER = "-any-"


def worker_parameter(worker_names: Iterable[str]) -> util.WorkerChoiceParameter:
    """The force form's worker field: any worker, or one of ``worker_names``.

    The default must be the sentinel: with Buildbot's default (an empty
    string) every forced build would carry ``workername=''`` and match no
    worker.
    """
    return util.WorkerChoiceParameter(
        name=WORKER_PROPERTY, label="Worker", default=ANY_WORKER, strict=True,
        choices=[ANY_WORKER, *sorted(set(worker_names))])


def chosen_worker_only(builder, wfb, buildrequest) -> bool:
    """``canStartBuild``: a request naming a worker starts on that one only."""
    props = buildrequest.properties
    chosen = props.getProperty(WORKER_PROPERTY) if props.hasProperty(WORKER_PROPERTY) else None
    if not isinstance(chosen, str) or chosen in ("", ANY_WORKER):
        return True
    return chosen == wfb.worker.workername


__all__ = ["ANY_WORKER", "WORKER_PROPERTY", "chosen_worker_only", "worker_parameter"]
