"""Benchmark: 1000 buildouts watching 50 repositories -> exactly 50 pollers.

Why: pollers are the expensive part of watching (each runs a VCS command
every poll interval on the master), so their number must follow the
number of distinct repositories, never the number of buildouts. Also
reports how long building pollers and schedulers takes next to a whole
``populate()``.

    .venv/bin/python bench/watching.py [--buildouts 1000] [--repos 50] [--check]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from anybox_buildbot import BuildoutsConfigurator


def make_master(root: Path, buildouts: int, repos: int) -> Path:
    sections = []
    for index in range(buildouts):
        repo = f"ssh://git@example.com/group/repo{index % repos}.git"
        branch = ("master", "stable", "next")[index % 3]
        hg = f"hg https://hg.example.com/lib{index % 5} default"
        extra = f"watch = git {repo} {branch}\n        {hg}\n" if index % 4 == 0 else ""
        sections.append(f"[b{index:04d}]\nbuildout = git {repo} {branch} buildout.cfg\n"
                        f"tree-stable-timer = 60\n{extra}")
    (root / "buildouts").mkdir(parents=True)
    (root / "buildouts" / "MANIFEST.cfg").write_text("\n".join(sections))
    (root / "workers.cfg").write_text("[w1]\npassword = x\n[w2]\npassword = y\n")
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buildouts", type=int, default=1000)
    parser.add_argument("--repos", type=int, default=50)
    parser.add_argument("--check", action="store_true", help="exit 1 if a goal is missed")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = make_master(Path(tmp), args.buildouts, args.repos)
        start = time.perf_counter()
        config: dict = {}
        conf = BuildoutsConfigurator(str(root), config, poll_interval=300)
        conf.populate()
        total = time.perf_counter() - start
        pollers = len(config["change_source"])
        changes = sum(1 for s in config["schedulers"] if s.name.endswith("-changes"))
        # pollers and schedulers again, alone, on the registered buildouts
        conf._watch_cache = None
        start = time.perf_counter()
        sources = conf.make_change_sources()
        scheds = conf.make_schedulers()
        watch_time = time.perf_counter() - start
    expected = args.repos + len({i % 5 for i in range(0, args.buildouts, 4)})
    print(f"{args.buildouts} buildouts over {args.repos} git repositories "
          f"(+5 hg repositories watched by a quarter of them)")
    print(f"  populate(): {total:.3f} s; pollers + schedulers alone: {watch_time:.3f} s")
    print(f"  pollers: {pollers} (expected {expected}); change schedulers: {changes}; "
          f"made again: {len(sources)} pollers, {len(scheds)} schedulers")
    ok = pollers == expected and changes == args.buildouts
    print(("PASS" if ok else "FAIL") + ": one poller per distinct repository")
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
