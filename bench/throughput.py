"""Benchmark: warm builds side by side on one worker (issue 14).

Why: a worker with ``max_builds = N`` should run N builds of different
buildouts in about the time of one when they need nothing new (their
bootstrap and ``bin/buildout`` only read the worker's shared caches). The
former per-worker cache lock ran them one after the other (about Nx).

How: a real master and one real worker (``tests/support/localrun.py``) with
``max_builds = 4``; four buildouts of the same recipe egg, served from a
local ``find-links`` folder. The recipe sleeps ``--sleep`` seconds when it
installs or updates: the part of a real build that is not ours (compiling,
running tests...), so the figures show what our steps and locks add.

1. ``app0`` is built on the fresh worker (cold: venv made, zc.buildout
   downloaded into the wheel cache, the egg got), then again (warm); the
   other buildouts get their venvs (from the wheel cache).
2. 1, 2 and 4 warm buildouts are forced together, ``--repeat`` times each;
   the wall time from forcing to the last build's end is kept (best).

Printed: N-together / one (goal: 4 within 2x one) and warm / cold of one
build (goal: <= 0.2).

3. With ``--breakdown RUNS``: ``app0`` is forced RUNS more times, one at a
   time, and the mean time of each step is printed, split into the
   worker's command time and Buildbot's share (step records, logs, RPC),
   with the gaps between steps. The step times come from a small service
   the master runs only then (REST keeps whole seconds); the timed runs
   above are not changed by it beyond writing a line per step event.

    .venv/bin/python bench/throughput.py [--sleep 2] [--repeat 2] [--breakdown 8]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import statistics
import sys
import tempfile
import textwrap
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from stepclock import CLOCK_IMPORTS  # noqa: E402  (a sibling script, not a package)

from localrun import Rest, running_master, simple_master_cfg  # noqa: E402

BUILDOUTS = tuple(f"app{i}" for i in range(4))
GOAL_TOGETHER = 2.0     # 4 together / one
GOAL_WARM_COLD = 0.2    # warm / cold
TIMEOUT = 600


def recipe_wheel(folder: Path, sleep: float) -> None:
    """A buildout recipe egg sleeping ``sleep`` seconds in install and update."""
    dist = "benchrecipe-1.0.dist-info"
    files = {
        "benchrecipe.py": textwrap.dedent(f"""\
            import time


            class Recipe:
                def __init__(self, buildout, name, options):
                    pass

                def install(self):
                    time.sleep({sleep})
                    return ()

                def update(self):
                    time.sleep({sleep})
            """).encode(),
        f"{dist}/METADATA": b"Metadata-Version: 2.1\nName: benchrecipe\nVersion: 1.0\n",
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\n"
                         b"Tag: py3-none-any\n",
        f"{dist}/entry_points.txt": b"[zc.buildout]\ndefault = benchrecipe:Recipe\n",
        f"{dist}/top_level.txt": b"benchrecipe\n",
    }
    record = [f"{path},sha256={_digest(data)},{len(data)}" for path, data in files.items()]
    files[f"{dist}/RECORD"] = ("\n".join(record + [f"{dist}/RECORD,,"]) + "\n").encode()
    with zipfile.ZipFile(folder / "benchrecipe-1.0-py3-none-any.whl", "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_master_dir(root: Path, sleep: float) -> Path:
    links = root / "links"
    links.mkdir()
    recipe_wheel(links, sleep)
    master_dir = root / "master"
    buildouts = master_dir / "buildouts"
    buildouts.mkdir(parents=True)
    manifest = ["[DEFAULT]", "post-buildout-steps =", ""]
    for name in BUILDOUTS:
        (buildouts / f"{name}.cfg").write_text(textwrap.dedent(f"""\
            [buildout]
            parts = {name}
            newest = false
            find-links = {links}
            index = http://127.0.0.1:9/simple

            [{name}]
            recipe = benchrecipe
            """))
        manifest += [f"[{name}]", f"buildout = standalone {name}.cfg", ""]
    (buildouts / "MANIFEST.cfg").write_text("\n".join(manifest))
    (master_dir / "workers.cfg").write_text(
        f"[w1]\npassword = bench-pass\nmax_builds = {len(BUILDOUTS)}\n")
    return master_dir


def together(rest: Rest, names: tuple[str, ...]) -> float:
    """Force ``names`` at once; seconds until the last one ended."""
    start = time.perf_counter()
    requests = rest.force(list(names))
    for name, brid in requests.items():
        build = rest.wait_build(brid, timeout=TIMEOUT)
        if build["results"] != 0:
            raise SystemExit(f"build of {name} failed: {build.get('state_string')}")
    return time.perf_counter() - start


_ELAPSED = re.compile(r"^elapsedTime=([0-9.]+)$", re.M)

def clock_master_cfg(clock: Path):
    """master.cfg with the step clock writing to ``clock``."""
    def make(master) -> str:
        return simple_master_cfg(master, imports=CLOCK_IMPORTS,
                                 setup=f"c['services'] = [StepClock(path={str(clock)!r})]\n")
    return make


def read_clock(path: Path) -> dict[int, list[tuple[str, float, float]]]:
    """``{buildid: [(step, started, finished), ...]}`` in step order."""
    events: dict[tuple[int, int], dict] = {}
    for line in path.read_text().splitlines():
        event = json.loads(line)
        events.setdefault((event["buildid"], event["number"]), {"name": event["name"]})[
            event["event"]] = event["t"]
    builds: dict[int, list[tuple[str, float, float]]] = {}
    for (buildid, _number), event in sorted(events.items()):
        if "started" in event and "finished" in event:
            builds.setdefault(buildid, []).append(
                (event["name"], event["started"], event["finished"]))
    return builds


def breakdown(rest: Rest, clock: Path, name: str, runs: int) -> None:
    """Where a warm build of ``name`` spends its time: ``runs`` builds
    forced one at a time; per step, its time on the master's clock and, for
    commands, the worker's own ``elapsedTime`` (the rest of a step is
    Buildbot's: step and log records, RPC to the worker); the gaps are the
    master's work between two steps."""
    elapsed: dict[str, list[float]] = {}
    wall: dict[int, float] = {}
    for _ in range(runs):
        start = time.perf_counter()
        brid = rest.force([name])[name]
        build = rest.wait_build(brid, timeout=TIMEOUT)
        wall[build["buildid"]] = time.perf_counter() - start
        for step in rest.steps(build["buildid"]):
            if any(log["slug"] == "stdio"
                   for log in rest.step_logs(build["buildid"], step["number"])):
                found = _ELAPSED.findall(rest.step_log(build["buildid"], step["number"]))
                if found:
                    elapsed.setdefault(step["name"], []).append(float(found[-1]))
    per_step: dict[str, list[float]] = {}
    gaps, spans = [], []
    for buildid, steps in read_clock(clock).items():
        if buildid not in wall:
            continue
        for step, started, finished in steps:
            per_step.setdefault(step, []).append(finished - started)
        gaps.append(sum(b[1] - a[2] for a, b in zip(steps, steps[1:], strict=False)))
        spans.append(steps[-1][2] - steps[0][1])
    mean = statistics.fmean
    print(f"one warm build of {name}: mean seconds of {runs} builds forced one at a time")
    print(f"  {'step':28} {'step':>7} {'command':>8} {'Buildbot':>9}")
    total_command = 0.0
    for step, values in per_step.items():
        if step in elapsed:
            command = mean(elapsed[step])
            total_command += command
            print(f"  {step:28} {mean(values):7.3f} {command:8.3f} {mean(values) - command:9.3f}")
        else:
            print(f"  {step:28} {mean(values):7.3f} {'':8} {mean(values):9.3f}")
    print(f"  {'gaps between steps':28} {mean(gaps):7.3f} {'':8} {mean(gaps):9.3f}")
    print(f"  {'first step start to last end':28} {mean(spans):7.3f} {total_command:8.3f} "
          f"{mean(spans) - total_command:9.3f}")
    print(f"  {'force to seen done (client)':28} {mean(wall.values()):7.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sleep", type=float, default=2.0,
                        help="seconds the recipe works in each build (not our cost)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per N (best kept)")
    parser.add_argument("--breakdown", type=int, default=0, metavar="RUNS",
                        help="then print where one warm build spends its time (RUNS builds)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a goal is missed")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="anybox-throughput-") as tmp:
        master_dir = make_master_dir(Path(tmp), args.sleep)
        clock = Path(tmp) / "stepclock.jsonl"
        master_cfg = clock_master_cfg(clock) if args.breakdown else simple_master_cfg
        with running_master(master_dir, {"w1": "bench-pass"}, master_cfg) as master:
            rest = master.rest
            cold = together(rest, BUILDOUTS[:1])
            warm_first = together(rest, BUILDOUTS[:1])
            together(rest, BUILDOUTS[1:])          # their venvs, from the wheel cache
            times = {n: min(together(rest, BUILDOUTS[:n]) for _ in range(args.repeat))
                     for n in (1, 2, 4)}
            if args.breakdown:
                breakdown(rest, clock, BUILDOUTS[0], args.breakdown)
    one = times[1]
    print(f"warm builds side by side on one worker (max_builds = {len(BUILDOUTS)}); "
          f"the recipe works {args.sleep:g} s per build; seconds, best of {args.repeat}")
    print(f"  cold build (fresh worker)     {cold:7.2f}")
    print(f"  first warm build              {warm_first:7.2f}")
    for n, seconds in times.items():
        print(f"  {n} warm build(s) together     {seconds:7.2f}   {seconds / one:5.2f}x one")
    ok = True

    def verdict(passed: bool, text: str) -> None:
        nonlocal ok
        ok = ok and passed
        print(f"{'PASS' if passed else 'FAIL'}: {text}")

    verdict(times[4] / one <= GOAL_TOGETHER,
            f"4 together / one = {times[4] / one:.2f} (goal <= {GOAL_TOGETHER:g})")
    verdict(one / cold <= GOAL_WARM_COLD,
            f"warm / cold = {one / cold:.2f} (goal <= {GOAL_WARM_COLD:g})")
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
