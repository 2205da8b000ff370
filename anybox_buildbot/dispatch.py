"""Which builders exist, which workers may run each, and with which instances.

Pure functions over the parsed values, so ``plan`` output and tests need
no Buildbot. Requirements repeat a lot across a fleet of manifests, so
each distinct requirement (and each build-for pin) is evaluated once
against all workers (``fleetindex``), and a builder's worker list is a
set intersection.

The plan also decides, for each builder and each worker that can run it,
which instance of every wanted capability the build uses (SPEC section 4):
``fleetindex.choose_instance`` is the only implementation of that rule:
the build step looks the decision up (``plan.ChoiceBook``) instead of
choosing again. The plan's values live in ``plan``, the words about
builders not created in ``planwarnings``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from .buildoutspec import BuildoutSpec
from .confine import MAX_BUILDER_NAME
from .errors import Errors
from .fleetindex import (
    FleetIndex,
    SpecMemo,
    choose_instance,  # noqa: F401  (documented here, docs/api.rst)
)
from .plan import (
    BuilderPlan,
    ChoiceBook,  # noqa: F401  (documented here, docs/api.rst)
    Miss,
    Plan,
    Wanted,
)
from .planwarnings import (  # noqa: F401  (documented here, docs/api.rst)
    FANOUT_WARNING,
    MAX_NAMES_LISTED,
    closest_miss,
    describe_gaps,
    plan_warnings,
    requirement_groups,
)
from .registry import CapabilitySpec, spec_for
from .version import Version
from .workers import WorkerSpec

BUILD_REQUIRES_PROP = "build_requires"


def wanted_capabilities(spec: BuildoutSpec,
                        registry: Mapping[str, CapabilitySpec]) -> tuple[Wanted, ...]:
    """The capabilities a build of ``spec`` uses, in first-mention order:
    the order of every decision of the plan and of the step's log."""
    pinned = {req.name for req in spec.build_for}
    return tuple(Wanted(name, spec_for(registry, name).version_prop, name in pinned,
                        tuple(r for r in spec.build_requires if r.name == name))
                 for name in spec.capability_names)


def builder_name(buildout: str, pins: tuple[tuple[str, Version], ...],
                 registry: Mapping[str, CapabilitySpec]) -> str:
    suffix = "".join(f"-{spec_for(registry, name).abbrev}{version.text}"
                     for name, version in pins)
    return buildout + suffix


def make_plan(buildouts: Sequence[BuildoutSpec], workers: Sequence[WorkerSpec],
              registry: Mapping[str, CapabilitySpec], errors: Errors) -> Plan:
    """Compute every builder and its workers; name collisions go to ``errors``."""
    fleet = FleetIndex(workers)
    registry = SpecMemo(registry)
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
                misses.append(closest_miss(fleet, buildout, name, pins, asked))
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

