"""Benchmark of the Fleet page on a large synthetic fleet (issue 13).

Why this exists: the page must render server-side in under a second for
1000 buildouts x 200 workers, every time someone opens ``#/fleet``. The
model is built once per configuration load; a request renders one page of
builders (with each builder's 200 workers: who can run it with which
instance, why the others cannot). This prints what each part costs, as
times and as ratios to ``populate()`` of the same fleet, so a slow-down
shows whatever the machine.

Usage (``make bench`` runs the first form)::

    .venv/bin/python bench/fleet.py            # report, always exit 0
    .venv/bin/python bench/fleet.py --check    # exit 1 when the goal is missed

The fleet is bench/populate.py's (same generator, same seed).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from populate import SEED, make_master, new_configurator

from anybox_buildbot.fleet.app import make_app
from anybox_buildbot.fleet.model import build_model

GOAL_RENDER_SECONDS = 1.0       # one request, cold, 1000 buildouts x 200 workers
BUILDOUTS = 1000
WORKERS = 200


def timed(func: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def best_of(func: Callable[[], object], repeat: int = 3) -> float:
    return min(timed(func)[0] for _ in range(repeat))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        basedir = make_master(Path(tmp), BUILDOUTS, SEED, WORKERS)

        def populate():
            conf = new_configurator(basedir)
            conf.config["www"] = {"plugins": {}}
            conf.populate()
            return conf

        populate_s, conf = timed(populate)
        specs = list(conf.buildouts.values())
        diagnostics = conf.warnings.diagnostics

        def model():
            return build_model(conf.plan, conf.worker_specs, specs, diagnostics)

        model_s = best_of(model)
        fresh = model()
        client = make_app(fresh, live=lambda: None).test_client()

        def get(query: str = "") -> bytes:
            response = client.get("/index.html" + query)
            assert response.status_code == 200
            return response.data

        cold_s, first = timed(get)                  # computes 25 builders' details
        warm_s = best_of(get)
        last = f"?page={len(fresh.builders) // 25 + 1}"
        page2_cold_s, _ = timed(lambda: get("?page=2"))
        last_s = best_of(lambda: get(last))
        filtered_s = best_of(lambda: get("?q=app09"))
    builders = len(fresh.builders)
    rows = [
        ("populate() (whole load, page model included)", populate_s),
        ("page model alone (per load)", model_s),
        ("first request, page 1 (cold)", cold_s),
        ("page 1 again (details cached)", warm_s),
        ("page 2 (cold)", page2_cold_s),
        (f"last page ({last})", last_s),
        ("filtered (?q=app09)", filtered_s),
    ]
    print(f"Fleet page: {BUILDOUTS} buildouts -> {builders} builders x {WORKERS} workers; "
          f"page 1 is {len(first) // 1024} KiB of HTML")
    for label, seconds in rows:
        print(f"  {label:<46} {seconds * 1000:8.1f} ms  "
              f"{seconds / populate_s:6.3f} x populate")
    worst = max(cold_s, page2_cold_s, last_s, filtered_s)
    ok = worst < GOAL_RENDER_SECONDS
    print(f"goal: one request under {GOAL_RENDER_SECONDS:.1f} s: "
          f"{'met' if ok else 'MISSED'} (slowest {worst * 1000:.0f} ms)")
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
