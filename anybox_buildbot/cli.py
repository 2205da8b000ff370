"""``anybox-buildbot``: see what a configuration will do, and drive a master.

``check``/``plan`` load ``master.cfg`` exactly as Buildbot does (so custom
manifest paths, registries and rewrite rules are honoured) and inspect the
configurators it made. ``worker-check`` needs only a workers.cfg fragment.
``create-master`` makes a new master directory from the templates shipped
in the package (:mod:`anybox_buildbot.newmaster`). ``force``/``status``
talk to a running master over its REST API (:mod:`anybox_buildbot.restclient`).

The texts ``--help`` prints are plain text (:data:`DESCRIPTION`,
:data:`EXIT_CODES`), not this docstring's markup; docs/cli.rst lists the
same exit codes.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .configurator import BuildoutsConfigurator
from .dispatch import make_plan
from .errors import Errors, count_errors
from .forcewatch import (
    DEFAULT_LOG_LINES,
    WORKER_PROPERTY,
    Follower,
    check_worker,
    printable,
    request_url,
    wait_exit_code,
)
from .gcpause import collector_paused
from .plan import Plan
from .planview import diff, format_text, plan_data, to_json, write_json
from .planwarnings import describe_gaps
from .registry import BUILTIN_REGISTRY
from .restclient import EXIT_NO_ANSWER, Client, RestError
from .statusview import master_lines, worker_lines
from .workers import WorkerSpec, load_workers

DESCRIPTION = """\
Check and explain an anybox_buildbot master configuration (master.cfg,
MANIFEST.cfg, workers.cfg) before Buildbot runs it, make a new master
directory, and force builds or show the state of a running master."""

EXIT_CODES = f"""\
exit status:
  0      fine (check: no errors; force --wait: the build succeeded or warned)
  1      errors were found (check --strict: or warnings), or the master
         refused the request
  2      wrong command line (unknown option, malformed --url, a --worker
         that cannot run the builder...)
  {EXIT_NO_ANSWER}      no usable answer from --url (connection refused, no answer
         in time, not a Buildbot)
  12-16  force --wait: 10 + Buildbot's result (12 failure, 14 exception,
         15 retry, 16 cancelled)
  141    the output was cut short (a pipe closed by its reader)"""

#: 128 + SIGPIPE, what a shell reports for a program stopped by a closed pipe.
EXIT_BROKEN_PIPE = 141


@dataclass
class Loaded:
    """What loading a master directory gave: errors or configurators."""

    errors: list[str] = field(default_factory=list)
    configurators: list[BuildoutsConfigurator] = field(default_factory=list)

    @property
    def plan_ready(self) -> bool:
        return not self.errors and any(c.plan is not None for c in self.configurators)

    @property
    def warnings(self) -> list[str]:
        """Every warning of the load (each configurator's channel), with
        its location; a closing "... and N more" line per configurator."""
        return [line for conf in self.configurators for line in conf.warnings.report()]

    def counts(self) -> tuple[int, int, int]:
        """(builders, buildouts, workers) as ``data()`` would list them,
        without making its tables (a builder-worker table of 10 million
        entries at 10 000 buildouts x 2 000 workers)."""
        builders = buildouts = workers = 0
        for conf in self.configurators:
            if conf.plan is not None:
                builders += len(conf.plan.builders)
                buildouts += len(conf.buildouts)
                workers += len(conf.worker_specs or ())
        return builders, buildouts, workers

    def data(self) -> dict:
        merged: dict = {}
        for conf in self.configurators:
            if conf.plan is None:
                continue
            # "not created" has its own list; the other warnings, one line each
            warnings = [w.render(carets=False) for w in conf.warnings.diagnostics
                        if w.category != "not-created"]
            data = plan_data(conf.plan, list(conf.buildouts.values()), conf.worker_specs or (),
                             warnings)
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
        # Buildbot's own checks of 20 000 builders run without the collector
        # too; the command then ends without a collection over the load.
        with contextlib.redirect_stdout(sink), collector_paused(freeze=True):
            FileLoader(os.path.abspath(master_dir), "master.cfg").loadConfig()
    except ConfigErrors as exc:
        loaded.errors.extend(exc.errors)
    finally:
        BuildoutsConfigurator.capture = None
    if not loaded.errors and not loaded.configurators:
        loaded.errors.append(f"{master_dir}/master.cfg does not use anybox_buildbot "
                             "(no BuildoutsConfigurator was made)")
    return loaded


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


def _client(args: argparse.Namespace) -> Client:
    user = args.user or os.environ.get("ANYBOX_BUILDBOT_USER")
    password = args.password or os.environ.get("ANYBOX_BUILDBOT_PASSWORD")
    token = args.token or os.environ.get("ANYBOX_BUILDBOT_TOKEN")
    return Client(args.url, user=user, password=password, token=token, timeout=args.timeout)


def _current_step(client: Client, buildid: int) -> str:
    steps = client.steps(buildid)
    running = [s for s in steps if s["started_at"] and not s["complete"]]
    step = running[-1] if running else (steps[-1] if steps else None)
    return (f"step {printable(step['number'], 20)} {printable(step['name'], 100)}" if step
            else "waiting for a worker")


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
    if args.worker is not None:
        check = check_worker(client, args.builder, args.worker)
        if check.refusal:
            print(f"error: {check.refusal}", file=sys.stderr)
            return 2
        if check.note:
            print(check.note)
        props[WORKER_PROPERTY] = args.worker
    brid = client.force_build(args.builder, props)
    print(f"forced {args.builder}: build request {brid} ({request_url(client.base, brid)})",
          flush=True)
    if not args.wait:
        return 0
    return Follower(client, args.builder, brid, worker=args.worker, log_lines=args.log_lines,
                    interval=args.interval, verbose=args.verbose).run()


def cmd_status(args: argparse.Namespace) -> int:
    client = _client(args)
    builders = {b["builderid"]: name for name, b in client.builders().items()}
    masters = client.masters()
    names = {m["masterid"]: m["name"] for m in masters}
    lines = master_lines(masters) + worker_lines(client.workers(), builders, names)
    print("\n".join(lines))
    running = client.items("builds", "builds", complete="false")
    print(f"running builds: {len(running)}")
    for build in running:
        print(f"  {printable(builders.get(build['builderid'], '?'), 200)} "
              f"#{printable(build['number'], 20)}: "
              f"{_current_step(client, build['buildid'])}")
    return 0


def cmd_create_master(args: argparse.Namespace) -> int:
    from .newmaster import MasterSettings, NewMasterError, create_master

    try:
        settings = MasterSettings.from_options(args.directory, title=args.title,
                                               web_port=args.web_port,
                                               worker_port=args.worker_port, url=args.url,
                                               worker=args.worker)
        report = create_master(settings)
    except NewMasterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(report)
    return 0


def _version_text() -> str:
    from importlib.metadata import PackageNotFoundError, version

    def of(dist: str) -> str:
        try:
            return version(dist)
        except PackageNotFoundError:
            return "not installed"

    return (f"anybox-buildbot {of('anybox_buildbot')} (Buildbot {of('buildbot')}, "
            f"Python {platform.python_version()})")


def _port(text: str) -> int:
    """argparse type: a TCP port number."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is not between 1 and 65535")
    return port


