"""Benchmark: hostile or huge files against a benign file of the same size.

Why: a pasted log, a binary file or a 10 MB line in a manifest must be
refused as fast as a normal file of that size is read; a parser that goes
quadratic on one shape would let one bad fragment stall every reconfig. The
test suite only guards against hangs (no absolute timings there); this
prints, for each hostile shape, its load time divided by the load time of a
benign manifest of the same byte size, measured in the same run.

    .venv/bin/python bench/hostile_inputs.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from anybox_buildbot import ConfigError
from anybox_buildbot.errors import Errors
from anybox_buildbot.manifest import load_manifests
from anybox_buildbot.workers import load_workers

GIT = "buildout = git https://example.com/app.git main buildout.cfg"
MB = 1024 * 1024


def benign_manifest(size: int) -> str:
    """Ordinary sections, as many as fill ``size`` bytes."""
    parts, total, i = [], 0, 0
    while total < size:
        part = (f"[app-{i}]\n{GIT}\nbuild-requires = postgresql >= 9.6\n"
                f"build-for = python == 3.{i % 13}\n\n")
        parts.append(part)
        total += len(part)
        i += 1
    return "".join(parts)


def hostile() -> dict[str, tuple[Callable, bytes]]:
    rnd = random.Random(1)
    ten = 10 * MB
    return {
        "random bytes (2 MB)": (load_workers, rnd.randbytes(2 * MB)),
        "a 10 MB comment": (load_workers, ("[w1]\npassword = pw\n# " + "x" * ten).encode()),
        "a 10 MB requirement": (load_manifests,
                                (f"[app]\n{GIT}\nbuild-for = pg " + ">= 1 " * (ten // 5)).encode()),
        "10 000 inheriting sections": (load_manifests, "".join(
            f"[s{i}]\ninherit = s{i + 1}\nbuild-category = c{i}\n"
            for i in range(9_999)).encode() + f"[s9999]\n{GIT}\n".encode()),
        "50 000 unknown options": (load_manifests, (f"[app]\n{GIT}\n" + "".join(
            f"bogus-{i} = 1\n" for i in range(50_000))).encode()),
    }


def load_seconds(loader: Callable, path: Path, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        errors = Errors()
        loader([path], errors)
        try:
            errors.raise_if_any()
        except ConfigError:
            pass
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="best of N loads")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'hostile input':<28} {'bytes':>10}  ratio to a benign manifest of that size")
        for name, (loader, data) in hostile().items():
            bad = Path(tmp) / "bad.cfg"
            bad.write_bytes(data)
            good = Path(tmp) / "good.cfg"
            good.write_text(benign_manifest(len(data)))
            ratio = (load_seconds(loader, bad, args.repeat)
                     / load_seconds(load_manifests, good, args.repeat))
            print(f"{name:<28} {len(data):>10}  {ratio:6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
