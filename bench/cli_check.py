"""Benchmark: ``anybox-buildbot check`` and ``plan`` on the big configuration.

Why: admins run ``check``/``plan`` (and ``plan --diff``) before every
reconfig; on 1000 buildouts x 200 workers they must answer in seconds
(goal: under 10 s each). Runs the real console script as a subprocess, so
interpreter start-up and the master.cfg load are included, as a user sees.

    .venv/bin/python bench/cli_check.py [--buildouts 1000] [--check]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from populate import make_master  # noqa: E402  (a sibling script, not a package)

GOAL_SECONDS = 10.0
MASTER_CFG = """\
from anybox_buildbot import BuildoutsConfigurator
c = BuildmasterConfig = {'buildbotNetUsageData': None, 'db': {'db_url': 'sqlite://'},
                         'protocols': {'pb': {'port': 'tcp:0:interface=127.0.0.1'}}}
conf = BuildoutsConfigurator(basedir, c)
conf.add_capability_environ('rabbitmq', dict(version_prop='rabbitmq_version', abbrev='rmq',
                            environ={'RMQ_BASE_URI': '%(cap(base_uri):-)s'}))
conf.populate()
"""


def timed(argv: list[str]) -> tuple[float, int, int]:
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True)
    return time.perf_counter() - start, result.returncode, len(result.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buildouts", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--check", action="store_true", help="exit 1 if a goal is missed")
    args = parser.parse_args(argv)
    script = [sys.executable, "-m", "anybox_buildbot.cli"]
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        master = make_master(Path(tmp), args.buildouts, args.seed)
        (master / "master.cfg").write_text(MASTER_CFG)
        other = make_master(Path(tmp) / "other", args.buildouts, args.seed + 1)
        (other / "master.cfg").write_text(MASTER_CFG)
        print(f"{args.buildouts} buildouts x 200 workers")
        for label, command in (("check", ["check", str(master)]),
                               ("plan", ["plan", str(master)]),
                               ("plan --json", ["plan", "--json", str(master)]),
                               ("plan --diff", ["plan", str(master), "--diff", str(other)])):
            seconds, code, size = timed(script + command)
            passed = seconds < GOAL_SECONDS and code == 0
            ok &= passed
            print(f"  {label:<12} {seconds:6.2f} s  exit {code}  {size} bytes of output  "
                  f"{'PASS' if passed else 'FAIL'} (goal < {GOAL_SECONDS:.0f} s)")
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
