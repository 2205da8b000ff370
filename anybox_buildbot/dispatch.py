"""Which builders exist, which workers may run each, and with which instances.

Pure functions over the parsed values, so ``plan`` output and tests need
no Buildbot. Requirements repeat a lot across a fleet of manifests, so
each distinct requirement (and each build-for pin) is evaluated once
against all workers, and a builder's worker list is a set intersection.

The plan also decides, for each builder and each worker that can run it,
which instance of every wanted capability the build uses (SPEC section 4:
the exact build-for version, else the highest version satisfying the
build-requires lines, ties: first in workers.cfg). ``choose_instance`` is
the only implementation of that rule: the build step looks the decision
up (``ChoiceBook``) instead of choosing again.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from .buildoutspec import BuildoutSpec
from .capability import Capability
from .confine import MAX_BUILDER_NAME
from .constraint import Requirement
from .errors import Diagnostic, Errors, Location, closest
from .registry import CapabilitySpec, spec_for
from .version import Version, sort_key
from .workers import WorkerSpec

BUILD_REQUIRES_PROP = "build_requires"
#: A buildout multiplying into more builders than this gets a warning.
FANOUT_WARNING = 50
#: Declared capability names listed in a hint when none is close.
MAX_NAMES_LISTED = 10


@dataclass(frozen=True, slots=True)
class Wanted:
    """A capability a build uses: pinned by build-for and/or constrained by
    build-requires lines (``requirements``)."""

    name: str
    version_prop: str
    pinned: bool
    requirements: tuple[Requirement, ...] = ()


def wanted_capabilities(spec: BuildoutSpec,
                        registry: Mapping[str, CapabilitySpec]) -> tuple[Wanted, ...]:
    """The capabilities a build of ``spec`` uses, in first-mention order:
    the order of every decision of the plan and of the step's log."""
    pinned = {req.name for req in spec.build_for}
    return tuple(Wanted(name, spec_for(registry, name).version_prop, name in pinned,
                        tuple(r for r in spec.build_requires if r.name == name))
                 for name in spec.capability_names)


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


class _Fleet:
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


class _SpecMemo(dict):
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


def requirement_groups(buildout: BuildoutSpec) -> dict[str, tuple[Requirement, ...]]:
    """build-requires lines grouped by capability name, in first-mention order."""
    groups: dict[str, list[Requirement]] = {}
    for req in buildout.build_requires:
        groups.setdefault(req.name, []).append(req)
    return {name: tuple(reqs) for name, reqs in groups.items()}


def describe_gaps(worker: WorkerSpec, buildout: BuildoutSpec,
              pins: tuple[tuple[str, Version], ...], asked: frozenset[str]) -> list[str]:
    """What ``worker`` lacks to run this builder, in words."""
    gaps = []

    def have(name: str) -> str:
        versions = [c.version_text or "(no version)" for c in worker.instances(name)]
        return f"has {name} {', '.join(versions)}"

    for name, version in pins:
        if not any(c.version is not None and c.version.same_as(version)
                   for c in worker.instances(name)):
            gaps.append(f"{have(name)}; needs == {version.text}" if worker.has(name)
                        else f"has no {name} (needs {version.text})")
    for name, group in requirement_groups(buildout).items():
        if not any(all(r.matches(c.version) for r in group) for c in worker.instances(name)):
            needs = " and ".join(str(r)[len(name):].strip() or "any version" for r in group)
            gaps.append(f"{have(name)}; needs {needs}" if worker.has(name)
                        else f"has no {name}")
    reserved = {r.name for r in worker.only_if_requires}
    if reserved and not reserved & asked:
        gaps.append("only takes builds that require " + " or ".join(sorted(reserved)))
    return gaps


def _closest_miss(fleet: _Fleet, buildout: BuildoutSpec, builder: str,
                  pins: tuple[tuple[str, Version], ...], asked: frozenset[str]) -> Miss:
    """The worker with the fewest gaps; among those, one with the capability
    in another version is closer than one without it. Ties: workers.cfg order.

    Gaps are counted with the cached sets; only the winner is described.
    """
    if not fleet.workers:
        return Miss(buildout.name, builder, None, ("there are no workers",))
    checks = [(fleet.having(name, version), fleet.holders(name)) for name, version in pins]
    checks += [(fleet.satisfying(group), fleet.holders(name))
               for name, group in requirement_groups(buildout).items()]
    excluded = fleet.excluded_by_reservation(asked)
    best: tuple[tuple[int, int], WorkerSpec] | None = None
    for worker in fleet.workers:
        name = worker.name
        gaps = absent = 0
        for ok, holders in checks:
            if name not in ok:
                gaps += 1
                absent += name not in holders
        gaps += name in excluded
        if best is None or (gaps, absent) < best[0]:
            best = ((gaps, absent), worker)
    assert best is not None
    return Miss(buildout.name, builder, best[1].name,
                tuple(describe_gaps(best[1], buildout, pins, asked)), pins)


def builder_name(buildout: str, pins: tuple[tuple[str, Version], ...],
                 registry: Mapping[str, CapabilitySpec]) -> str:
    suffix = "".join(f"-{spec_for(registry, name).abbrev}{version.text}"
                     for name, version in pins)
    return buildout + suffix


