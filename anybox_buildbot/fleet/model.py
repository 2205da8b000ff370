"""The Fleet page's model: plain values built from one load's plan.

Fed by the values ``anybox-buildbot plan`` prints (``dispatch.Plan``, the
worker specs, the buildouts, the load's warnings), never by a second
computation: the workers a builder runs on are the plan's, the instance a
build there uses is ``planview.instance_lines`` (the plan's decision), and
why a worker cannot run a builder is ``dispatch.describe_gaps``, the text
the plan's own "not created" messages use.

Built once per configuration load in O(workers + builders). The per-worker
detail of a builder (200 workers each) is computed only for the builders a
request shows, and cached: a fleet of 1000 buildouts x 200 workers would
otherwise cost 200 000 gap descriptions per load.

Passwords are never read here (``WorkerSpec.password``), so no page shows
one; secret values are never resolved by anything the page uses.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..buildoutspec import BuildoutSpec
from ..errors import Diagnostic, format_message
from ..plan import BuilderPlan, Plan
from ..planview import instance_lines
from ..planwarnings import describe_gaps
from ..workers import WorkerSpec

#: Builders shown per page: 25 builders x 200 workers stays readable and
#: renders in well under a second.
PER_PAGE = 25
#: Longest filter text taken from a query string.
MAX_QUERY = 100


@dataclass(frozen=True, slots=True)
class WorkerRow:
    """One worker as its admin declared it."""

    name: str
    location: str
    capabilities: tuple[str, ...]
    max_builds: int | None
    priority: int
    reserved_for: tuple[str, ...]
    builders: int


@dataclass(frozen=True, slots=True)
class BuilderRow:
    """One builder of the plan, with what it asks for."""

    name: str
    buildout: str
    location: str
    pins: tuple[str, ...]
    requires: tuple[str, ...]
    workers: int
    description: str


@dataclass(frozen=True, slots=True)
class Runner:
    """A worker that can run a builder, with the instances a build there uses."""

    worker: str
    instances: tuple[str, ...]
    #: True when the worker has several instances of a wanted capability:
    #: the plan chose among them (``plan`` lists exactly these pairs).
    chosen_among_several: bool


@dataclass(frozen=True, slots=True)
class MissGroup:
    """Workers that cannot run a builder, grouped by the requirement they miss."""

    gap: str
    more: int                   # further requirements each of them misses
    workers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BuilderDetail:
    runners: tuple[Runner, ...]
    misses: tuple[MissGroup, ...]     # closest miss first


@dataclass(frozen=True, slots=True)
class Unbuilt:
    """A builder the plan did not create, with its closest worker."""

    buildout: str
    builder: str
    location: str
    closest: str | None
    lacks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WarningRow:
    location: str
    category: str
    message: str


def _where(diagnostic_location) -> str:
    return str(diagnostic_location) if diagnostic_location is not None else "(master.cfg)"


def builder_description(builder: BuilderPlan, spec: BuildoutSpec) -> str:
    """Buildbot's ``description`` of a builder: the buildout it builds and
    where it is declared, its build-for pin and its requirements."""
    parts = [f"Buildout [{spec.name}] ({spec.location.file}:{spec.location.line})"]
    if builder.pins:
        parts.append("build-for " + ", ".join(f"{name} == {version.text}"
                                              for name, version in builder.pins))
    if spec.build_requires:
        parts.append("requires " + ", ".join(r.text or str(r) for r in spec.build_requires))
    return "; ".join(parts)


@dataclass
class FleetModel:
    """Everything the page shows that does not change until the next reconfig.

    Not frozen only for the detail cache; every field is set once.
    """

    workers: tuple[WorkerRow, ...]
    builders: tuple[BuilderRow, ...]
    unbuilt: tuple[Unbuilt, ...]
    warnings: tuple[WarningRow, ...]
    buildouts: int
    _plans: Mapping[str, BuilderPlan] = field(repr=False)
    _specs: Mapping[str, BuildoutSpec] = field(repr=False)
    _fleet: tuple[WorkerSpec, ...] = field(repr=False)
    _details: dict[str, BuilderDetail] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def detail(self, builder: str) -> BuilderDetail:
        """Who can run ``builder`` with which instances, and why the others
        cannot (computed on first request, then cached)."""
        found = self._details.get(builder)
        if found is None:
            found = _detail(self._plans[builder], self._specs[self._plans[builder].buildout],
                            self._fleet)
            with self._lock:
                self._details[builder] = found
        return found


def _detail(plan: BuilderPlan, spec: BuildoutSpec,
            fleet: Sequence[WorkerSpec]) -> BuilderDetail:
    runners = []
    missing: dict[tuple[int, str], list[str]] = {}
    wanted = {w.name for w in plan.wanted}
    asked = frozenset(spec.capability_names)
    capable = frozenset(plan.workers)
    for worker in fleet:
        if worker.name in capable:
            lines = instance_lines(plan, worker)
            several = any(len(worker.instances(name)) > 1 for name in wanted)
            runners.append(Runner(worker.name, tuple(lines or ()), several))
            continue
        gaps = describe_gaps(worker, spec, plan.pins, asked) or ["not chosen by the plan"]
        missing.setdefault((len(gaps), gaps[0]), []).append(worker.name)
    # closest first: fewest requirements missed; ties keep workers.cfg order
    groups = sorted(missing.items(), key=lambda item: item[0][0])
    return BuilderDetail(tuple(runners), tuple(MissGroup(gap, count - 1, tuple(names))
                                               for (count, gap), names in groups))


def build_model(plan: Plan, workers: Sequence[WorkerSpec], buildouts: Sequence[BuildoutSpec],
                warnings: Sequence[Diagnostic]) -> FleetModel:
    """The page model of one load (``warnings``: the load's warnings channel)."""
    specs = {spec.name: spec for spec in buildouts}
    per_worker = plan.worker_counts()
    worker_rows = tuple(
        WorkerRow(w.name, str(w.location), tuple(c.format() for c in w.capabilities),
                  w.max_builds, w.priority, tuple(sorted({r.text or str(r)
                                                          for r in w.only_if_requires})),
                  per_worker.get(w.name, 0))
        for w in sorted(workers, key=lambda w: w.name))
    builder_rows = []
    for builder in plan.builders:
        spec = specs[builder.buildout]
        builder_rows.append(BuilderRow(
            builder.name, builder.buildout, str(spec.location),
            tuple(f"{name} == {version.text}" for name, version in builder.pins),
            tuple(r.text or str(r) for r in spec.build_requires), len(builder.workers),
            builder_description(builder, spec)))
    unbuilt = tuple(Unbuilt(m.buildout, m.builder,
                            str(specs[m.buildout].location) if m.buildout in specs else "",
                            m.worker, m.lacks) for m in plan.misses)
    warning_rows = tuple(
        WarningRow(_where(d.location), d.category,
                   format_message(None, d.problem, d.text, d.hint, d.subject, carets=False))
        for d in warnings if d.category != "not-created")   # those are in ``unbuilt``
    return FleetModel(worker_rows, tuple(builder_rows), unbuilt, warning_rows,
                      len(specs), {b.name: b for b in plan.builders}, specs, tuple(workers))


@dataclass(frozen=True, slots=True)
class View:
    """What one request shows: the model filtered by ``query``, one page of builders."""

    query: str
    page: int
    pages: int
    workers: tuple[WorkerRow, ...]
    builders: tuple[tuple[BuilderRow, BuilderDetail], ...]
    builders_matching: int
    unbuilt: tuple[Unbuilt, ...]
    warnings: tuple[WarningRow, ...]


def parse_page(text: str | None) -> int:
    """A page number from a query string: anything but a small positive
    whole number is page 1 (query strings are untrusted)."""
    if text is None or not text.isascii() or not text.isdigit() or len(text) > 6:
        return 1
    return max(int(text), 1)


def view(model: FleetModel, query: str = "", page: int = 1,
         per_page: int = PER_PAGE) -> View:
    """Filter every section by ``query`` (a substring of a worker, builder or
    buildout name, case-insensitive) and cut the builders into pages."""
    query = query.strip()[:MAX_QUERY]
    needle = query.lower()

    def hit(*names: str | None) -> bool:
        return not needle or any(n is not None and needle in n.lower() for n in names)

    workers = tuple(w for w in model.workers if hit(w.name))
    builders = [b for b in model.builders if hit(b.name, b.buildout)]
    pages = max(1, -(-len(builders) // per_page))
    page = min(max(page, 1), pages)
    shown = builders[(page - 1) * per_page:page * per_page]
    return View(query, page, pages, workers,
                tuple((b, model.detail(b.name)) for b in shown), len(builders),
                tuple(u for u in model.unbuilt if hit(u.buildout, u.builder, u.closest)),
                tuple(w for w in model.warnings if hit(w.location, w.message)))
