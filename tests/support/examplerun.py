"""Run the example master of ``examples/`` with real local workers.

Shared by ``make demo`` and the end-to-end tests, so that what the demo
shows is exactly what the tests check: a real master built from
``examples/master.cfg`` and ``examples/buildouts/``, two real workers on
loopback and a real PostgreSQL cluster whose port, socket directory and
binaries reach the workers through a ``postgresql`` capability line.
Only works from a source checkout (``examples/`` is not installed).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from localrun import Master, PgCluster, Worker, free_port

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PG_WORKER = "local-pg"
PLAIN_WORKER = "local-plain"


def workers_cfg(pg: PgCluster | None, passwords: dict[str, str]) -> str:
    """A workers.cfg for the local fleet, with the cluster's real values."""
    pg_line = (f"postgresql {pg.version} port={pg.port} host={pg.host} bin={pg.bin_dir}\n"
               "             " if pg is not None else "")
    return (
        "# Written by tests/support/examplerun.py for this local run.\n"
        f"[{PG_WORKER}]\n"
        f"password = {passwords[PG_WORKER]}\n"
        f"capability = {pg_line}fakelib 1.0 tag=one\n"
        "worker_priority = 10\n"
        "\n"
        f"[{PLAIN_WORKER}]\n"
        f"password = {passwords[PLAIN_WORKER]}\n"
        "capability = fakelib 2.0 tag=two\n"
        "max_builds = 1\n"
    )


@dataclass
class ExampleRun:
    """Master + workers (+ PostgreSQL) under ``root``; ``stop()`` ends them all."""

    root: Path
    with_pg: bool = True
    passwords: dict[str, str] = field(default_factory=lambda: {
        PG_WORKER: "pg-worker-Secret-4242", PLAIN_WORKER: "plain-worker-Secret-4343"})
    master: Master | None = None
    workers: dict[str, Worker] = field(default_factory=dict)
    pg: PgCluster | None = None

    @property
    def master_dir(self) -> Path:
        return self.root / "master"

    def prepare(self) -> Master:
        """Create the master directory from examples/ (no process started)."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self.with_pg and self.pg is None:
            self.pg = PgCluster()
            self.pg.start()
        pb, www = free_port(), free_port()
        env = {"ANYBOX_PB_PORT": str(pb), "ANYBOX_WWW_PORT": str(www)}
        self.master = Master(self.master_dir, pb_port=pb, www_port=www, env=env)
        self.master_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(EXAMPLES / "master.cfg", self.master_dir / "master.cfg")
        shutil.copytree(EXAMPLES / "buildouts", self.master_dir / "buildouts",
                        dirs_exist_ok=True)
        (self.master_dir / "workers.cfg").write_text(workers_cfg(self.pg, self.passwords))
        self.master.create()
        return self.master

    def start(self) -> Master:
        master = self.master or self.prepare()
        master.start()
        for name in (PG_WORKER, PLAIN_WORKER):
            worker = Worker(self.root / name, name, self.passwords[name], master.pb_port)
            worker.create()
            worker.start()
            self.workers[name] = worker
        for name, worker in self.workers.items():
            master.rest.wait_worker_connected(name, 30)
            worker.wait_attached(30)
        return master

    def stop(self) -> None:
        for worker in self.workers.values():
            worker.close()
        if self.master is not None:
            self.master.close()
        if self.pg is not None:
            self.pg.close()

    def __enter__(self) -> ExampleRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
