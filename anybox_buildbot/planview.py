"""The dispatch plan as people and programs read it: table, JSON, diff.

Pure functions over ``Plan`` and the parsed specs, so ``plan`` never
needs a running master. Passwords are not in any of the inputs used here
(``WorkerSpec.password`` is never read), so they cannot leak into output.

JSON schema (``schema`` = 1), keys always present, lists sorted::

    {"schema": 1,
     "builders":   [{"name", "buildout", "workers": [..], "properties": {..},
                     "tags": [..], "instances": {worker: [capability line, ..]}}],
     "buildouts":  [{"name", "builders": [..], "fanout": N}],
     "workers":    [{"name", "builders": [..], "priority": N,
                     "reserved_for": [..], "capabilities": ["postgresql 13 port=5434", ..]}],
     "not_created": [{"buildout", "builder", "closest_worker", "lacks": [..]}],
     "warnings":   ["..."]}

``instances`` shows the plan's instance decision where there was one to
make: for each worker of the builder holding several instances of a
capability the builder uses, the instances a build there uses (one per
wanted capability). Everywhere else the only instance is used, and
listing it for every (builder, worker) pair would multiply the output of
a large fleet.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TextIO

from .buildoutspec import BuildoutSpec
from .plan import BuilderPlan, Plan
from .workers import WorkerSpec


def instance_lines(builder: BuilderPlan, worker: WorkerSpec) -> list[str] | None:
    """The capability lines of the instances a build of ``builder`` on
    ``worker`` uses (the plan's decision), one per wanted capability; None
    when the worker cannot run it. ``plan`` and the Fleet page both show
    this text."""
    positions = builder.chosen(worker.name)
    if positions is None:
        return None
    return [worker.capabilities[i].format() for i in positions]


def chosen_instances(plan: Plan, workers: Sequence[WorkerSpec]
                     ) -> dict[str, dict[str, list[str]]]:
    """builder -> worker -> the instance lines a build there uses, for the
    workers with several instances of a capability the builder wants."""
    specs = {w.name: w for w in workers}
    several = {}
    for w in workers:
        counts = Counter(c.name for c in w.capabilities)
        names = frozenset(name for name, n in counts.items() if n > 1)
        if names:
            several[w.name] = names
    result: dict[str, dict[str, list[str]]] = {}
    members: dict[int, frozenset[str]] = {}   # worker tuples are shared (dispatch)
    # (worker, positions) -> its lines: the same few per worker, over 2 million
    # (builder, worker) pairs at 10 000 x 2 000; the lists are shared
    texts: dict[tuple[str, tuple[int, ...]], list[str]] = {}
    # builders with the same workers and the same decision tables (shared
    # by make_plan) show the same instances: one dict for all of them
    made: dict[tuple[int, ...], dict[str, list[str]]] = {}
    for builder in plan.builders:
        same = (id(builder.workers), *map(id, builder.choices))
        shown = made.get(same)
        if shown is not None:
            result[builder.name] = shown
            continue
        shown = made[same] = {}
        if several:
            key = id(builder.workers)
            mine = members.get(key)
            if mine is None:
                mine = members[key] = frozenset(builder.workers)
            wanted = {w.name for w in builder.wanted}
            for worker in sorted(several.keys() & mine):
                if several[worker] & wanted:
                    # builder.chosen(worker), knowing the worker is one of its own
                    try:
                        positions = tuple(table[worker] for table in builder.choices)
                    except KeyError:     # never for a worker of ``workers`` (make_plan)
                        continue
                    lines = texts.get((worker, positions))
                    if lines is None:
                        caps = specs[worker].capabilities
                        lines = texts[(worker, positions)] = [caps[i].format()
                                                              for i in positions]
                    shown[worker] = lines
        result[builder.name] = shown
    return result


def plan_data(plan: Plan, buildouts: Sequence[BuildoutSpec],
              workers: Sequence[WorkerSpec], warnings: Sequence[str] = ()) -> dict:
    """``warnings``: the load's warnings (``Warnings``), one line each."""
    per_buildout = plan.builders_of()
    per_worker = plan.worker_builders()
    buildout_rows = []
    for spec in sorted(buildouts, key=lambda s: s.name):
        names = per_buildout.get(spec.name, [])
        buildout_rows.append({"name": spec.name, "builders": names, "fanout": len(names)})
    instances = chosen_instances(plan, workers)
    return {
        "schema": 1,
        "builders": [{"name": b.name, "buildout": b.buildout, "workers": list(b.workers),
                      "properties": dict(sorted(b.properties.items())), "tags": list(b.tags),
                      "instances": instances[b.name]}
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


#: How much text ``write_json`` gathers before one write.
WRITE_CHUNK = 1 << 20


def write_json(data: dict, out: TextIO) -> None:
    """Write ``to_json(data)`` to ``out`` in pieces, never whole in memory.

    The text is the same, byte for byte (tests/unit/test_planview_json.py).
    ``json.dumps(indent=...)`` runs the pure-Python encoder and joins 500 MB
    at 10 000 buildouts x 2 000 workers (2.7 GiB of memory); here lists of
    strings (the builders' workers, the workers' builders: nearly all of
    the text) are encoded by the C string encoder and joined once per
    list, and a list met again at the same depth (builders of the same
    requirements run on the same workers) is not encoded again.
    """
    pending: list[str] = []
    size = 0
    for piece in _encode(data, 0, _Seen()):
        pending.append(piece)
        size += len(piece)
        if size >= WRITE_CHUNK:
            out.write("".join(pending))
            pending.clear()
            size = 0
    out.write("".join(pending))


_INDENT = "  "
_string = json.encoder.encode_basestring_ascii     # json.dumps' own (ensure_ascii)
_scalar = json.JSONEncoder(sort_keys=True).encode   # numbers, None, booleans, as dumps


class _Seen(dict):
    """Encoded lists of strings by (depth, items), up to ``budget`` characters
    in all (the workers' builder lists never repeat: not kept forever)."""

    def __init__(self, budget: int = 32 << 20) -> None:
        super().__init__()
        self.budget = budget

    def keep(self, key: tuple, text: str) -> None:
        if len(text) <= self.budget:
            self[key] = text
            self.budget -= len(text)


#: A dict this small inside a list or a dict is encoded whole, and kept for
#: the next time the same object comes (``chosen_instances`` shares them).
SMALL_DICT = 10_000


def _strings(value: list | tuple, depth: int, seen: _Seen) -> str:
    """A non-empty list of strings, encoded at ``depth`` (remembered)."""
    key = (depth, *value)
    text = seen.get(key)
    if text is None:
        inner = "\n" + _INDENT * (depth + 1)
        text = ("[" + inner + ("," + inner).join(map(_string, value))
                + "\n" + _INDENT * depth + "]")
        seen.keep(key, text)
    return text


def _small_dict(value: dict, depth: int, seen: _Seen) -> str:
    """A small dict, encoded whole; the same object (by identity: ``data``
    keeps it alive while it is written) is encoded once."""
    key = (id(value), depth)
    text = seen.get(key)
    if text is None:
        text = "".join(_encode(value, depth, seen))
        seen.keep(key, text)
    return text


def _all_strings(value: list | tuple) -> bool:
    return set(map(type, value)) == {str}


def _encode(value: object, depth: int, seen: _Seen) -> Iterator[str]:
    """The pieces of ``json.dumps(value, indent=2, sort_keys=True)`` for a
    value nested ``depth`` levels deep (its first line not indented)."""
    if isinstance(value, str):
        yield _string(value)
    elif isinstance(value, dict):
        if not value:
            yield "{}"
            return
        if set(map(type, value)) != {str}:
            # numbers or None as keys, never in a plan: json's own rules,
            # indented to this depth (JSON strings hold no line ends)
            yield json.dumps(value, indent=2, sort_keys=True).replace(
                "\n", "\n" + _INDENT * depth)
            return
        inner = "\n" + _INDENT * (depth + 1)
        yield "{"
        separator = inner
        for key in sorted(value):
            item = value[key]
            head = separator + _string(key) + ": "
            separator = "," + inner
            if type(item) in (list, tuple) and item and _all_strings(item):
                yield head + _strings(item, depth + 1, seen)   # most of a plan
            elif type(item) is str:
                yield head + _string(item)
            elif type(item) is dict and len(item) <= SMALL_DICT:
                yield head + _small_dict(item, depth + 1, seen)
            else:
                yield head
                yield from _encode(item, depth + 1, seen)
        yield "\n" + _INDENT * depth + "}"
    elif isinstance(value, (list, tuple)):
        if not value:
            yield "[]"
            return
        if _all_strings(value):
            yield _strings(value, depth, seen)
            return
        inner = "\n" + _INDENT * (depth + 1)
        yield "["
        for position, item in enumerate(value):
            yield inner if position == 0 else "," + inner
            yield from _encode(item, depth + 1, seen)
        yield "\n" + _INDENT * depth + "]"
    else:
        yield _scalar(value)


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
    chosen = [(b["name"], worker, "; ".join(caps)) for b in data["builders"]
              for worker, caps in b["instances"].items()]
    if chosen:
        out += ["", "Instances chosen (on workers with several of a capability)"]
        out += _table(("BUILDER", "WORKER", "INSTANCES"), chosen)
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
