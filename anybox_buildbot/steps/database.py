"""Steps and renderables of the database step sets (``subfactories/db.py``;
the Odoo server step is in :mod:`.odoo`).

The build's database, ``testing_db``, is named at build time: its name
depends on the worker (``db_prefix`` worker property) and on the builder
(all ``build-for`` builders of a buildout share one factory). The
``testing-db`` step computes it on the master, publishes it as a property
and as ``PGDATABASE`` in the build environment; the commands then read the
property through renderables.

Every command runs on the worker with the capability environment and gets
names as separate arguments, after ``--`` so that a name beginning with
``-`` is not an option: ``createdb``/``dropdb`` quote identifiers
themselves, and no shell or SQL string ever sees the text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from buildbot.interfaces import IRenderable
from buildbot.process import buildstep
from buildbot.process.results import SUCCESS
from zope.interface import implementer

from ..template import Template
from ..version import parse_version
from .capabilities import ENV_PROPERTY, PYTHON_PROPERTY, extend_environment, shell_assignment

TESTING_DB_PROPERTY = "testing_db"
TEMPLATE_PROPERTY = "testing_db_template"
PREFIX_PROPERTY = "db_prefix"          # worker property
WORKER_TEMPLATE_PROPERTY = "db_template"  # worker property
PG_VERSION_PROPERTY = "pg_version"      # version_prop of the default 'postgresql'
SOURCE = "testing-db"

#: PostgreSQL truncates identifiers to NAMEDATALEN - 1 bytes.
MAX_IDENTIFIER_BYTES = 63
_HASH_CHARS = 8


def shorten_identifier(name: str, limit: int = MAX_IDENTIFIER_BYTES) -> str:
    """``name`` if it fits in ``limit`` UTF-8 bytes, else a deterministic
    shorter form: its longest prefix that fits with ``-`` and 8 hex digits of
    its SHA-256.

    PostgreSQL would silently truncate a longer name, so two builders whose
    names share their first 63 bytes would share (and drop) one database;
    the hash keeps them apart and keeps the name stable from build to build.
    The prefix is cut on a character boundary.
    """
    encoded = name.encode("utf-8")
    if len(encoded) <= limit:
        return name
    digest = hashlib.sha256(encoded).hexdigest()[:_HASH_CHARS]
    room = limit - len(digest) - 1
    head = encoded[:room].decode("utf-8", errors="ignore")
    return f"{head}-{digest}"


def db_name_for(prefix: str, builder: str) -> str:
    """The build's database: worker prefix + builder name, at most 63 bytes."""
    return shorten_identifier(f"{prefix}{builder}")


def with_pgdatabase(env: object, dbname: str) -> dict:
    """The build environment plus ``PGDATABASE`` (a copy: properties are
    shared with the build history)."""
    result = dict(env) if isinstance(env, dict) else {}
    result["PGDATABASE"] = dbname
    return result


def supports_drop_force(pg_version: object) -> bool:
    """``dropdb --force`` needs a server (and client) 13 or newer; an unknown
    version gets the plain form, which works everywhere."""
    if not pg_version:
        return False
    version = parse_version(str(pg_version))
    return version.is_orderable and version.release >= (13,)


