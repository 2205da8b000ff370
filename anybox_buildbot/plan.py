"""The dispatch plan as values: which builders exist (``BuilderPlan``),
which are not created and why (``Miss``), and the instance decisions a
build looks up when it starts (``ChoiceBook``).

Apart from the planning (``dispatch``) because the plan's readers,
``plan`` output, the fleet page, the factories' capability steps, only
query it and never make one.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .capability import Capability
from .constraint import Requirement
from .version import Version
from .workers import WorkerSpec


@dataclass(frozen=True, slots=True)
class Wanted:
    """A capability a build uses: pinned by build-for and/or constrained by
    build-requires lines (``requirements``)."""

    name: str
    version_prop: str
    pinned: bool
    requirements: tuple[Requirement, ...] = ()



@dataclass(frozen=True, slots=True)
class BuilderPlan:
    """One builder: a buildout, optionally pinned to capability versions.

    ``choices`` holds the instance decision, one table per ``wanted``
    capability: worker name -> position of the chosen instance in that
    worker's ``capabilities``. Tables are shared by every builder wanting
    the same capability with the same requirements and pin, and cover every
    worker having a fitting instance (a superset of ``workers``); so the
    plan holds one small table per distinct requirement rather than one
    entry per builder and worker (20 000 builders x 2 000 workers).
    """

    name: str
    buildout: str
    workers: tuple[str, ...]
    pins: tuple[tuple[str, Version], ...] = ()
    properties: dict[str, object] = field(default_factory=dict, hash=False)
    tags: tuple[str, ...] = ()
    wanted: tuple[Wanted, ...] = ()
    choices: tuple[Mapping[str, int], ...] = field(default=(), hash=False, repr=False)

    def chosen(self, worker: str) -> tuple[int, ...] | None:
        """Positions in ``worker``'s capabilities of the instances a build of
        this builder uses there, one per ``wanted``; None if it cannot run it."""
        if worker not in self.workers:
            return None
        try:
            return tuple(table[worker] for table in self.choices)
        except KeyError:     # never for a worker of ``workers`` (make_plan)
            return None


@dataclass(frozen=True, slots=True)
class Miss:
    """A builder that is not created, with the closest worker and its gaps."""

    buildout: str
    builder: str
    worker: str | None
    lacks: tuple[str, ...]
    pins: tuple[tuple[str, Version], ...] = ()

    def message(self) -> str:
        what = (f"builder {self.builder!r} of buildout {self.buildout!r}"
                if self.builder != self.buildout else f"buildout {self.buildout!r}")
        if self.worker is None:
            return f"{what} is not created: {'; '.join(self.lacks) or 'no workers'}"
        return (f"{what} is not created: no worker can run it; closest is "
                f"{self.worker!r}, which {'; '.join(self.lacks)}")


@dataclass(frozen=True, slots=True)
class Plan:
    builders: tuple[BuilderPlan, ...]
    misses: tuple[Miss, ...]

    def builders_of(self) -> dict[str, list[str]]:
        """Buildout name -> its builder names, in plan order."""
        result: dict[str, list[str]] = {}
        for builder in self.builders:
            result.setdefault(builder.buildout, []).append(builder.name)
        return result

    def worker_counts(self) -> dict[str, int]:
        """Worker name -> how many builders it may run, without listing them.

        Builders of the same requirements share one worker tuple (``make_plan``),
        so each distinct tuple is walked once, not each builder: a few thousand
        tuples instead of 10 million (builder, worker) pairs at 10 000 buildouts
        x 2 000 workers."""
        shared: dict[int, list] = {}
        for builder in self.builders:
            entry = shared.get(id(builder.workers))
            if entry is None:
                shared[id(builder.workers)] = [builder.workers, 1]
            else:
                entry[1] += 1
        counts: dict[str, int] = {}
        for workers, times in shared.values():
            for worker in workers:
                counts[worker] = counts.get(worker, 0) + times
        return counts

    def worker_builders(self) -> dict[str, list[str]]:
        """Worker name -> the builders it may run, in plan order.

        Builders sharing one worker tuple are grouped first, then each
        worker's list is its groups' names merged by one sort: the plan is
        in name order (``make_plan``), so the 10 million appends of a
        builder-by-builder walk at 10 000 x 2 000 become C-level sorts. A
        plan made otherwise, not in name order, is walked builder by builder.
        """
        names = [builder.name for builder in self.builders]
        if any(a >= b for a, b in zip(names, names[1:], strict=False)):
            walked: dict[str, list[str]] = {}
            for builder in self.builders:
                for worker in builder.workers:
                    walked.setdefault(worker, []).append(builder.name)
            return walked
        groups: dict[int, tuple[tuple[str, ...], list[str]]] = {}
        for builder in self.builders:
            entry = groups.get(id(builder.workers))
            if entry is None:
                groups[id(builder.workers)] = (builder.workers, [builder.name])
            else:
                entry[1].append(builder.name)
        parts: dict[str, list[list[str]]] = {}
        for workers, group in groups.values():
            for worker in workers:
                parts.setdefault(worker, []).append(group)
        return {worker: list(lists[0]) if len(lists) == 1
                else sorted(itertools.chain.from_iterable(lists))
                for worker, lists in parts.items()}


class ChoiceBook:
    """The plan's instance decisions, looked up by (builder, worker) when a
    build starts.

    One per configuration load, shared by the capability steps of every
    factory. It is filled when the plan is made, which may come after the
    factories (the staged API: ``register_build_factories`` then
    ``make_builders``); a build only starts once the load is complete.
    """

    def __init__(self) -> None:
        self._builders: dict[str, BuilderPlan] = {}
        self._fleet: dict[str, tuple[Capability, ...]] = {}

    def record(self, plan: Plan, workers: Sequence[WorkerSpec]) -> None:
        """Take the decisions of ``plan``, made over ``workers``."""
        self._builders = {b.name: b for b in plan.builders}
        self._fleet = {w.name: w.capabilities for w in workers}

    def chosen(self, builder: str, worker: str
               ) -> tuple[tuple[Wanted, Capability], ...] | None:
        """The instances a build of ``builder`` on ``worker`` uses, one per
        wanted capability (in first-mention order); None when the plan has
        no such builder or the worker cannot run it."""
        plan = self._builders.get(builder)
        caps = self._fleet.get(worker)
        if plan is None or caps is None:
            return None
        positions = plan.chosen(worker)
        if positions is None:
            return None
        return tuple((want, caps[i]) for want, i in zip(plan.wanted, positions, strict=True))
