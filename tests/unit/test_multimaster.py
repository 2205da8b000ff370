"""Several masters, one fleet (issue 16): settings, shared reports, status.

- ``multi_master=`` of the configurator: Buildbot's keys without writing
  them, one ``ConfigError`` per missing or malformed value, a database
  password never shown;
- auto-watch reports read from the database (Buildbot's state tables,
  made here by Buildbot's own schema in a real SQLite file), not from one
  master's directory, with the same trust checks;
- ``status``: masters and the master of each worker, from REST answers.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from buildbot.db.model import Model
from unit_helpers import MASTER_CFG

from anybox_buildbot import BuildoutsConfigurator, ConfigError
from anybox_buildbot.multimaster import db_url_problem, mask_url
from anybox_buildbot.sharedstate import (
    STATE_CLASS,
    STATE_OBJECT,
    _engine_url,
    read_stored_reports,
    state_value,
)
from anybox_buildbot.statusview import master_lines, worker_lines

DB = "postgresql+psycopg2://buildbot:s3cr3t-pw@db.example.com:5432/buildbot"
ROUTER = "ws://mq.example.com:8080/ws"
GOOD = {"db_url": DB, "router_url": ROUTER, "realm": "buildbot"}


def make(config: dict | None = None, **settings) -> dict:
    config = {} if config is None else config
    BuildoutsConfigurator("/tmp/m", config, multi_master=settings)
    return config


def errors_of(config: dict | None = None, value: object = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        BuildoutsConfigurator("/tmp/m", {} if config is None else config, multi_master=value)
    return info.value.errors


# -- multi_master= ---------------------------------------------------------------

def test_multi_master_sets_buildbots_keys() -> None:
    config = make(**GOOD)
    assert config["db"] == {"db_url": DB}
    assert config["mq"] == {"type": "wamp", "router_url": ROUTER, "realm": "buildbot",
                            "wamp_debug_level": "warn"}
    assert config["multiMaster"] is True


def test_realm_defaults_to_buildbot_and_a_master_stays_single_without() -> None:
    assert make(db_url=DB, router_url=ROUTER)["mq"]["realm"] == "buildbot"
    config: dict = {}
    BuildoutsConfigurator("/tmp/m", config)
    assert config == {}


def test_the_same_db_url_already_in_master_cfg_is_fine() -> None:
    config = make({"db": {"db_url": DB}}, **GOOD)
    assert config["db"]["db_url"] == DB


@pytest.mark.parametrize(("value", "expected"), [
    ({"router_url": ROUTER}, "multi_master: 'db_url' is missing (e.g. multi_master="),
    ({"db_url": DB}, "multi_master: 'router_url' is missing"),
    ({**GOOD, "realme": "x"}, "multi_master: unknown key 'realme' (did you mean 'realm'?)"),
    ({**GOOD, "db_url": "sqlite:///state.sqlite"},
     "multi_master['db_url']: a SQLite file cannot be shared by several masters"),
    ({**GOOD, "db_url": "postgresql://bb@db/bb"},
     "multi_master['db_url']: give the driver too, 'postgresql+psycopg2://...'"),
    ({**GOOD, "db_url": "oracle://bb@db/bb"},
     "multi_master['db_url']: unknown database kind 'oracle'"),
    ({**GOOD, "db_url": "postgresql+psycopg2://bb@db.example.com"},
     "multi_master['db_url']: no database name"),
    ({**GOOD, "db_url": 5}, "multi_master['db_url']: expected a URL (str), got int"),
    ({**GOOD, "router_url": "http://mq:8080/ws"},
     "multi_master['router_url']: a router URL starts with ws:// or wss://"),
    ({**GOOD, "router_url": "ws://mq:99999/ws"}, "multi_master['router_url']: not a URL"),
    ({**GOOD, "router_url": "ws:///ws"}, "multi_master['router_url']: no host"),
    ({**GOOD, "realm": "my realm"}, "multi_master['realm']: not a realm name: 'my realm'"),
    ("postgresql+psycopg2://db/bb", "multi_master: expected a dict with db_url, router_url"),
])
def test_a_missing_or_malformed_setting_is_one_clear_error(value: object,
                                                          expected: str) -> None:
    errors = errors_of(value=value)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"BuildoutsConfigurator argument {expected}"), errors[0]


def test_every_problem_is_listed_at_once() -> None:
    errors = errors_of(value={"db_url": "sqlite://", "router_url": "tcp://x", "realm": ""})
    assert len(errors) == 3


@pytest.mark.parametrize("config", [
    {"db": {"db_url": "sqlite:///state.sqlite"}},
    {"db_url": "sqlite:///state.sqlite"},
    {"mq": {"type": "simple"}},
    {"multiMaster": False},
])
def test_master_cfg_saying_otherwise_is_an_error(config: dict) -> None:
    errors = errors_of(dict(config), GOOD)
    assert len(errors) == 1 and "remove it" in errors[0], errors


def test_the_database_password_is_never_shown() -> None:
    bad = "postgresql://bb:s3cr3t-pw@db/bb"   # no driver: refused, URL quoted
    errors = errors_of(value={**GOOD, "db_url": bad})
    assert "s3cr3t-pw" not in "\n".join(errors)
    assert "postgresql://bb:***@db/bb" in errors[0]
    conf = BuildoutsConfigurator("/tmp/m", {}, multi_master=GOOD)
    assert "s3cr3t-pw" not in repr(conf.multi_master)
    assert conf.multi_master.shown_db_url == DB.replace("s3cr3t-pw", "***")


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql+psycopg2://u:pw@h/db", "postgresql+psycopg2://u:***@h/db"),
    ("postgresql+psycopg2://u@h/db?password=pw&x=1", "postgresql+psycopg2://u@h/db?password=***&x=1"),
    ("postgresql+psycopg2://u@h/db", "postgresql+psycopg2://u@h/db"),
    ("sqlite:///state.sqlite", "sqlite:///state.sqlite"),
    ("mysql://u:p:w@h/db", "mysql://u:***@h/db"),
])
def test_mask_url(url: str, shown: str) -> None:
    assert mask_url(url) == shown


@pytest.mark.parametrize("password", ["Xy7?Qz", "Xy7/Qz", "Xy7#Qz", "Xy:7/?#Qz", "a@b:c/d?e#f"])
def test_a_password_with_url_delimiters_is_masked_and_accepted(password: str) -> None:
    """SQLAlchemy reads the password up to the last ``@``: so does the
    mask, and such a URL is valid."""
    url = f"postgresql+psycopg2://bb:{password}@db.example.com/bb"
    assert mask_url(url) == "postgresql+psycopg2://bb:***@db.example.com/bb"
    assert mask_url(f"cannot connect to {url}: refused") == (
        "cannot connect to postgresql+psycopg2://bb:***@db.example.com/bb: refused")
    if "@" not in password:   # SQLAlchemy wants an '@' in it written %40
        assert db_url_problem(url) is None
    shown = "\n".join(errors_of(value={**GOOD, "db_url": url.replace("+psycopg2", "")}))
    assert shown and password not in shown and "Qz" not in shown and "e#f" not in shown


# -- auto-watch reports in the shared database --------------------------------------

MANIFEST = """\
[auto]
buildout = git file:///srv/git/auto.git main buildout.cfg
auto-watch = true
"""


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database with Buildbot's own tables, as ``create-master``
    makes them (made once: it takes seconds; tests copy it)."""
    path = tmp_path_factory.mktemp("db") / "template.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    Model.metadata.create_all(engine)
    engine.dispose()
    return path


