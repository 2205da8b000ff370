"""Two masters, one fleet: a real PostgreSQL database and a real crossbar router.

Both masters run the example's master.cfg (``examples/docs/scale-out``),
with their ports from the environment, on one database of the session's
PostgreSQL cluster, joined by a crossbar router (from ``.venv-crossbar``,
which ``make crossbar`` installs: crossbar is no dependency of the
package). Worker ``w1`` is attached to master 1, ``w2`` to master 2.
``ClusteredBuildbotService.POLL_INTERVAL_SEC`` is lowered so that a master
takes over a poller within seconds of the owner's stop.

The module shares one set-up; the tests run in file order and each
leaves the fleet as the next one expects (the last one stops a master).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from localrun import LOOPBACK, Master, PgCluster, Worker, free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "docs" / "scale-out"
CROSSBAR = ROOT / os.environ.get("CROSSBAR_VENV", ".venv-crossbar") / "bin" / "crossbar"
CLI = Path(sys.executable).parent / "anybox-buildbot"
POLL = 2
BUILD_TIMEOUT = 180
GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
#: Before the example's master.cfg: hand-overs within seconds, not minutes.
FAST_HANDOVER = (f"from buildbot.util.service import ClusteredBuildbotService\n"
                 f"ClusteredBuildbotService.POLL_INTERVAL_SEC = {POLL}\n")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=True,
                          capture_output=True, text=True).stdout.strip()


def commit(work: Path, files: dict[str, str], message: str, push: bool = True) -> None:
    for name, text in files.items():
        (work / name).write_text(text)
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", message)
    if push:
        git(work, "push", "-q", "origin", "master")


def bare_repo(root: Path, name: str, files: dict[str, str]) -> tuple[str, Path]:
    """(file:// URL of a new bare repository, its working clone)."""
    bare = root / f"{name}.git"
    git(root, "init", "-q", "--bare", "-b", "master", str(bare))
    work = root / f"{name}-work"
    git(root, "clone", "-q", str(bare), str(work))
    git(work, "symbolic-ref", "HEAD", "refs/heads/master")
    commit(work, files, "first")
    return f"file://{bare}", work


class Crossbar:
    """A crossbar router on a free loopback port, from the example's config."""

    def __init__(self, root: Path) -> None:
        if not CROSSBAR.is_file():
            pytest.fail(f"{CROSSBAR} missing: run `make crossbar` (make test does)",
                        pytrace=False)
        self.port = free_port()
        self.cbdir = root / "crossbar"
        self.cbdir.mkdir(parents=True)
        config = json.loads((EXAMPLE / "crossbar" / "config.json").read_text())
        endpoint = config["workers"][0]["transports"][0]["endpoint"]
        endpoint.update(port=self.port, interface=LOOPBACK)
        (self.cbdir / "config.json").write_text(json.dumps(config))
        self.url = f"ws://{LOOPBACK}:{self.port}/ws"
        self.log = (root / "crossbar.log").open("wb")
        # its own process group: the router's worker processes stop with it
        self.proc = subprocess.Popen([str(CROSSBAR), "start", "--cbdir", str(self.cbdir)],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def wait_listening(self, timeout: float = 60) -> None:
        def listening() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(f"crossbar exited (rc={self.proc.returncode})")
            with contextlib.suppress(OSError), socket.create_connection(
                    (LOOPBACK, self.port), timeout=1):
                return True
            return False
        wait_for(listening, timeout, interval=0.2, what="crossbar to listen")

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log.close()


@dataclass
class Fleet:
    masters: list[Master]
    workers: list[Worker]
    app_work: Path
    shared: Path
    cluster: PgCluster

    def builds(self, builder: str, master: int = 0) -> list[dict]:
        return self.masters[master].rest.get(f"builders/{builder}/builds")["builds"]

    def master_ids(self) -> dict[str, int]:
        """Database id of each master, by the basedir Buildbot names it after."""
        found = self.masters[0].rest.get("masters")["masters"]
        return {str(m.basedir): next(x["masterid"] for x in found
                                     if x["name"].endswith(f":{m.basedir}"))
                for m in self.masters}

    def pollers(self, master: int) -> dict[str, int | None]:
        """Change source name -> id of the master running it (None: nobody)."""
        sources = self.masters[master].rest.get("changesources")["changesources"]
        return {s["name"]: (s["master"] or {}).get("masterid") for s in sources}


def master_cfg() -> str:
    return FAST_HANDOVER + (EXAMPLE / "master.cfg").read_text()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory, pg_cluster: PgCluster) -> Iterator[Fleet]:
    root = tmp_path_factory.mktemp("multimaster")
    pg_cluster.psql("CREATE DATABASE multimaster")
    db_url = pg_cluster.sqlalchemy_url("multimaster")
    # the shared checkout [auto]'s buildout extends: its report names it
    shared = root / "shared"
    shared.mkdir()
    git(shared, "init", "-q", "-b", "master")
    commit(shared, {"base.cfg": "[buildout]\nparts =\n"}, "base", push=False)
    app_url, app_work = bare_repo(root, "app", {"buildout.cfg": "[buildout]\nparts =\n",
                                                "VERSION": "one\n"})
    auto_url, _ = bare_repo(root, "auto", {
        "buildout.cfg": f"[buildout]\nextends = {shared / 'base.cfg'}\n"})
    manifest = f"""\
[DEFAULT]
tree-stable-timer = 1
test-command = cat buildout.cfg

[app]
buildout = git {app_url} master buildout.cfg

[auto]
buildout = git {auto_url} master buildout.cfg
auto-watch = true
watch-buildout = false
build-requires = pinned
"""
    workers_cfg = "[w1]\npassword = pw1\ncapability = pinned\n\n[w2]\npassword = pw2\n"
    crossbar = Crossbar(root)
    masters: list[Master] = []
    workers: list[Worker] = []
    try:
        for number in (1, 2):   # while the router starts (seconds)
            basedir = root / f"master{number}"
            (basedir / "buildouts").mkdir(parents=True)
            (basedir / "buildouts" / "MANIFEST.cfg").write_text(manifest)
            (basedir / "workers.cfg").write_text(workers_cfg)
            pb, www = free_port(), free_port()
            master = Master(basedir, pb_port=pb, www_port=www, env={
                "ANYBOX_PB_PORT": str(pb), "ANYBOX_WWW_PORT": str(www),
                "ANYBOX_PUBLIC_URL": f"http://{LOOPBACK}:{www}/",
                "ANYBOX_DB_URL": db_url, "ANYBOX_ROUTER_URL": crossbar.url,
                "ANYBOX_POLL_INTERVAL": str(POLL)})
            masters.append(master)
            master.write_config(master_cfg())
            master.create(db_url=db_url)
        crossbar.wait_listening()
        for master in masters:
            master.start()
        for number, master in enumerate(masters, 1):
            worker = Worker(root / f"w{number}", f"w{number}", f"pw{number}", master.pb_port)
            workers.append(worker)
            worker.create()
            worker.start()
        for master, worker in zip(masters, workers, strict=True):
            master.rest.wait_worker_connected(worker.name, 30)
            worker.wait_attached(30)
        yield Fleet(masters, workers, app_work, shared, pg_cluster)
    finally:
        for process in [*workers, *reversed(masters)]:
            process.close()
        crossbar.close()


def test_both_masters_list_the_same_builders_and_status_shows_who_serves_whom(
        fleet: Fleet) -> None:
    one, two = (m.rest.builders() for m in fleet.masters)
    assert sorted(one) == sorted(two) == ["app", "auto"]
    ids = fleet.master_ids()
    assert sorted(one["app"]["masterids"]) == sorted(ids.values())
    result = subprocess.run([str(CLI), "status", "--url", fleet.masters[1].url],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for master in fleet.masters:
        line = next(x for x in lines if x.strip().startswith(f"{os.uname().nodename}:"
                                                             f"{master.basedir}"))
        assert " active " in line and "last seen 20" in line, line
    for worker, master in zip(fleet.workers, fleet.masters, strict=True):
        line = next(x for x in lines if x.strip().startswith(f"{worker.name} "))
        assert f"connected to {os.uname().nodename}:{master.basedir} " in line, line


def test_a_report_of_a_build_on_master_1_forced_through_master_2_is_watched_by_master_2(
        fleet: Fleet) -> None:
    """[auto] needs ``pinned``, which only w1 (attached to master 1) has:
    the request made through master 2 is built by master 1. Its auto-watch
    report then changes what master 2 polls at its reconfig: a poller for
    the shared checkout, run by master 2 (master 1 did not reconfigure)."""
    one, two = fleet.masters
    brid = two.rest.force(["auto"])["auto"]
    build = two.rest.wait_build(brid, timeout=BUILD_TIMEOUT)
    assert build["results"] == 0, build["state_string"]
    assert build["masterid"] == fleet.master_ids()[str(one.basedir)]
    assert two.rest.get(f"workers/{build['workerid']}")["workers"][0]["name"] == "w1"
    shared = f"anybox-git:{fleet.shared}"
    assert not any(name.startswith(shared) for name in fleet.pollers(1))
    rc, output = two.reconfig()
    assert rc == 0, output
    id_two = fleet.master_ids()[str(two.basedir)]
    ran_by = wait_for(lambda: next((m for n, m in fleet.pollers(1).items()
                                    if n.startswith(shared) and m is not None), None),
                      30, what="a poller of the shared checkout")
    assert ran_by == id_two


def poller_owner(fleet: Fleet) -> tuple[str, int]:
    """(name of the app repository's poller, index of the master running it)."""
    poller = next(n for n in fleet.pollers(0) if "app.git" in n)
    owner_id = wait_for(lambda: fleet.pollers(0)[poller], 30, what="a master to run it")
    ids = fleet.master_ids()
    return poller, next(i for i, m in enumerate(fleet.masters)
                        if ids[str(m.basedir)] == owner_id)


def handover_diagnostics(fleet: Fleet, owner: int, other: int) -> str:
    """What a failed hand-over leaves to read: both masters' logs, the
    masters as the remaining one sees them, the claims and the sessions
    as the database has them."""
    rest = fleet.masters[other].rest
    claims = fleet.cluster.psql(
        "SELECT c.name, m.masterid FROM changesources c LEFT JOIN changesource_masters m"
        " ON m.changesourceid = c.id", dbname="multimaster")
    sessions = fleet.cluster.psql(
        "SELECT datname, state, count(*) FROM pg_stat_activity"
        " GROUP BY datname, state", dbname="multimaster")
    parts = [f"masters: {rest.get('masters')['masters']}",
             f"change source claims:\n{claims}", f"database sessions:\n{sessions}"]
    for index in (owner, other):
        master = fleet.masters[index]
        parts.append(f"master {index + 1} running: {master.running}\n{master.diagnostics()}")
    return "\n".join(parts)


def test_a_commit_triggers_exactly_one_build(fleet: Fleet) -> None:
    # The worker of the poller's master leaves: this build and the one after
    # the hand-over (next test) run on the same worker, which bootstraps once.
    _poller, owner = poller_owner(fleet)
    fleet.workers[owner].close()
    time.sleep(POLL * 2)   # the poller has recorded the first head
    before = len(fleet.builds("app"))
    commit(fleet.app_work, {"VERSION": "two\n"}, "two")
    build = wait_for(lambda: next((b for b in fleet.builds("app")[before:] if b["complete"]),
                                  None), BUILD_TIMEOUT, interval=0.5, what="a build of app")
    assert build["results"] == 0, build["state_string"]
    time.sleep(POLL * 2 + 2)   # a second build would have been asked by now
    assert len(fleet.builds("app")) == before + 1
    assert len(fleet.builds("app", master=1)) == before + 1


def test_the_other_master_takes_the_poller_over_when_its_owner_stops(fleet: Fleet) -> None:
    poller, owner = poller_owner(fleet)
    ids = fleet.master_ids()
    owner_id = ids[str(fleet.masters[owner].basedir)]
    other = 1 - owner
    before = len(fleet.builds("app", other))
    fleet.workers[owner].close()
    # a master that died on its own never released its claims (Buildbot
    # frees them only after 10 minutes): say so rather than time out below
    assert fleet.masters[owner].running, handover_diagnostics(fleet, owner, other)
    fleet.masters[owner].close()
    other_id = ids[str(fleet.masters[other].basedir)]
    wait_for(lambda: fleet.pollers(other).get(poller) == other_id, 60,
             what="the other master to run the poller",
             diagnostics=lambda: handover_diagnostics(fleet, owner, other))
    time.sleep(POLL * 2)   # the new owner has polled the current head
    commit(fleet.app_work, {"VERSION": "three\n"}, "three")
    build = wait_for(lambda: next((b for b in fleet.builds("app", other)[before:]
                                   if b["complete"]), None),
                     BUILD_TIMEOUT, interval=0.5, what="a build after the hand-over")
    assert build["results"] == 0, build["state_string"]
    assert build["masterid"] == other_id
    masters = {m["masterid"]: m for m in fleet.masters[other].rest.get("masters")["masters"]}
    assert masters[owner_id]["active"] is False
