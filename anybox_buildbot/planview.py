"""The dispatch plan as people and programs read it: table, JSON, diff.

Pure functions over ``Plan`` and the parsed specs, so ``plan`` never
needs a running master. Passwords are not in any of the inputs used here
(``WorkerSpec.password`` is never read), so they cannot leak into output.

JSON schema (``schema`` = 1), keys always present, lists sorted::

    {"schema": 1,
     "builders":   [{"name", "buildout", "workers": [..], "properties": {..},
                     "tags": [..]}],
     "buildouts":  [{"name", "builders": [..], "fanout": N}],
     "workers":    [{"name", "builders": [..], "priority": N,
                     "reserved_for": [..], "capabilities": ["postgresql 13 port=5434", ..]}],
     "not_created": [{"buildout", "builder", "closest_worker", "lacks": [..]}],
     "warnings":   ["..."]}
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from .dispatch import Plan
from .manifest import BuildoutSpec
from .workers import WorkerSpec


def plan_data(plan: Plan, buildouts: Sequence[BuildoutSpec],
              workers: Sequence[WorkerSpec], warnings: Sequence[str] = ()) -> dict:
    """``warnings``: the load's warnings (``Warnings``), one line each."""
    per_buildout = plan.builders_of()
    per_worker = plan.worker_builders()
    buildout_rows = []
    for spec in sorted(buildouts, key=lambda s: s.name):
        names = per_buildout.get(spec.name, [])
        buildout_rows.append({"name": spec.name, "builders": names, "fanout": len(names)})
    return {
        "schema": 1,
        "builders": [{"name": b.name, "buildout": b.buildout, "workers": list(b.workers),
                      "properties": dict(sorted(b.properties.items())), "tags": list(b.tags)}
                     for b in plan.builders],
        "buildouts": buildout_rows,
        "workers": [{"name": w.name, "builders": per_worker.get(w.name, []),
                     "priority": w.priority,
                     "reserved_for": sorted({r.name for r in w.only_if_requires}),
                     "capabilities": [c.format() for c in w.capabilities]}
                    for w in sorted(workers, key=lambda w: w.name)],
        "not_created": [{"buildout": m.buildout, "builder": m.builder,
                         "closest_worker": m.worker, "lacks": list(m.lacks)}
                        for m in plan.misses],
        "warnings": list(warnings),
    }


def to_json(data: dict) -> str:
    return json.dumps(data, indent=2, sort_keys=True)


def _table(headers: Sequence[str], rows: list[Sequence[str]]) -> list[str]:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
              for row in rows]
    return lines


def format_text(data: dict) -> str:
    out = [f"Builders ({len(data['builders'])})"]
    out += _table(("NAME", "BUILDOUT", "WORKERS", "PROPERTIES"), [
        (b["name"], b["buildout"], ",".join(b["workers"]),
         " ".join(f"{k}={v}" for k, v in b["properties"].items()))
        for b in data["builders"]])
    fanned = [b for b in data["buildouts"] if b["fanout"] > 1]
    if fanned:
        out += ["", "Fan-out (build-for)"]
        out += _table(("BUILDOUT", "BUILDERS"), [(b["name"], str(b["fanout"])) for b in fanned])
    out += ["", f"Workers ({len(data['workers'])})"]
    out += _table(("NAME", "PRIORITY", "RESERVED FOR", "BUILDERS"), [
        (w["name"], str(w["priority"]), ",".join(w["reserved_for"]) or "-",
         f"{len(w['builders'])}: " + ",".join(w["builders"]) if w["builders"] else "0")
        for w in data["workers"]])
    if data["not_created"]:
        out += ["", f"Not created ({len(data['not_created'])})"]
        for miss in data["not_created"]:
            where = (f"closest {miss['closest_worker']}: " if miss["closest_worker"] else "")
            out.append(f"  {miss['builder']}: {where}{'; '.join(miss['lacks'])}")
    for warning in data["warnings"]:
        out.append(f"warning: {warning}")
    return "\n".join(out)


@dataclass(frozen=True)
class PlanDiff:
    builders_gained: list[str]
    builders_lost: list[str]
    assignments_gained: list[tuple[str, str]]   # (builder, worker)
    assignments_lost: list[tuple[str, str]]

    @property
    def empty(self) -> bool:
        return not (self.builders_gained or self.builders_lost or self.assignments_gained
                    or self.assignments_lost)

    def as_dict(self) -> dict:
        return {"builders_gained": self.builders_gained, "builders_lost": self.builders_lost,
                "assignments_gained": [list(p) for p in self.assignments_gained],
                "assignments_lost": [list(p) for p in self.assignments_lost]}

    def format(self) -> str:
        if self.empty:
            return "no change in builders or worker assignments"
        out = [f"+ builder {name}" for name in self.builders_gained]
        out += [f"- builder {name}" for name in self.builders_lost]
        out += [f"+ {worker} runs {builder}" for builder, worker in self.assignments_gained]
        out += [f"- {worker} runs {builder}" for builder, worker in self.assignments_lost]
        return "\n".join(out)


def diff(old: dict, new: dict) -> PlanDiff:
    """What ``new`` gains and loses against ``old`` (both from ``plan_data``)."""
    old_b = {b["name"]: set(b["workers"]) for b in old["builders"]}
    new_b = {b["name"]: set(b["workers"]) for b in new["builders"]}
    old_pairs = {(b, w) for b, ws in old_b.items() for w in ws}
    new_pairs = {(b, w) for b, ws in new_b.items() for w in ws}
    return PlanDiff(sorted(new_b.keys() - old_b.keys()), sorted(old_b.keys() - new_b.keys()),
                    sorted(new_pairs - old_pairs), sorted(old_pairs - new_pairs))
