"""Database step sets: ``simple_create``, ``pg_remote_copy``, ``final_dropdb``.

Each build gets its own PostgreSQL database, ``testing_db`` = worker
property ``db_prefix`` + builder name (shortened to PostgreSQL's 63-byte
limit with a hash suffix), on the cluster of the chosen ``postgresql``
capability (``PGHOST``/``PGPORT``/``PATH`` of the build environment). The
first of the database-aware step sets a buildout lists (these three and the
Odoo ones) adds the steps every such build needs, once:

- ``testing-db`` (on the master): sets the ``testing_db`` property and
  ``PGDATABASE`` in the build environment, so later commands reach the
  database through the environment alone. The factory puts it right after
  the capability step (``database_naming``): the manifest's ``env.VAR``
  and ``buildout-options`` templates can then use the name;
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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from buildbot.plugins import steps, util

from ..buildoutspec import BuildoutSpec
from ..rules import RuleError
from ..stepoptions import Arguments, Number, Option, OptionKey, Problem, Schema, Text
from ..steps.capabilities import ENV_PROPERTY
from ..steps.common import ship
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
from ..template import Template
from . import StepContext, StepSet

#: Step sets that use ``testing_db``; the first one listed by a buildout
#: adds ``testing-db``, ``dropdb-stale`` and the final drop.
DATABASE_STEP_SETS = ("simple_create", "pg_remote_copy", "final_dropdb",
                      "install-modules-test", "install-modules", "update-odoo",
                      "odoo-default", "openerpcommand-initialize-tests", "functional-odoo")
#: Step sets creating ``testing_db`` with ``createdb``, whose ``db_template``
#: option (else the worker's ``db_template``) names the template.
TEMPLATE_STEP_SETS = ("simple_create", "odoo-default")

_ENV = util.Property(ENV_PROPERTY, default={})


# --------------------------------------------------------------------------- #
# option types
# --------------------------------------------------------------------------- #

@dataclass(frozen=True)
class DatabaseName(Text):
    """A database name as PostgreSQL can store it (any characters but NUL,
    at most 63 bytes: a longer one would silently name another database)."""

    def parse(self, text: str, key: OptionKey) -> str:
        value = super().parse(text, key)
        if "\x00" in value:
            raise RuleError("NUL character in a database name")
        if len(value.encode("utf-8")) > MAX_IDENTIFIER_BYTES:
            raise RuleError(f"database name longer than {MAX_IDENTIFIER_BYTES} bytes",
                            hint="PostgreSQL would truncate it: give the real name")
        return value


def _no_white_space(value: str) -> str | None:
    return "white space in a host name" if any(c.isspace() for c in value) else None


# --------------------------------------------------------------------------- #
# shared steps
# --------------------------------------------------------------------------- #

@functools.lru_cache(maxsize=1024)
def _testing_db(template: str | None, from_template: bool,
                env: tuple[tuple[str, Template], ...] = ()) -> NameTestingDatabase:
    # Step objects are immutable recipes: identical ones are shared by the
    # factories of all buildouts (see factory.FactoryMaker).
    kwargs = {"env": env} if env else {}
    return NameTestingDatabase(template=template, from_template=from_template, **kwargs)


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
    """``dropdb-stale`` and the final drop, or nothing when an earlier set of
    the buildout already added them (``testing-db`` is added by the factory
    much earlier: ``database_naming``)."""
    if not owns_database_steps(name, context):
        return StepSet()
    return StepSet(steps=[_dropdb("dropdb-stale", context.workdir, False)],
                   cleanup=[_dropdb("final-dropdb", context.workdir, True)])


def database_naming(spec: BuildoutSpec) -> NameTestingDatabase | None:
    """The ``testing-db`` step of a buildout using a database step set, else
    None; it renders the manifest's ``env.VAR`` templates (see
    ``NameTestingDatabase``).

    The template comes from ``simple_create`` (or ``odoo-default``)
    whichever set comes first:
    ``db-steps = final_dropdb simple_create`` names the database in
    ``final_dropdb``'s place but must still create it from the template.
    """
    if not any(name in DATABASE_STEP_SETS for name in spec.step_sets):
        return None
    creator = next((n for n in TEMPLATE_STEP_SETS if n in spec.step_sets), None)
    options = spec.step_options.get(creator) if creator else None
    template = options["db_template"] if options is not None else None
    return _testing_db(template, creator is not None, spec.env)


# --------------------------------------------------------------------------- #
# the step sets
# --------------------------------------------------------------------------- #

def simple_create(options: Mapping[str, Any], context: StepContext) -> StepSet:
    """Create ``testing_db``, empty or from a template database.

    ``simple_create.db_template`` (else the worker property ``db_template``)
    names the template; it is passed to ``createdb --template`` as is.
    """
    prelude = database_prelude("simple_create", context)
    return StepSet(steps=[*prelude.steps, _createdb(context.workdir)],
                   cleanup=prelude.cleanup)


simple_create.schema = Schema(  # type: ignore[attr-defined]
    Option("db_template", DatabaseName(), default=None,
           doc="the template database (else the worker property db_template)"),
)


@functools.lru_cache(maxsize=1024)
def _copy_step(source: CopySource, workdir: str) -> steps.ShellCommand:
    return steps.ShellCommand(
        name="pg-remote-copy", command=DbCommand(pg_copy_argv, (source,)), env=_ENV,
        workdir=workdir, haltOnFailure=True, description=["copying", source.db],
        descriptionDone=["copied", source.db])


def pg_remote_copy(options: Mapping[str, Any], context: StepContext) -> StepSet:
    """Create ``testing_db`` empty and restore another database into it.

    The source database is ``pg_remote_copy.source_db``, on the cluster
    given by ``source_host``/``source_port``/``source_user`` (manifest),
    else by the same options of the chosen ``postgresql`` capability
    instance (``source_host=...`` on the worker's capability line), else the
    build's own cluster. ``pg_dump --format=custom`` is piped into
    ``pg_restore --no-owner --no-privileges`` by a shipped script: no shell.
    """
    source = CopySource(
        db=options["source_db"], host=options["source_host"], port=options["source_port"],
        user=options["source_user"], dump_options=options["dump_options"],
        restore_options=options["restore_options"])
    prelude = database_prelude("pg_remote_copy", context)
    return StepSet(steps=[*prelude.steps, _createdb(context.workdir, "template0"),
                          ship("pg_copy.py", context.workdir),
                          _copy_step(source, context.workdir)],
                   cleanup=prelude.cleanup)


def _alone(options: Mapping[str, Any], buildout: Any) -> Iterator[Problem]:
    if "simple_create" in buildout.step_sets:
        yield Problem("simple_create and pg_remote_copy both create testing_db",
                      text=" ".join(buildout.db_steps),
                      hint="keep pg_remote_copy alone: it creates the database before "
                      "restoring into it")


pg_remote_copy.schema = Schema(  # type: ignore[attr-defined]
    Option("source_db", DatabaseName(), required=True,
           hint="the database to copy, e.g. pg_remote_copy.source_db = app_reference",
           doc="the database to copy"),
    Option("source_host", Text(), default=None, check=_no_white_space,
           hint="a host name, an address or a socket directory",
           doc="its server (else the capability's source_host)"),
    Option("source_port", Number(minimum=1, maximum=65535, what="a TCP port number"),
           default=None, hint="e.g. pg_remote_copy.source_port = 5432",
           doc="its port (else the capability's source_port)"),
    Option("source_user", Text(), default=None,
           doc="the role reading it (else the capability's source_user)"),
    Option("dump_options", Arguments(), default=(), doc="extra pg_dump arguments"),
    Option("restore_options", Arguments(), default=(), doc="extra pg_restore arguments"),
    check=_alone,
)


def final_dropdb(options: Mapping[str, Any], context: StepContext) -> StepSet:
    """Drop ``testing_db`` at the end of every build, failing or not.

    Implied by every database-aware step set; listing it explicitly is for
    builds whose own commands create the database (``bin/test`` creating
    ``$PGDATABASE``).
    """
    return database_prelude("final_dropdb", context)


final_dropdb.schema = Schema()  # type: ignore[attr-defined]

STEP_SETS = {
    "simple_create": simple_create,
    "pg_remote_copy": pg_remote_copy,
    "final_dropdb": final_dropdb,
}
