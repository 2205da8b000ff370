"""What to watch: repositories and branches per buildout, merged per repository.

Pure functions: ``watch`` lines of the manifests plus the ``auto-watch``
reports uploaded by builds (``watch/<buildout>.json``) become a map from
each distinct repository to its watched branches and the buildouts that
care. One poller per repository follows from it, whatever the number of
buildouts watching it. A bad report is never fatal: it is skipped with one
warning naming the file, since it was written by a build, not an admin.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .manifest import WATCH_KINDS, BuildoutSpec, Watch

MAX_REPORT_BYTES = 256 * 1024
MAX_REPORT_REPOS = 200
WATCH_DIR = "watch"


@dataclass(frozen=True, slots=True)
class Repo:
    vcs: str
    url: str


@dataclass
class RepoWatch:
    """One repository: its branches and, per branch, the buildouts watching."""

    repo: Repo
    branches: dict[str | None, list[str]] = field(default_factory=dict)


def rewrite_url(url: str, rules: Sequence[tuple[str, str]]) -> str:
    """Apply the first matching (prefix, replacement) rule.

    Workers may reach a repository by another URL than the master (ssh vs a
    local mirror); pollers run on the master, so they use the master URL.
    """
    for prefix, replacement in rules:
        if url.startswith(prefix):
            return replacement + url[len(prefix):]
    return url


def read_report(path: Path) -> tuple[tuple[Watch, ...], str | None]:
    """Watches listed in one auto-watch report, or a warning saying why not."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return (), f"{path}: no auto-watch report yet (it is written by the first build)"
    except OSError as exc:
        return (), f"{path}: unreadable auto-watch report ignored: {exc.strerror}"
    if size == 0:
        return (), f"{path}: empty auto-watch report ignored"
    if size > MAX_REPORT_BYTES:
        return (), f"{path}: auto-watch report of {size} bytes ignored (limit " \
                   f"{MAX_REPORT_BYTES})"
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return (), f"{path}: malformed auto-watch report ignored: {exc}"
    repos = data.get("repos") if isinstance(data, dict) else None
    if not isinstance(repos, list):
        return (), f"{path}: auto-watch report ignored: expected {{\"repos\": [...]}}"
    if len(repos) > MAX_REPORT_REPOS:
        return (), f"{path}: auto-watch report with {len(repos)} repositories ignored " \
                   f"(limit {MAX_REPORT_REPOS})"
    watches = []
    for entry in repos:
        if not isinstance(entry, dict):
            return (), f"{path}: auto-watch report ignored: entry {entry!r} is not an object"
        vcs, url, branch = entry.get("vcs"), entry.get("url"), entry.get("branch")
        if vcs not in WATCH_KINDS:
            return (), f"{path}: auto-watch report ignored: unknown VCS {vcs!r} " \
                       f"(known: {', '.join(WATCH_KINDS)})"
        if not isinstance(url, str) or not url or any(c.isspace() for c in url):
            return (), f"{path}: auto-watch report ignored: bad url {url!r}"
        if branch is not None and (not isinstance(branch, str) or not branch.strip()):
            return (), f"{path}: auto-watch report ignored: bad branch {branch!r}"
        if vcs == "bzr":
            branch = None
        watches.append(Watch(vcs, url, branch))
    return tuple(dict.fromkeys(watches)), None


def own_repository(spec: BuildoutSpec) -> Watch | None:
    """The buildout's own repository, which auto-watch always covers."""
    source = spec.source
    if source.vcs is None or source.is_tag:
        return None
    return Watch(source.vcs, source.url or "", source.branch)


def collect(buildouts: Iterable[BuildoutSpec], reports: Mapping[str, tuple[Watch, ...]],
            rules: Sequence[tuple[str, str]]) -> tuple[dict[Repo, RepoWatch],
                                                       dict[str, tuple[Watch, ...]]]:
    """Merge manifest and auto-watch watches.

    Returns (repository -> RepoWatch, buildout -> its deduplicated watches
    with rewritten URLs), both in sorted order for stable configs.
    """
    per_buildout: dict[str, tuple[Watch, ...]] = {}
    for spec in sorted(buildouts, key=lambda s: s.name):
        own = own_repository(spec)
        if spec.watch is not None:
            watches: list[Watch] = list(spec.watch)   # explicit, possibly empty
        else:
            watches = [own] if own is not None else []  # default: the buildout's repo
        if spec.auto_watch:
            if own is not None:
                watches.append(own)
            watches.extend(reports.get(spec.name, ()))
        rewritten = [Watch(w.vcs, rewrite_url(w.url, rules), w.branch) for w in watches]
        unique = tuple(dict.fromkeys(rewritten))
        if unique:
            per_buildout[spec.name] = unique
    repos: dict[Repo, RepoWatch] = {}
    for name, watches in per_buildout.items():
        for watch in watches:
            key = Repo(watch.vcs, watch.url)
            entry = repos.setdefault(key, RepoWatch(key))
            entry.branches.setdefault(watch.branch, []).append(name)
    ordered = dict(sorted(repos.items(), key=lambda item: (item[0].vcs, item[0].url)))
    return ordered, per_buildout
