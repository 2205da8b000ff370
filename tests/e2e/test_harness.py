"""The localrun harness itself, with a hand-written master.cfg.

Why: every other e2e test trusts this harness (ports, readiness, REST helpers,
cleanup).  These tests use no anybox_buildbot configuration code, only a plain
master.cfg, so a failure here points at the harness, not at the configurator.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg2  # type: ignore[import-untyped]
import pytest
import sqlalchemy

import localrun
from localrun import Master, MasterStartError, PgCluster, Worker

if TYPE_CHECKING:
    from conftest import MasterFactory

pytestmark = pytest.mark.e2e

BUILDER = "pg-version"


def master_cfg(master: Master, pg: PgCluster, extra_builder: bool = False) -> str:
    """A minimal, complete master.cfg: one worker, psql builder, force scheduler."""
    psql = ["psql", "-h", pg.host, "-p", str(pg.port), "-d", "postgres", "-Atc", "select version()"]
    extra = ""
    names = [BUILDER]
    if extra_builder:
        names.append("echo")
        extra = textwrap.dedent("""\
            c['builders'].append(util.BuilderConfig(
                name='echo', workernames=['w1'],
                factory=util.BuildFactory([steps.ShellCommand(command=['echo', 'hi'])])))
            """)
    return (
        textwrap.dedent(f"""\
        import os

        from buildbot.plugins import schedulers, steps, util, worker

        c = BuildmasterConfig = {{}}
        c['buildbotNetUsageData'] = None
        c['protocols'] = {{'pb': {{'port': {master.pb_endpoint!r}}}}}
        c['www'] = {{'port': {master.www_endpoint!r}, 'plugins': {{}}}}
        c['buildbotURL'] = {master.url!r}
        c['db'] = {{'db_url': 'sqlite:///state.sqlite'}}
        c['workers'] = [worker.Worker('w1', 'pass1')]
        factory = util.BuildFactory()
        factory.addStep(steps.ShellCommand(
            name='psql-version', command={psql!r}, env={pg.env!r}))
        c['builders'] = [util.BuilderConfig(
            name={BUILDER!r}, workernames=['w1'], factory=factory,
            properties={{'marker': os.environ['LOCALRUN_MARK']}})]  # Master(env=...)
        """)
        + extra
        + textwrap.dedent(f"""\
        c['schedulers'] = [schedulers.ForceScheduler(
            name='force', builderNames={names!r},
            properties=[util.StringParameter(name='flavour', default='plain')])]
        """)
    )


@pytest.fixture(scope="module")
def running(
    pg_cluster: PgCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Master, Worker]]:
    """One master + one connected worker, built with the bare localrun API."""
    root = tmp_path_factory.mktemp("harness")
    with (
        Master(root / "master", env={"LOCALRUN_MARK": "from-env"}) as master,
        Worker(root / "worker", "w1", "pass1", master.pb_port) as worker,
    ):
        master.write_config(master_cfg(master, pg_cluster))
        master.create()
        master.start()
        worker.create()
        worker.start()
        assert master.rest.wait_worker_connected("w1", timeout=30)["name"] == "w1"
        worker.wait_attached(timeout=30)
        yield master, worker
    assert not master.running and not worker.running


def test_free_port_and_wait_for() -> None:
    ports = {localrun.free_port() for _ in range(20)}
    assert len(ports) == 20
    assert localrun.wait_for(lambda: 42, timeout=1) == 42
    with pytest.raises(TimeoutError, match="the moon"):
        localrun.wait_for(lambda: False, timeout=0.3, interval=0.05, what="the moon")


def test_pg_cluster_reachable_without_password(pg_cluster: PgCluster) -> None:
    env = {**os.environ, **pg_cluster.env}
    env.pop("PGPASSWORD", None)
    out = subprocess.run(
        [
            "psql",
            "-X",
            "-h",
            pg_cluster.host,
            "-p",
            str(pg_cluster.port),
            "-d",
            "postgres",
            "-Atc",
            "select current_user, rolcreatedb, current_setting('server_version_num'), "
            "current_setting('listen_addresses') "
            "from pg_roles where rolname = current_user",
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.strip()
    user, createdb, version_num, listen = out.split("|")
    assert user == pg_cluster.user
    assert createdb == "t"
    assert version_num[:-4] == pg_cluster.version
    assert listen == "127.0.0.1"
    # TCP on loopback works too (trust auth).
    assert pg_cluster.psql("select 1").strip() == "1"


def test_forced_build_runs_psql_on_the_cluster(
    running: tuple[Master, Worker], pg_cluster: PgCluster
) -> None:
    master, _worker = running
    rest = master.rest
    assert BUILDER in rest.builders()
    brids = rest.force([BUILDER], flavour="spicy")
    assert set(brids) == {BUILDER}
    build = rest.wait_build(brids[BUILDER], timeout=60)
    steps = rest.steps(build["buildid"])
    assert build["results"] == 0, (build, steps, master.log_text()[-3000:])
    assert [s["name"] for s in steps] == ["worker_preparation", "psql-version"]
    log = rest.step_log(build["buildid"], 1)
    assert f"PostgreSQL {pg_cluster.version}" in log, log
    assert rest.step_log(build["buildid"], "psql-version") == log
    props = rest.build_properties(build["buildid"])
    assert props["flavour"] == "spicy"
    assert props["workername"] == "w1"
    assert props["marker"] == "from-env"
    assert rest.build_property_sources(build["buildid"])["flavour"] == "Force Build Form"


def test_reconfig_good_then_bad(running: tuple[Master, Worker], pg_cluster: PgCluster) -> None:
    master, _worker = running
    master.write_config(master_cfg(master, pg_cluster, extra_builder=True))
    rc, out = master.reconfig()
    assert rc == 0, out
    assert "echo" in master.rest.builders()

    master.write_config(master_cfg(master, pg_cluster) + "\nraise ValueError('boom')\n")
    rc, out = master.reconfig()
    assert rc == 1, out
    assert master.running
    assert "boom" in master.log_text(since_start=True)
    # Old config still in force: the extra builder can still be forced.
    build = master.rest.wait_build(master.rest.force(["echo"])["echo"], timeout=60)
    assert build["results"] == 0


def test_master_start_fails_fast(master_factory: MasterFactory, tmp_path: Path) -> None:
    def broken(master: Master) -> str:
        return textwrap.dedent(f"""\
            c = BuildmasterConfig = {{}}
            c['buildbotNetUsageData'] = None
            c['www'] = {{'port': {master.www_endpoint!r}, 'plugins': {{}}}}
            c['db'] = {{'db_url': 'sqlite://'}}
            raise ValueError('deliberately broken')
            """)

    master = master_factory(broken, start=False)
    started = time.monotonic()
    with pytest.raises(MasterStartError, match="deliberately broken"):
        master.start(timeout=60)
    assert time.monotonic() - started < 15
    assert not master.running


CHILD = """\
import os, sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])  # tests/support, where the harness lives
import localrun
localrun.DIE_WITH_PARENT = sys.argv[2] == 'pdeathsig'
w = localrun.Worker(Path(sys.argv[1]), 'orphan', 'pw', localrun.free_port())
w.create()
w.start()
print(w.pid, flush=True)
if sys.argv[2] == 'pdeathsig':
    os._exit(0)  # no atexit: only PR_SET_PDEATHSIG can stop the worker
