"""The commands that read a configuration and print what it does:
``check``, ``plan`` and ``worker-check``.

They load a master (``masterload``) or a workers.cfg fragment and print
errors and warnings as ``N error(s):`` lists, each message at its file
and line, or the plan (``planview``). Nothing here talks to a running
master.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .configurator import BuildoutsConfigurator
from .dispatch import make_plan
from .errors import Errors, count_errors
from .masterload import Loaded, load_master
from .plan import Plan
from .planview import diff, format_text, to_json, write_json
from .planwarnings import describe_gaps
from .registry import BUILTIN_REGISTRY
from .workers import WorkerSpec, load_workers


def _print_list(messages: Sequence[str], noun: str) -> None:
    """``N noun(s):`` then each message indented, its caret lines too."""
    print(f"{count_errors(messages)} {noun}(s):")
    for message in messages:
        print("  " + message.replace("\n", "\n  "))


def _print_errors(errors: Sequence[str]) -> None:
    _print_list(errors, "error")


def _print_warnings(warnings: Sequence[str], strict: bool) -> None:
    if warnings:
        _print_list(warnings, "warning")
        if strict:
            print("--strict: warnings count as errors")


def _load_or_report(master_dir: str, intro: str | None = None) -> Loaded | None:
    """The loaded master, or None after printing its errors."""
    loaded = load_master(master_dir)
    if not loaded.errors:
        return loaded
    if intro:
        print(intro)
    _print_errors(loaded.errors)
    return None


def cmd_check(args: argparse.Namespace) -> int:
    """Every error and every warning of the load, each at its file and line.

    Errors and warnings are listed together even when the load fails: the
    warnings of the parts that loaded are still true.
    """
    loaded = load_master(args.master_dir)
    warnings = loaded.warnings
    if loaded.errors:
        _print_errors(loaded.errors)
        _print_warnings(warnings, args.strict)
        return 1
    builders, buildouts, workers = loaded.counts()
    print(f"ok: {_plural(builders, 'builder')} for {_plural(buildouts, 'buildout')} on "
          f"{_plural(workers, 'worker')}")
    _print_warnings(warnings, args.strict)
    return 1 if args.strict and warnings else 0


def cmd_plan(args: argparse.Namespace) -> int:
    loaded = _load_or_report(args.master_dir)
    if loaded is None:
        return 1
    data = loaded.data()
    if args.diff:
        other = _load_or_report(args.diff, f"cannot load {args.diff}:")
        if other is None:
            return 1
        changes = diff(data, other.data())
        print(to_json(changes.as_dict()) if args.json else changes.format())
        return 0
    if args.json:
        write_json(data, sys.stdout)   # streamed: 500 MB at 10 000 x 2 000
        sys.stdout.write("\n")
    else:
        print(format_text(data))
    return 0


def _fragment_summary(worker: WorkerSpec) -> list[str]:
    lines = [f"worker {worker.name} ({worker.location}): "
             f"{len(worker.capabilities)} capabilities, priority {worker.priority}"]
    lines += [f"  capability {cap.format()}" for cap in worker.capabilities]
    if worker.only_if_requires:
        lines.append("  only takes builds requiring: "
                     + ", ".join(r.name for r in worker.only_if_requires))
    if worker.secret_name:
        lines.append(f"  password from secret {worker.secret_name!r}")
    return lines


def _near_misses(plan: Plan, conf: BuildoutsConfigurator, worker: WorkerSpec,
                 limit: int = 10) -> list[str]:
    candidates = [(b.name, b.buildout, b.pins) for b in plan.builders
                  if worker.name not in b.workers]
    candidates += [(m.builder, m.buildout, m.pins) for m in plan.misses]
    scored = []
    for builder, buildout, pins in candidates:
        spec = conf.buildouts[buildout]
        gaps = describe_gaps(worker, spec, pins, frozenset(spec.capability_names))
        if gaps:
            scored.append((len(gaps), builder, gaps))
    scored.sort(key=lambda item: (item[0], item[1]))
    return [f"  {builder}: {'; '.join(gaps)}" for _n, builder, gaps in scored[:limit]]


def cmd_worker_check(args: argparse.Namespace) -> int:
    """The fragment's errors and, with ``--master``, the master's, in one run.

    With a master the fragment is checked against its capability registry
    (the options its admin declared), else against the built-in one.
    """
    loaded = load_master(args.master) if args.master else None
    registry = BUILTIN_REGISTRY
    if loaded is not None and loaded.configurators:
        registry = loaded.configurators[0]._compiled_registry(Errors())
    errors = Errors()
    fragment = load_workers([args.fragment], errors, registry=registry)
    if errors or (loaded is not None and loaded.errors):
        if errors:
            _print_errors(errors.report())
        if loaded is not None and loaded.errors:
            print(f"the master configuration in {args.master} has errors:")
            _print_errors(loaded.errors)
        return 1
    for worker in fragment:
        print("\n".join(_fragment_summary(worker)))
    if loaded is None:
        print(f"ok: {len(fragment)} worker(s) in {args.fragment}")
        return 0
    names = {w.name for w in fragment}
    for conf in loaded.configurators:
        fleet = [w for w in conf.worker_specs or () if w.name not in names] + list(fragment)
        plan_errors = Errors()
        registry = conf._compiled_registry(plan_errors)
        plan = make_plan(list(conf.buildouts.values()), fleet, registry, plan_errors)
        if plan_errors:
            _print_errors(plan_errors.report())
            return 1
        taken = plan.worker_builders()
        for worker in fragment:
            mine = taken.get(worker.name, [])
            print(f"{worker.name} would run {len(mine)} builder(s)"
                  + (": " + ", ".join(mine) if mine else ""))
            near = _near_misses(plan, conf, worker)
            if near:
                print(f"{worker.name} could almost run:")
                print("\n".join(near))
    return 0


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")
