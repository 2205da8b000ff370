"""Database step sets: ``simple_create``, ``pg_remote_copy``, ``final_dropdb``.

Each build gets its own PostgreSQL database, ``testing_db`` = worker
property ``db_prefix`` + builder name (shortened to PostgreSQL's 63-byte
limit with a hash suffix), on the cluster of the chosen ``postgresql``
capability (``PGHOST``/``PGPORT``/``PATH`` of the build environment). The
first of the database-aware step sets a buildout lists (these three and the
Odoo ones) adds the steps every such build needs, once:

- ``testing-db`` (on the master): sets the ``testing_db`` property and
  ``PGDATABASE`` in the build environment, so later commands reach the
  database through the environment alone;
- ``dropdb-stale``: drops a database of that name left by a build that
  could not clean up (master restart, lost worker);
- at the end of the build, ``final-dropdb``, which runs even after a
  failure, so the database never outlives its build.

Names only ever reach ``createdb``, ``dropdb``, ``pg_dump`` and
``pg_restore`` as separate arguments (no shell, no SQL text built here).
See docs/database.rst.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from buildbot.plugins import steps, util

from ..factory import ship
from ..steps.capabilities import ENV_PROPERTY
from ..steps.database import (
    MAX_IDENTIFIER_BYTES,
    CopySource,
    DbCommand,
    NameTestingDatabase,
    createdb_argv,
    dropdb_argv,
    has_testing_db,
    pg_copy_argv,
)
from . import StepContext, StepSet
from .options import OptionReader

#: Step sets that use ``testing_db``; the first one listed by a buildout
#: adds ``testing-db``, ``dropdb-stale`` and the final drop.
DATABASE_STEP_SETS = ("simple_create", "pg_remote_copy", "final_dropdb",
                      "install-modules-test", "install-modules", "update-odoo")

_ENV = util.Property(ENV_PROPERTY, default={})


# --------------------------------------------------------------------------- #
# option checks
# --------------------------------------------------------------------------- #

def single_line(context: StepContext, stepset: str, option: str,
                value: str | None) -> str | None:
    """The stripped value, or None after reporting it if empty/multi-line."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        context.option_error(stepset, option, "empty value", value)
        return None
    if "\n" in text:
        context.option_error(stepset, option, "expected a single line", text,
                             hint="this option takes one value")
        return None
    return text


def database_name(context: StepContext, stepset: str, option: str,
                  value: str | None) -> str | None:
    """A database name as PostgreSQL can store it (any characters but NUL,
    at most 63 bytes: a longer one would silently name another database)."""
    text = single_line(context, stepset, option, value)
    if text is None:
        return None
    if "\x00" in text:
        context.option_error(stepset, option, "NUL character in a database name", text)
        return None
    if len(text.encode("utf-8")) > MAX_IDENTIFIER_BYTES:
        context.option_error(stepset, option, f"database name longer than "
                             f"{MAX_IDENTIFIER_BYTES} bytes", text,
                             hint="PostgreSQL would truncate it: give the real name")
        return None
    return text


def argument_list(context: StepContext, stepset: str, option: str,
                  value: str | None) -> tuple[str, ...]:
    """Split like a POSIX shell would, to pass as separate arguments."""
    if value is None:
        return ()
    return OptionReader(stepset, {option: value}, context).argv(option)


# --------------------------------------------------------------------------- #
# shared steps
# --------------------------------------------------------------------------- #

@functools.lru_cache(maxsize=1024)
def _testing_db(template: str | None, from_template: bool) -> NameTestingDatabase:
    # Step objects are immutable recipes: identical ones are shared by the
    # factories of all buildouts (see factory.FactoryMaker).
    return NameTestingDatabase(template=template, from_template=from_template)


@functools.lru_cache(maxsize=64)
def _dropdb(name: str, workdir: str, final: bool) -> steps.ShellCommand:
    if final:
        return steps.ShellCommand(
            name=name, command=DbCommand(dropdb_argv), env=_ENV, workdir=workdir,
            alwaysRun=True, doStepIf=has_testing_db, flunkOnFailure=False,
            warnOnFailure=True, description=["dropping", "testing_db"],
            descriptionDone=["dropped", "testing_db"])
    return steps.ShellCommand(
        name=name, command=DbCommand(dropdb_argv), env=_ENV, workdir=workdir,
        haltOnFailure=True, description=["dropping", "stale", "testing_db"],
        descriptionDone=["no", "stale", "testing_db"])


@functools.lru_cache(maxsize=64)
def _createdb(workdir: str, template: str | None = None) -> steps.ShellCommand:
    return steps.ShellCommand(
        name="createdb", command=DbCommand(createdb_argv, (template,)), env=_ENV,
        workdir=workdir, haltOnFailure=True, description=["creating", "testing_db"],
        descriptionDone=["created", "testing_db"])


def owns_database_steps(name: str, context: StepContext) -> bool:
    """Whether ``name`` is the first database-aware set of the buildout."""
    first = next((n for n in context.buildout.step_sets if n in DATABASE_STEP_SETS), None)
    return first == name or first is None


