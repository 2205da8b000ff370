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
from collections.abc import Mapping

from buildbot.plugins import util

from ..confine import BUILDOUT_WORD
from ..steps.capabilities import ENV_PROPERTY
from ..steps.database import LOG_ERRORS_CHOICES, TESTING_DB_PROPERTY, OdooCommand
from . import StepContext, StepSet
from .db import argument_list, database_prelude, single_line

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
OPTIONS = frozenset({"addons", "args", "log_errors"})


def parse_addons(context: StepContext, stepset: str, value: str | None,
                 default: str | None) -> tuple[str, ...]:
    """Module names from ``addons`` (commas and/or white space between them).

    Names are checked: a typo like ``sale;stock`` is a configuration error
    with its line, not a server run that installs nothing.
    """
    if value is None:
        if default is None:
            context.option_error(stepset, "addons", f"missing option '{stepset}.addons'",
                                 hint=f"the modules to install, e.g. {stepset}.addons = "
                                 "sale, stock")
            return ()
        return (default,)
    names = tuple(dict.fromkeys(value.replace(",", " ").split()))
    if not names:
        context.option_error(stepset, "addons", "no module name", value,
                             hint=f"e.g. {stepset}.addons = sale, stock")
    bad = [n for n in names if not _MODULE.fullmatch(n)]
    for name in bad:
        context.option_error(stepset, "addons", "invalid Odoo module name", name,
                             hint="letters, digits and '_', separated by commas or spaces")
    return () if bad else names


def server_script(context: StepContext, stepset: str) -> str | None:
    """``bin/<buildout-part>``, or None after reporting why not."""
    spec = context.buildout
    part = spec.buildout_part
    if part is None:
        context.errors.add(spec.location, f"step set {stepset!r} needs the 'buildout-part' "
                           "option", f"[{spec.name}]",
                           hint="the part whose bin/ script runs the Odoo server, e.g. "
                           "buildout-part = odoo", subject=f"buildout [{spec.name}]")
        return None
    if not BUILDOUT_WORD.fullmatch(part):  # checked by the manifest; again for the API
        context.errors.add(spec.location, "invalid buildout part name", part,
                           hint="the name of a [section] of the buildout, e.g. odoo",
                           subject=f"buildout [{spec.name}] buildout-part")
        return None
    return f"bin/{part}"


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
    def step_set(options: Mapping[str, str], context: StepContext) -> StepSet:
        default = KINDS[kind][2]
        addons = parse_addons(context, kind, options.get("addons"), default)
        extra = argument_list(context, kind, "args", options.get("args"))
        log_errors = single_line(context, kind, "log_errors", options.get("log_errors")) \
            or "fail"
        if log_errors not in LOG_ERRORS_CHOICES:
            context.option_error(kind, "log_errors", "expected one of "
                                 + ", ".join(LOG_ERRORS_CHOICES), log_errors)
            log_errors = "fail"
        script = server_script(context, kind)
        prelude = database_prelude(kind, context)
        if script is None or not addons:
            return StepSet()  # errors reported: the configuration is refused
        return StepSet(steps=[*prelude.steps,
                              _odoo_step(kind, script, addons, extra, log_errors,
                                         context.workdir)],
                       cleanup=prelude.cleanup)

    step_set.__name__ = step_set.__qualname__ = kind.replace("-", "_")
    step_set.__doc__ = (f"Run bin/<buildout-part> {KINDS[kind][0]} ADDONS --stop-after-init "
                        "against testing_db (see the module docstring).")
    step_set.options = OPTIONS  # type: ignore[attr-defined]
    return step_set


STEP_SETS = {kind: _make(kind) for kind in KINDS}
