"""``anybox-buildbot``: see what a configuration will do, and drive a master.

``check``/``plan`` load ``master.cfg`` exactly as Buildbot does (so custom
manifest paths, registries and rewrite rules are honoured) and inspect the
configurators it made. ``worker-check`` needs only a workers.cfg fragment.
``force``/``status`` talk to a running master over its REST API.

Exit codes: 0 fine, 1 errors found, 2 usage errors; ``force --wait``
exits 0 when the build succeeded (or only warned) and 10 + Buildbot's
result code otherwise (12 failure, 14 exception, 16 cancelled...).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from .configurator import BuildoutsConfigurator
from .dispatch import Plan, describe_gaps, make_plan
from .errors import Errors, count_errors
from .planview import diff, format_text, plan_data, to_json
from .restclient import RESULTS, Client, RestError
from .workers import WorkerSpec, load_workers


@dataclass
class Loaded:
    """What loading a master directory gave: errors or configurators."""

    errors: list[str] = field(default_factory=list)
    configurators: list[BuildoutsConfigurator] = field(default_factory=list)

    @property
    def plan_ready(self) -> bool:
        return not self.errors and any(c.plan is not None for c in self.configurators)

    def data(self) -> dict:
        merged: dict = {}
        for conf in self.configurators:
            if conf.plan is None:
                continue
            data = plan_data(conf.plan, list(conf.buildouts.values()), conf.worker_specs or ())
            for key, value in data.items():
                if isinstance(value, list):
                    merged.setdefault(key, []).extend(value)
                else:
                    merged[key] = value
        return merged


def load_master(master_dir: str) -> Loaded:
    """Run master.cfg as Buildbot would, capturing our configurators."""
    from buildbot.config.errors import ConfigErrors
    from buildbot.config.master import FileLoader

    loaded = Loaded()
    if not os.path.isfile(os.path.join(master_dir, "master.cfg")):
        loaded.errors.append(f"{master_dir}: no master.cfg here (give a master directory)")
        return loaded
    BuildoutsConfigurator.capture = loaded.configurators
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink):
            FileLoader(os.path.abspath(master_dir), "master.cfg").loadConfig()
    except ConfigErrors as exc:
        loaded.errors.extend(exc.errors)
    finally:
        BuildoutsConfigurator.capture = None
    if not loaded.errors and not loaded.configurators:
        loaded.errors.append(f"{master_dir}/master.cfg does not use anybox_buildbot "
                             "(no BuildoutsConfigurator was made)")
    return loaded


def _print_errors(errors: Sequence[str]) -> None:
    print(f"{count_errors(errors)} error(s):")
    for message in errors:
        print(f"  {message}")


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
    loaded = _load_or_report(args.master_dir)
    if loaded is None:
        return 1
    data = loaded.data()
    misses = data["not_created"]
    print(f"ok: {_plural(len(data['builders']), 'builder')} for "
          f"{_plural(len(data['buildouts']), 'buildout')} on "
          f"{_plural(len(data['workers']), 'worker')}")
    for miss in misses:
        closest = (f"closest worker {miss['closest_worker']} " if miss["closest_worker"]
                   else "")
        print(f"not created: {miss['builder']} (buildout {miss['buildout']}): "
              f"{closest}{'; '.join(miss['lacks'])}")
    for warning in data["warnings"]:
        print(f"warning: {warning}")
    return 1 if args.strict and misses else 0


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
    print(to_json(data) if args.json else format_text(data))
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
    errors = Errors()
    fragment = load_workers([args.fragment], errors)
    if errors:
        _print_errors(errors.report())
        return 1
    for worker in fragment:
        print("\n".join(_fragment_summary(worker)))
    if not args.master:
        print(f"ok: {len(fragment)} worker(s) in {args.fragment}")
        return 0
    loaded = _load_or_report(args.master,
                             f"the master configuration in {args.master} has errors:")
    if loaded is None:
        return 1
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


def _client(args: argparse.Namespace) -> Client:
    user = args.user or os.environ.get("ANYBOX_BUILDBOT_USER")
    password = args.password or os.environ.get("ANYBOX_BUILDBOT_PASSWORD")
    token = args.token or os.environ.get("ANYBOX_BUILDBOT_TOKEN")
    return Client(args.url, user=user, password=password, token=token)


def _current_step(client: Client, buildid: int) -> str:
    steps = client.get(f"builds/{buildid}/steps")["steps"]
    running = [s for s in steps if s["started_at"] and not s["complete"]]
    step = running[-1] if running else (steps[-1] if steps else None)
    return f"step {step['number']} {step['name']}" if step else "waiting for a worker"


def wait_exit_code(result: int | None) -> int:
    """0 for success/warnings, 10 + result otherwise: never mistaken for the
    usage (2) and error (1) codes."""
    return 0 if result in (0, 1) else 10 + int(result if result is not None else 2)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def cmd_force(args: argparse.Namespace) -> int:
    props = {}
    for item in args.prop:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"--prop takes KEY=VALUE, got {item!r}", file=sys.stderr)
            return 2
        props[key] = value
    client = _client(args)
    brid = client.force(args.builder, props)
    print(f"forced {args.builder}: build request {brid}")
    if not args.wait:
        return 0
    start = time.monotonic()
    last = ""
    while True:
        request = client.get(f"buildrequests/{brid}")["buildrequests"][0]
        builds = client.get("builds", buildrequestid=brid)["builds"]
        build = max(builds, key=lambda b: b["buildid"]) if builds else None
        if build is not None and build["complete"]:
            result = build["results"]
            word = RESULTS[result] if result is not None and result < len(RESULTS) else "?"
            print(f"build {build['number']} of {args.builder}: {word} "
                  f"({build['state_string']}) after {time.monotonic() - start:.0f} s")
            return wait_exit_code(result)
        if build is None and request["complete"]:
            print("the request completed without a build (cancelled?)")
            return 1
        status = _current_step(client, build["buildid"]) if build else "waiting for a worker"
        line = f"[{time.monotonic() - start:5.0f} s] {status}"
        if line.split("]", 1)[1] != last.split("]", 1)[-1] or args.verbose:
            print(line, flush=True)
        last = line
        time.sleep(args.interval)


def cmd_status(args: argparse.Namespace) -> int:
    client = _client(args)
    builders = {b["builderid"]: b["name"] for b in client.get("builders")["builders"]}
    print("workers:")
    for worker in sorted(client.get("workers")["workers"], key=lambda w: w["name"]):
        state = "connected" if worker["connected_to"] else "not connected"
        names = sorted(builders.get(c["builderid"], "?") for c in worker["configured_on"])
        print(f"  {worker['name']:<20} {state:<14} {len(names)} builder(s): "
              + ", ".join(names))
    running = client.get("builds", complete="false")["builds"]
    print(f"running builds: {len(running)}")
    for build in running:
        print(f"  {builders.get(build['builderid'], '?')} #{build['number']}: "
              f"{_current_step(client, build['buildid'])}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="anybox-buildbot", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="load a master's configuration; list errors and misses")
    p.add_argument("master_dir")
    p.add_argument("--strict", action="store_true", help="buildouts without builder fail")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("plan", help="builders, their workers and properties")
    p.add_argument("master_dir")
    p.add_argument("--json", action="store_true")
    p.add_argument("--diff", metavar="OTHER_DIR", help="what OTHER_DIR gains and loses")
    p.set_defaults(func=cmd_plan)
    p = sub.add_parser("worker-check", help="validate a workers.cfg fragment")
    p.add_argument("fragment")
    p.add_argument("--master", metavar="MASTER_DIR")
    p.set_defaults(func=cmd_worker_check)
    for name, func, text in (("force", cmd_force, "force a build through REST"),
                             ("status", cmd_status, "workers and running builds")):
        p = sub.add_parser(name, help=text)
        if name == "force":
            p.add_argument("builder")
            p.add_argument("--prop", action="append", default=[], metavar="K=V")
            p.add_argument("--wait", action="store_true")
            p.add_argument("--interval", type=float, default=1.0, help=argparse.SUPPRESS)
            p.add_argument("--verbose", action="store_true", help=argparse.SUPPRESS)
        p.add_argument("--url", required=True, help="the master's web URL")
        p.add_argument("--user", help="or ANYBOX_BUILDBOT_USER")
        p.add_argument("--password", help="or ANYBOX_BUILDBOT_PASSWORD")
        p.add_argument("--token", help="or ANYBOX_BUILDBOT_TOKEN (sent as a Bearer token)")
        p.set_defaults(func=func)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except RestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["main"]