def database_prelude(name: str, context: StepContext) -> StepSet:
    """``testing-db`` + ``dropdb-stale`` and the final drop, or nothing when
    an earlier set of the buildout already added them.

    The template comes from ``simple_create`` whichever set comes first:
    ``db-steps = final_dropdb simple_create`` names the database in
    ``final_dropdb``'s place but must still create it from the template.
    """
    if not owns_database_steps(name, context):
        return StepSet()
    uses_template = "simple_create" in context.buildout.step_sets
    template = None
    if uses_template:
        raw = context.buildout.step_options.get("simple_create", {}).get("db_template")
        template = raw.strip() if raw and raw.strip() else None
    return StepSet(
        steps=[_testing_db(template, uses_template),
               _dropdb("dropdb-stale", context.workdir, False)],
        cleanup=[_dropdb("final-dropdb", context.workdir, True)])


# --------------------------------------------------------------------------- #
# the step sets
# --------------------------------------------------------------------------- #

def simple_create(options: Mapping[str, str], context: StepContext) -> StepSet:
    """Create ``testing_db``, empty or from a template database.

    ``simple_create.db_template`` (else the worker property ``db_template``)
    names the template; it is passed to ``createdb --template`` as is.
    """
    database_name(context, "simple_create", "db_template", options.get("db_template"))
    prelude = database_prelude("simple_create", context)
    return StepSet(steps=[*prelude.steps, _createdb(context.workdir)],
                   cleanup=prelude.cleanup)


simple_create.options = frozenset({"db_template"})  # type: ignore[attr-defined]


def _port(context: StepContext, value: str | None) -> str | None:
    text = single_line(context, "pg_remote_copy", "source_port", value)
    if text is None:
        return None
    if not text.isdigit() or not 0 < int(text) < 65536:
        context.option_error("pg_remote_copy", "source_port", "expected a TCP port number",
                             text, hint="e.g. pg_remote_copy.source_port = 5432")
        return None
    return text


def _host(context: StepContext, value: str | None) -> str | None:
    text = single_line(context, "pg_remote_copy", "source_host", value)
    if text is not None and any(c.isspace() for c in text):
        context.option_error("pg_remote_copy", "source_host", "white space in a host name",
                             text, hint="a host name, an address or a socket directory")
        return None
    return text


@functools.lru_cache(maxsize=1024)
def _copy_step(source: CopySource, workdir: str) -> steps.ShellCommand:
    return steps.ShellCommand(
        name="pg-remote-copy", command=DbCommand(pg_copy_argv, (source,)), env=_ENV,
        workdir=workdir, haltOnFailure=True, description=["copying", source.db],
        descriptionDone=["copied", source.db])


def pg_remote_copy(options: Mapping[str, str], context: StepContext) -> StepSet:
    """Create ``testing_db`` empty and restore another database into it.

    The source database is ``pg_remote_copy.source_db``, on the cluster
    given by ``source_host``/``source_port``/``source_user`` (manifest),
    else by the same options of the chosen ``postgresql`` capability
    instance (``source_host=...`` on the worker's capability line), else the
    build's own cluster. ``pg_dump --format=custom`` is piped into
    ``pg_restore --no-owner --no-privileges`` by a shipped script: no shell.
    """
    stepset = "pg_remote_copy"
    spec = context.buildout
    source_db = database_name(context, stepset, "source_db", options.get("source_db"))
    if "source_db" not in options:
        context.option_error(stepset, "source_db", "missing option 'pg_remote_copy.source_db'",
                             hint="the database to copy, e.g. "
                             "pg_remote_copy.source_db = app_reference")
    if "simple_create" in spec.step_sets:
        context.errors.add(spec.location, "simple_create and pg_remote_copy both create "
                           "testing_db", " ".join(spec.db_steps),
                           hint="keep pg_remote_copy alone: it creates the database "
                           "before restoring into it", subject=f"buildout [{spec.name}]")
    source = CopySource(
        db=source_db or "",
        host=_host(context, options.get("source_host")),
        port=_port(context, options.get("source_port")),
        user=single_line(context, stepset, "source_user", options.get("source_user")),
        dump_options=argument_list(context, stepset, "dump_options",
                                   options.get("dump_options")),
        restore_options=argument_list(context, stepset, "restore_options",
                                      options.get("restore_options")),
    )
    prelude = database_prelude(stepset, context)
    return StepSet(steps=[*prelude.steps, _createdb(context.workdir, "template0"),
                          ship("pg_copy.py", context.workdir),
                          _copy_step(source, context.workdir)],
                   cleanup=prelude.cleanup)


pg_remote_copy.options = frozenset({  # type: ignore[attr-defined]
    "source_db", "source_host", "source_port", "source_user", "dump_options",
    "restore_options"})


def final_dropdb(options: Mapping[str, str], context: StepContext) -> StepSet:
    """Drop ``testing_db`` at the end of every build, failing or not.

    Implied by every database-aware step set; listing it explicitly is for
    builds whose own commands create the database (``bin/test`` creating
    ``$PGDATABASE``).
    """
    return database_prelude("final_dropdb", context)


final_dropdb.options = frozenset()  # type: ignore[attr-defined]

STEP_SETS = {
    "simple_create": simple_create,
    "pg_remote_copy": pg_remote_copy,
    "final_dropdb": final_dropdb,
}
