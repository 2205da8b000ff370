"""``anybox-buildbot``: see what a configuration will do, and drive a master.

``check``/``plan`` load ``master.cfg`` exactly as Buildbot does (so custom
manifest paths, registries and rewrite rules are honoured) and inspect the
configurators it made. ``worker-check`` needs only a workers.cfg fragment.
``create-master`` makes a new master directory from the templates shipped
in the package (:mod:`anybox_buildbot.newmaster`). ``force``/``status``
talk to a running master over its REST API (:mod:`anybox_buildbot.restclient`).

This module holds the command line (arguments, ``--help`` texts, exit
codes) and ``main``; the commands are in ``clicheck`` (check, plan,
worker-check), ``cliremote`` (force, status) and ``clifiles``
(create-master, migrate), the loading of a master in ``masterload``.

The texts ``--help`` prints are plain text (:data:`DESCRIPTION`,
:data:`EXIT_CODES`), not this docstring's markup; docs/cli.rst lists the
same exit codes.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Sequence

from .clicheck import cmd_check, cmd_plan, cmd_worker_check
from .clifiles import cmd_create_master, cmd_migrate
from .cliremote import cmd_force, cmd_status
from .forcewatch import DEFAULT_LOG_LINES, wait_exit_code
from .restclient import EXIT_NO_ANSWER, RestError

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
