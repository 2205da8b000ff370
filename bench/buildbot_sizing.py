"""Benchmark: Buildbot's own start-up and reconfig cost by number of builders.

Why: past a few thousand builders the master's time goes to Buildbot, not
to us (bench/populate.py: our share is a fraction of the Buildbot objects'
cost). Admins need to know what to expect, on SQLite and on PostgreSQL,
to size a master or decide to split the fleet (docs/sizing.rst).

How: the synthetic fleet of bench/populate.py (200 workers, about two
builders per buildout), cut to the wanted number of builders, loaded by a
real ``master.cfg`` using the configurator, in a real master
(``tests/support/localrun.py``), with a PostgreSQL cluster of its own for
the PostgreSQL rows. For each database and size:

- ``create``: ``buildbot create-master -r`` (database schema);
- ``start``: from ``buildbot start`` to "BuildMaster is running" (the
  config loaded, every builder registered in the database);
- ``reconfig``: ``buildbot reconfig`` of the same files, to "configuration
  update complete" (what every change of a manifest costs);
- the master's resident memory after start and after the reconfig.

    .venv/bin/python bench/buildbot_sizing.py [--sizes 1000,3000] [--db sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "support"))
from populate import SEED, make_master  # noqa: E402

from localrun import Master, PgCluster  # noqa: E402

BUILDERS_PER_BUILDOUT = 2.1     # of the synthetic fleet (bench/populate.py)
TIMEOUT = 3600

MASTER_CFG = """\
from anybox_buildbot import BuildoutsConfigurator
c = BuildmasterConfig = {{
    'buildbotNetUsageData': None,
    'title': 'sizing',
    'buildbotURL': '{url}',
    'protocols': {{'pb': {{'port': '{pb}'}}}},
    'www': {{'port': '{www}', 'plugins': {{}}}},
    'db': {{'db_url': {db_url!r}}},
}}
conf = BuildoutsConfigurator(basedir, c)
conf.add_capability_environ('rabbitmq', dict(version_prop='rabbitmq_version', abbrev='rmq',
                            environ={{'RMQ_BASE_URI': '%(cap(base_uri):-)s'}}))
conf.populate()
"""


def rss_mib(pid: int | None) -> float:
    """Resident memory of a process (MiB), from /proc."""
    if pid is None:
        return float("nan")
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(root: Path, builders: int, db: str, cluster: PgCluster | None) -> dict:
    buildouts = max(1, round(builders / BUILDERS_PER_BUILDOUT))
    fleet = make_master(root / f"{db}-{builders}", buildouts, SEED)
    if cluster is not None:
        name = f"sizing_{builders}"
        cluster.psql(f"CREATE DATABASE {name}")
        db_url = cluster.sqlalchemy_url(name)
    else:
        db_url = "sqlite:///state.sqlite"
    master = Master(fleet)
    master.write_config(MASTER_CFG.format(url=master.url, pb=master.pb_endpoint,
                                          www=master.www_endpoint, db_url=db_url))
    row: dict = {"db": db, "buildouts": buildouts}
    start = time.perf_counter()
    master.create(db_url)
    row["create"] = time.perf_counter() - start
    try:
        start = time.perf_counter()
        master.start(timeout=TIMEOUT)
        row["start"] = time.perf_counter() - start
        row["builders"] = len(master.rest.builders())
        row["workers"] = len(master.rest.workers())
        row["rss_start"] = rss_mib(master.pid)
        start = time.perf_counter()
        code, out = master.reconfig(timeout=TIMEOUT)
        row["reconfig"] = time.perf_counter() - start
        if code != 0:
            raise SystemExit(f"reconfig failed:\n{out}")
        row["rss_reconfig"] = rss_mib(master.pid)
    finally:
        master.close()
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=lambda s: tuple(int(x) for x in s.split(",")),
                        default=(1000, 3000), help="builders, comma-separated")
    parser.add_argument("--db", type=lambda s: tuple(s.split(",")),
                        default=("sqlite", "postgresql"), help="sqlite and/or postgresql")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="anybox-sizing-") as tmp, \
            contextlib.ExitStack() as stack:
        root = Path(tmp)
        cluster = None
        if "postgresql" in args.db:
            cluster = stack.enter_context(PgCluster())   # its own folder, open to postgres
            cluster.start()
        for db in args.db:
            for size in args.sizes:
                row = measure(root, size, db, cluster if db == "postgresql" else None)
                rows.append(row)
                print(f"  {db} {row['builders']} builders: start {row['start']:.1f} s, "
                      f"reconfig {row['reconfig']:.1f} s", file=sys.stderr, flush=True)
    print("Buildbot start-up and reconfig by number of builders (seconds, MiB resident)")
    print(f"{'database':<11} {'builders':>8} {'workers':>7} {'create':>7} {'start':>7} "
          f"{'reconfig':>8} {'MiB start':>9} {'MiB reconf':>10}")
    for r in rows:
        print(f"{r['db']:<11} {r['builders']:>8} {r['workers']:>7} {r['create']:>7.1f} "
              f"{r['start']:>7.1f} {r['reconfig']:>8.1f} {r['rss_start']:>9.0f} "
              f"{r['rss_reconfig']:>10.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
