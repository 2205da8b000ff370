"""Which builders exist and which workers may run each: the dispatch plan.

Pure functions over the parsed values, so ``plan`` output and tests need
no Buildbot. Requirements repeat a lot across a fleet of manifests, so
each distinct requirement (and each build-for pin) is evaluated once
against all workers, and a builder's worker list is a set intersection.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .capability import Capability
from .confine import MAX_BUILDER_NAME
from .constraint import Requirement
from .errors import Diagnostic, Errors, Location, closest
from .manifest import BuildoutSpec
from .registry import CapabilitySpec, spec_for
from .version import Version, sort_key
from .workers import WorkerSpec

BUILD_REQUIRES_PROP = "build_requires"
#: A buildout multiplying into more builders than this gets a warning.
FANOUT_WARNING = 50
#: Declared capability names listed in a hint when none is close.
MAX_NAMES_LISTED = 10


@dataclass(frozen=True, slots=True)
class BuilderPlan:
    """One builder: a buildout, optionally pinned to capability versions."""

    name: str
    buildout: str
    workers: tuple[str, ...]
    pins: tuple[tuple[str, Version], ...] = ()
    properties: dict[str, object] = field(default_factory=dict, hash=False)
    tags: tuple[str, ...] = ()


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

    def worker_builders(self) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {}
        for builder in self.builders:
            for worker in builder.workers:
                result.setdefault(worker, []).append(builder.name)
        return result


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

    def excluded_by_reservation(self, asked: frozenset[str]) -> frozenset[str]:
        """Workers reserved for capabilities of which this buildout names none."""
        return frozenset(name for name, only in self.reserved if not only & asked)


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
    builders: list[BuilderPlan] = []
    misses: list[Miss] = []
    owner: dict[str, BuildoutSpec] = {}
    too_long: set[str] = set()
    all_names = fleet.names
    for buildout in sorted(buildouts, key=lambda b: b.name):
        asked = frozenset(buildout.capability_names)
        base = all_names - fleet.excluded_by_reservation(asked)
        groups = requirement_groups(buildout)
        for group in groups.values():
            base &= fleet.satisfying(group)
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
            capable = base
            for cap_name, version in pins:
                capable = capable & fleet.having(cap_name, version)
            if not capable:
                misses.append(_closest_miss(fleet, buildout, name, pins, asked))
                continue
            builder_props = dict(props)
            for cap_name, version in pins:
                builder_props[spec_for(registry, cap_name).version_prop] = version.text
            builders.append(BuilderPlan(name=name, buildout=buildout.name,
                                        workers=tuple(sorted(capable)), pins=pins,
                                        properties=builder_props, tags=buildout.category))
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
