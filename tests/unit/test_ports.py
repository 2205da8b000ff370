"""Port reservation: the range, workers.cfg's build-ports, the pool, the steps,
the step sets that take a port, and the server script of functional-odoo."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from buildbot.process.properties import Properties
from buildbot.process.results import FAILURE, SUCCESS
from buildbot.test.reactor import TestReactorMixin
from buildbot.test.steps import TestBuildStepMixin
from twisted.trial import unittest
from unit_helpers import STANDALONE_HEAD, configure_errors

from anybox_buildbot import ConfigError
from anybox_buildbot.errors import Errors
from anybox_buildbot.factory import SCRIPTS_DIR, make_factory
from anybox_buildbot.manifest import load_manifests
from anybox_buildbot.ports import PortRange, parse_port_range
from anybox_buildbot.registry import compile_registry, default_capabilities
from anybox_buildbot.rules import RuleError
from anybox_buildbot.steps.odoo import server_was_started
from anybox_buildbot.steps.ports import PortPool, ReleasePort, ReservePort
from anybox_buildbot.subfactories import builtin_catalog, load_registry

REGISTRY = compile_registry(default_capabilities(), Errors())


# --------------------------------------------------------------------------- #
# the range
# --------------------------------------------------------------------------- #

@pytest.mark.parametrize("text, expected", [
    ("8069-8079", (8069, 8079)),
    (" 8069 - 8079 ", (8069, 8079)),
    ("8069", (8069, 8069)),
    ("1024-1024", (1024, 1024)),
    ("65000-65535", (65000, 65535)),
])
def test_port_ranges(text: str, expected: tuple[int, int]) -> None:
    assert parse_port_range(text) == PortRange(*expected)


@pytest.mark.parametrize("text, problem", [
    ("", "expected a port range"),
    ("8069-", "expected a port range"),
    ("8069-8079-8089", "expected a port range"),
    ("80-90", "expected a port number"),
    ("8069-70000", "expected a port number"),
    ("-8069", "expected a port range"),
    ("8079-8069", "reversed port range"),
    ("8069..8079", "expected a port number"),
    ("８０６９", "expected a port number"),
    ("2000-9000", "port range of 7001 ports"),
])
def test_bad_port_ranges(text: str, problem: str) -> None:
    with pytest.raises(RuleError) as info:
        parse_port_range(text)
    assert info.value.problem.startswith(problem)
    assert info.value.hint


def test_range_as_property_round_trip() -> None:
    ports = PortRange(8069, 8071)
    assert list(ports) == [8069, 8070, 8071] and len(ports) == 3 and 8070 in ports
    assert str(ports) == "8069-8071" and str(PortRange(9000, 9000)) == "9000"
    assert PortRange.from_property(ports.as_property()) == ports
    for junk in ("8069-8071", [8069], [8071, 8069], [True, 9000], None, [80, 90]):
        assert PortRange.from_property(junk) is None


# --------------------------------------------------------------------------- #
# workers.cfg
# --------------------------------------------------------------------------- #

def test_worker_build_ports(load_workers_text) -> None:
    (worker,) = load_workers_text("[w]\npassword = p\nbuild-ports = 8069-8072\narch = x\n")
    assert worker.ports == PortRange(8069, 8072)
    assert worker.properties == {"arch": "x"}
    assert worker.build_properties == {"arch": "x", "build_ports": [8069, 8072]}
    (plain,) = load_workers_text("[w]\npassword = p\n")
    assert plain.ports is None and plain.build_properties == {}


@pytest.mark.parametrize("line, message", [
    ("build-ports = 8069-80x", "worker [w] build-ports: expected a port number: '80x'"),
    ("build-ports = 9000-8000", "worker [w] build-ports: reversed port range: '9000-8000'"),
    ("build-ports = 22", "worker [w] build-ports: expected a port number: '22'"),
    # the brief's spelling and the property's name are near-misses, never properties
    ("odoo-ports = 8069-8079", "unknown option 'odoo-ports'"),
    ("build_ports = [1, 2]", "unknown option 'build_ports'"),
])
def test_bad_worker_build_ports(load_workers_text, line: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_workers_text(f"[w]\npassword = p\n{line}\n")
    (error,) = info.value.errors
    assert error.startswith("workers0.cfg:3: ") or ":3: " in error
    assert message in error


def test_configured_worker_carries_the_range(tmp_path: Path) -> None:
    from anybox_buildbot import BuildoutsConfigurator
    (tmp_path / "buildouts").mkdir()
    (tmp_path / "buildouts" / "MANIFEST.cfg").write_text("")
    (tmp_path / "workers.cfg").write_text("[w1]\npassword = p\nbuild-ports = 9100-9101\n")
    config: dict = {}
    BuildoutsConfigurator(str(tmp_path), config).populate()
    (worker,) = config["workers"]
    assert worker.properties.getProperty("build_ports") == [9100, 9101]


# --------------------------------------------------------------------------- #
# the pool
# --------------------------------------------------------------------------- #

def test_pool_gives_distinct_ports_and_takes_them_back() -> None:
    pool, ports = PortPool(), PortRange(9000, 9001)
    a, b, c = object(), object(), object()
    assert pool.reserve("w1", ports, a) == 9000
    assert pool.reserve("w1", ports, b) == 9001
    assert pool.reserve("w1", ports, c) is None          # all held
    assert pool.reserve("w2", ports, c) == 9000          # per worker
    assert pool.reserve("w1", ports, a) == 9000          # again: the same one
    assert pool.release("w1", a) == [9000]
    assert pool.release("w1", a) == []
    assert pool.reserve("w1", ports, c) == 9000
    assert pool.held("w1") == {9000: c, 9001: b}


def test_pool_reclaims_ports_of_finished_holders() -> None:
    pool, ports = PortPool(), PortRange(9000, 9000)
    dead = SimpleNamespace(finished=False)
    assert pool.reserve("w1", ports, dead) == 9000
    alive = SimpleNamespace(finished=False)
    assert pool.reserve("w1", ports, alive, lambda h: not h.finished) is None
    dead.finished = True     # ended without its release step
    assert pool.reserve("w1", ports, alive, lambda h: not h.finished) == 9000


class PortStepsTest(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    def setUp(self):
        self.setup_test_reactor()
        self.pool = PortPool()
        return self.setup_test_build_step()

    def reserve(self, fallback=None, **props):
        self.setup_step(ReservePort(fallback=fallback, pool=self.pool))
        for name, value in props.items():
            self.build.setProperty(name, value, "Worker")
        self.build.getWorkerName = lambda: "w1"
        self.build.finished = False

    async def test_worker_range_wins_over_the_manifest(self):
        self.reserve(PortRange(7000, 7001), build_ports=[9000, 9001],
                     anybox_env={"PGHOST": "h"})
        self.expect_outcome(result=SUCCESS, state_string="port 9000")
        self.expect_property("build_port", 9000)
        self.expect_property("anybox_env", {"PGHOST": "h", "BUILD_PORT": "9000"})
        await self.run_step()
        assert self.pool.held("w1") == {9000: self.build}

    async def test_manifest_range_when_the_worker_has_none(self):
        self.reserve(PortRange(7000, 7001))
        self.expect_outcome(result=SUCCESS, state_string="port 7000")
        self.expect_property("build_port", 7000)
        await self.run_step()

    async def test_no_range_fails_saying_where_to_declare_one(self):
        self.reserve()
        self.expect_outcome(result=FAILURE, state_string="no port range (failure)")
        self.expect_log_file("reserve-port", "worker 'w1' declares no port range and the "
                             "manifest gives none:\nadd 'build-ports = 8069-8079' to its "
                             "section of workers.cfg, or 'reserve-port.ports = 8069-8079' "
                             "to the buildout\n")
        await self.run_step()

    async def test_all_ports_held_fails_naming_the_holders(self):
        other = SimpleNamespace(finished=False, builder=SimpleNamespace(name="b2"), number=7)
        self.pool.reserve("w1", [9000], other)
        self.reserve(build_ports=[9000, 9000])
        self.expect_outcome(result=FAILURE, state_string="no free port in 9000 (failure)")
        self.expect_log_file("reserve-port", "all 1 ports of 9000 (the worker's build-ports) "
                             "are held by running builds on worker 'w1': 9000 (b2 #7)\n"
                             "widen the range to at least the worker's max_builds\n")
        await self.run_step()

    async def test_release(self):
        self.setup_step(ReleasePort(pool=self.pool))
        self.build.getWorkerName = lambda: "w1"
        self.pool.reserve("w1", [9000, 9001], self.build)
        self.expect_outcome(result=SUCCESS, state_string="released port 9000")
        await self.run_step()
        assert self.pool.held("w1") == {}


# --------------------------------------------------------------------------- #
# step sets
# --------------------------------------------------------------------------- #

HEAD = STANDALONE_HEAD


def load(tmp_path: Path, section: str):
    (tmp_path / "a.cfg").write_text("[buildout]\nparts =\n")
    (tmp_path / "MANIFEST.cfg").write_text(HEAD + section)
    errors = Errors()
    specs = load_manifests([tmp_path / "MANIFEST.cfg"], errors, step_sets=builtin_catalog())
    errors.raise_if_any()
    return specs[0]


def after_buildout(tmp_path: Path, section: str) -> list:
    """The ``testing-db`` step if any (early in the build: it names the
    database before templates are rendered), then the steps after
    ``bin/buildout`` and its develop check."""
    factory = make_factory(load(tmp_path, section), None, REGISTRY, load_registry())
    named = [name(f) for f in factory.steps]
    naming = [factory.steps[named.index("testing-db")]] if "testing-db" in named else []
    assert not naming or named.index("testing-db") < named.index("buildout")
    return [*naming, *factory.steps[named.index("check-develop") + 1:]]


def name(step) -> str:
    return step.kwargs.get("name") or step.step_class.name


def rendered(step, **values) -> list[str]:
    props = Properties()
    for key, value in values.items():
        props.setProperty(key, value, "test")
    got: list = []
    props.render(step.kwargs["command"]).addCallback(got.append)
    return got[0]


def test_odoo_sets_with_port_share_one_reservation(tmp_path: Path) -> None:
    steps = after_buildout(tmp_path, """\
