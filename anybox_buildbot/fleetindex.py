"""The fleet indexed for planning: workers by capability name, each
distinct requirement, pin and instance choice evaluated once.

``choose_instance`` is the only implementation of the instance rule (SPEC
section 4: the exact build-for version, else the highest version
satisfying the build-requires lines, ties: first in workers.cfg).
``FleetIndex`` applies it over the whole fleet and caches every answer,
so ``dispatch`` can plan 10 000 buildouts over 2 000 workers with set
intersections.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from .capability import Capability
from .constraint import Requirement
from .plan import Wanted
from .registry import CapabilitySpec, spec_for
from .version import Version, sort_key
from .workers import WorkerSpec


def choose_instance(instances: Sequence[Capability], requirements: Sequence[Requirement],
                    pin: Version | None) -> int | None:
    """Position in ``instances`` (one worker's instances of one capability,
    in workers.cfg order) of the one a build uses, or None if none fits.

    Among the instances meeting every requirement: the one of the pinned
    version (the first declared, if spelled twice), else the highest
    version, an unversioned instance ranking below every version; ties go
    to the first declared.
    """
    best: int | None = None
    best_key: tuple = ()
    for position, cap in enumerate(instances):
        if not all(r.matches(cap.version) for r in requirements):
            continue
        if pin is not None:
            if cap.version is not None and cap.version.same_as(pin):
                return position
            continue
        key = (1, sort_key(cap.version)) if cap.version is not None else (0,)
        if best is None or key > best_key:
            best, best_key = position, key
    return best


class FleetIndex:
    """Workers indexed by capability name, with cached requirement checks.

    Each distinct requirement, pin and capability name is evaluated once
    against the fleet; a builder's workers are then set intersections.
    """

    def __init__(self, workers: Sequence[WorkerSpec]) -> None:
        self.workers = workers
        self.names = frozenset(w.name for w in workers)
        self.index: dict[str, list[tuple[str, Capability]]] = {}
        for worker in workers:
            for cap in worker.capabilities:
                self.index.setdefault(cap.name, []).append((worker.name, cap))
        self._req_cache: dict[tuple[Requirement, ...], frozenset[str]] = {}
        self._pin_cache: dict[tuple[str, Version], frozenset[str]] = {}
        self._versions_cache: dict[Requirement, list[Version]] = {}
        self._holders_cache: dict[str, frozenset[str]] = {}
        self.reserved = [(w.name, frozenset(r.name for r in w.only_if_requires))
                         for w in workers if w.only_if_requires]
        # capability name -> worker -> (positions in its capabilities, instances)
        by_name: dict[str, dict[str, tuple[list[int], list[Capability]]]] = {}
        for worker in workers:
            for position, cap in enumerate(worker.capabilities):
                positions, caps = by_name.setdefault(cap.name, {}).setdefault(
                    worker.name, ([], []))
                positions.append(position)
                caps.append(cap)
        self.by_name = by_name
        self._choice_cache: dict[tuple, tuple[Mapping[str, int], frozenset[str]]] = {}
        self._sorted_cache: dict[frozenset[str], tuple[str, ...]] = {}
        self._runners_cache: dict[tuple, tuple[tuple[Mapping[str, int], ...],
                                               tuple[str, ...]]] = {}
        self._want_ids: dict[tuple[str, tuple[Requirement, ...]], int] = {}
        self._excluded_cache: dict[frozenset[str], frozenset[str]] = {}
        self._canonical: dict[frozenset[str], frozenset[str]] = {}

    def satisfying(self, group: tuple[Requirement, ...]) -> frozenset[str]:
        """Workers with ONE instance meeting every requirement of the group
        (all about the same capability): the build uses a single instance."""
        hit = self._req_cache.get(group)
        if hit is None:
            hit = frozenset(name for name, cap in self.index.get(group[0].name, ())
                            if all(req.matches(cap.version) for req in group))
            self._req_cache[group] = hit
        return hit

    def having(self, name: str, version: Version) -> frozenset[str]:
        key = (name, version)
        hit = self._pin_cache.get(key)
        if hit is None:
            hit = frozenset(worker for worker, cap in self.index.get(name, ())
                            if cap.version is not None and cap.version.same_as(version))
            self._pin_cache[key] = hit
        return hit

    def holders(self, name: str) -> frozenset[str]:
        """Workers with any instance of capability ``name``."""
        hit = self._holders_cache.get(name)
        if hit is None:
            hit = self._holders_cache[name] = frozenset(w for w, _ in self.index.get(name, ()))
        return hit

    def versions(self, req: Requirement) -> list[Version]:
        """Distinct versions of ``req.name`` over the fleet satisfying ``req``.

        Equal versions spelled differently (9.2, 9.2.0) count once, under
        the first spelling in workers.cfg order.
        """
        hit = self._versions_cache.get(req)
        if hit is None:
            found: dict[Version, None] = {}
            for _worker, cap in self.index.get(req.name, ()):
                if cap.version is not None and req.matches(cap.version):
                    found.setdefault(cap.version, None)
            hit = self._versions_cache[req] = sorted(found, key=sort_key)
        return hit

    def choices(self, wanted: Wanted, pin: Version | None
                ) -> tuple[Mapping[str, int], frozenset[str]]:
        """The decision for one wanted capability over the whole fleet:
        (worker -> position of its chosen instance, the workers of that
        table). Computed once per (name, requirements, pin)."""
        key = (wanted.name, wanted.requirements, pin)
        hit = self._choice_cache.get(key)
        if hit is None:
            table: dict[str, int] = {}
            for worker, (positions, caps) in self.by_name.get(wanted.name, {}).items():
                found = choose_instance(caps, wanted.requirements, pin)
                if found is not None:
                    table[worker] = positions[found]
            hit = self._choice_cache[key] = (MappingProxyType(table), frozenset(table))
        return hit

    def want_id(self, want: Wanted) -> int:
        """A small number per distinct (name, requirements) of a wanted
        capability, so builders are keyed without hashing requirements again."""
        key = (want.name, want.requirements)
        hit = self._want_ids.get(key)
        if hit is None:
            hit = self._want_ids[key] = len(self._want_ids)
        return hit

    def runners(self, asked: frozenset[str], picks: tuple[tuple[Wanted, Version | None], ...],
                want_ids: tuple[int, ...] | None = None
                ) -> tuple[tuple[Mapping[str, int], ...], tuple[str, ...]]:
        """(decision tables, sorted workers) of a builder wanting ``picks``
        (each capability with its pinned version or None) and naming the
        capabilities ``asked``: the workers not reserved for others that
        have a fitting instance of each. Builders of the same requirements
        share the result, so a fleet of 10 000 buildouts intersects sets
        once per distinct requirement set, not once per builder.

        ``want_ids`` (``want_id`` of each pick, computed once per buildout)
        spares hashing the requirements for each builder. Pins are keyed by
        identity: they come from ``versions``, whose cache keeps them alive.
        """
        excluded = self.excluded_by_reservation(asked)
        if want_ids is None:
            want_ids = tuple(self.want_id(want) for want, _pin in picks)
        key = (id(excluded), want_ids,
               tuple(None if pin is None else id(pin) for _want, pin in picks))
        hit = self._runners_cache.get(key)
        if hit is None:
            found = [self.choices(want, pin) for want, pin in picks]
            tables = tuple(table for table, _holders in found)
            sets = sorted((holders for _table, holders in found), key=len)
            if sets:
                capable = sets[0].intersection(*sets[1:])
            else:
                capable = self.names
            if excluded:
                capable = capable - excluded
            hit = self._runners_cache[key] = (tables, self.sorted_names(frozenset(capable)))
        return hit

    def sorted_names(self, names: frozenset[str]) -> tuple[str, ...]:
        """``names`` sorted, one shared tuple per distinct set: builders of
        the same requirements run on the same workers."""
        hit = self._sorted_cache.get(names)
        if hit is None:
            hit = self._sorted_cache[names] = tuple(sorted(names))
        return hit

    def excluded_by_reservation(self, asked: frozenset[str]) -> frozenset[str]:
        """Workers reserved for capabilities of which this buildout names none
        (one shared set per distinct ``asked``)."""
        hit = self._excluded_cache.get(asked)
        if hit is None:
            found = frozenset(name for name, only in self.reserved if not only & asked)
            hit = self._excluded_cache[asked] = self._canonical.setdefault(found, found)
        return hit


class SpecMemo(dict):
    """The registry, remembering the fallback entries ``spec_for`` makes for
    undeclared capability names (a regular expression each time otherwise:
    one per builder and pin at 10 000 buildouts)."""

    def __init__(self, registry: Mapping[str, CapabilitySpec]) -> None:
        super().__init__(registry)
        self.base = registry

    def get(self, name, default=None):   # type: ignore[override]
        hit = dict.get(self, name)
        if hit is None:
            hit = self[name] = spec_for(self.base, name)
        return hit
