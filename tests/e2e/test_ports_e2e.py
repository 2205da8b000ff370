"""Two Odoo-like builds side by side on one worker, each on its own port.

One master, one worker (``max_builds = 2``, ``build-ports`` = two free
ports), the session's PostgreSQL cluster. Two buildouts run
``functional-odoo``: a develop-egg recipe writes a fake ``bin/odoo`` (an
HTTP server answering with the name of its ``-d`` database on its
``--http-port``) and ``bin/check``, the functional test: it waits until
both ports of the range answer (so the two servers run at the same time),
then reads its own. ``fo-fail``'s test then fails.

Round one forces both; round two forces both again: with two ports and two
builds, round two only gets its ports if round one, the failed build
included, gave them back.
"""

from __future__ import annotations

import shutil
import socket
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from localrun import PgCluster, Rest, running_master, write_recipe

BUILD_TIMEOUT = 300
PREFIX = "po_"
SUCCESS, WARNINGS, FAILURE, SKIPPED = 0, 1, 2, 3

RECIPE = '''\
import os
import sys

SCRIPTS = {scripts!r}


class Recipe:
    """Writes bin/odoo (a fake server) and bin/check (a functional test)."""

    def __init__(self, buildout, name, options):
        self.bin = buildout["buildout"]["bin-directory"]

    def install(self):
        made = []
        for name, text in SCRIPTS.items():
            path = os.path.join(self.bin, name)
            with open(path, "w") as handle:
                handle.write("#!" + sys.executable + "\\n" + text)
            os.chmod(path, 0o755)
            made.append(path)
        return made

    update = install
'''

FAKE_ODOO = '''\
"""Fake Odoo: answer every GET with the -d database name on --http-port."""
import http.server
import sys

args = sys.argv[1:]
db = args[args.index("-d") + 1]
port = int(next(a for a in args if a.startswith("--http-port=")).split("=", 1)[1])


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = db.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        print("2026-01-01 00:00:00,000 1 INFO", db, "werkzeug:", args[0] % args[1:], flush=True)


print("2026-01-01 00:00:00,000 1 INFO", db, "odoo.service.server: HTTP service on port",
      port, flush=True)
http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
'''

CHECK = '''\
"""Functional test: wait for both servers of the range, read our own.

Each run marks in BARRIER that it saw both servers, and waits for the
other's mark before it ends (its server is stopped when it ends).
"""
import os
import sys
import time
import urllib.request

PORTS, BARRIER = {ports}, {barrier}
*flags, port, db = sys.argv[1:]
assert os.environ["BUILD_PORT"] == port, (os.environ["BUILD_PORT"], port)
assert os.environ["PGDATABASE"] == db, (os.environ["PGDATABASE"], db)


def get(p):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/" % p, timeout=2) as answer:
            return answer.read().decode()
    except OSError:
        return None


def wait(condition, what):
    deadline = time.monotonic() + 120
    while not condition():
        if time.monotonic() > deadline:
            sys.exit("gave up waiting for " + what)
        time.sleep(0.2)


wait(lambda: all(get(p) for p in PORTS), "the other build's server")
print("OWN", port, get(int(port)))
print("ALL", sorted(get(p) for p in PORTS), flush=True)
open(os.path.join(BARRIER, port), "w").close()
wait(lambda: len(os.listdir(BARRIER)) == len(PORTS), "the other build's test")
sys.exit(1 if "--fail" in flags else 0)
'''


