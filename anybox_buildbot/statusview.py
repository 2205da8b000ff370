"""What ``anybox-buildbot status`` prints about masters and workers.

With several masters on one database (:doc:`scale-out`), any master's REST
API lists them all (``/masters``: name, active, last seen) and tells, for
each connected worker, the master it is attached to (``connected_to``,
master ids). These pure functions turn those answers into lines, so the
command stays a few REST calls and the layout is tested without a master.
Names come from the master: printed through ``printable`` (no terminal
escape sequence gets through).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from .forcewatch import printable

NAME_WIDTH = 20


def _when(epoch: object) -> str:
    """A REST timestamp (seconds since the epoch) as UTC, or ``never``."""
    if not isinstance(epoch, (int, float)) or isinstance(epoch, bool):
        return "never"
    moment = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def master_lines(masters: Iterable[Mapping[str, Any]]) -> list[str]:
    """``masters:`` then one line per master, by name: active or not, last seen."""
    lines = ["masters:"]
    for master in sorted(masters, key=lambda m: str(m.get("name"))):
        state = "active" if master.get("active") else "not active"
        lines.append(f"  {printable(master.get('name'), 200):<{NAME_WIDTH}} {state:<10} "
                     f"last seen {_when(master.get('last_active'))}")
    return lines


def worker_connection(worker: Mapping[str, Any], master_names: Mapping[int, str]) -> str:
    """``connected to NAME`` (the master(s) it is attached to) or ``not connected``."""
    ids = [c.get("masterid") for c in worker.get("connected_to") or ()]
    if not ids:
        return "not connected"
    names = sorted(printable(master_names.get(i, f"master #{i}"), 200) for i in ids)
    return "connected to " + ", ".join(names)


def worker_lines(workers: Iterable[Mapping[str, Any]], builder_names: Mapping[int, str],
                 master_names: Mapping[int, str]) -> list[str]:
    """``workers:`` then one line per worker, by name: its master and builders."""
    lines = ["workers:"]
    for worker in sorted(workers, key=lambda w: str(w.get("name"))):
        state = worker_connection(worker, master_names)
        # one entry per (builder, master): a builder of two masters is listed once
        ids = {c.get("builderid") for c in worker.get("configured_on") or ()}
        names = sorted(printable(builder_names.get(i, "?"), 200) for i in ids)
        lines.append(f"  {printable(worker.get('name'), 200):<{NAME_WIDTH}} {state:<14} "
                     f"{len(names)} builder(s): " + ", ".join(names))
    return lines


__all__ = ["master_lines", "worker_connection", "worker_lines"]
