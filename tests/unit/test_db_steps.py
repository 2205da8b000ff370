"""Database step sets: names, commands, step order, option errors, the copy script.

Commands are checked by rendering them with real Buildbot ``Properties``
(what the step does at build time); the master-side ``testing-db`` step
runs in Buildbot's own step harness; the copy script runs for real
against fake ``pg_dump``/``pg_restore`` programs, to check the pipe.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from buildbot.process.properties import Properties
from buildbot.process.results import SUCCESS
from buildbot.test.reactor import TestReactorMixin
from buildbot.test.steps import TestBuildStepMixin
from hypothesis import given
from hypothesis import strategies as st
from twisted.trial import unittest
from unit_helpers import load_worker_script

from anybox_buildbot import ConfigError, configure_from_buildouts
from anybox_buildbot.errors import Errors
from anybox_buildbot.factory import SCRIPTS_DIR, FactoryMaker, make_factory
from anybox_buildbot.manifest import load_manifests
from anybox_buildbot.registry import compile_registry, default_capabilities
from anybox_buildbot.steps.database import (
    MAX_IDENTIFIER_BYTES,
    CopySource,
    DbCommand,
    NameTestingDatabase,
    createdb_argv,
    db_name_for,
    dropdb_argv,
    has_testing_db,
    pg_copy_argv,
    shorten_identifier,
    supports_drop_force,
    with_pgdatabase,
)
from anybox_buildbot.subfactories import builtin_catalog, load_registry
from anybox_buildbot.template import parse_template

REGISTRY = compile_registry(default_capabilities(), Errors())


def props(**values) -> Properties:
    properties = Properties()
    for name, value in values.items():
        properties.setProperty(name, value, "test")
    return properties


def render(renderable, properties: Properties):
    got = []
    properties.render(renderable).addCallback(got.append)
    (value,) = got
    return value


pg_copy = load_worker_script("pg_copy")


# --------------------------------------------------------------------------- #
# names
# --------------------------------------------------------------------------- #

def test_short_names_are_kept() -> None:
    assert shorten_identifier("ci_app") == "ci_app"
    assert shorten_identifier("x" * 63) == "x" * 63
    assert db_name_for("", "app-pg13") == "app-pg13"
    assert db_name_for("ci_", "app-pg13") == "ci_app-pg13"


def test_long_names_get_a_stable_hash_suffix() -> None:
    a, b = "x" * 63 + "a", "x" * 63 + "b"    # PostgreSQL would make both 'x' * 63
    short_a, short_b = shorten_identifier(a), shorten_identifier(b)
    assert short_a != short_b
    assert short_a == shorten_identifier(a)
    assert len(short_a.encode()) == MAX_IDENTIFIER_BYTES
    assert short_a.startswith("x" * 54 + "-")
    assert db_name_for("ci_", "y" * 70) == shorten_identifier("ci_" + "y" * 70)


def test_shortening_cuts_on_a_character_boundary() -> None:
    name = "é" * 40                            # 80 bytes
    short = shorten_identifier(name)
    assert short.encode().decode() == short
    assert short.startswith("é" * 27 + "-")    # 54 bytes of room: 27 two-byte characters
    assert len(short.encode()) <= MAX_IDENTIFIER_BYTES


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=120))
def test_shortened_names_always_fit_and_are_deterministic(name: str) -> None:
    short = shorten_identifier(name)
    assert len(short.encode("utf-8")) <= MAX_IDENTIFIER_BYTES
    assert short == shorten_identifier(name)
    if len(name.encode("utf-8")) <= MAX_IDENTIFIER_BYTES:
        assert short == name


def test_pgdatabase_is_added_to_a_copy_of_the_environment() -> None:
    env = {"PGPORT": "5433", "PATH": ["/pg/bin", "${PATH}"]}
    assert with_pgdatabase(env, "db") == {**env, "PGDATABASE": "db"}
    assert "PGDATABASE" not in env
    assert with_pgdatabase(None, "db") == {"PGDATABASE": "db"}


@pytest.mark.parametrize("version, force", [
    ("13", True), ("15", True), ("9.6", False), ("12.4", False), ("15devel", True),
    (None, False), ("", False), ("trusty", False),
])
def test_drop_force_needs_postgresql_13(version, force) -> None:
    assert supports_drop_force(version) is force


# --------------------------------------------------------------------------- #
# commands, rendered as at build time
# --------------------------------------------------------------------------- #

NASTY = "x; rm -rf / $(touch pwned) `id` 'q\" -T"


def test_createdb_passes_names_as_arguments_after_double_dash() -> None:
    assert render(DbCommand(createdb_argv, (None,)), props(testing_db="ci_a")) == \
        ["createdb", "--", "ci_a"]
    got = createdb_argv(props(testing_db="-T evil", testing_db_template=NASTY))
    assert got == ["createdb", "--template", NASTY, "--", "-T evil"]
    assert createdb_argv(props(testing_db="a", testing_db_template=NASTY), "template0") == \
        ["createdb", "--template", "template0", "--", "a"]


def test_dropdb_uses_force_from_postgresql_13() -> None:
    assert dropdb_argv(props(testing_db=NASTY, pg_version="15")) == \
        ["dropdb", "--if-exists", "--force", "--", NASTY]
    assert dropdb_argv(props(testing_db="a", pg_version="9.6")) == \
        ["dropdb", "--if-exists", "--", "a"]


def test_pg_copy_command_takes_manifest_then_capability_values() -> None:
    source = CopySource(db=NASTY, port="6543", dump_options=("--no-comments",),
                        restore_options=("--exit-on-error", "-j 2"))
    got = pg_copy_argv(props(testing_db="ci_a", anybox_python="/py/python3.11",
                             cap_postgresql_source_host="/remote/sock",
                             cap_postgresql_source_port="5432"), source)
    assert got == ["/py/python3.11", "anybox-pg_copy.py", "--source-db", NASTY,
                   "--source-host", "/remote/sock", "--source-port", "6543",
                   "--target-db", "ci_a", "--dump-option=--no-comments",
                   "--restore-option=--exit-on-error", "--restore-option=-j 2"]
    assert pg_copy_argv(props(testing_db="t"), CopySource(db="ref")) == \
        ["python3", "anybox-pg_copy.py", "--source-db", "ref", "--target-db", "t"]


def test_final_drop_runs_only_once_the_database_was_named() -> None:
    class Step:
        def __init__(self, **values):
            self.getProperty = props(**values).getProperty

    assert has_testing_db(Step(testing_db="ci_a"))
    assert not has_testing_db(Step())
    assert dropdb_argv(props()) == ["dropdb", "--if-exists", "--", ""]  # rendered, skipped


# --------------------------------------------------------------------------- #
# the testing-db step, in Buildbot's step harness
# --------------------------------------------------------------------------- #

class NameTestingDatabaseTest(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step()

    def run_with(self, step, **properties):
        self.setup_step(step)
        for name, value in properties.items():
            self.build.setProperty(name, value, "Worker")
        return self.run_step()

    def test_names_the_database_and_exports_pgdatabase(self):
        self.expect_outcome(result=SUCCESS, state_string="testing_db ci_app-pg13")
        self.expect_property("testing_db", "ci_app-pg13", "testing-db")
        self.expect_property("testing_db_template", "tpl", "testing-db")
        self.expect_property("anybox_env", {"PGPORT": "5433", "PGDATABASE": "ci_app-pg13"},
                             "testing-db")
        return self.run_with(NameTestingDatabase(template="tpl"), buildername="app-pg13",
                         db_prefix="ci_", db_template="worker_tpl",
                         anybox_env={"PGPORT": "5433"})

    def test_worker_template_when_the_manifest_has_none(self):
        self.expect_outcome(result=SUCCESS)
        self.expect_property("testing_db", "app", "testing-db")
        self.expect_property("testing_db_template", "worker_tpl", "testing-db")
        return self.run_with(NameTestingDatabase(), buildername="app", db_template="worker_tpl")

    def test_no_template_for_pg_remote_copy(self):
        self.expect_outcome(result=SUCCESS)
        self.expect_no_property("testing_db_template")
        return self.run_with(NameTestingDatabase(from_template=False), buildername="app",
                         db_template="worker_tpl")

    def test_manifest_env_is_rendered_with_the_database_name(self):
        """Issue 17: env.VAR templates see testing_db (they were rendered by the
        capability step, before the name existed: an empty database)."""
        env = (("TEST_DSN", parse_template("postgresql:///%(prop:testing_db)s")),
               ("PATH", parse_template("/opt/%(testing_db)s/bin")))
        self.expect_outcome(result=SUCCESS)
        self.expect_property("anybox_env", {
            "PGPORT": "5433", "TEST_DSN": "postgresql:///ci_app",
            "PATH": ["/pg/bin", "/opt/ci_app/bin", "${PATH}"], "PGDATABASE": "ci_app"},
            "testing-db")
        self.expect_log_file("testing-db", (
            "testing_db = 'ci_app'\nPGDATABASE = 'ci_app' for the next steps\n"
            "env TEST_DSN=postgresql:///ci_app\nenv PATH=/pg/bin:/opt/ci_app/bin:$PATH\n"))
        return self.run_with(NameTestingDatabase(from_template=False, env=env),
                             buildername="app", db_prefix="ci_",
                             anybox_env={"PGPORT": "5433", "PATH": ["/pg/bin", "${PATH}"]})

    def test_long_name_is_shortened_and_says_so(self):
        builder = "b" * 80
        name = db_name_for("ci_", builder)
        self.expect_outcome(result=SUCCESS)
        self.expect_property("testing_db", name, "testing-db")
        self.expect_log_file("testing-db", (
            f"testing_db = {name!r}\n  (db_prefix + builder name {'ci_' + builder!r} is "
            f"longer than 63 bytes: shortened with a hash suffix)\n"
            f"PGDATABASE = {name!r} for the next steps\n"))
        return self.run_with(NameTestingDatabase(), buildername=builder, db_prefix="ci_")


# --------------------------------------------------------------------------- #
# step sets in factories
# --------------------------------------------------------------------------- #

def specs(tmp_path: Path, text: str) -> dict:
    (tmp_path / "a.cfg").write_text("[buildout]\nparts =\n")
    (tmp_path / "MANIFEST.cfg").write_text(text)
    errors = Errors()
    loaded = {s.name: s for s in load_manifests([tmp_path / "MANIFEST.cfg"], errors,
                                          step_sets=builtin_catalog())}
    errors.raise_if_any()
    return loaded


def factory_steps(tmp_path: Path, section: str) -> list:
    """The testing-db step, which follows the capability step, then the
    steps after bin/buildout and its develop check."""
    spec = specs(tmp_path, "[a]\nbuildout = standalone a.cfg\n" + section)["a"]
    factory = make_factory(spec, None, REGISTRY, load_registry())
    assert names(factory.steps[:2]) == ["capabilities", "testing-db"]
    first = next(i for i, f in enumerate(factory.steps)
                 if f.kwargs.get("name") == "check-develop")
    return [factory.steps[1], *factory.steps[first + 1:]]


def names(steps: list) -> list[str]:
    return [f.kwargs.get("name") or f.step_class.name for f in steps]


def test_simple_create_steps_and_cleanup(tmp_path: Path) -> None:
    steps = factory_steps(tmp_path, "db-steps = simple_create\n"
                                    "simple_create.db_template = tpl\n")
    assert names(steps) == ["testing-db", "dropdb-stale", "createdb", "test", "final-dropdb"]
    assert steps[0].kwargs == {"template": "tpl", "from_template": True}
    assert steps[1].kwargs["haltOnFailure"] and steps[2].kwargs["haltOnFailure"]
    final = steps[-1].kwargs
    assert final["alwaysRun"] and final["doStepIf"] is has_testing_db
    assert final["warnOnFailure"] and not final["flunkOnFailure"]
    assert final["env"] == steps[2].kwargs["env"]        # the capability environment
    rendered = render(steps[2].kwargs["command"],
                      props(testing_db="ci_a", testing_db_template="tpl"))
    assert rendered == ["createdb", "--template", "tpl", "--", "ci_a"]


def test_pg_remote_copy_creates_from_template0_and_ships_its_script(tmp_path: Path) -> None:
    steps = factory_steps(tmp_path, "db-steps = pg_remote_copy\n"
                                    "pg_remote_copy.source_db = ref\n"
                                    "pg_remote_copy.source_port = 5433\n"
                                    "pg_remote_copy.restore_options = --exit-on-error\n")
    assert names(steps) == ["testing-db", "dropdb-stale", "createdb", "ship-pg_copy.py",
                            "pg-remote-copy", "test", "final-dropdb"]
    assert steps[0].kwargs["from_template"] is False
    assert render(steps[2].kwargs["command"], props(testing_db="t"))[1:3] == \
        ["--template", "template0"]
    assert render(steps[4].kwargs["command"], props(testing_db="t")) == [
        "python3", "anybox-pg_copy.py", "--source-db", "ref", "--source-port", "5433",
        "--target-db", "t", "--restore-option=--exit-on-error"]


def test_final_dropdb_alone_names_and_drops(tmp_path: Path) -> None:
    steps = factory_steps(tmp_path, "db-steps = final_dropdb\n")
    assert names(steps) == ["testing-db", "dropdb-stale", "test", "final-dropdb"]


def test_database_steps_are_added_once_whatever_the_combination(tmp_path: Path) -> None:
    steps = factory_steps(tmp_path, "db-steps = final_dropdb simple_create\n"
                                    "simple_create.db_template = tpl\n")
    assert names(steps) == ["testing-db", "dropdb-stale", "createdb", "test", "final-dropdb"]
    assert steps[0].kwargs["template"] == "tpl"       # named where final_dropdb is listed


def test_identical_database_steps_are_shared(tmp_path: Path) -> None:
    loaded = specs(tmp_path, "[a]\nbuildout = standalone a.cfg\ndb-steps = simple_create\n"
                             "[b]\nbuildout = standalone a.cfg\ndb-steps = simple_create\n")
    maker = FactoryMaker(None, REGISTRY, load_registry())
    a, b = maker.make(loaded["a"]), maker.make(loaded["b"])
    assert all(x is y for x, y in zip(a.steps, b.steps, strict=True))


# --------------------------------------------------------------------------- #
# option errors: file:line, all at once
# --------------------------------------------------------------------------- #

def configure(tmp_path: Path, section: str) -> list[str]:
    (tmp_path / "buildouts").mkdir(exist_ok=True)
    (tmp_path / "buildouts" / "a.cfg").write_text("[buildout]\nparts =\n")
    (tmp_path / "buildouts" / "MANIFEST.cfg").write_text(
        "[a]\nbuildout = standalone a.cfg\n" + section)
    (tmp_path / "workers.cfg").write_text("[w1]\npassword = p\ncapability = postgresql 15\n")
    with pytest.raises(ConfigError) as info:
        configure_from_buildouts(str(tmp_path), {})
    return info.value.errors


@pytest.mark.parametrize("section, line, message", [
    ("db-steps = simple_create\nsimple_create.db_template = " + "t" * 64 + "\n", 4,
     "simple_create.db_template: database name longer than 63 bytes"),
    ("db-steps = simple_create\nsimple_create.template = tpl\n", 4,
     "unknown option of step set 'simple_create': 'simple_create.template' "
     "(did you mean 'db_template'?)"),
    ("db-steps = pg_remote_copy\n", 3,
     "pg_remote_copy.source_db: missing option 'pg_remote_copy.source_db'"),
    ("db-steps = pg_remote_copy\npg_remote_copy.source_db = r\n"
     "pg_remote_copy.source_port = 54x2\n", 5,
     "pg_remote_copy.source_port: expected a TCP port number: '54x2'"),
    ("db-steps = pg_remote_copy\npg_remote_copy.source_db = r\n"
     "pg_remote_copy.source_host = a b\n", 5,
     "pg_remote_copy.source_host: white space in a host name: 'a b'"),
    ("db-steps = pg_remote_copy\npg_remote_copy.source_db = r\n"
     "pg_remote_copy.dump_options = --exclude-table='x\n", 5,
     "pg_remote_copy.dump_options: cannot split into arguments: No closing quotation"),
    ("db-steps = simple_create pg_remote_copy\npg_remote_copy.source_db = r\n", 3,
     "simple_create and pg_remote_copy both create testing_db"),
    ("db-steps = final_dropdb\nfinal_dropdb.keep = true\n", 4,
     "'final_dropdb' takes no options"),
])
def test_bad_options_are_config_errors_at_their_line(tmp_path: Path, section: str,
                                                     line: int, message: str) -> None:
    errors = configure(tmp_path, section)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"buildouts/MANIFEST.cfg:{line}: buildout [a]")
    assert message in errors[0]


def test_every_bad_option_is_reported_in_one_pass(tmp_path: Path) -> None:
    errors = configure(tmp_path, "db-steps = pg_remote_copy\n"
                                 "pg_remote_copy.source_db = " + "d" * 70 + "\n"
                                 "pg_remote_copy.source_port = 0\n"
                                 "pg_remote_copy.source_user =\n")
    assert [e.split(":")[1] for e in errors] == ["4", "5", "6"]


# --------------------------------------------------------------------------- #
# the copy script
# --------------------------------------------------------------------------- #

def test_conninfo_values_are_quoted_literally() -> None:
    assert pg_copy.conninfo_quote("a b") == "'a b'"
    assert pg_copy.conninfo_quote("it's\\x") == "'it\\'s\\\\x'"
    assert pg_copy.conninfo("host=evil dbname=x") == "dbname='host=evil dbname=x'"
    assert pg_copy.conninfo("d", "/sock", "5433", None) == "dbname='d' host='/sock' port='5433'"


FAKE = """\
import json, os, sys
name = os.path.basename(sys.argv[0])
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps([name, *sys.argv[1:]]) + "\\n")
if name == "pg_dump":
    sys.stdout.write("DUMP-DATA")
    sys.exit(int(os.environ.get("DUMP_RC", "0")))
