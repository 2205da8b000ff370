"""Several masters on one database: the ``multi_master`` settings.

Buildbot runs several masters as one when they share a database (one
PostgreSQL or MySQL server every master reaches) and a WAMP message queue
(a crossbar router), with ``multiMaster`` on. ``master.cfg`` gives the
three values as one argument of the configurator::

    configure_from_buildouts(basedir, c, multi_master={
        "db_url": "postgresql+psycopg2://buildbot@db.example.com/buildbot",
        "router_url": "ws://mq.example.com:8080/ws", "realm": "buildbot"})

and this module checks them (a missing key, a SQLite file, a plain
``postgresql://`` URL that SQLAlchemy 2 would hand to a driver Buildbot
does not bring, a router URL that is not ``ws://``/``wss://``) and turns
them into Buildbot's ``c['db']``, ``c['mq']`` and ``c['multiMaster']``.

A database URL may hold a password: it is shown masked (``***``) in every
message, and the settings' ``repr`` masks it too. Pure functions; nothing
from Buildbot.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field

from .errors import Errors, did_you_mean

SUBJECT = "BuildoutsConfigurator argument multi_master"
KEYS = ("db_url", "router_url", "realm")
REQUIRED = ("db_url", "router_url")
DEFAULT_REALM = "buildbot"
#: SQLAlchemy dialects (with their drivers) a shared database may use; the
#: drivers are the ones Buildbot documents.
DB_SCHEMES = ("postgresql+psycopg2", "postgresql+psycopg", "mysql", "mysql+mysqldb",
              "mysql+pymysql")
#: A WAMP realm: a URI component (crossbar names them ``realm1``, ``buildbot``).
REALM = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
EXAMPLE = ("e.g. multi_master={'db_url': 'postgresql+psycopg2://buildbot@db.example.com/"
           "buildbot', 'router_url': 'ws://mq.example.com:8080/ws', 'realm': 'buildbot'}")
MASK = "***"


def mask_url(url: str) -> str:
    """``url`` with its password (``user:PASSWORD@``, ``?password=``) as ``***``.

    SQLAlchemy reads the password from after ``user:`` to the ``@`` (so it
    may hold ``/``, ``?``, ``#``, ``:``): its own parser and printer mask it.
    Text it does not read as a URL (an error message quoting one, a
    password with a bare ``@``) has everything from ``scheme://user:`` to
    its last ``@`` masked: the result is safe to print.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError, TypeError):
        shown = _USERINFO_PASSWORD.sub(rf"\g<head>{MASK}@", url)
    return _QUERY_PASSWORD.sub(rf"\g<key>{MASK}", shown)


# ``scheme://user:`` then anything up to the last '@' (greedy on purpose:
# masking too much is harmless, too little is not).
_USERINFO_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:).*@", re.S)
_QUERY_PASSWORD = re.compile(r"(?P<key>[?&]password=)[^&#\s]*", re.I)


@dataclass(frozen=True, slots=True)
class MultiMaster:
    """The checked settings; ``db_url`` stays out of ``repr`` (its password)."""

    db_url: str = field(repr=False)
    router_url: str
    realm: str = DEFAULT_REALM

    @property
    def shown_db_url(self) -> str:
        return mask_url(self.db_url)

    def buildbot_keys(self) -> dict:
        """What Buildbot reads: ``c['db']``, ``c['mq']``, ``c['multiMaster']``."""
        return {"db": {"db_url": self.db_url},
                "mq": {"type": "wamp", "router_url": self.router_url, "realm": self.realm,
                       "wamp_debug_level": "warn"},
                "multiMaster": True}


