"""Take docs/images/fleet.png: the demo's Fleet page in headless Chromium.

Run from a checkout after ``make install sysdeps``::

    .venv/bin/python tools/fleet_screenshot.py

Starts what ``make demo`` starts (the example master, its two workers and a
PostgreSQL cluster, under a temporary directory), stops one worker so the
picture shows both states, takes the screenshot, and stops everything. No
build is forced: the page shows the plan, not results.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(CHECKOUT / "tests" / "support"))

from examplerun import PLAIN_WORKER, ExampleRun  # noqa: E402

OUT = CHECKOUT / "docs" / "images" / "fleet.png"


def main() -> int:
    browser = shutil.which("chromium")
    if browser is None:
        print("chromium is missing: run `make sysdeps`", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp, ExampleRun(Path(tmp) / "demo") as run:
        master = run.start()
        run.workers[PLAIN_WORKER].close()
        OUT.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-background-networking", "--disable-component-update",
                        "--disable-sync", "--no-first-run", "--hide-scrollbars",
                        f"--user-data-dir={Path(tmp) / 'profile'}",
                        "--virtual-time-budget=20000", "--window-size=1280,1100",
                        f"--screenshot={OUT}", master.url + "#/fleet"],
                       check=True, capture_output=True)
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