"""


@pytest.mark.parametrize("mode", ["atexit", "pdeathsig"])
def test_nothing_left_behind_when_caller_exits(tmp_path: Path, mode: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "w"), mode,
         str(Path(localrun.__file__).parent)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    pid = int(proc.stdout.strip())
    localrun.wait_for(
        lambda: not localrun._pid_alive(pid), timeout=15, what=f"worker {pid} to exit ({mode})"
    )
    assert "Received SIGTERM" in (tmp_path / "w" / "twistd.log").read_text()


def test_own_pg_cluster_stops_and_cleans_up() -> None:
    with PgCluster() as pg:
        pg.start()
        pid = pg.postmaster_pid
        assert pid is not None and pg.running
        assert pg.psql("select 40 + 2") == "42"
        # The URL form a master's c['db'] would use, and the libpq DSN.
        pg.psql("create database localrun_check")
        engine = sqlalchemy.create_engine(pg.sqlalchemy_url("localrun_check"))
        with engine.connect() as conn:
            assert conn.execute(sqlalchemy.text("select current_user")).scalar() == pg.user
        engine.dispose()
        with psycopg2.connect(pg.dsn("localrun_check")) as conn, conn.cursor() as cur:
            cur.execute("select current_database()")
            assert cur.fetchone() == ("localrun_check",)
        conn.close()
        workdir = pg.workdir
    assert not localrun._pid_alive(pid)
    assert not workdir.exists()