def db_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be the database of several masters, or None.
    Read as SQLAlchemy (Buildbot's engine) reads it: the password may hold
    any character but ``@``."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        # the parser's message quotes the URL with its password: not shown
        return ("not a database URL (dialect+driver://user:password@host:port/database; "
                "an '@' in the password is written %40)")
    scheme = parsed.drivername.lower()
    if scheme.startswith("sqlite"):
        return ("a SQLite file cannot be shared by several masters: give the URL of the "
                "PostgreSQL (or MySQL) database every master uses")
    if scheme == "postgresql" or scheme == "postgres":
        return ("give the driver too, 'postgresql+psycopg2://...' (with a plain "
                "'postgresql://' SQLAlchemy 2 looks for psycopg 3, which Buildbot does "
                "not install)")
    if scheme not in DB_SCHEMES:
        return f"unknown database kind {parsed.drivername!r} (known: {', '.join(DB_SCHEMES)})"
    if not (parsed.database or "").strip("/"):
        return "no database name after the host (…/DATABASE)"
    return None


def router_url_problem(url: str) -> str | None:
    """Why ``url`` is not a crossbar WebSocket URL, or None."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"not a URL: {exc}"
    if parts.scheme not in ("ws", "wss"):
        return "a router URL starts with ws:// or wss:// (the router's WebSocket path)"
    if not parts.hostname:
        return "no host"
    if port == 0:
        return "port 0"
    return None


def parse_multi_master(value: object, errors: Errors) -> MultiMaster | None:
    """The settings of ``value`` (a dict), or None after adding every
    problem to ``errors``. ``None`` gives None: a single master."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        errors.add(None, f"expected a dict with {', '.join(KEYS)}, got "
                   f"{type(value).__name__}", hint=EXAMPLE, subject=SUBJECT)
        return None
    before = errors.count
    for key in value:
        if key not in KEYS:
            errors.add(None, f"unknown key {key!r}", hint=did_you_mean(str(key), KEYS),
                       subject=SUBJECT)
    for key in REQUIRED:
        if key not in value:
            errors.add(None, f"{key!r} is missing", hint=EXAMPLE, subject=SUBJECT)
    checks = {"db_url": db_url_problem, "router_url": router_url_problem}
    for key, problem_of in checks.items():
        if key not in value:
            continue
        item = value[key]
        if not isinstance(item, str) or not item:
            errors.add(None, f"expected a URL (str), got {type(item).__name__}",
                       subject=f"{SUBJECT}[{key!r}]",
                       hint="a password in it is never shown; prefer ~/.pgpass")
            continue
        problem = problem_of(item)
        if problem:
            errors.add(None, problem, mask_url(item), subject=f"{SUBJECT}[{key!r}]")
    realm = value.get("realm", DEFAULT_REALM)
    if not isinstance(realm, str) or not REALM.fullmatch(realm):
        errors.add(None, "not a realm name", realm if isinstance(realm, str)
                   else type(realm).__name__, subject=f"{SUBJECT}['realm']",
                   hint="letters, digits, '.', '_' and '-', as in the router's config.json")
    if errors.count != before:
        return None
    return MultiMaster(value["db_url"], value["router_url"], realm)


def apply(settings: MultiMaster, config: MutableMapping, errors: Errors) -> None:
    """Put the settings into the BuildmasterConfig ``config``.

    A key master.cfg already set to something else is an error (two
    places saying where the database is would soon disagree); the same
    value is fine.
    """
    wanted = settings.buildbot_keys()
    legacy = config.get("db_url")
    if legacy is not None and legacy != settings.db_url:
        errors.add(None, "master.cfg sets c['db_url'] too", subject=SUBJECT,
                   hint="remove it: multi_master['db_url'] sets the database")
    db = config.get("db")
    if isinstance(db, Mapping) and "db_url" in db and db["db_url"] != settings.db_url:
        errors.add(None, "master.cfg sets c['db']['db_url'] to another database", subject=SUBJECT,
                   hint="remove it: multi_master['db_url'] sets the database")
    mq = config.get("mq")
    if isinstance(mq, Mapping) and mq.get("type", "simple") != "wamp":
        errors.add(None, f"master.cfg sets c['mq'] to type {mq.get('type', 'simple')!r}",
                   subject=SUBJECT, hint="remove it: multi_master sets a 'wamp' queue")
    if config.get("multiMaster") is False:
        errors.add(None, "master.cfg sets c['multiMaster'] = False", subject=SUBJECT,
                   hint="remove it: multi_master turns it on")
    if errors:
        return
    config["db"] = {**(db if isinstance(db, Mapping) else {}), **wanted["db"]}
    config["mq"] = {**wanted["mq"], **(mq if isinstance(mq, Mapping) else {}),
                    "router_url": settings.router_url, "realm": settings.realm}
    config["multiMaster"] = True


__all__ = ["MultiMaster", "apply", "db_url_problem", "mask_url", "parse_multi_master",
           "router_url_problem"]
