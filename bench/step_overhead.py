"""Per-build overhead of the steps the configurator adds, from real builds.

Why this exists: every build of every buildout runs our steps before the
project's own commands (choose capabilities, download the buildout, ship
and run the bootstrap, run ``bin/buildout``). With warm per-worker caches
a trivial buildout must cost under 2 s per build *beyond the commands
themselves* (issue 5's quality bar): what Buildbot and we add around the
programs, not the programs.

How: a real master and worker on loopback (``tests/support/localrun.py``),
a trivial standalone buildout (no parts) with ``db-steps = simple_create``
on a real PostgreSQL cluster, one warm-up build that fills the
worker's caches, then ``--builds`` measured builds, one at a time. For
each step of ours:

- *step time*: REST ``started_at``/``complete_at`` (Buildbot stores whole
  seconds, so its mean over the builds is shown as a cross-check) and the
  same events timed to the microsecond on the master (a small service in
  the bench's master.cfg records the message-queue step events);
- *command time*: the ``elapsedTime=`` the worker reports in the step's
  log for commands it ran (bootstrap, buildout); steps with no command
  (capability choice, file transfers) are all overhead;
- *overhead* = step time - command time; the total over our steps is
  compared with the goal.

Usage::

    .venv/bin/python bench/step_overhead.py               # report, exit 0
    .venv/bin/python bench/step_overhead.py --check       # exit 1 when over 2 s
    .venv/bin/python bench/step_overhead.py --builds 10 --keep /tmp/bench
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

# The harness is test code, in tests/support/ of the checkout.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from stepclock import CLOCK_IMPORTS  # noqa: E402  (a sibling script, not a package)

from localrun import Master, PgCluster, Rest, Worker  # noqa: E402

GOAL_OVERHEAD_SECONDS = 2.0
#: Steps the configurator adds to a standalone buildout, in build order.
OUR_STEPS = ("capabilities", "download-buildout", "ship-scripts", "bootstrap",
             "buildout", "check-develop", "testing-db", "dropdb-stale", "createdb", "final-dropdb")
_ELAPSED = re.compile(r"^elapsedTime=([0-9.]+)$", re.M)

MASTER_CFG = CLOCK_IMPORTS.replace("{", "{{").replace("}", "}}") + """\
from anybox_buildbot import configure_from_buildouts

c = BuildmasterConfig = {{
    'buildbotNetUsageData': None,
    'title': 'step overhead bench',
    'buildbotURL': '{url}',
    'protocols': {{'pb': {{'port': '{pb}'}}}},
    'www': {{'port': '{www}', 'plugins': {{}}}},
    'db': {{'db_url': 'sqlite:///state.sqlite'}},
    'services': [StepClock(path={clock!r})],
}}
configure_from_buildouts(basedir, c)
"""

MANIFEST = """\
[trivial]
buildout = standalone trivial.cfg
buildout-options = buildout:newest=false
build-requires = postgresql
db-steps = simple_create
post-buildout-steps =
"""


@dataclass
class Measured:
    """One build: per step, precise and REST durations and command time."""

    buildid: int
    results: int
    precise: dict[str, float] = field(default_factory=dict)
    rest: dict[str, int] = field(default_factory=dict)
    command: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0


def read_clock(path: Path) -> dict[int, dict[str, float]]:
    """``{buildid: {step: seconds}}`` from the master's step events."""
    started: dict[tuple[int, str], float] = {}
    durations: dict[int, dict[str, float]] = defaultdict(dict)
    if not path.exists():
        return durations
    for line in path.read_text().splitlines():
        event = json.loads(line)
        key = (event["buildid"], event["name"])
        if event["event"] == "started":
            started[key] = event["t"]
        elif key in started:
            durations[key[0]][key[1]] = event["t"] - started[key]
    return durations


def measure(rest: Rest, builder: str) -> Measured:
    start = time.monotonic()
    brid = rest.force([builder])[builder]
    build = rest.wait_build(brid, timeout=600)
    result = Measured(build["buildid"], build["results"], wall=time.monotonic() - start)
    for step in rest.steps(build["buildid"]):
        name = step["name"]
        if step["started_at"] is not None and step["complete_at"] is not None:
            result.rest[name] = step["complete_at"] - step["started_at"]
        if name in OUR_STEPS:
            try:
                log = rest.step_log(build["buildid"], step["number"])
            except Exception:
                continue   # transfers and the capability step have no stdio
            match = _ELAPSED.search(log)
            if match:
                result.command[name] = float(match.group(1))
    return result