buildout-part = odoo
post-buildout-steps = install-modules install-modules-test
install-modules.addons = sale
install-modules-test.addons = sale
install-modules-test.port = true
install-modules-test.port_option = --xmlrpc-port
install-modules-test.ports = 9200-9209
""")
    assert [name(s) for s in steps] == [
        "testing-db", "dropdb-stale", "install-modules", "reserve-port",
        "install-modules-test", "final-dropdb", "release-port"]
    by = {name(s): s for s in steps}
    assert rendered(by["install-modules-test"], testing_db="d", build_port=9203) == [
        "bin/odoo", "-d", "d", "-i", "sale", "--stop-after-init", "--test-enable",
        "--log-level=test", "--xmlrpc-port=9203"]
    assert "--http-port" not in " ".join(rendered(by["install-modules"], testing_db="d"))
    assert by["reserve-port"].kwargs["fallback"] == PortRange(9200, 9209)
    assert by["release-port"].kwargs["alwaysRun"] is True


def test_odoo_default_is_the_original_default_build(tmp_path: Path) -> None:
    steps = after_buildout(tmp_path, "post-buildout-steps = odoo-default\n")
    assert [name(s) for s in steps] == [
        "testing-db", "dropdb-stale", "createdb", "odoo-default", "final-dropdb"]
    assert steps[0].kwargs["from_template"] is True
    assert rendered(steps[3], testing_db="d") == [
        "bin/odoo", "-d", "d", "-i", "all", "--stop-after-init", "--test-enable",
        "--log-level=test"]
    steps = after_buildout(tmp_path, """\
