"""Database and Odoo step sets, for real.

A real master, two real workers and two real PostgreSQL clusters: the
session's ``pg_cluster`` is the one the workers build on (their
``postgresql`` capability line), a second one plays the remote cluster
``pg_remote_copy`` reads from. Every builder is forced once, all together,
by a module fixture; the tests then look at the results, the logs, the
properties and the clusters.

The Odoo buildouts use a develop-egg recipe, made here, that writes a fake
``bin/odoo``: it records its arguments, connects to the database named by
``-d`` (creating it, as Odoo does, when missing) and logs like Odoo.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

from anybox_buildbot.steps.database import db_name_for
from localrun import PgCluster, Rest, running_master, write_recipe

BUILD_TIMEOUT = 600
PREFIX = "ci_"
W2_PREFIX = "w2_"
LONG = "from-template-" + "x" * 60
# Template and source names full of shell metacharacters: if any command
# went through a shell, the build would break and 'pwned' files appear.
META_TEMPLATE = "tpl;rm -rf x;$(touch pwned)`touch pwned2`"
META_SOURCE = "ref;$(touch pwned)|`touch pwned2`&&x"
META_ARGS = ["--note=a;rm -rf x", "$(touch pwned)", "`touch pwned2`", "a|b>c"]

SUCCESS, WARNINGS, FAILURE, SKIPPED = 0, 1, 2, 3

RECIPE = '''\
import os
import sys

SCRIPT = {script!r}


class Recipe:
    """Writes bin/<part>: a fake Odoo server."""

    def __init__(self, buildout, name, options):
        self.path = os.path.join(buildout["buildout"]["bin-directory"], name)

    def install(self):
        with open(self.path, "w") as handle:
            handle.write("#!" + sys.executable + "\\n" + SCRIPT)
        os.chmod(self.path, 0o755)
        return [self.path]

    update = install
'''

FAKE_ODOO = '''\
"""Fake Odoo server: record argv, talk to the -d database, log like Odoo."""
import json
import os
import subprocess
import sys

args = sys.argv[1:]
with open("odoo-calls.jsonl", "a") as handle:
    handle.write(json.dumps(args) + "\\n")
db = args[args.index("-d") + 1]
mode = "-i" if "-i" in args else "-u"
modules = args[args.index(mode) + 1]


def log(level, message):
    print("2026-01-01 00:00:00,000 %d %s %s odoo.modules.loading: %s"
          % (os.getpid(), level, db, message), flush=True)


exists = subprocess.run(["psql", "-X", "-Atq", "-d", "postgres", "-v", "db=" + db],
                        input="SELECT 1 FROM pg_database WHERE datname = :'db'",
                        capture_output=True, text=True, check=True).stdout.strip()
if not exists:
    log("INFO", "creating database")
    subprocess.run(["createdb", "--", db], check=True)
sql = ("CREATE TABLE IF NOT EXISTS odoo_calls (id serial, mode text, modules text, "
       "tests boolean);"
       "INSERT INTO odoo_calls (mode, modules, tests) VALUES (:'mode', :'mods', :'tests');")
subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, "-v", "mode=" + mode,
                "-v", "mods=" + modules, "-v", "tests=" + str("--test-enable" in args)],
               input=sql, text=True, check=True)
log("INFO", "modules %s %s" % (mode, modules))
if "broken_module" in modules.split(","):
    log("ERROR", "module broken_module: FAIL: test_it (AssertionError)")
if "--fake-error" in args:
    log("ERROR", "something went wrong")
sys.exit(0)  # like Odoo: errors are in the log, the exit code is 0
'''

ODOO_CALLS = "select mode || ' ' || modules || ' ' || tests from odoo_calls order by id"
PSQL = 'psql -X -v ON_ERROR_STOP=1 -At -c "select current_database()"'


def manifest(recipe_dir: Path, main: PgCluster) -> str:
    # shlex-quoted for install-modules.args: each item must arrive whole.
    args = " ".join("'" + a + "'" if '"' in a else '"' + a + '"' for a in META_ARGS)
    return textwrap.dedent(f"""\
        [DEFAULT]
        buildout-options = buildout:newest=false
        build-requires = postgresql

        [create-ok]
        buildout = standalone plain.cfg
        db-steps = simple_create
        test-command = {PSQL} -c "create table t (x int)" -c "insert into t values (1)"

        [create-fail]
        buildout = standalone plain.cfg
        db-steps = simple_create
        test-command = {PSQL} -c "select 1/0"

        [{LONG}]
        buildout = standalone plain.cfg
        db-steps = simple_create
        simple_create.db_template = tpl_data
        test-command = {PSQL} -c "select v from tpl_rows"

        [worker-template]
        buildout = standalone plain.cfg
        build-requires = postgresql
                         tplworker
        db-steps = simple_create
        test-command = {PSQL} -c "select v from w_rows"

        [copy-cap]
        buildout = standalone plain.cfg
        db-steps = pg_remote_copy
        pg_remote_copy.source_db = remote_ref
        test-command = {PSQL} -c "select v from ref_rows"

        [copy-manifest]
        buildout = standalone plain.cfg
        db-steps = pg_remote_copy
        pg_remote_copy.source_db = {META_SOURCE}
        pg_remote_copy.source_host = {main.host}
        pg_remote_copy.source_port = {main.port}
        pg_remote_copy.dump_options = --no-comments
        pg_remote_copy.restore_options = --exit-on-error
        test-command = {PSQL} -c "select v from ref_rows"

        [odoo]
        buildout = standalone odoo.cfg
        buildout-part = odoo
        db-steps = simple_create
        simple_create.db_template = {META_TEMPLATE}
        post-buildout-steps = install-modules-test install-modules update-odoo test
        install-modules-test.addons = sale, stock
        install-modules.addons = base
        install-modules.args = {args}
        update-odoo.args = --fake-error
        update-odoo.log_errors = warn
        test-command = {PSQL} -c "select v from meta" -c "{ODOO_CALLS}"

        [odoo-broken]
        buildout = standalone odoo.cfg
        buildout-part = odoo
        post-buildout-steps = install-modules-test
        install-modules-test.addons = broken_module
        """)


def capability(pg: PgCluster, extra: str = "") -> str:
    return f"postgresql {pg.version} port={pg.port} host={pg.host} bin={pg.bin_dir}{extra}"


def create_db(pg: PgCluster, name: str, table: str, value: str) -> None:
    """A database holding one row, made with identifiers quoted by psycopg2."""
    conn = psycopg2.connect(host=pg.host, port=pg.port, dbname="postgres")
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        conn.close()
    conn = psycopg2.connect(host=pg.host, port=pg.port, dbname=name)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql.SQL("CREATE TABLE {} (v text)").format(sql.Identifier(table)))
            cur.execute(sql.SQL("INSERT INTO {} VALUES (%s)").format(sql.Identifier(table)),
                        (value,))
    finally:
        conn.close()


def drop_db(pg: PgCluster, name: str) -> None:
    conn = psycopg2.connect(host=pg.host, port=pg.port, dbname="postgres")
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    finally:
        conn.close()


def databases(pg: PgCluster) -> set[str]:
    conn = psycopg2.connect(host=pg.host, port=pg.port, dbname="postgres")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT datname FROM pg_database")
            return {row[0] for row in cur.fetchall()}
    finally:
        conn.close()


@dataclass
class Run:
    root: Path
    rest: Rest
    main: PgCluster
    workers: dict[str, Path]
    builds: dict[str, dict] = field(default_factory=dict)
    props: dict[str, dict] = field(default_factory=dict)

    def steps(self, builder: str) -> dict[str, dict]:
        return {s["name"]: s for s in self.rest.steps(self.builds[builder]["buildid"])}

    def log(self, builder: str, step: str, slug: str = "stdio") -> str:
        return self.rest.step_log(self.builds[builder]["buildid"], step, slug)

    def build_dir(self, builder: str) -> Path:
        return self.workers[self.props[builder]["workername"]] / builder / "build"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, pg_cluster: PgCluster) -> Iterator[Run]:
    root = tmp_path_factory.mktemp("db-steps")
    remote = PgCluster()
    main_dbs = {"tpl_data": ("tpl_rows", "from the template"),
                "tpl_worker": ("w_rows", "from the worker's template"),
                META_TEMPLATE: ("meta", "literal template"),
                META_SOURCE: ("ref_rows", "main cluster")}
    try:
        remote.start()
        for name, (table, value) in main_dbs.items():
            create_db(pg_cluster, name, table, value)
        create_db(remote, "remote_ref", "ref_rows", "remote cluster")
        recipe = write_recipe(root / "recipe", "fakeodoo_recipe",
                              RECIPE.format(script=FAKE_ODOO))
        master_dir = root / "master"
        buildouts = master_dir / "buildouts"
        buildouts.mkdir(parents=True)
        (buildouts / "plain.cfg").write_text("[buildout]\nparts =\n")
        (buildouts / "odoo.cfg").write_text(
            f"[buildout]\ndevelop = {recipe}\nparts = odoo\n\n"
            "[odoo]\nrecipe = fakeodoo_recipe\n")
        (buildouts / "MANIFEST.cfg").write_text(manifest(recipe, pg_cluster))
        source = f" source_host={remote.host} source_port={remote.port}"
        (master_dir / "workers.cfg").write_text(textwrap.dedent(f"""\
            [w1]
            password = db-pass-1
            capability = {capability(pg_cluster, source)}
            db_prefix = {PREFIX}
            max_builds = 2

            [w2]
            password = db-pass-2
            capability = {capability(pg_cluster)}
                         tplworker
            build-only-if-requires = tplworker
            db_prefix = {W2_PREFIX}
            db_template = tpl_worker
            """))
        with running_master(master_dir, {"w1": "db-pass-1", "w2": "db-pass-2"}) as master:
            rest = master.rest
            paths = {name: worker.basedir for name, worker in master.workers.items()}
            result = Run(root, rest, pg_cluster, paths)
            requests = rest.force(sorted(rest.builders()))
            for builder, brid in requests.items():
                result.builds[builder] = rest.wait_build(brid, timeout=BUILD_TIMEOUT)
                result.props[builder] = rest.build_properties(
                    result.builds[builder]["buildid"])
            yield result
    finally:
        remote.close()
        for name in main_dbs:
            drop_db(pg_cluster, name)


def test_every_builder_exists(run: Run) -> None:
    assert set(run.builds) == {"create-ok", "create-fail", LONG, "worker-template",
                               "copy-cap", "copy-manifest", "odoo", "odoo-broken"}


def test_simple_create_gives_the_build_its_database(run: Run) -> None:
    build, props = run.builds["create-ok"], run.props["create-ok"]
    assert build["results"] == SUCCESS, build["state_string"]
    assert props["testing_db"] == "ci_create-ok"
    assert props["anybox_env"]["PGDATABASE"] == "ci_create-ok"
    # the test command named no database: PGDATABASE led it there
    assert "\nci_create-ok\n" in run.log("create-ok", "test")
    steps = run.steps("create-ok")
    names = [n for n in steps if n not in ("worker_preparation", "capabilities")]
    assert names[0] == "testing-db"          # named first: env.VAR may use it
    assert names[-5:] == ["check-develop", "dropdb-stale", "createdb", "test", "final-dropdb"]
    assert steps["final-dropdb"]["results"] == SUCCESS
    assert "ci_create-ok" not in databases(run.main)


def test_database_is_dropped_after_a_failing_test(run: Run) -> None:
    build = run.builds["create-fail"]
    assert build["results"] == FAILURE
    assert "\nci_create-fail\n" in run.log("create-fail", "test")  # it existed then
    steps = run.steps("create-fail")
    assert steps["test"]["results"] == FAILURE
    assert steps["final-dropdb"]["results"] == SUCCESS
    assert "ci_create-fail" not in databases(run.main)


def test_database_from_a_template_with_a_long_builder_name(run: Run) -> None:
    build, props = run.builds[LONG], run.props[LONG]
    assert build["results"] == SUCCESS, build["state_string"]
    name = props["testing_db"]
    assert name == db_name_for(PREFIX, LONG)
    assert len(name.encode()) == 63 and name.startswith(PREFIX + "from-template-x")
    assert props["testing_db_template"] == "tpl_data"
    out = run.log(LONG, "test")
    assert name in out and "from the template" in out
    assert "shortened with a hash suffix" in run.log(LONG, "testing-db", "testing-db")
    assert name not in databases(run.main)


def test_worker_properties_give_prefix_and_template(run: Run) -> None:
    build, props = run.builds["worker-template"], run.props["worker-template"]
    assert build["results"] == SUCCESS, build["state_string"]
    assert props["workername"] == "w2"
    assert props["testing_db"] == "w2_worker-template"
    assert props["testing_db_template"] == "tpl_worker"
    assert "from the worker's template" in run.log("worker-template", "test")
    assert "w2_worker-template" not in databases(run.main)


def test_pg_remote_copy_from_the_capability_source(run: Run) -> None:
    build = run.builds["copy-cap"]
    assert build["results"] == SUCCESS, build["state_string"]
    out = run.log("copy-cap", "pg-remote-copy")
    assert "pg_dump exit code 0, pg_restore exit code 0" in out
    assert "remote cluster" in run.log("copy-cap", "test")
    assert "ci_copy-cap" not in databases(run.main)


def test_pg_remote_copy_manifest_source_wins(run: Run) -> None:
    build = run.builds["copy-manifest"]
    assert build["results"] == SUCCESS, build["state_string"]
    out = run.log("copy-manifest", "pg-remote-copy")
    assert "--no-comments" in out and "--exit-on-error" in out
    assert "main cluster" in run.log("copy-manifest", "test")
    assert "ci_copy-manifest" not in databases(run.main)


def test_odoo_step_sets_run_the_part_script_against_testing_db(run: Run) -> None:
    build = run.builds["odoo"]
    # update-odoo logged an ERROR line and has log_errors = warn
    assert build["results"] == WARNINGS, build["state_string"]
    steps = run.steps("odoo")
    assert steps["install-modules-test"]["results"] == SUCCESS
    assert steps["install-modules"]["results"] == SUCCESS
    assert steps["update-odoo"]["results"] == WARNINGS
    assert "something went wrong" in run.log("odoo", "update-odoo", "odoo-errors")
    calls = [json.loads(line) for line in
             (run.build_dir("odoo") / "odoo-calls.jsonl").read_text().splitlines()]
    assert calls == [
        ["-d", "ci_odoo", "-i", "sale,stock", "--stop-after-init", "--test-enable",
         "--log-level=test"],
        ["-d", "ci_odoo", "-i", "base", "--stop-after-init", *META_ARGS],
        ["-d", "ci_odoo", "-u", "all", "--stop-after-init", "--fake-error"],
    ]
    # the fake server wrote into testing_db, which the test step reads
    out = run.log("odoo", "test")
    assert "-i sale,stock true\n-i base false\n-u all false" in out
    assert "ci_odoo" not in databases(run.main)


def test_odoo_log_errors_fail_the_build_and_the_database_still_goes(run: Run) -> None:
    build = run.builds["odoo-broken"]
    assert build["results"] == FAILURE
    steps = run.steps("odoo-broken")
    assert steps["install-modules-test"]["results"] == FAILURE
    assert "1 error line" in steps["install-modules-test"]["state_string"]
    assert "broken_module: FAIL" in run.log("odoo-broken", "install-modules-test",
                                            "odoo-errors")
    # the fake server created the database itself, like Odoo; it is gone
    assert "creating database" in run.log("odoo-broken", "install-modules-test")
    assert steps["final-dropdb"]["results"] == SUCCESS
    assert "ci_odoo-broken" not in databases(run.main)


def argv_line(argv: list[str]) -> str:
    """How the worker logs the exact argument list it executes (as bytes)."""
    return f" argv: {[a.encode() for a in argv]}\n"


def test_shell_metacharacters_reach_commands_as_literal_arguments(run: Run) -> None:
    """Manifest values full of ``;``, ``$(...)``, backquotes, pipes reach the
    programs as single arguments: the worker logs each argv as a Python
    list, and the values did their job (named the template, the source)."""
    # simple_create.db_template: createdb got it whole, and it named the template
    assert run.builds["odoo"]["results"] == WARNINGS
    assert run.props["odoo"]["testing_db_template"] == META_TEMPLATE
    argv = ["createdb", "--template", META_TEMPLATE, "--", "ci_odoo"]
    assert argv_line(argv) in run.log("odoo", "createdb")
    assert "literal template" in run.log("odoo", "test")
    # install-modules.args: the server got each item verbatim
    argv = ["bin/odoo", "-d", "ci_odoo", "-i", "base", "--stop-after-init", *META_ARGS]
    assert argv_line(argv) in run.log("odoo", "install-modules")
    calls = (run.build_dir("odoo") / "odoo-calls.jsonl").read_text().splitlines()
    assert json.loads(calls[1])[5:] == META_ARGS
    # pg_remote_copy.source_db: pg_dump read the database of that exact name
    assert run.builds["copy-manifest"]["results"] == SUCCESS
    out = run.log("copy-manifest", "pg-remote-copy")
    assert f"b'--source-db', {META_SOURCE.encode()!r}," in out
    assert f"copied {META_SOURCE!r} into 'ci_copy-manifest'" in out
    # nothing ran 'touch' or 'rm'
    assert not list(run.root.rglob("pwned*"))
    for worker in run.workers.values():
        assert not list(worker.rglob("pwned*"))