def make_plan(buildouts: Sequence[BuildoutSpec], workers: Sequence[WorkerSpec],
              registry: Mapping[str, CapabilitySpec], errors: Errors) -> Plan:
    """Compute every builder and its workers; name collisions go to ``errors``."""
    fleet = _Fleet(workers)
    registry = _SpecMemo(registry)
    builders: list[BuilderPlan] = []
    misses: list[Miss] = []
    owner: dict[str, BuildoutSpec] = {}
    too_long: set[str] = set()
    for buildout in sorted(buildouts, key=lambda b: b.name):
        asked = frozenset(buildout.capability_names)
        groups = requirement_groups(buildout)
        wanted = wanted_capabilities(buildout, registry)
        want_ids = tuple(fleet.want_id(want) for want in wanted)
        props: dict[str, object] = {}
        if buildout.build_requires:
            props[BUILD_REQUIRES_PROP] = [r.text or str(r) for r in buildout.build_requires]
        axes = []
        for req in buildout.build_for:
            # build-requires on the same capability narrow its build-for versions
            same = groups.get(req.name, ())
            versions = [v for v in fleet.versions(req) if all(r.matches(v) for r in same)]
            if not versions:
                misses.append(Miss(buildout.name, buildout.name, None,
                                   (f"no worker has a version of {req.name} matching "
                                    f"{req.text or req.name!r}",)))
                axes = None
                break
            axes.append([(req.name, v) for v in versions])
        if axes is None:
            continue
        for combo in itertools.product(*axes):
            pins = tuple(combo)
            name = builder_name(buildout.name, pins, registry)
            if len(name) > MAX_BUILDER_NAME:
                if buildout.name in too_long:
                    continue  # one message per buildout, not one per version
                too_long.add(buildout.name)
                errors.add(buildout.location, f"builder name too long ({len(name)} "
                           f"characters, at most {MAX_BUILDER_NAME})", name,
                           hint="shorten the section name, or the capability's abbrev in "
                           "the registry; builder names are directory names on workers",
                           subject=f"buildout [{buildout.name}]")
                continue
            if name in owner:
                other = owner[name]
                errors.add(buildout.location, f"builder name {name!r} is produced by "
                           f"buildouts {other.name!r} ({other.location}) and "
                           f"{buildout.name!r}", f"[{buildout.name}]",
                           hint="rename one of the sections")
                continue
            owner[name] = buildout
            pinned = dict(pins)
            tables, capable = fleet.runners(asked, tuple((want, pinned.get(want.name))
                                                         for want in wanted), want_ids)
            if not capable:
                misses.append(_closest_miss(fleet, buildout, name, pins, asked))
                continue
            builder_props = dict(props)
            for cap_name, version in pins:
                builder_props[spec_for(registry, cap_name).version_prop] = version.text
            builders.append(BuilderPlan(name=name, buildout=buildout.name,
                                        workers=capable, pins=pins,
                                        properties=builder_props, tags=buildout.category,
                                        wanted=wanted, choices=tuple(tables)))
    builders.sort(key=lambda b: b.name)
    return Plan(tuple(builders), tuple(misses))


def plan_warnings(plan: Plan, buildouts: Sequence[BuildoutSpec],
                  workers: Sequence[WorkerSpec]) -> list[Diagnostic]:
    """The warnings a plan gives, each at the manifest line it is about.

    - a requirement naming a capability no worker declares (the closest
      declared name in the hint): ``postgres`` when workers say
      ``postgresql``; the builder is then "not created" too, but this says why;
    - a buildout multiplying into more than ``FANOUT_WARNING`` builders;
    - each builder not created, with the closest worker and what it lacks.

    Pure, so ``check`` and the master give the same list; the configurator
    makes the last kind errors in strict mode (``category`` tells them apart).
    """
    declared = sorted({cap.name for worker in workers for cap in worker.capabilities})
    known = frozenset(declared)
    per_buildout = plan.builders_of()
    result: list[Diagnostic] = []
    for spec in sorted(buildouts, key=lambda b: b.name):
        warned: set[str] = set()      # one warning per name and buildout
        asked = [("build-requires", req) for req in spec.build_requires]
        asked += [("build-for", req) for req in spec.build_for]
        for option, req in asked:
            if req.name in known or req.name in warned:
                continue
            warned.add(req.name)
            close = closest(req.name, declared)
            hint = (f"did you mean {close!r}?" if close is not None
                    else "no worker declares any capability" if not declared
                    else "declared: " + ", ".join(declared[:MAX_NAMES_LISTED])
                    + (", ..." if len(declared) > MAX_NAMES_LISTED else ""))
            result.append(Diagnostic(
                spec.requirement_locations.get((option, req.name), spec.location),
                f"no worker declares capability {req.name!r}", req.text or str(req), hint,
                subject=option, category="capability"))
        fanout = len(per_buildout.get(spec.name, ()))
        if fanout > FANOUT_WARNING:
            first = ("build-for", spec.build_for[0].name) if spec.build_for else None
            location = spec.requirement_locations.get(first, spec.location) \
                if first is not None else spec.location
            result.append(Diagnostic(
                Location(location.file, location.line), f"buildout {spec.name!r} multiplies "
                f"into {fanout} builders (more than {FANOUT_WARNING}): check its build-for "
                "lines", category="fan-out"))
    specs = {spec.name: spec for spec in buildouts}
    for miss in plan.misses:
        spec = specs.get(miss.buildout)
        result.append(Diagnostic(spec.location if spec is not None else None, miss.message(),
                                 category="not-created"))
    return result
