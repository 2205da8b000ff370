"""Benchmark: our own cost at 10 000 buildouts x 2 000 workers (issues 14, 16).

Why: a shop with thousands of buildouts reloads its master and runs
``check``/``plan`` before each change; what we add to Buildbot's own cost
must stay small and grow no faster than the output. For each size this
prints:

- ``populate()`` against the hand-written baseline building the same
  Buildbot objects (bench/populate.py measures both): the ratio is our
  overhead (goal: <= 1.2 at 10 000 buildouts);
- ``anybox-buildbot check`` and ``plan --json`` run as a user runs them
  (the console script's ``main`` in a new process, output to a file): wall
  time, peak resident memory of the process (``VmHWM``), bytes of output.
  Goals: ``check`` under 3 s, ``plan --json`` under 1 GiB; issue 16: both
  under 30 s and 2 GiB;
- the growth factor from one size to the next, per 10x buildouts at a
  fixed number of workers (goal for populate: <= 11x).

Usage (``make bench`` runs the first form; about 3 minutes here)::

    .venv/bin/python bench/scale.py
    .venv/bin/python bench/scale.py --sizes 1000,10000 --workers 2000 --check
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli_check import MASTER_CFG  # noqa: E402  (sibling scripts, not a package)
from populate import SEED, make_master, measure  # noqa: E402

GOAL_RATIO = 1.2          # populate / baseline at the largest size
GOAL_GROWTH = 11.0        # populate time per 10x buildouts
GOAL_CHECK_SECONDS = 3.0
GOAL_JSON_MIB = 1024.0
GOAL_16_SECONDS = 30.0    # issue 16: check and plan --json
GOAL_16_MIB = 2048.0


@dataclass
class Run:
    seconds: float
    peak_mib: float
    code: int
    output_bytes: int


#: The console script's ``main``, then the process's peak resident memory
#: (``VmHWM``) on stderr. Not ``getrusage``'s ``ru_maxrss``: Linux carries
#: it over ``exec`` from the forking parent, this benchmark (600 MiB at
#: 10 000 buildouts), so every child would seem to need at least that much.
RUNNER = """\
import sys
from anybox_buildbot.cli import main
try:
    code = main(sys.argv[1:])
finally:
    sys.stdout.flush()
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            sys.stderr.write("peak-kib " + line.split()[1] + "\\n")
sys.exit(code)
"""


def run_cli(args: list[str], out_path: Path) -> Run:
    """The console script's ``main`` in a fresh process; its own peak memory."""
    with open(out_path, "wb") as out:
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", RUNNER, *args], stdout=out,
                              stderr=subprocess.PIPE, text=True)
        seconds = time.perf_counter() - start
    peak = [line.split()[1] for line in done.stderr.splitlines()
            if line.startswith("peak-kib ")]
    return Run(seconds, int(peak[-1]) / 1024 if peak else float("nan"), done.returncode,
               out_path.stat().st_size)


def growth(small: float, large: float, small_n: int, large_n: int) -> float:
    """Growth factor per 10x of the input, from two sizes."""
    if small <= 0 or large_n <= small_n:
        return float("nan")
    return (large / small) ** (1 / math.log10(large_n / small_n))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=lambda s: tuple(int(x) for x in s.split(",")),
                        default=(1000, 10000), help="buildout counts, comma-separated")
    parser.add_argument("--workers", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=1, help="populate runs (best kept)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a goal is missed")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="anybox-scale-") as tmp:
        root = Path(tmp)
        for size in sorted(args.sizes):
            master = make_master(root, size, SEED, args.workers)
            (master / "master.cfg").write_text(MASTER_CFG)
            row = measure(master, size, args.repeat)
            check = run_cli(["check", str(master)], root / "check.out")
            plan = run_cli(["plan", "--json", str(master)], root / "plan.json")
            rows.append((size, row, check, plan))
            print(f"  measured {size} buildouts", file=sys.stderr, flush=True)

    print(f"anybox_buildbot at scale: {args.workers} workers; seconds, peak MiB of the process")
    print(f"{'buildouts':>9} {'builders':>8} {'populate':>9} {'baseline':>9} {'ratio':>6} "
          f"{'parse':>7} {'plan':>7} {'check s':>8} {'check MiB':>9} {'json s':>8} "
          f"{'json MiB':>8} {'json MB out':>11}")
    for size, row, check, plan in rows:
        print(f"{size:>9} {row.builders:>8} {row.populate:>9.2f} {row.baseline:>9.2f} "
              f"{row.ratio:>6.2f} {row.parse:>7.2f} {row.plan:>7.2f} {check.seconds:>8.2f} "
              f"{check.peak_mib:>9.0f} {plan.seconds:>8.2f} {plan.peak_mib:>8.0f} "
              f"{plan.output_bytes / 1e6:>11.1f}")
    ok = True

    def verdict(passed: bool, text: str) -> None:
        nonlocal ok
        ok = ok and passed
        print(f"{'PASS' if passed else 'FAIL'}: {text}")

    print()
    for (n1, r1, c1, p1), (n2, r2, c2, p2) in zip(rows, rows[1:], strict=False):
        per10 = growth(r1.populate, r2.populate, n1, n2)
        print(f"growth per 10x buildouts ({n1} -> {n2}): populate {per10:.1f}x, baseline "
              f"{growth(r1.baseline, r2.baseline, n1, n2):.1f}x, builders "
              f"{growth(r1.builders, r2.builders, n1, n2):.1f}x, check "
              f"{growth(c1.seconds, c2.seconds, n1, n2):.1f}x, plan --json "
              f"{growth(p1.seconds, p2.seconds, n1, n2):.1f}x")
        verdict(per10 <= GOAL_GROWTH,
                f"populate grows {per10:.1f}x per 10x buildouts (goal <= {GOAL_GROWTH:g}x)")
    size, row, check, plan = rows[-1]
    at = f"at {size} x {args.workers}"
    verdict(row.ratio <= GOAL_RATIO,
            f"populate/baseline {at} = {row.ratio:.2f} (goal <= {GOAL_RATIO:g})")
    verdict(check.code == 0 and check.seconds < GOAL_CHECK_SECONDS,
            f"check {at}: {check.seconds:.1f} s, exit {check.code} "
            f"(goal < {GOAL_CHECK_SECONDS:g} s)")
    verdict(plan.code == 0 and plan.peak_mib < GOAL_JSON_MIB,
            f"plan --json {at}: {plan.peak_mib:.0f} MiB peak (goal < {GOAL_JSON_MIB:g} MiB)")
    for label, run in (("check", check), ("plan --json", plan)):
        verdict(run.seconds < GOAL_16_SECONDS and run.peak_mib < GOAL_16_MIB,
                f"issue 16: {label} {at}: {run.seconds:.1f} s, {run.peak_mib:.0f} MiB "
                f"(goal < {GOAL_16_SECONDS:g} s and < {GOAL_16_MIB:g} MiB)")
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