class NameTestingDatabase(buildstep.BuildStep):
    """Name the build's database; publish it as property and PGDATABASE.

    Runs on the master (no worker round trip). With ``from_template``
    (``simple_create`` is used) it also decides the template, property
    ``testing_db_template``: ``template`` (the manifest's
    ``simple_create.db_template``), else the worker property
    ``db_template``, else none (empty).

    It runs right after the capability step, before the buildout is
    fetched, so that everything after it can use these values: it renders
    the manifest's ``env.VAR`` templates (``env``, which the capability
    step then leaves alone) once the name is known, and ``bin/buildout``'s
    ``buildout-options`` are rendered after it:
    ``env.TEST_DSN = postgresql:///%(prop:testing_db)s`` names the build's
    own database.
    """

    name = "testing-db"
    haltOnFailure = True

    def __init__(self, template: str | None = None, from_template: bool = True,
                 env: tuple[tuple[str, Template], ...] = (), **kwargs) -> None:
        super().__init__(**kwargs)
        self.template = template
        self.from_template = from_template
        self.env = tuple(env)

    async def run(self) -> int:
        prefix = str(self.getProperty(PREFIX_PROPERTY) or "")
        builder = str(self.getProperty("buildername") or self.build.builder.name)
        wanted = f"{prefix}{builder}"
        dbname = db_name_for(prefix, builder)
        template = ""
        if self.from_template:
            template = self.template or str(self.getProperty(WORKER_TEMPLATE_PROPERTY) or "")
            self.setProperty(TEMPLATE_PROPERTY, template, SOURCE)
        self.setProperty(TESTING_DB_PROPERTY, dbname, SOURCE)
        env = self.getProperty(ENV_PROPERTY)
        env = dict(env) if isinstance(env, dict) else {}
        if self.env:
            worker_env = getattr(self.worker, "worker_environ", None)
            env = extend_environment(env, self.env, self.getProperty, worker_env)
        env = with_pgdatabase(env, dbname)
        self.setProperty(ENV_PROPERTY, env, SOURCE)
        lines = [f"testing_db = {dbname!r}"]
        if dbname != wanted:
            lines.append(f"  ({PREFIX_PROPERTY} + builder name {wanted!r} is longer than "
                         f"{MAX_IDENTIFIER_BYTES} bytes: shortened with a hash suffix)")
        lines.append(f"PGDATABASE = {dbname!r} for the next steps")
        if template:
            lines.append(f"template = {template!r}")
        lines.extend(f"env {shell_assignment(var, env[var])}"
                     for var in dict.fromkeys(var for var, _ in self.env) if var in env)
        await self.addCompleteLog("testing-db", "\n".join(lines) + "\n")
        self.descriptionDone = ["testing_db", dbname]
        return SUCCESS


def has_testing_db(step: buildstep.BuildStep) -> bool:
    """doStepIf of the final drop: nothing to drop if the build stopped
    before naming its database (and never drop on a cluster the build did
    not choose)."""
    return bool(step.getProperty(TESTING_DB_PROPERTY))


@implementer(IRenderable)
@dataclass(frozen=True)
class DbCommand:
    """A command built from build properties when the step starts.

    ``make(props, *args)`` returns the argument list; a frozen dataclass
    compares by value, so identical steps can be shared between factories.
    """

    make: Callable
    args: tuple = ()

    def getRenderingFor(self, props) -> list[str]:
        return self.make(props, *self.args)


def _dbname(props) -> str:
    # Renderables are rendered before doStepIf is asked: a build stopped
    # before testing-db renders '' here, and has_testing_db skips the step.
    return str(props.getProperty(TESTING_DB_PROPERTY) or "")


def createdb_argv(props, template: str | None = None) -> list[str]:
    """``createdb [-T TEMPLATE] -- testing_db``; the template is the
    argument, else the ``testing_db_template`` property."""
    if template is None:
        template = str(props.getProperty(TEMPLATE_PROPERTY) or "")
    options = ["--template", template] if template else []
    return ["createdb", *options, "--", _dbname(props)]


def dropdb_argv(props) -> list[str]:
    """``dropdb --if-exists [--force] -- testing_db``."""
    force = ["--force"] if supports_drop_force(props.getProperty(PG_VERSION_PROPERTY)) else []
    return ["dropdb", "--if-exists", *force, "--", _dbname(props)]


@dataclass(frozen=True)
class CopySource:
    """Where ``pg_remote_copy`` reads: manifest values, else the chosen
    ``postgresql`` instance's ``source_*`` options, else the build's own
    cluster (environment)."""

    db: str
    host: str | None = None
    port: int | None = None
    user: str | None = None
    dump_options: tuple[str, ...] = ()
    restore_options: tuple[str, ...] = ()


CAP_SOURCE_PROPERTY = "cap_postgresql_source_{}"


def pg_copy_argv(props, source: CopySource) -> list[str]:
    """``PYTHON anybox-pg_copy.py --source-db ... --target-db testing_db``,
    with the interpreter of the chosen ``python`` capability."""
    python = str(props.getProperty(PYTHON_PROPERTY) or "python3")
    argv = [python, "anybox-pg_copy.py", "--source-db", source.db]
    for key in ("host", "port", "user"):
        value = getattr(source, key) or props.getProperty(CAP_SOURCE_PROPERTY.format(key))
        if value:
            argv += [f"--source-{key}", str(value)]
    argv += ["--target-db", _dbname(props)]
    for option in source.dump_options:
        argv.append(f"--dump-option={option}")
    for option in source.restore_options:
        argv.append(f"--restore-option={option}")
    return argv