data = sys.stdin.read()
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps(["restored", data]) + "\\n")
"""


@pytest.fixture
def fake_pg(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("pg_dump", "pg_restore"):
        path = bin_dir / name
        path.write_text(f"#!{sys.executable}\n{FAKE}")
        path.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "FAKE_LOG": str(tmp_path / "calls.jsonl")}


def run_copy(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, f"{SCRIPTS_DIR}/pg_copy.py", *args], env=env,
                          cwd=cwd, capture_output=True, text=True)


def test_copy_pipes_dump_into_restore_without_a_shell(tmp_path: Path, fake_pg) -> None:
    import json

    done = run_copy(fake_pg, tmp_path, "--source-db", NASTY, "--source-port", "6543",
                    "--target-db", "ci_a", "--dump-option=--no-comments",
                    "--restore-option=--exit-on-error")
    assert done.returncode == 0, done.stderr
    calls = [json.loads(x) for x in (tmp_path / "calls.jsonl").read_text().splitlines()]
    source = pg_copy.conninfo(NASTY, None, "6543")
    assert sorted(calls[:2]) == sorted([
        ["pg_dump", "--format=custom", "--no-comments", "--dbname", source],
        ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
         "--dbname", "dbname='ci_a'"]])
    assert calls[2] == ["restored", "DUMP-DATA"]
    assert "pg_dump exit code 0, pg_restore exit code 0" in done.stdout
    assert not list(tmp_path.rglob("pwned"))


def test_copy_fails_when_the_dump_fails(tmp_path: Path, fake_pg) -> None:
    done = run_copy({**fake_pg, "DUMP_RC": "1"}, tmp_path, "--source-db", "r",
                    "--target-db", "t")
    assert done.returncode == 1
    assert "pg_dump exit code 1" in done.stdout
    assert "copy of 'r' into 't' failed" in done.stderr


# --------------------------------------------------------------------------- #
# issue 17: the database name in env.VAR and buildout-options
# --------------------------------------------------------------------------- #

def test_database_name_reaches_env_templates_and_buildout_options(tmp_path: Path) -> None:
    spec = specs(tmp_path, "[a]\nbuildout = standalone a.cfg\ndb-steps = simple_create\n"
                           "env.TEST_DSN = postgresql:///%(prop:testing_db)s\n"
                           "buildout-options = app:db=%(prop:testing_db)s\n"
                           "    app:template=%(testing_db_template:-none)s\n"
                           "    buildout:newest=false\n")["a"]
    factory = make_factory(spec, None, REGISTRY, load_registry())
    capabilities, naming = factory.steps[:2]
    # rendered once, by testing-db, when the name is known
    assert capabilities.args[2] == ()
    assert naming.kwargs["env"] == spec.env
    buildout = next(f for f in factory.steps if f.kwargs.get("name") == "buildout")
    command = render(buildout.kwargs["command"], props(testing_db="ci_a"))
    assert command[-3:] == ["app:db=ci_a", "app:template=none", "buildout:newest=false"]
    assert buildout.kwargs["command"][-1] == "buildout:newest=false"   # plain text


def test_without_database_env_is_rendered_by_the_capability_step(tmp_path: Path) -> None:
    spec = specs(tmp_path, "[a]\nbuildout = standalone a.cfg\n"
                           "env.X = %(prop:buildername)s\n")["a"]
    factory = make_factory(spec, None, REGISTRY, load_registry())
    assert factory.steps[0].args[2] == spec.env
    assert "testing-db" not in names(factory.steps)