def start(root: Path, pg: PgCluster) -> tuple[Master, Worker]:
    master_dir = root / "master"
    (master_dir / "buildouts").mkdir(parents=True)
    (master_dir / "buildouts" / "trivial.cfg").write_text("[buildout]\nparts =\n")
    (master_dir / "buildouts" / "MANIFEST.cfg").write_text(MANIFEST)
    (master_dir / "workers.cfg").write_text(
        "[w1]\npassword = bench-pass\n"
        f"capability = postgresql {pg.version} port={pg.port} host={pg.host} "
        f"bin={pg.bin_dir}\n")
    master = Master(master_dir)
    master.write_config(MASTER_CFG.format(url=master.url, pb=master.pb_endpoint,
                                          www=master.www_endpoint,
                                          clock=str(master_dir / "stepclock.jsonl")))
    master.create()
    master.start()
    worker = Worker(root / "w1", "w1", "bench-pass", master.pb_port)
    worker.create()
    worker.start()
    master.rest.wait_worker_connected("w1", 30)
    worker.wait_attached(30)
    return master, worker


def mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def report(runs: list[Measured], warmup: Measured, out=sys.stdout) -> float:
    """Print the table; return the mean overhead of our steps per build."""
    width = max(len(s) for s in OUR_STEPS) + 2
    print(f"\n{len(runs)} warm builds of a trivial standalone buildout with a test database "
          f"(warm-up build: {warmup.wall:.1f} s, results {warmup.results})\n", file=out)
    print(f"{'step':<{width}} {'step (s)':>9} {'REST (s)':>9} {'command (s)':>12} "
          f"{'overhead (s)':>13}", file=out)
    totals = {"step": 0.0, "rest": 0.0, "command": 0.0, "overhead": 0.0}
    for name in OUR_STEPS:
        step = mean([r.precise.get(name, 0.0) for r in runs])
        rest_mean = mean([float(r.rest.get(name, 0)) for r in runs])
        commands = [r.command[name] for r in runs if name in r.command]
        command = mean(commands) if commands else 0.0
        overhead = step - command
        totals["step"] += step
        totals["rest"] += rest_mean
        totals["command"] += command
        totals["overhead"] += overhead
        shown = f"{command:12.3f}" if commands else f"{'-':>12}"
        print(f"{name:<{width}} {step:9.3f} {rest_mean:9.2f} {shown} {overhead:13.3f}",
              file=out)
    print("-" * (width + 47), file=out)
    print(f"{'our steps':<{width}} {totals['step']:9.3f} {totals['rest']:9.2f} "
          f"{totals['command']:12.3f} {totals['overhead']:13.3f}", file=out)
    wall = mean([r.wall for r in runs])
    prep = mean([r.precise.get("worker_preparation", 0.0) for r in runs])
    print(f"\nwhole build, force -> complete seen by a REST client: {wall:.3f} s "
          f"(Buildbot's worker_preparation: {prep:.3f} s)", file=out)
    print("REST column: whole seconds from started_at/complete_at, averaged; "
          "step column: the same events on the master's clock.", file=out)
    return totals["overhead"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--builds", type=int, default=5, help="measured builds (default 5)")
    parser.add_argument("--check", action="store_true", help="exit 1 when the goal is missed")
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it")
    args = parser.parse_args(argv)
    root = args.keep or Path(tempfile.mkdtemp(prefix="anybox-bench-steps-"))
    root.mkdir(parents=True, exist_ok=True)
    pg = PgCluster()
    pg.start()
    master, worker = start(root, pg)
    try:
        warmup = measure(master.rest, "trivial")
        if warmup.results != 0:
            print(f"warm-up build failed (results {warmup.results}); see {root}",
                  file=sys.stderr)
            return 2
        runs = [measure(master.rest, "trivial") for _ in range(args.builds)]
        clock = read_clock(master.basedir / "stepclock.jsonl")
        for run in (warmup, *runs):
            run.precise = clock.get(run.buildid, {})
        failed = [r.buildid for r in runs if r.results != 0]
        if failed:
            print(f"builds {failed} failed; see {root}", file=sys.stderr)
            return 2
        overhead = report(runs, warmup)
    finally:
        worker.close()
        master.close()
        pg.close()
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    verdict = "PASS" if overhead < GOAL_OVERHEAD_SECONDS else "FAIL"
    print(f"\n{verdict}: {overhead:.3f} s per build beyond the commands "
          f"(goal: under {GOAL_OVERHEAD_SECONDS:g} s)")
    return 1 if args.check and verdict == "FAIL" else 0


if __name__ == "__main__":
    sys.exit(main())