buildout-part = erp
post-buildout-steps = odoo-default
odoo-default.addons = sale stock
odoo-default.db_template = tpl
odoo-default.port = true
""")
    assert [name(s) for s in steps] == [
        "testing-db", "dropdb-stale", "createdb", "reserve-port", "odoo-default",
        "release-port", "final-dropdb"]
    assert steps[0].kwargs["template"] == "tpl"
    assert rendered(steps[4], testing_db="d", build_port=8070)[:5] == [
        "bin/erp", "-d", "d", "-i", "sale,stock"]
    assert rendered(steps[4], testing_db="d", build_port=8070)[-1] == "--http-port=8070"


def test_openerpcommand_initialize_tests(tmp_path: Path) -> None:
    steps = after_buildout(tmp_path, """\
buildout-part = openerp
db-steps = simple_create
post-buildout-steps = openerpcommand-initialize-tests
""")
    assert [name(s) for s in steps] == [
        "testing-db", "dropdb-stale", "createdb", "openerpcommand-initialize-tests",
        "final-dropdb"]
    assert rendered(steps[3], testing_db="d") == [
        "bin/openerp_command", "initialize", "--no-create", "--tests", "--database", "d",
        "--all-modules", "--exclude", "auth_ldap", "--exclude", "document_ftp"]
    steps = after_buildout(tmp_path, """\