@pytest.fixture
def buildbot_db(empty_db: Path):
    def copy(path: Path) -> str:
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(empty_db, path)
        return f"sqlite:///{path}"
    return copy


def store(db: Path, name: str, value: object, object_name: str = STATE_OBJECT) -> None:
    """What ``StoreWatchReport`` does through Buildbot's state API."""
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT OR IGNORE INTO objects (name, class_name) VALUES (?, ?)",
                     (object_name, STATE_CLASS))
        objectid = conn.execute("SELECT id FROM objects WHERE name = ? AND class_name = ?",
                                (object_name, STATE_CLASS)).fetchone()[0]
        conn.execute("INSERT INTO object_state (objectid, name, value_json) VALUES (?, ?, ?)",
                     (objectid, name, json.dumps(value)))


def write_master(root: Path, manifest: str = MANIFEST, db_line: str = "") -> Path:
    (root / "buildouts").mkdir(parents=True, exist_ok=True)
    (root / "buildouts" / "MANIFEST.cfg").write_text(manifest)
    (root / "workers.cfg").write_text("[w1]\npassword = x\n")
    (root / "master.cfg").write_text(MASTER_CFG)
    return root


def poller_urls(conf: BuildoutsConfigurator) -> list[str]:
    return [c.name.split(":", 1)[1] for c in conf.config["change_source"]]


def report(*urls: str) -> str:
    return json.dumps({"repos": [{"vcs": "git", "url": u, "branch": "main"} for u in urls]})


def test_a_report_stored_in_the_database_is_watched(tmp_path: Path, buildbot_db) -> None:
    """Whichever master ran the build, the report is in the database they
    share: a master with no file of its own watches what it lists."""
    root = write_master(tmp_path / "m2")
    db = tmp_path / "shared.sqlite"
    url = buildbot_db(db)
    store(db, "auto", state_value(report("file:///srv/git/addons.git"), "auto #3"))
    conf = BuildoutsConfigurator(str(root), {"db": {"db_url": url}})
    conf.populate()
    assert poller_urls(conf) == ["file:///srv/git/addons.git", "file:///srv/git/auto.git"]
    assert not any(w.category == "auto-watch" for w in conf.warnings.diagnostics)