def free_pair() -> tuple[int, int]:
    """Two consecutive ports nothing listens on."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1]
        if first >= 65535:
            continue
        with socket.socket() as a, socket.socket() as b:
            try:
                a.bind(("", first))
                b.bind(("", first + 1))
            except OSError:
                continue
        return first, first + 1
    raise RuntimeError("no two consecutive free ports")


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Run:
    rest: Rest
    ports: tuple[int, int]
    rounds: list[dict[str, dict]] = field(default_factory=list)
    listening_after_first: dict[int, bool] = field(default_factory=dict)

    def props(self, round_: int, builder: str) -> dict:
        return self.rest.build_properties(self.rounds[round_][builder]["buildid"])

    def steps(self, round_: int, builder: str) -> dict[str, dict]:
        return {s["name"]: s for s in self.rest.steps(self.rounds[round_][builder]["buildid"])}

    def log(self, round_: int, builder: str, step: str) -> str:
        return self.rest.step_log(self.rounds[round_][builder]["buildid"], step)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, pg_cluster: PgCluster) -> Iterator[Run]:
    root = tmp_path_factory.mktemp("ports")
    ports = free_pair()
    barrier = root / "barrier"
    check = CHECK.replace("{ports}", repr(list(ports))).replace(
        "{barrier}", "os.environ['BARRIER']")
    scripts = {"odoo": FAKE_ODOO, "check": check}
    recipe = write_recipe(root / "recipe", "fakeodoo_ports", RECIPE.format(scripts=scripts))
    master_dir = root / "master"
    buildouts = master_dir / "buildouts"
    buildouts.mkdir(parents=True)
    (buildouts / "odoo.cfg").write_text(
        f"[buildout]\ndevelop = {recipe}\nparts = odoo\n\n[odoo]\nrecipe = fakeodoo_ports\n")
    (buildouts / "MANIFEST.cfg").write_text(textwrap.dedent(f"""\
        [DEFAULT]
        buildout = standalone odoo.cfg
        buildout-options = buildout:newest=false
        build-requires = postgresql
        buildout-part = odoo
        db-steps = simple_create
        post-buildout-steps = functional-odoo
        functional-odoo.port_db_args = true
        functional-odoo.wait = 60

        env.BARRIER = {barrier}

        [fo-pass]
        functional-odoo.commands = bin/check

        [fo-fail]
        functional-odoo.commands = bin/check --fail
        """))
    pg = pg_cluster
    (master_dir / "workers.cfg").write_text(textwrap.dedent(f"""\
        [w1]
        password = ports-pass
        capability = postgresql {pg.version} port={pg.port} host={pg.host} bin={pg.bin_dir}
        db_prefix = {PREFIX}
        max_builds = 2
        build-ports = {ports[0]}-{ports[1]}
        """))
    with running_master(master_dir, {"w1": "ports-pass"}) as master:
        result = Run(master.rest, ports)
        for round_ in range(2):
            shutil.rmtree(barrier, ignore_errors=True)
            barrier.mkdir()
            requests = master.rest.force(["fo-pass", "fo-fail"])
            result.rounds.append({builder: master.rest.wait_build(brid, timeout=BUILD_TIMEOUT)
                                  for builder, brid in requests.items()})
            if round_ == 0:
                result.listening_after_first = {p: listening(p) for p in ports}
        yield result


def test_side_by_side_builds_get_distinct_ports_and_each_reaches_its_own_server(
        run: Run) -> None:
    for round_ in range(2):
        builds = run.rounds[round_]
        assert builds["fo-pass"]["results"] == SUCCESS, builds["fo-pass"]["state_string"]
        assert builds["fo-fail"]["results"] == FAILURE
        got = {b: run.props(round_, b)["build_port"] for b in builds}
        assert sorted(got.values()) == list(run.ports), got    # distinct, from the range
        for builder, port in got.items():
            steps = run.steps(round_, builder)
            assert steps["reserve-port"]["results"] == SUCCESS
            assert steps["odoo-start"]["results"] == SUCCESS
            assert f"answers on port {port}" in run.log(round_, builder, "odoo-start")
            # its own server, found through BUILD_PORT, answers with its database
            log = run.log(round_, builder, "functional-odoo")
            assert f"OWN {port} {PREFIX}{builder}\n" in log
            # both servers answered at the same time: the builds overlapped
            assert f"ALL {sorted([PREFIX + 'fo-fail', PREFIX + 'fo-pass'])}" in log


def test_the_failed_build_stops_its_server_and_gives_its_port_back(run: Run) -> None:
    for round_ in range(2):
        steps = run.steps(round_, "fo-fail")
        assert steps["functional-odoo"]["results"] == FAILURE
        assert steps["odoo-stop"]["results"] == SUCCESS
        assert "server (pid" in run.log(round_, "fo-fail", "odoo-stop")
        port = run.props(round_, "fo-fail")["build_port"]
        assert steps["release-port"]["state_string"] == f"released port {port}"
        assert steps["final-dropdb"]["results"] == SUCCESS
    # nothing listens any more once round one is over ...
    assert run.listening_after_first == {p: False for p in run.ports}
    # ... and round two found both ports free again (asserted above: two
    # builds, two ports, both reservations succeeded)
