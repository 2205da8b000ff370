"""Auto-watch reports in the master's database, read the same by every master.

A build's auto-watch report (the repositories its buildout uses) decides
what the masters poll. With several masters, a file in the directory of
the master that ran the build would be seen by that master only; so the
upload step (``steps.watchreport``) stores the report in Buildbot's state
storage (tables ``objects``/``object_state``), in the database all masters
share, and every master reads it there when it loads its configuration.
A single master does the same with its own database (SQLite by default):
nothing to configure.

Why read synchronously here: Buildbot loads ``master.cfg`` in a thread of
its pool, not in the reactor, and the configuration must be complete when
``populate()`` returns; Buildbot's own database API is asynchronous and
not started yet at the first load. So this module opens its own short
connection with SQLAlchemy (which Buildbot brings), runs one ``SELECT``
and closes it. The two tables have kept these columns since Buildbot 0.8.

Reading never fails a load: a database that cannot be read gives no
stored reports and one warning (with the URL's password masked). A
SQLite file is opened read-only and never created. The reports are
untrusted: ``watching.parse_report`` checks them as before.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .multimaster import mask_url

#: ``objects.name`` and ``objects.class_name`` of the reports' state object.
STATE_OBJECT = "anybox_buildbot"
STATE_CLASS = "AutoWatchReports"
#: Buildbot's default ``c['db']['db_url']``, relative to the master's directory.
DEFAULT_DB_URL = "sqlite:///state.sqlite"
CONNECT_TIMEOUT = 10   # seconds, PostgreSQL and MySQL

_QUERY = ("SELECT s.name, s.value_json FROM object_state s JOIN objects o ON o.id = "
          "s.objectid WHERE o.name = :object AND o.class_name = :cls")


@dataclass(frozen=True, slots=True)
class StoredReport:
    """One buildout's last report, as its build sent it (unchecked bytes)."""

    raw: bytes
    #: Which build stored it (``builder #number``), for messages.
    source: str


def state_value(report: str, source: str) -> dict:
    """What the upload step stores for one buildout (JSON-serialisable)."""
    return {"report": report, "source": source}


def configured_db_url(config: Mapping) -> object:
    """The database URL of a BuildmasterConfig, as Buildbot would pick it."""
    db = config.get("db")
    if isinstance(db, Mapping) and "db_url" in db:
        return db["db_url"]
    return config.get("db_url", DEFAULT_DB_URL)


def _from_value(value_json: str) -> StoredReport | None:
    try:
        value = json.loads(value_json)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or not isinstance(value.get("report"), str):
        return None
    source = value.get("source")
    return StoredReport(value["report"].encode("utf-8"),
                        source if isinstance(source, str) else "?")


def _engine_url(db_url: str, basedir: Path):
    """(SQLAlchemy URL, connect args), or (None, None) for nothing to read:
    an in-memory database, a SQLite file not made yet."""
    from sqlalchemy.engine import URL, make_url

    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return None, None
        path = Path(url.database)
        if not path.is_absolute():
            path = basedir / path   # as Buildbot does (its enginestrategy)
        if not path.is_file():
            return None, None
        # read-only, never creating the file (a check before create-master);
        # the path quoted, else a '?', '#' or '%' in the basedir would end
        # it and drop mode=ro (SQLite decodes the %XX of a file: URI)
        return URL.create("sqlite", database=f"file:{urllib.parse.quote(str(path))}",
                          query={"mode": "ro", "uri": "true"}), {}
    return url, {"connect_timeout": CONNECT_TIMEOUT}


def read_stored_reports(db_url: object, basedir: str | os.PathLike
                        ) -> tuple[dict[str, StoredReport], str | None]:
    """Every stored report by buildout name, and a warning when the
    database could not be read (then no report: the manifests' watches
    still hold)."""
    if not isinstance(db_url, str):
        return {}, ("auto-watch reports not read: c['db']['db_url'] is not a plain URL "
                    "(a secret is rendered only once the master runs)")
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.pool import NullPool

    try:
        url, connect_args = _engine_url(db_url, Path(basedir))
        if url is None:
            return {}, None
        engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
        try:
            with engine.connect() as conn:
                rows = conn.execute(text(_QUERY), {"object": STATE_OBJECT,
                                                   "cls": STATE_CLASS}).all()
        finally:
            engine.dispose()
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        if reason and "no such table" in reason[0]:
            return {}, None   # a database Buildbot has not set up yet
        return {}, (f"auto-watch reports not read from the database {mask_url(db_url)}: "
                    f"{mask_url(reason[0]) if reason else type(exc).__name__}")
    stored = {}
    for name, value_json in sorted(rows):
        report = _from_value(value_json)
        if report is not None:
            stored[name] = report
        else:
            # checked like any report: it says why it is ignored
            stored[name] = StoredReport(value_json.encode("utf-8", "replace")[:1 << 20],
                                        "a record in another form")
    return stored, None


__all__ = ["STATE_CLASS", "STATE_OBJECT", "StoredReport", "configured_db_url",
           "read_stored_reports", "state_value"]