@pytest.mark.parametrize("odd", ["we?ird", "we#ird", "we%3Fird", "we ird&mode=rwc"])
def test_a_basedir_with_uri_characters_is_read_read_only(tmp_path: Path, buildbot_db,
                                                         odd: str) -> None:
    """The SQLite file is opened through a ``file:`` URI: its path is
    quoted, else ``?``/``#`` end it (another file opened, or made) and
    ``mode=ro`` is lost."""
    root = tmp_path / odd
    db = root / "state.sqlite"
    buildbot_db(db)
    store(db, "auto", state_value(report("file:///srv/git/odd.git"), "auto #5"))
    before = sorted(p.name for p in tmp_path.rglob("*"))
    stored, problem = read_stored_reports("sqlite:///state.sqlite", root)
    assert problem is None and list(stored) == ["auto"]
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    url, _ = _engine_url("sqlite:///state.sqlite", root)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn, pytest.raises(sa.exc.OperationalError, match="readonly"):
            conn.execute(sa.text("CREATE TABLE x (y int)"))
    finally:
        engine.dispose()


def test_the_database_wins_over_an_old_file_which_is_read_without(tmp_path: Path,
                                                                  buildbot_db) -> None:
    root = write_master(tmp_path / "m")
    (root / "watch").mkdir()
    (root / "watch" / "auto.json").write_text(report("file:///srv/git/from-file.git"))
    db = root / "state.sqlite"
    buildbot_db(db)
    conf = BuildoutsConfigurator(str(root), {})     # Buildbot's default database
    conf.populate()
    assert "file:///srv/git/from-file.git" in poller_urls(conf)
    store(db, "auto", state_value(report("file:///srv/git/from-db.git"), "auto #4"))
    conf = BuildoutsConfigurator(str(root), {})
    conf.populate()
    assert "file:///srv/git/from-db.git" in poller_urls(conf)
    assert "file:///srv/git/from-file.git" not in poller_urls(conf)


def test_a_stored_report_gets_the_same_trust_checks(tmp_path: Path, buildbot_db) -> None:
    root = write_master(tmp_path / "m")
    db = root / "state.sqlite"
    buildbot_db(db)
    store(db, "auto", state_value(json.dumps({"repos": [
        {"vcs": "git", "url": "--upload-pack=touch /tmp/x", "branch": "main"},
        {"vcs": "git", "url": "https://attacker.invalid/x.git", "branch": "main"},
        {"vcs": "git", "url": "file:///srv/git/ok.git", "branch": "main"}]}), "auto #5"))
    conf = BuildoutsConfigurator(str(root), {})
    conf.populate()
    assert poller_urls(conf) == ["file:///srv/git/auto.git", "file:///srv/git/ok.git"]
    warnings = [w.render() for w in conf.warnings.diagnostics if w.category == "auto-watch"]
    assert len(warnings) == 2, warnings
    assert "auto-watch report of auto #5 (database)" in warnings[0]
    assert "attacker.invalid" in warnings[1] and "dropped" in warnings[1]


@pytest.mark.parametrize("value", [
    "not a dict", {"report": 5}, {"report": "x" * 300_000, "source": "b #1"},
    {"report": "[1, 2]", "source": "b #1"},
])
def test_a_malformed_record_is_ignored_with_a_warning(tmp_path: Path, buildbot_db,
                                                     value: object) -> None:
    root = write_master(tmp_path / "m")
    db = root / "state.sqlite"
    buildbot_db(db)
    store(db, "auto", value)
    conf = BuildoutsConfigurator(str(root), {})
    conf.populate()
    assert poller_urls(conf) == ["file:///srv/git/auto.git"]
    warnings = [w.render() for w in conf.warnings.diagnostics if w.category == "auto-watch"]
    assert len(warnings) == 1 and "ignored" in warnings[0], warnings


def test_records_of_other_objects_are_not_reports(tmp_path: Path, buildbot_db) -> None:
    db = tmp_path / "state.sqlite"
    url = buildbot_db(db)
    store(db, "auto", state_value(report("file:///srv/git/x.git"), "b #1"),
          object_name="GitPoller")
    assert read_stored_reports(url, tmp_path) == ({}, None)


