"""Odoo step sets: ``install-modules-test``, ``install-modules``, ``update-odoo``.

An Odoo buildout makes a server script ``bin/<buildout-part>``; these step
sets run it once against the build's database (``testing_db``, see
``db.py``) and stop (``--stop-after-init``):

- ``install-modules-test``: ``-i ADDONS --test-enable --log-level=test``
  (install and run the modules' tests);
- ``install-modules``: ``-i ADDONS``;
- ``update-odoo``: ``-u ADDONS`` (default ``all``).

Options (``NAME.OPTION`` in the manifest, NAME being the step set):
``addons`` (module names, separated by commas or spaces), ``args`` (extra
arguments, split like a shell would but never run by one) and
``log_errors`` (``fail``/``warn``/``ignore``: what ERROR/CRITICAL lines of
Odoo's log do to the step). Commands are argument lists.
See docs/database.rst.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any

from buildbot.plugins import util

from ..rules import is_part_name
from ..stepoptions import Arguments, Choice, Names, Option, Problem, Schema
from ..steps.capabilities import ENV_PROPERTY
from ..steps.database import TESTING_DB_PROPERTY
from ..steps.odoo import LOG_ERRORS_CHOICES, OdooCommand
from . import StepContext, StepSet
from .db import database_prelude

#: Odoo module technical names are Python package names.
_MODULE = re.compile(r"[A-Za-z0-9_]+")
_ENV = util.Property(ENV_PROPERTY, default={})
_DB = util.Interpolate(f"%(prop:{TESTING_DB_PROPERTY})s")


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


def schema(kind: str) -> Schema:
    """The options of one Odoo step set (the same three for each)."""
    default = KINDS[kind][2]
    addons = Names(_MODULE, "Odoo module name",
                   "letters, digits and '_', separated by commas or spaces")
    return Schema(
        Option("addons", addons, default=None if default is None else (default,),
               required=default is None,
               hint=f"the modules to install, e.g. {kind}.addons = sale, stock",
               doc="module names, separated by commas or spaces"),
        Option("args", Arguments(), default=(), doc="extra arguments of the server"),
        Option("log_errors", Choice(*LOG_ERRORS_CHOICES), default="fail",
               doc="what ERROR/CRITICAL lines of the log do: fail, warn or ignore"),
        check=lambda options, buildout: needs_server_script(kind, buildout),
    )


def odoo_argv(script: str, kind: str, addons: tuple[str, ...],
              extra: tuple[str, ...]) -> list:
    """The server command: ``bin/<part> -d testing_db -i|-u ADDONS
    --stop-after-init [--test-enable --log-level=test] [args...]``."""
    option, fixed, _default, _what = KINDS[kind]
    return [script, "-d", _DB, option, ",".join(addons), "--stop-after-init", *fixed, *extra]


@functools.lru_cache(maxsize=1024)
def _odoo_step(kind: str, script: str, addons: tuple[str, ...], extra: tuple[str, ...],
               log_errors: str, workdir: str) -> OdooCommand:
    # Identical recipes are shared between factories (see factory.FactoryMaker).
    what = KINDS[kind][3]
    return OdooCommand(name=kind, command=odoo_argv(script, kind, addons, extra), env=_ENV,
                       workdir=workdir, log_errors=log_errors, haltOnFailure=True,
                       description=[what, *addons], descriptionDone=[kind, *addons])


def _make(kind: str):
    def step_set(options: Mapping[str, Any], context: StepContext) -> StepSet:
        spec = context.buildout
        part = spec.buildout_part
        if part is None or not is_part_name(part):
            # checked when the manifest was loaded; again for a spec made
            # another way (the API): never a script path from a bad name
            context.errors.add(spec.location, "invalid buildout part name", str(part),
                               hint="the name of a [section] of the buildout, e.g. odoo",
                               subject=f"buildout [{spec.name}] buildout-part")
            return StepSet()
        prelude = database_prelude(kind, context)
        script = f"bin/{part}"
        return StepSet(steps=[*prelude.steps,
                              _odoo_step(kind, script, options["addons"], options["args"],
                                         options["log_errors"], context.workdir)],
                       cleanup=prelude.cleanup)

    step_set.__name__ = step_set.__qualname__ = kind.replace("-", "_")
    step_set.__doc__ = (f"Run bin/<buildout-part> {KINDS[kind][0]} ADDONS --stop-after-init "
                        "against testing_db (see the module docstring).")
    step_set.schema = schema(kind)  # type: ignore[attr-defined]
    return step_set


STEP_SETS = {kind: _make(kind) for kind in KINDS}
