"""The commands that talk to a running master over its REST API:
``force`` (with ``--wait``, follow the build) and ``status``.

The REST client is ``restclient``; following a forced build and checking
a ``--worker`` choice are ``forcewatch``'s. Everything a master sends is
printed through ``printable``: it may hold terminal escapes.
"""

from __future__ import annotations

import argparse
import os
import sys

from .forcewatch import WORKER_PROPERTY, Follower, check_worker, printable, request_url
from .restclient import Client
from .statusview import master_lines, worker_lines


def _client(args: argparse.Namespace) -> Client:
    user = args.user or os.environ.get("ANYBOX_BUILDBOT_USER")
    password = args.password or os.environ.get("ANYBOX_BUILDBOT_PASSWORD")
    token = args.token or os.environ.get("ANYBOX_BUILDBOT_TOKEN")
    return Client(args.url, user=user, password=password, token=token, timeout=args.timeout)


def _current_step(client: Client, buildid: int) -> str:
    steps = client.steps(buildid)
    running = [s for s in steps if s["started_at"] and not s["complete"]]
    step = running[-1] if running else (steps[-1] if steps else None)
    return (f"step {printable(step['number'], 20)} {printable(step['name'], 100)}" if step
            else "waiting for a worker")


def cmd_force(args: argparse.Namespace) -> int:
    props = {}
    for item in args.prop:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"--prop takes KEY=VALUE, got {item!r}", file=sys.stderr)
            return 2
        props[key] = value
    client = _client(args)
    if args.worker is not None:
        check = check_worker(client, args.builder, args.worker)
        if check.refusal:
            print(f"error: {check.refusal}", file=sys.stderr)
            return 2
        if check.note:
            print(check.note)
        props[WORKER_PROPERTY] = args.worker
    brid = client.force_build(args.builder, props)
    print(f"forced {args.builder}: build request {brid} ({request_url(client.base, brid)})",
          flush=True)
    if not args.wait:
        return 0
    return Follower(client, args.builder, brid, worker=args.worker, log_lines=args.log_lines,
                    interval=args.interval, verbose=args.verbose).run()


def cmd_status(args: argparse.Namespace) -> int:
    client = _client(args)
    builders = {b["builderid"]: name for name, b in client.builders().items()}
    masters = client.masters()
    names = {m["masterid"]: m["name"] for m in masters}
    lines = master_lines(masters) + worker_lines(client.workers(), builders, names)
    print("\n".join(lines))
    running = client.items("builds", "builds", complete="false")
    print(f"running builds: {len(running)}")
    for build in running:
        print(f"  {printable(builders.get(build['builderid'], '?'), 200)} "
              f"#{printable(build['number'], 20)}: "
              f"{_current_step(client, build['buildid'])}")
    return 0