def test_reading_never_creates_a_database_nor_fails(tmp_path: Path) -> None:
    """``check`` before ``create-master``: no file appears; a database that
    cannot be reached is one warning, its password masked."""
    assert read_stored_reports("sqlite:///state.sqlite", tmp_path) == ({}, None)
    assert not (tmp_path / "state.sqlite").exists()
    assert read_stored_reports("sqlite://", tmp_path) == ({}, None)
    (tmp_path / "empty.sqlite").write_bytes(b"")
    assert read_stored_reports("sqlite:///empty.sqlite", tmp_path) == ({}, None)
    stored, problem = read_stored_reports(
        "postgresql+psycopg2://bb:s3cr3t-pw@127.0.0.1:9/bb", tmp_path)
    assert stored == {}
    assert problem is not None and problem.startswith(
        "auto-watch reports not read from the database "
        "postgresql+psycopg2://bb:***@127.0.0.1:9/bb: ")
    assert "s3cr3t-pw" not in problem
    stored, problem = read_stored_reports(
        "postgresql+psycopg2://bb:Xy7/Qz@127.0.0.1:9/bb", tmp_path)
    assert problem is not None and "Qz" not in problem and "bb:***@127.0.0.1:9/bb" in problem


def test_an_unreachable_database_is_a_warning_of_the_load(tmp_path: Path) -> None:
    root = write_master(tmp_path / "m")
    conf = BuildoutsConfigurator(str(root), {"db": {
        "db_url": "postgresql+psycopg2://bb:s3cr3t-pw@127.0.0.1:9/bb"}})
    conf.populate()
    assert poller_urls(conf) == ["file:///srv/git/auto.git"]
    text = "\n".join(w.render() for w in conf.warnings.diagnostics)
    assert "auto-watch reports not read" in text and "s3cr3t-pw" not in text


def test_without_auto_watch_the_database_is_not_opened(tmp_path: Path) -> None:
    root = write_master(tmp_path / "m", MANIFEST.replace("auto-watch = true\n", ""))
    conf = BuildoutsConfigurator(str(root), {"db": {
        "db_url": "postgresql+psycopg2://bb@127.0.0.1:9/bb"}})
    conf.populate()
    assert not conf.warnings.diagnostics


# -- status ----------------------------------------------------------------------

def test_status_lists_masters_and_the_master_of_each_worker() -> None:
    masters = [{"masterid": 2, "name": "ci2:/srv/m2", "active": False, "last_active": 0},
               {"masterid": 1, "name": "ci1:/srv/m1", "active": True,
                "last_active": 1_700_000_000}]
    assert master_lines(masters) == [
        "masters:",
        "  ci1:/srv/m1          active     last seen 2023-11-14 22:13:20 UTC",
        "  ci2:/srv/m2          not active last seen 1970-01-01 00:00:00 UTC"]
    names = {1: "ci1:/srv/m1", 2: "ci2:/srv/m2"}
    workers = [
        {"name": "w2", "connected_to": [{"masterid": 2}],
         "configured_on": [{"builderid": 7, "masterid": 1}, {"builderid": 7, "masterid": 2}]},
        {"name": "w1", "connected_to": [{"masterid": 1}],
         "configured_on": [{"builderid": 7, "masterid": 1}, {"builderid": 8, "masterid": 1}]},
        {"name": "w3", "connected_to": [], "configured_on": []},
    ]
    lines = worker_lines(workers, {7: "app", 8: "lib"}, names)
    assert lines == [
        "workers:",
        "  w1                   connected to ci1:/srv/m1 2 builder(s): app, lib",
        "  w2                   connected to ci2:/srv/m2 1 builder(s): app",
        "  w3                   not connected  0 builder(s): "]


def test_status_prints_master_supplied_names_safely() -> None:
    """Names come from the master's REST API: control characters (a
    terminal's escape sequences) are shown as ``?``."""
    evil = "m\x1b[2J\x1b]0;owned\x07"
    assert master_lines([{"masterid": 1, "name": evil, "active": True, "last_active": 0}]
                        )[1].startswith("  m?[2J?]0;owned? ")
    lines = worker_lines([{"name": f"w{evil}", "connected_to": [{"masterid": 1}],
                           "configured_on": [{"builderid": 7}]}], {7: f"b{evil}"}, {1: evil})
    assert "\x1b" not in "".join(lines) and "\x07" not in "".join(lines)
    assert lines[1] == ("  wm?[2J?]0;owned?     connected to m?[2J?]0;owned? 1 builder(s): "
                        "bm?[2J?]0;owned?")


# -- the upload step's writer ------------------------------------------------------

def test_the_report_writer_keeps_at_most_its_limit() -> None:
    """A worker is told the limit but may ignore it: the master counts too."""
    from anybox_buildbot.steps.watchreport import BoundedWriter

    writer = BoundedWriter(10)
    writer.remote_write(b"12345")
    writer.remote_write("6789")
    assert (writer.data, writer.overflow) == (b"123456789", False)
    writer.remote_write(b"ab")
    writer.remote_write(b"c" * 1000)
    assert writer.data == b"123456789" and writer.overflow
