"""Odoo step sets: ``install-modules-test``, ``install-modules``,
``update-odoo``, ``odoo-default`` and ``openerpcommand-initialize-tests``.

An Odoo buildout makes a server script ``bin/<buildout-part>``; these step
sets run it once against the build's database (``testing_db``, see
``db.py``) and stop (``--stop-after-init``):

- ``install-modules-test``: ``-i ADDONS --test-enable --log-level=test``
  (install and run the modules' tests);
- ``install-modules``: ``-i ADDONS``;
- ``update-odoo``: ``-u ADDONS`` (default ``all``);
- ``odoo-default``: the default build of anybox.buildbot.odoo in one
  line: create ``testing_db`` (as ``simple_create``) then
  ``install-modules-test`` of ``all``, part ``odoo`` unless
  ``buildout-part`` says otherwise;
- ``openerpcommand-initialize-tests``: OpenERP 7's
  ``bin/<part>_command initialize --no-create --tests`` on the database a
  db step created.

Options (``NAME.OPTION`` in the manifest, NAME being the step set):
``addons`` (module names, separated by commas or spaces), ``args`` (extra
arguments, split like a shell would but never run by one),
``log_errors`` (``fail``/``warn``/``ignore``: what ERROR/CRITICAL lines of
Odoo's log do to the step), and ``port`` (``true``: the build reserves a
TCP port, see ``ports.py``, given to the server with ``port_option``;
``ports``: the range on workers declaring none). Commands are argument
lists. The functional set that keeps a server running is in
``odoofunctional.py``. See docs/database.rst.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any

from buildbot.plugins import util

from ..rules import is_part_name
from ..stepoptions import Arguments, Boolean, Choice, Names, Option, Problem, Schema, StepOptions
from ..steps.capabilities import ENV_PROPERTY
from ..steps.database import TESTING_DB_PROPERTY
from ..steps.odoo import LOG_ERRORS_CHOICES, OdooCommand
from ..steps.ports import PORT_PROPERTY
from . import StepContext, StepSet
from .db import DatabaseName, database_prelude, simple_create
from .ports import port_prelude, ports_option

#: Odoo module technical names are Python package names.
_MODULE = re.compile(r"[A-Za-z0-9_]+")
_ENV = util.Property(ENV_PROPERTY, default={})
_DB = util.Interpolate(f"%(prop:{TESTING_DB_PROPERTY})s")
#: How Odoo is told its HTTP port: ``--http-port`` since Odoo 11,
#: ``--xmlrpc-port`` before (what anybox.buildbot.odoo passed).
PORT_OPTIONS = ("--http-port", "--xmlrpc-port")
#: The original project's default part name (``odoo-default``).
DEFAULT_PART = "odoo"
#: The step sets that create ``testing_db``; ``--no-create`` needs one.
CREATING_SETS = ("simple_create", "pg_remote_copy", "odoo-default")


# name -> (server option, extra arguments, default addons, description)
KINDS: dict[str, tuple[str, tuple[str, ...], str | None, str]] = {
    "install-modules-test": ("-i", ("--test-enable", "--log-level=test"), None, "testing"),
    "install-modules": ("-i", (), None, "installing"),
    "update-odoo": ("-u", (), "all", "updating"),
}


def needs_server_script(kind: str, buildout: Any) -> Iterator[Problem]:
    """Schema check: the server script is ``bin/<buildout-part>``."""
    if buildout.buildout_part is None:
        # no per-section text: an inherited line is then reported once
        yield Problem(f"step set {kind!r} needs the 'buildout-part' option",
                      hint="the part whose bin/ script runs the Odoo server, e.g. "
                      "buildout-part = odoo")


ADDONS = Names(_MODULE, "Odoo module name",
               "letters, digits and '_', separated by commas or spaces")


def common_options(kind: str, default_addons: str | None,
                   port_option: bool = True) -> tuple[Option, ...]:
    """``addons``, ``args``, ``log_errors``, ``port``, ``ports`` (and
    ``port_option``) of an Odoo step set."""
    options = [
        Option("addons", ADDONS,
               default=None if default_addons is None else (default_addons,),
               required=default_addons is None,
               hint=f"the modules to install, e.g. {kind}.addons = sale, stock",
               doc="module names, separated by commas or spaces"),
        Option("args", Arguments(), default=(), doc="extra arguments of the server"),
        Option("log_errors", Choice(*LOG_ERRORS_CHOICES), default="fail",
               doc="what ERROR/CRITICAL lines of the log do: fail, warn or ignore"),
        Option("port", Boolean(), default=False,
               doc="reserve a TCP port for the build and give it to the server"),
        ports_option(),
    ]
    if port_option:
        options.append(Option("port_option", Choice(*PORT_OPTIONS), default=PORT_OPTIONS[0],
                              doc="the server option taking the port (--xmlrpc-port before "
                              "Odoo 11)"))
    return tuple(options)


def schema(kind: str) -> Schema:
    """The options of one of the ``KINDS`` step sets."""
    return Schema(*common_options(kind, KINDS[kind][2]),
                  check=lambda options, buildout: needs_server_script(kind, buildout))


def port_argument(option: str) -> util.Interpolate:
    """``--http-port=<build_port>``, rendered when the step starts."""
    return util.Interpolate(f"{option}=%(prop:{PORT_PROPERTY})s")


def odoo_argv(script: str, kind: str, addons: tuple[str, ...],
              extra: tuple[str, ...], port_option: str | None = None) -> list:
    """The server command: ``bin/<part> -d testing_db -i|-u ADDONS
    --stop-after-init [--test-enable --log-level=test] [--http-port=PORT]
    [args...]``."""
    option, fixed, _default, _what = KINDS[kind]
    port = [port_argument(port_option)] if port_option else []
    return [script, "-d", _DB, option, ",".join(addons), "--stop-after-init", *fixed, *port,
            *extra]


@functools.lru_cache(maxsize=1024)
def _odoo_step(kind: str, script: str, addons: tuple[str, ...], extra: tuple[str, ...],
               log_errors: str, workdir: str, port_option: str | None = None,
               name: str | None = None) -> OdooCommand:
    # Identical recipes are shared between factories (see factory.FactoryMaker).
    what = KINDS[kind][3]
    return OdooCommand(name=name or kind,
                       command=odoo_argv(script, kind, addons, extra, port_option), env=_ENV,
                       workdir=workdir, log_errors=log_errors, haltOnFailure=True,
                       description=[what, *addons], descriptionDone=[name or kind, *addons])


def _port_option(options: Mapping[str, Any]) -> str | None:
    return options["port_option"] if options["port"] else None


def _make(kind: str):
    def step_set(options: Mapping[str, Any], context: StepContext) -> StepSet:
        part = context.buildout.buildout_part
        if part is None or not is_part_name(part):
            # checked when the manifest was loaded; again for a spec made
            # another way (the API): never a script path from a bad name
            return _bad_part(context, part)
        prelude = database_prelude(kind, context)
        ports = port_prelude(kind, context) if options["port"] else StepSet()
        script = f"bin/{part}"
        return StepSet(steps=[*prelude.steps, *ports.steps,
                              _odoo_step(kind, script, options["addons"], options["args"],
                                         options["log_errors"], context.workdir,
                                         _port_option(options))],
                       cleanup=[*ports.cleanup, *prelude.cleanup])

    step_set.__name__ = step_set.__qualname__ = kind.replace("-", "_")
    step_set.__doc__ = (f"Run bin/<buildout-part> {KINDS[kind][0]} ADDONS --stop-after-init "
                        "against testing_db (see the module docstring).")
    step_set.schema = schema(kind)  # type: ignore[attr-defined]
    return step_set


def _bad_part(context: StepContext, part: object) -> StepSet:
    spec = context.buildout
    context.errors.add(spec.location, "invalid buildout part name", str(part),
                       hint="the name of a [section] of the buildout, e.g. odoo",
                       subject=f"buildout [{spec.name}] buildout-part")
    return StepSet()


# --------------------------------------------------------------------------- #
# odoo-default: anybox.buildbot.odoo's default build in one line
# --------------------------------------------------------------------------- #

def odoo_default(options: Mapping[str, Any], context: StepContext) -> StepSet:
    """Create ``testing_db`` and run ``install-modules-test`` (default
    ``all``) with ``bin/<buildout-part>``, part ``odoo`` by default."""
    part = context.buildout.buildout_part or DEFAULT_PART
    if not is_part_name(part):
        return _bad_part(context, part)
    prelude = database_prelude("odoo-default", context)
    # simple_create's own prelude is empty here (odoo-default owns it):
    # only its createdb step, from the template database_prelude decided
    create = simple_create(StepOptions({"db_template": options["db_template"]}), context)
    ports = port_prelude("odoo-default", context) if options["port"] else StepSet()
    test = _odoo_step("install-modules-test", f"bin/{part}", options["addons"],
                      options["args"], options["log_errors"], context.workdir,
                      _port_option(options), "odoo-default")
    return StepSet(steps=[*prelude.steps, *create.steps, *ports.steps, test],
                   cleanup=[*ports.cleanup, *prelude.cleanup])


def _creates_alone(options: Mapping[str, Any], buildout: Any) -> Iterator[Problem]:
    others = [name for name in ("simple_create", "pg_remote_copy")
              if name in buildout.step_sets]
    if others:
        yield Problem(f"odoo-default and {others[0]} both create testing_db",
                      text=others[0], hint="odoo-default creates it already: take "
                      f"{others[0]} out of db-steps (odoo-default.db_template names a "
                      "template)")


odoo_default.schema = Schema(  # type: ignore[attr-defined]
    *common_options("odoo-default", "all"),
    Option("db_template", DatabaseName(), default=None,
           doc="the template database (else the worker property db_template)"),
    check=_creates_alone,
)


# --------------------------------------------------------------------------- #
# openerpcommand-initialize-tests (OpenERP 7 with openerp-command)
# --------------------------------------------------------------------------- #

#: Modules ``--all-modules`` leaves out, as the original project did:
#: they need servers a CI worker does not have.
EXCLUDED_FROM_ALL = ("auth_ldap", "document_ftp")


def initialize_argv(script: str, addons: tuple[str, ...], extra: tuple[str, ...],
                    port: bool) -> list:
    """``bin/<part>_command initialize --no-create --tests --database DB
    (--all-modules --exclude X... | --module M...) [--port PORT] [args]``."""
    if addons == ("all",):
        modules = ["--all-modules"]
        for name in EXCLUDED_FROM_ALL:
            modules += ["--exclude", name]
    else:
        modules = [word for name in addons for word in ("--module", name)]
    port_args = [port_argument("--port")] if port else []
    return [script, "initialize", "--no-create", "--tests", "--database", _DB, *modules,
            *port_args, *extra]


def initialize_tests(options: Mapping[str, Any], context: StepContext) -> StepSet:
    """Run ``openerp-command``'s ``initialize --tests`` on ``testing_db``."""
    part = context.buildout.buildout_part
    if part is None or not is_part_name(part):
        return _bad_part(context, part)
    prelude = database_prelude("openerpcommand-initialize-tests", context)
    ports = (port_prelude("openerpcommand-initialize-tests", context) if options["port"]
             else StepSet())
    command = initialize_argv(f"bin/{part}_command", options["addons"], options["args"],
                              options["port"])
    step = OdooCommand(name="openerpcommand-initialize-tests", command=command, env=_ENV,
                       workdir=context.workdir, log_errors=options["log_errors"],
                       haltOnFailure=True, description=["testing", *options["addons"]],
                       descriptionDone=["tests", *options["addons"]])
    return StepSet(steps=[*prelude.steps, *ports.steps, step],
                   cleanup=[*ports.cleanup, *prelude.cleanup])


def _needs_database(options: Mapping[str, Any], buildout: Any) -> Iterator[Problem]:
    yield from needs_server_script("openerpcommand-initialize-tests", buildout)
    if not any(name in buildout.step_sets for name in CREATING_SETS):
        yield Problem("openerpcommand-initialize-tests runs with --no-create: the build "
                      "must create testing_db", hint="add simple_create (or "
                      "pg_remote_copy) to db-steps")


initialize_tests.schema = Schema(  # type: ignore[attr-defined]
    *common_options("openerpcommand-initialize-tests", "all", port_option=False),
    check=_needs_database,
)

STEP_SETS = {kind: _make(kind) for kind in KINDS}
STEP_SETS["odoo-default"] = odoo_default
STEP_SETS["openerpcommand-initialize-tests"] = initialize_tests
