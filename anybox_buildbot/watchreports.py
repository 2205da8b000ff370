"""The auto-watch reports a configuration load reads, and the repositories
they may name.

A build of an ``auto-watch`` buildout stores the repositories it checked
out (a report); the next load merges them into the manifest's watches
(``watching.collect``). Reports are untrusted: each is parsed by
``watching``, and only URLs under ``auto_watch_allowed`` prefixes (checked
here when master.cfg gives them) may be added.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from .buildoutspec import BuildoutSpec, Watch
from .confine import file_in
from .errors import ConfigError
from .sharedstate import StoredReport
from .vcsref import prefix_problem
from .watching import parse_report, read_report


def auto_watch_prefixes(value: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """``auto_watch_allowed`` as a tuple; a lone string is one prefix."""
    if value is None:
        return None
    prefixes = (value,) if isinstance(value, str) else tuple(value)
    problems = [(p, prefix_problem(p) if isinstance(p, str) else "not a string")
                for p in prefixes]
    messages = [f"auto_watch_allowed: {p!r} is not a URL prefix: {problem} (give prefixes such "
                "as 'https://git.example.com/acme/', 'git@git.example.com:acme/' or "
                "'/srv/git/')" for p, problem in problems if problem]
    if messages:
        raise ConfigError(messages)
    return prefixes


def last_report(spec: BuildoutSpec, stored: Mapping[str, StoredReport], watch_dir: Path,
                basedir: Path) -> tuple[tuple[Watch, ...], tuple[str, ...]]:
    """The watches of ``spec``'s last report, with warnings: the database's,
    else a file ``watch/NAME.json`` (or ``watch/NAME``, where
    anybox.buildbot.odoo's builds wrote it) of a master from before reports
    were shared."""
    if spec.name in stored:
        report = stored[spec.name]
        return parse_report(report.raw, spec.name,
                            f"auto-watch report of {report.source} (database)")
    try:
        path = file_in(watch_dir, spec.name, ".json")
        old = file_in(watch_dir, spec.name)
    except ValueError:  # never from a parsed manifest (confine.py)
        return (), ()
    if not path.exists() and old.is_file():
        path = old
    if not path.exists():
        return (), ("no auto-watch report stored yet (its first build stores it)",)
    return read_report(path, spec.name, os.path.relpath(path, basedir))