buildout-part = openerp
db-steps = simple_create
post-buildout-steps = openerpcommand-initialize-tests
openerpcommand-initialize-tests.addons = sale, stock
openerpcommand-initialize-tests.port = true
""")
    assert rendered(steps[4], testing_db="d", build_port=8071)[6:] == [
        "--module", "sale", "--module", "stock", "--port=8071"]


def test_functional_odoo_steps(tmp_path: Path) -> None:
    steps = after_buildout(tmp_path, """\
buildout-part = odoo
db-steps = simple_create
post-buildout-steps = functional-odoo
functional-odoo.commands = bin/robot "a b;$(x)"
    bin/other
functional-odoo.args = --workers=0
functional-odoo.wait = 90
functional-odoo.port_db_args = true
""")
    assert [name(s) for s in steps] == [
        "testing-db", "dropdb-stale", "createdb", "reserve-port", "ship-odoo_server.py",
        "odoo-start", "functional-odoo", "functional-odoo-2", "odoo-stop", "final-dropdb",
        "release-port"]
    by = {name(s): s for s in steps}
    assert rendered(by["odoo-start"], testing_db="d", build_port=8072) == [
        "python3", "anybox-odoo_server.py", "start", "--port", "8072", "--timeout", "90",
        "--pidfile", "../anybox-odoo-server.pid", "--logfile", "../anybox-odoo-server.log",
        "--", "bin/odoo", "-d", "d", "--http-port=8072", "--workers=0"]
    assert rendered(by["functional-odoo"], testing_db="d", build_port=8072) == [
        "bin/robot", "a b;$(x)", "8072", "d"]
    stop = by["odoo-stop"]
    assert stop.kwargs["alwaysRun"] and stop.kwargs["doStepIf"] is server_was_started
    assert rendered(stop) == ["python3", "anybox-odoo_server.py", "stop", "--pidfile",
                              "../anybox-odoo-server.pid", "--logfile",
                              "../anybox-odoo-server.log"]


def test_reserve_port_alone(tmp_path: Path) -> None:
    steps = after_buildout(tmp_path, "post-buildout-steps = reserve-port test\n"
                                     "reserve-port.ports = 9300-9301\n")
    assert [name(s) for s in steps] == ["reserve-port", "test", "release-port"]


@pytest.mark.parametrize("section, line, message", [
    ("post-buildout-steps = reserve-port\nreserve-port.ports = 80-90\n", 4,
     "reserve-port.ports: expected a port number: '80'"),
    ("buildout-part = odoo\npost-buildout-steps = install-modules\n"
     "install-modules.addons = x\ninstall-modules.port = maybe\n", 6,
     "install-modules.port: expected true or false"),
    ("buildout-part = odoo\npost-buildout-steps = functional-odoo\n"
     "functional-odoo.commands = t\nfunctional-odoo.wait = 0\n", 6,
     "functional-odoo.wait: expected a number of seconds (1 to 3600)"),
    ("buildout-part = odoo\npost-buildout-steps = functional-odoo\n"
     "functional-odoo.commands = t\nfunctional-odoo.port_option = -p\n", 6,
     "unknown port_option"),
    ("post-buildout-steps = functional-odoo\nfunctional-odoo.commands = t\n", 3,
     "step set 'functional-odoo' needs the 'buildout-part' option"),
    ("db-steps = simple_create\npost-buildout-steps = odoo-default\n", 4,
     "odoo-default and simple_create both create testing_db"),
    ("buildout-part = odoo\npost-buildout-steps = openerpcommand-initialize-tests\n", 4,
     "runs with --no-create: the build must create testing_db"),
    ("buildout-part = odoo\npost-buildout-steps = reserve-port functional-odoo\n"
     "reserve-port.ports = 9000-9001\nfunctional-odoo.commands = t\n"
     "functional-odoo.ports = 9100-9101\n", 5,
     "different port ranges for one build: 'reserve-port.ports = 9000-9001, "
     "functional-odoo.ports = 9100-9101'"),
])
def test_bad_port_options_are_config_errors(tmp_path: Path, section: str, line: int,
                                             message: str) -> None:
    errors = configure_errors(tmp_path, section)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"buildouts/MANIFEST.cfg:{line}: buildout [a]"), errors[0]
    assert message in errors[0]


# --------------------------------------------------------------------------- #
# the server script, for real
# --------------------------------------------------------------------------- #

SCRIPT = str(Path(SCRIPTS_DIR) / "odoo_server.py")
SERVER = textwrap.dedent("""\
    import http.server, sys
    port = int(sys.argv[1])
    print("serving", port, flush=True)
    http.server.HTTPServer(("127.0.0.1", port), http.server.SimpleHTTPRequestHandler
                           ).serve_forever()
    """)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_script(tmp_path: Path, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, SCRIPT, *args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=timeout)


def files(tmp_path: Path) -> list[str]:
    return ["--pidfile", str(tmp_path / "s.pid"), "--logfile", str(tmp_path / "s.log")]


def test_server_script_starts_waits_and_stops(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "server.py").write_text(SERVER)
    started = server_script(tmp_path, "start", "--port", str(port), "--timeout", "20",
                            *files(tmp_path), "--", sys.executable, "server.py", str(port))
    assert started.returncode == 0, started.stderr
    assert f"the server answers on port {port} (HTTP 200)" in started.stdout
    pid = int((tmp_path / "s.pid").read_text().split()[0])
    stopped = server_script(tmp_path, "stop", *files(tmp_path))
    assert stopped.returncode == 0
    assert f"server (pid {pid}): stopped" in stopped.stdout
    assert f"serving {port}" in stopped.stdout       # the end of its log
    assert not (tmp_path / "s.pid").exists()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    again = server_script(tmp_path, "stop", *files(tmp_path))
    assert again.returncode == 0 and "no server to stop" in again.stdout


def test_server_script_refuses_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = server_script(tmp_path, "start", "--port", str(port), *files(tmp_path), "--",
                               sys.executable, "-c", "pass")
    assert result.returncode == 2
    assert f"port {port} is already in use on this worker" in result.stderr
    assert not (tmp_path / "s.pid").exists()


def test_server_script_reports_a_server_that_dies(tmp_path: Path) -> None:
    port = free_port()
    result = server_script(tmp_path, "start", "--port", str(port), *files(tmp_path), "--",
                           sys.executable, "-c", "print('cannot load module x'); exit(3)")
    assert result.returncode == 1
    assert f"the server exited with code 3 before answering on port {port}" in result.stderr
    assert "cannot load module x" in result.stderr


def test_server_script_gives_up_after_the_wait_and_kills_the_server(tmp_path: Path) -> None:
    port = free_port()
    began = time.monotonic()
    result = server_script(tmp_path, "start", "--port", str(port), "--timeout", "1",
                           "--grace", "1", *files(tmp_path), "--", sys.executable, "-c",
                           "import time; print('still loading', flush=True); time.sleep(60)")
    assert result.returncode == 1
    assert f"did not answer on port {port} within 1 s" in result.stderr
    assert "still loading" in result.stderr
    assert time.monotonic() - began < 30       # killed, not waited for
    assert not (tmp_path / "s.pid").exists()


def test_server_script_never_stops_a_recycled_pid(tmp_path: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                               start_new_session=True)
    try:
        (tmp_path / "s.pid").write_text(f"{sleeper.pid} 1\n")   # not its start time
        result = server_script(tmp_path, "stop", *files(tmp_path))
        assert result.returncode == 0
        assert "no longer the server this build started" in result.stdout
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()


def kernel_start_time(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[19]


def test_server_script_never_stops_a_process_it_cannot_identify(tmp_path: Path) -> None:
    """A pid file without the start time (or a process whose start time
    cannot be read) may name a recycled pid: nothing is killed."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                               start_new_session=True)
    try:
        (tmp_path / "s.pid").write_text(f"{sleeper.pid}\n")   # no start time
        result = server_script(tmp_path, "stop", *files(tmp_path))
        assert result.returncode == 0
        assert "cannot tell it is the server this build started: nothing stopped" \
            in result.stdout
        assert sleeper.poll() is None
        assert not (tmp_path / "s.pid").exists()
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.mark.skipif(not Path("/proc/self/stat").exists() or os.geteuid() != 0
                    or not Path("/usr/bin/python3").exists(),
                    reason="needs Linux, root (to run the script as nobody) and /usr/bin/python3")