def _seconds(text: str) -> float:
    """argparse type: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value < 86400:
        raise argparse.ArgumentTypeError("give a number of seconds above 0 (and below a day)")
    return value


def cmd_migrate(args: argparse.Namespace) -> int:
    """Files of anybox.buildbot.odoo in today's format: the diff, then what
    was left and why; ``--write`` replaces the files. Exit 1 if something
    was left."""
    from .migrate import migrate_manifest, migrate_workers

    done = []
    for path, convert in [*((p, migrate_manifest) for p in args.manifest),
                          *((p, migrate_workers) for p in args.workers)]:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"error: {path}: {exc}", file=sys.stderr)
            return 1
        done.append((path, convert(text, path)))
    left = [line for _, m in done for line in m.left]
    for path, migration in done:
        print(migration.diff(), end="")
        if args.write and migration.new != migration.old:
            Path(path).write_text(migration.new, encoding="utf-8")
    if left:
        print(f"could not convert ({len(left)}):")
        print("\n".join(f"  {line}" for line in left))
    return 1 if left else 0


def _count(text: str) -> int:
    """argparse type: a number of lines, 0 to 10000."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of lines: {text!r}") from None
    if not 0 <= value <= 10000:
        raise argparse.ArgumentTypeError("give a number of lines from 0 to 10000")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="anybox-buildbot", description=DESCRIPTION, epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=_version_text(),
                        help="print the versions of anybox_buildbot, Buildbot and Python")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".",
                              epilog=EXIT_CODES,
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    master_dir = "a master directory: the one holding master.cfg"
    p = command("check", "load a master's configuration as Buildbot would; list every "
                "error and every warning (builders not created...) with its location")
    p.add_argument("master_dir", metavar="MASTER_DIR", help=master_dir)
    p.add_argument("--strict", action="store_true",
                   help="exit 1 also when there are warnings (a builder not created, a "
                   "repository not polled...)")
    p.set_defaults(func=cmd_check)

    p = command("plan", "list the builders with their workers and properties, and "
                "each worker's builders")
    p.add_argument("master_dir", metavar="MASTER_DIR", help=master_dir)
    p.add_argument("--json", action="store_true",
                   help="print one JSON document (schema in docs/cli.rst)")
    p.add_argument("--diff", metavar="OTHER_DIR",
                   help="instead, list what OTHER_DIR gains and loses against MASTER_DIR")
    p.set_defaults(func=cmd_plan)

    p = command("worker-check", "validate a workers.cfg fragment; with --master, list "
                "the builders its workers would get")
    p.add_argument("fragment", metavar="FRAGMENT", help="a file of worker sections")
    p.add_argument("--master", metavar="MASTER_DIR",
                   help="also show what the master in MASTER_DIR would give these workers")
    p.set_defaults(func=cmd_worker_check)

    p = command("create-master", "make a new master directory: Buildbot's files, "
                "master.cfg, buildouts/MANIFEST.cfg and workers.cfg")
    p.add_argument("directory", metavar="DIRECTORY",
                   help="the directory to make (it may exist, without any of the files)")
    p.add_argument("--title", default="Buildouts CI",
                   help="the title of the web UI (default: %(default)s)")
    p.add_argument("--web-port", type=_port, default=8010, metavar="PORT",
                   help="the web UI's port, on 127.0.0.1 (default: %(default)s)")
    p.add_argument("--worker-port", type=_port, default=9989, metavar="PORT",
                   help="the port workers connect to, on 127.0.0.1 (default: %(default)s)")
    p.add_argument("--url", help="the web UI's address as users reach it "
                   "(default: http://localhost:PORT/ with the web port)")
    p.add_argument("--worker", default="worker-1", metavar="NAME",
                   help="the name of the first worker in workers.cfg (default: %(default)s)")
    p.set_defaults(func=cmd_create_master)

    p = command("migrate", "rewrite a MANIFEST.cfg and a workers.cfg written for "
                "anybox.buildbot.odoo in today's format: print the diff and what could "
                "not be converted, and why")
    p.add_argument("--manifest", action="append", default=[], metavar="PATH",
                   help="a manifest of anybox.buildbot.odoo (repeatable)")
    p.add_argument("--workers", action="append", default=[], metavar="PATH",
                   help="a workers.cfg (or slaves.cfg) of anybox.buildbot.odoo (repeatable)")
    p.add_argument("--write", action="store_true", help="replace the files with the result")
    p.set_defaults(func=cmd_migrate)

    for name, func, text in (("force", cmd_force, "force a build through the master's "
                              "REST API"),
                             ("status", cmd_status, "list the masters, the workers "
                              "(their master) and running builds")):
        p = command(name, text)
        if name == "force":
            p.add_argument("builder", metavar="BUILDER", help="the builder's name")
            p.add_argument("--prop", action="append", default=[], metavar="K=V",
                           help="set property K to V (repeatable)")
            p.add_argument("--wait", action="store_true",
                           help="follow the build: its web page, each step as it ends, "
                           "and the end of the failing step's log; exit with its result")
            p.add_argument("--worker", metavar="NAME",
                           help="run the build on worker NAME (refused, with exit "
                           "status 2, if NAME cannot run BUILDER)")
            p.add_argument("--log-lines", type=_count, default=DEFAULT_LOG_LINES,
                           metavar="N", help="with --wait, lines of the failing step's "
                           "log to print (default: %(default)s; 0: none)")
            p.add_argument("--interval", type=float, default=1.0, help=argparse.SUPPRESS)
            p.add_argument("--verbose", action="store_true", help=argparse.SUPPRESS)
        p.add_argument("--url", required=True,
                       help="the master's web address (its buildbotURL), "
                            "e.g. http://localhost:8010/")
        p.add_argument("--user", help="log in as USER (or ANYBOX_BUILDBOT_USER)")
        p.add_argument("--password", help="the password of --user "
                       "(or ANYBOX_BUILDBOT_PASSWORD)")
        p.add_argument("--token",
                       help="sent as a Bearer token (or ANYBOX_BUILDBOT_TOKEN)")
        p.add_argument("--timeout", type=_seconds, default=15.0, metavar="SECONDS",
                       help="give up on a request after SECONDS (default: %(default)g)")
        p.set_defaults(func=func)
    return parser


def _stdout_gone() -> int:
    """The reader of our output went away (``| head``): end quietly.

    Python would print a BrokenPipeError traceback when flushing stdout
    at exit; pointing stdout at /dev/null first is the documented cure.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_BROKEN_PIPE


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        return _stdout_gone()
    except RestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["main", "wait_exit_code"]
