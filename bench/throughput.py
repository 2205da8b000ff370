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

    .venv/bin/python bench/throughput.py [--sleep 2] [--repeat 2]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import sys
import tempfile
import textwrap
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))
from localrun import Rest, running_master  # noqa: E402

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sleep", type=float, default=2.0,
                        help="seconds the recipe works in each build (not our cost)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per N (best kept)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a goal is missed")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="anybox-throughput-") as tmp:
        master_dir = make_master_dir(Path(tmp), args.sleep)
        with running_master(master_dir, {"w1": "bench-pass"}) as master:
            rest = master.rest
            cold = together(rest, BUILDOUTS[:1])
            warm_first = together(rest, BUILDOUTS[:1])
            together(rest, BUILDOUTS[1:])          # their venvs, from the wheel cache
            times = {n: min(together(rest, BUILDOUTS[:n]) for _ in range(args.repeat))
                     for n in (1, 2, 4)}
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
