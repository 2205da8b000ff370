"""Fixtures for end-to-end tests: real PostgreSQL, masters and workers.

Why: e2e tests must exercise the genuine programs, and a failing test must
neither leave processes behind nor hide why it failed.  So every fixture stops
what it started (and :func:`localrun.stop_all` runs at exit as
a last resort), and a failing test gets the twistd.log tails of the masters and
workers it used appended to its report.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest

import localrun
from localrun import Master, PgCluster, PgNotFoundError, Worker

E2E_DIR = Path(__file__).parent

#: Masters and workers made by the factories and not stopped yet; their logs are
#: attached to the report of a failing test.
_ACTIVE: list[Master | Worker] = []


#: The modules that take longest (minutes: several cold bootstraps, a wheel
#: built and a tutorial run, a second cluster...), longest first. ``make
#: test`` runs whole modules in two processes, handing out the next module
#: in collection order to whichever process is free: starting with the
#: longest keeps one of them from running alone at the end (a module not
#: listed here just runs after these, in the usual order).
LONGEST_FIRST = ("test_db_steps_e2e.py", "test_stepsets_e2e.py", "test_wheel.py",
                 "test_capability_choice_e2e.py", "test_realbuild_e2e.py",
                 "test_multimaster_e2e.py", "test_standalone.py", "test_bootstrap.py",
                 "test_ports_e2e.py", "test_cache_lock_e2e.py", "test_vcs.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/e2e is e2e, even if a module forgets pytestmark;
    the longest modules come first (see ``LONGEST_FIRST``)."""
    rank = {name: index for index, name in enumerate(LONGEST_FIRST)}
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.e2e)
    # sort() is stable: tests keep their order within a module
    items.sort(key=lambda item: rank.get(item.path.name, len(rank))
               if E2E_DIR in item.path.parents else len(rank))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed and report.when in ("setup", "call") and E2E_DIR in item.path.parents:
        for proc in _ACTIVE:
            text = "\n".join(proc.log_text().splitlines()[-60:])
            report.sections.append((f"{proc.kind} {proc.basedir}/twistd.log (tail)", text))
    return report


@pytest.fixture(scope="session", autouse=True)
def _cleanup_on_sigterm() -> Iterator[None]:
    """SIGTERM (CI timeout) -> KeyboardInterrupt, so teardown stops PostgreSQL."""
    localrun.install_sigterm_handler()
    yield
    localrun.stop_all()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """One real PostgreSQL cluster for the whole session (root may connect, no password).

    Missing binaries are a failure, not a skip: `make sysdeps` installs them and
    an e2e run that silently skips proves nothing.
    """
    try:
        cluster = PgCluster()
    except PgNotFoundError as exc:
        pytest.fail(f"{exc}", pytrace=False)
    with cluster:
        cluster.start()
        yield cluster


class MasterFactory:
    """Make masters under one directory; stops them all in :meth:`close`.

    ``config`` is a function of the :class:`Master` because the config needs
    the master's ports, which exist only once the object does.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.made: list[Master] = []

    def __call__(
        self,
        config: Callable[[Master], str],
        name: str = "master",
        *,
        create: bool = True,
        start: bool = True,
        db_url: str | None = None,
    ) -> Master:
        master = Master(self.root / name)
        self.made.append(master)
        _ACTIVE.append(master)
        master.write_config(config(master))
        if create:
            master.create(db_url=db_url)
        if start:
            master.start()
        return master

    def close(self) -> None:
        for master in reversed(self.made):
            master.close()
            if master in _ACTIVE:
                _ACTIVE.remove(master)


class WorkerFactory:
    """Make workers connected to a master; stops them all in :meth:`close`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.made: list[Worker] = []

    def __call__(
        self,
        master: Master,
        name: str = "w1",
        password: str = "pass",
        *,
        start: bool = True,
        wait_connected: bool = True,
        timeout: float = 30.0,
    ) -> Worker:
        """``wait_connected`` waits for REST ``connected_to`` *and* builder attach
        (turn it off for a worker that no builder uses)."""
        worker = Worker(self.root / name, name, password, master.pb_port)
        self.made.append(worker)
        _ACTIVE.append(worker)
        worker.create()
        if start:
            worker.start()
            if wait_connected:
                master.rest.wait_worker_connected(name, timeout)
                worker.wait_attached(timeout)
        return worker

    def close(self) -> None:
        for worker in reversed(self.made):
            worker.close()
            if worker in _ACTIVE:
                _ACTIVE.remove(worker)


@pytest.fixture
def master_factory(tmp_path: Path) -> Iterator[MasterFactory]:
    factory = MasterFactory(tmp_path / "masters")
    try:
        yield factory
    finally:
        factory.close()


@pytest.fixture
def worker_factory(tmp_path: Path) -> Iterator[WorkerFactory]:
    """Workers are stopped before masters: fixture teardown is in reverse order
    of setup, so request ``master_factory`` first (or only) in the test."""
    factory = WorkerFactory(tmp_path / "workers")
    try:
        yield factory
    finally:
        factory.close()
