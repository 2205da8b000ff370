"""What a plan tells about the builders it could not make: a worker's
gaps in words, the closest worker for a builder not created, and the
warnings of a plan at the manifest lines they are about.

Apart from the planning (``dispatch``) because it is about explaining,
not deciding: ``check``, the master and the fleet page all give the same
words from here.
"""

from __future__ import annotations

from collections.abc import Sequence

from .buildoutspec import BuildoutSpec
from .constraint import Requirement
from .errors import Diagnostic, Location, closest
from .fleetindex import FleetIndex
from .plan import Miss, Plan
from .version import Version
from .workers import WorkerSpec

#: A buildout multiplying into more builders than this gets a warning.
FANOUT_WARNING = 50
#: Declared capability names listed in a hint when none is close.
MAX_NAMES_LISTED = 10


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


def closest_miss(fleet: FleetIndex, buildout: BuildoutSpec, builder: str,
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
