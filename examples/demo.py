"""`make demo`: the example master, two local workers and a PostgreSQL cluster.

Run from a checkout (`make demo`): the harness comes from tests/support/.
Starts everything from examples/ on free loopback ports (master database in
sqlite, nothing to set up), forces a build of every builder, prints each
result, where the web UI and its Fleet page are, then keeps running until
Ctrl-C.
With DEMO_ONESHOT=1 it stops after the builds and exits 0 only if all
of them succeeded.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
# The harness that starts masters, workers and clusters is test code, kept
# in tests/support/ of the checkout (not in the installed package).
sys.path.insert(0, str(CHECKOUT / "tests" / "support"))

from examplerun import ExampleRun  # noqa: E402
from localrun import install_sigterm_handler  # noqa: E402

RESULTS = ["success", "warnings", "failure", "skipped", "exception", "retry", "cancelled"]
ROOT = CHECKOUT / "demo-run"


def main() -> int:
    oneshot = os.environ.get("DEMO_ONESHOT") == "1"
    install_sigterm_handler()
    shutil.rmtree(ROOT, ignore_errors=True)
    run = ExampleRun(ROOT)
    try:
        print("starting PostgreSQL, the master and two workers under", ROOT, flush=True)
        master = run.start()
        rest = master.rest
        builders = sorted(rest.builders())
        print(f"web UI: {master.url}")
        print(f"Fleet page (what each worker offers, why a buildout has no worker): "
              f"{master.url}#/fleet")
        print("builders:", ", ".join(builders), flush=True)
        warnings = [line.split("WARNING: ", 1)[1] for line in master.log_text().splitlines()
                    if "anybox_buildbot: WARNING" in line]
        for warning in warnings:
            print("warning:", warning)
        requests = rest.force(builders)
        print(f"forced {len(requests)} builds; waiting (first run downloads zc.buildout)...",
              flush=True)
        failed = 0
        for name in builders:
            build = rest.wait_build(requests[name], timeout=600)
            props = rest.build_properties(build["buildid"])
            result = RESULTS[build["results"]] if build["results"] is not None else "?"
            failed += build["results"] != 0
            print(f"  {name:<24} {result:<8} on {props.get('workername')}  "
                  f"{master.url}#/builders/{build['builderid']}/builds/{build['number']}",
                  flush=True)
        print(f"summary: {len(builders) - failed} of {len(builders)} builds succeeded; "
              f"{len(warnings)} buildout(s) without builder")
        if oneshot:
            return 1 if failed else 0
        print(f"master running at {master.url} - press Ctrl-C to stop", flush=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("\nstopping")
        return 0
    finally:
        run.stop()


if __name__ == "__main__":
    sys.exit(main())
