"""``functional-odoo``: functional tests against a running Odoo server.

Steps, in the buildout's folder, with the build environment:

- ``reserve-port`` (unless an earlier set of the buildout reserved one)
  and the database naming steps of ``db.py``;
- ``functional-odoo-parts`` with ``parts``: ``bin/buildout install PART...``;
- ``odoo-start``: ``bin/<buildout-part> -d testing_db --http-port=PORT
  [args]`` started in the background by a shipped script, which waits
  until the server answers HTTP on the port (at most ``wait`` seconds;
  else the step fails saying so, with the end of the server's log);
- one step per ``commands`` line (``functional-odoo``,
  ``functional-odoo-2``...), with ``BUILD_PORT`` and ``PGDATABASE`` in
  their environment (and the port and database as two last arguments with
  ``port_db_args = true``, anybox.buildbot.odoo's convention);
- ``odoo-stop``: stops the server and shows the end of its log; it runs
  even when a test failed and stopped the build.

The port is released at the end of the build (``ports.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from buildbot.plugins import steps, util

from ..rules import is_part_name
from ..stepoptions import Arguments, Boolean, Choice, Number, Option, Schema
from ..steps.common import (
    ship,
)
from ..steps.database import TESTING_DB_PROPERTY
from ..steps.odoo import SERVER_START_STEP, server_was_started
from ..steps.ports import PORT_PROPERTY
from . import StepContext, StepSet
from .db import database_prelude
from .odoo import PORT_OPTIONS, needs_server_script, port_argument
from .ports import port_prelude, ports_option
from .testing import builder_dir_from, functional_options, install_parts_step

NAME = "functional-odoo"
SCRIPT = "odoo_server.py"
_PORT = util.Interpolate(f"%(prop:{PORT_PROPERTY})s")
_DB = util.Interpolate(f"%(prop:{TESTING_DB_PROPERTY})s")


def server_files(workdir: str) -> tuple[str, str]:
    """(pid file, server log), next to the builder's folder on the worker:
    outside the checkout, one per builder (a builder runs one build at a
    time on a worker)."""
    base = builder_dir_from(workdir)
    return f"{base}/anybox-odoo-server.pid", f"{base}/anybox-odoo-server.log"


def start_argv(script: str, wait: int, pidfile: str, logfile: str, port_option: str,
               extra: tuple[str, ...]) -> list:
    """``python3 anybox-odoo_server.py start ... -- bin/<part> -d testing_db
    --http-port=PORT [args]``."""
    return ["python3", f"anybox-{SCRIPT}", "start", "--port", _PORT, "--timeout", str(wait),
            "--pidfile", pidfile, "--logfile", logfile, "--",
            script, "-d", _DB, port_argument(port_option), *extra]


def stop_argv(pidfile: str, logfile: str) -> list[str]:
    return ["python3", f"anybox-{SCRIPT}", "stop", "--pidfile", pidfile, "--logfile", logfile]


def functional_odoo(options: Mapping[str, Any], context: StepContext) -> StepSet:
    """Start Odoo on the build's port, wait for it, run the commands, stop it."""
    spec, workdir, env = context.buildout, context.workdir, context.env
    part = spec.buildout_part
    if part is None or not is_part_name(part):
        context.errors.add(spec.location, "invalid buildout part name", str(part),
                           hint="the name of a [section] of the buildout, e.g. odoo",
                           subject=f"buildout [{spec.name}] buildout-part")
        return StepSet()
    database = database_prelude(NAME, context)
    ports = port_prelude(NAME, context)
    result: list = [*database.steps, *ports.steps]
    if options["parts"]:
        result.append(install_parts_step(f"{NAME}-parts", context, options["parts"]))
    pidfile, logfile = server_files(workdir)
    result.append(ship(SCRIPT, workdir))
    result.append(steps.ShellCommand(
        name=SERVER_START_STEP, workdir=workdir, env=env, haltOnFailure=True,
        command=start_argv(f"bin/{part}", options["wait"], pidfile, logfile,
                           options["port_option"], options["args"]),
        description=["starting", "odoo"], descriptionDone=["odoo", "answers"]))
    tail = [_PORT, _DB] if options["port_db_args"] else []
    commands = options["commands"]
    for index, command in enumerate(commands, 1):
        name = NAME if index == 1 else f"{NAME}-{index}"
        result.append(steps.ShellCommand(
            name=name, command=[*command, *tail], workdir=workdir, env=env,
            haltOnFailure=True, description=[name], descriptionDone=[name]))
    result.append(steps.ShellCommand(
        name="odoo-stop", command=stop_argv(pidfile, logfile), workdir=workdir,
        alwaysRun=True, doStepIf=server_was_started, flunkOnFailure=False,
        warnOnFailure=True, description=["stopping", "odoo"],
        descriptionDone=["odoo", "stopped"]))
    return StepSet(steps=result, cleanup=[*ports.cleanup, *database.cleanup])


functional_odoo.schema = Schema(  # type: ignore[attr-defined]
    *functional_options(NAME, "bin/robot tests", "robot"),
    Option("args", Arguments(), default=(), doc="extra arguments of the server"),
    Option("wait", Number(minimum=1, maximum=3600, what="a number of seconds (1 to 3600)"),
           default=60, hint="e.g. functional-odoo.wait = 120",
           doc="seconds to wait for the server to answer"),
    Option("port_option", Choice(*PORT_OPTIONS), default=PORT_OPTIONS[0],
           doc="the server option taking the port (--xmlrpc-port before Odoo 11)"),
    Option("port_db_args", Boolean(), default=False,
           doc="append the port and the database name to each command"),
    ports_option(),
    check=lambda options, buildout: needs_server_script(NAME, buildout),
)

STEP_SETS = {NAME: functional_odoo}