def test_a_server_group_it_may_not_signal_is_reported_and_forgotten() -> None:
    """killpg refused (another user's group): said, the pid file removed so
    that the next start is not stuck on it."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                               start_new_session=True)
    here = Path(tempfile.mkdtemp())
    try:
        here.chmod(0o777)
        (here / "s.pid").write_text(f"{sleeper.pid} {kernel_start_time(sleeper.pid)}\n")
        (here / "s.pid").chmod(0o666)
        script = here / "odoo_server.py"
        script.write_text(Path(SCRIPT).read_text())

        def as_nobody() -> None:
            os.setgid(65534)
            os.setuid(65534)
        result = subprocess.run(["/usr/bin/python3", str(script), "stop", *files(here)],
                                cwd=here, capture_output=True, text=True, timeout=30,
                                preexec_fn=as_nobody)
        assert result.returncode == 0, result.stderr
        assert f"server (pid {sleeper.pid}): not allowed to signal it" in result.stdout
        assert "Traceback" not in result.stderr
        assert sleeper.poll() is None
        assert not (here / "s.pid").exists()
    finally:
        sleeper.kill()
        sleeper.wait()
        shutil.rmtree(here)


def test_server_script_stops_a_server_left_by_an_interrupted_build(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "server.py").write_text(SERVER)
    command = ["--", sys.executable, "server.py", str(port)]
    first = server_script(tmp_path, "start", "--port", str(port), *files(tmp_path), *command)
    assert first.returncode == 0, first.stderr
    old_pid = int((tmp_path / "s.pid").read_text().split()[0])
    # no stop: the build was interrupted; the next build of the builder starts
    second = server_script(tmp_path, "start", "--port", str(port), *files(tmp_path), *command)
    assert second.returncode == 0, second.stderr
    assert f"left by an earlier build: server (pid {old_pid}): stopped" in second.stdout
    assert server_script(tmp_path, "stop", *files(tmp_path)).returncode == 0


def test_odoo_stop_runs_only_after_odoo_start_ran() -> None:
    stop = SimpleNamespace(name="odoo-stop", results=None)
    build = SimpleNamespace(executedSteps=[SimpleNamespace(name="buildout", results=FAILURE),
                                           stop])
    stop.build = build
    assert not server_was_started(stop)          # halted before the server started
    build.executedSteps.insert(1, SimpleNamespace(name="odoo-start", results=3))  # skipped
    assert not server_was_started(stop)
    build.executedSteps.insert(1, SimpleNamespace(name="odoo-start", results=FAILURE))
    assert server_was_started(stop)              # it ran: there may be a server
