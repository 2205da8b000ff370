"""What to watch: repositories and branches per buildout, merged per repository.

Pure functions: ``watch`` lines of the manifests plus the ``auto-watch``
reports of builds (stored in the masters' database, ``sharedstate``; older
masters wrote ``watch/<buildout>.json``) become a map from
each distinct repository to its watched branches and the buildouts that
care. One poller per repository follows from it, whatever the number of
buildouts watching it.

A report is written by a build, on a worker, from files of the buildout's
repositories: untrusted input. It is never fatal: a bad file is skipped
with one warning naming it; an entry that is malformed, names a URL or
branch its tool must not be given (``vcsref``), or a repository outside
what the buildout may auto-watch (``AutoWatchAllowed``) is dropped with
one warning naming the buildout and the entry, and the rest is used.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .buildoutspec import WATCH_KINDS, BuildoutSpec, Watch
from .errors import Errors, Warnings
from .vcsref import (
    REF_FORMS,
    URL_FORMS,
    host_of,
    is_under,
    local_path_of,
    ref_problem,
    url_problem,
)

MAX_REPORT_BYTES = 256 * 1024
MAX_REPORT_REPOS = 200
MAX_DROP_WARNINGS = 10   # per report and per buildout, then one "and N more"
ENTRY_KEYS = frozenset({"vcs", "url", "branch"})
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
    """Apply the (prefix, replacement) rules in order, each on the result
    of the ones before it (a chain, as anybox.buildbot.odoo did).

    Workers may reach a repository by another URL than the master (ssh vs a
    local mirror); pollers run on the master, so they use the master URL.
    Each rule is tried once: ``[("a/", "a/a/")]`` cannot loop.
    """
    for prefix, replacement in rules:
        if url.startswith(prefix):
            url = replacement + url[len(prefix):]
    return url


def _describe(entry: object, limit: int = 200) -> str:
    """An entry as one short line of JSON (control characters escaped)."""
    text = json.dumps(entry, ensure_ascii=True, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def _entry_watch(entry: object) -> tuple[Watch | None, str | None]:
    """(the watch of one report entry, None) or (None, why it is refused)."""
    if not isinstance(entry, dict):
        return None, "not an object"
    if set(entry) != ENTRY_KEYS:
        return None, "expected exactly the keys " + ", ".join(sorted(ENTRY_KEYS))
    vcs, url, branch = entry["vcs"], entry["url"], entry["branch"]
    if not isinstance(vcs, str) or vcs not in WATCH_KINDS:
        return None, f"unknown VCS (known: {', '.join(WATCH_KINDS)})"
    if not isinstance(url, str):
        return None, "url is not a string"
    problem = url_problem(vcs, url)
    if problem:
        return None, f"refused {vcs} URL: {problem} ({URL_FORMS[vcs]})"
    if vcs == "bzr":  # not polled by branch
        if branch is not None and not isinstance(branch, str):
            return None, "branch is neither a string nor null"
        return Watch(vcs, url, None), None
    if not isinstance(branch, str):
        return None, "branch is not a string"
    problem = ref_problem(vcs, branch)
    if problem:
        return None, f"refused {vcs} branch: {problem} ({REF_FORMS[vcs]})"
    return Watch(vcs, url, branch), None


def _capped(warnings: list[str], what: str) -> tuple[str, ...]:
    """At most MAX_DROP_WARNINGS warnings, then one counting the others."""
    if len(warnings) <= MAX_DROP_WARNINGS:
        return tuple(warnings)
    more = len(warnings) - MAX_DROP_WARNINGS
    return (*warnings[:MAX_DROP_WARNINGS], f"{what}: and {more} more entries dropped")


def read_report(path: Path, buildout: str | None = None, display: str | None = None
                ) -> tuple[tuple[Watch, ...], tuple[str, ...]]:
    """Watches listed in one auto-watch report file (``parse_report``),
    and warnings for the rest. Warnings name the file as ``display``
    (default: ``path``); ``buildout`` defaults to the file's name."""
    name = buildout if buildout is not None else path.stem
    shown = display if display is not None else str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return (), (f"{shown}: no auto-watch report yet (it is written by the first build)",)
    except OSError as exc:
        return (), (f"{shown}: unreadable auto-watch report ignored: {exc.strerror}",)
    if size > MAX_REPORT_BYTES:
        return (), (f"{shown}: auto-watch report of {size} bytes ignored (limit "
                    f"{MAX_REPORT_BYTES})",)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return (), (f"{shown}: unreadable auto-watch report ignored: {exc.strerror}",)
    return parse_report(raw, name, shown)


def parse_report(raw: bytes, buildout: str, shown: str
                 ) -> tuple[tuple[Watch, ...], tuple[str, ...]]:
    """Watches listed in one auto-watch report, and warnings for the rest.

    The report comes from a worker, so it is untrusted: a report that is
    not ``{"repos": [...]}`` (and nothing else) is ignored as a whole; an
    entry that is not exactly ``{"vcs", "url", "branch"}`` with a URL and
    branch its tool accepts (``vcsref``) is dropped with a warning naming
    ``buildout`` and the entry. Warnings name the report as ``shown`` (a
    file, or the shared database's record).
    """
    name = buildout
    size = len(raw)
    if size == 0:
        return (), (f"{shown}: empty auto-watch report ignored",)
    if size > MAX_REPORT_BYTES:
        return (), (f"{shown}: auto-watch report of {size} bytes ignored (limit "
                    f"{MAX_REPORT_BYTES})",)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return (), (f"{shown}: malformed auto-watch report ignored: {exc}",)
    notes: tuple[str, ...] = ()
    if _is_old_report(data):
        # anybox.buildbot.odoo wrote a list of {vcs, url, revspec}: read it
        # as ours, entry by entry, with the same checks
        data = {"repos": [{"vcs": e["vcs"], "url": e["url"], "branch": e["revspec"]}
                          for e in data]}
        notes = (f"{shown}: auto-watch report in the format of anybox.buildbot.odoo "
                 "(a list of vcs/url/revspec) read as {\"repos\": [vcs/url/branch]}; the "
                 "next build writes the new format",)
    if not isinstance(data, dict) or set(data) != {"repos"} \
            or not isinstance(data["repos"], list):
        return (), (f"{shown}: auto-watch report ignored: expected {{\"repos\": [...]}} "
                    "and nothing else",)
    repos = data["repos"]
    if len(repos) > MAX_REPORT_REPOS:
        return (), (f"{shown}: auto-watch report with {len(repos)} repositories ignored "
                    f"(limit {MAX_REPORT_REPOS})",)
    watches = []
    dropped = []
    for entry in repos:
        watch, problem = _entry_watch(entry)
        if watch is None:
            dropped.append(f"{shown}: auto-watch entry of buildout [{name}] dropped: "
                           f"{_describe(entry)}: {problem}")
        else:
            watches.append(watch)
    return tuple(dict.fromkeys(watches)), notes + _capped(dropped, f"{shown}")


def _is_old_report(data: object) -> bool:
    """A report as anybox.buildbot.odoo wrote it: ``[{"vcs", "url",
    "revspec"}, ...]`` (each entry exactly these keys)."""
    return isinstance(data, list) and bool(data) and all(
        isinstance(e, dict) and set(e) == {"vcs", "url", "revspec"} for e in data)


def own_repository(spec: BuildoutSpec) -> Watch | None:
    """The buildout's own git/hg/bzr repository at its branch (not for tags),
    watched next to the ``watch`` lines unless ``watch-buildout = false``."""
    source = spec.source
    if source.vcs is None or source.is_tag:
        return None
    return Watch(source.vcs, source.url or "", source.branch, source.location)


@dataclass(frozen=True, slots=True)
class AutoWatchAllowed:
    """Which reported repositories a buildout may make the master poll.

    A repository is admitted when its host is one of ``hosts`` or its URL
    is under one of ``prefixes`` (``vcsref.is_under``: at a path boundary,
    ``file:///x`` and ``/x`` alike).
    """

    hosts: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()

    def admits(self, url: str) -> bool:
        host = host_of(url)
        return (host is not None and host in self.hosts) or any(
            is_under(url, prefix) for prefix in self.prefixes)

    def describe(self) -> str:
        parts = [f"host {host}" for host in sorted(self.hosts)]
        parts.extend(f"under {prefix}" for prefix in self.prefixes)
        return ", ".join(parts) or "nothing"


def default_allowed(spec: BuildoutSpec) -> AutoWatchAllowed:
    """Without ``auto_watch_allowed``: the places the manifest already names.

    The hosts of the buildout's own repository (any kind with one, tags
    included) and of its ``watch`` lines; for a local repository (a
    ``file://`` URL or a path), which has no host, the folder holding it.
    A standalone or archive buildout without ``watch`` lines admits nothing.
    """
    urls = [w.url for w in spec.watch or ()]
    if spec.source.vcs is not None and spec.source.url:
        urls.insert(0, spec.source.url)
    hosts: set[str] = set()
    folders: list[str] = []
    for url in urls:
        host = host_of(url)
        local = local_path_of(url)
        if host is not None:
            hosts.add(host)
        elif local is not None:
            folder = posixpath.dirname(local.rstrip("/"))
            folders.append(folder if folder.endswith("/") else folder + "/")
    return AutoWatchAllowed(frozenset(hosts), tuple(dict.fromkeys(folders)))


def _admitted(spec: BuildoutSpec, reported: Iterable[Watch], allowed: AutoWatchAllowed,
              rules: Sequence[tuple[str, str]], warn: Callable[[str], None]) -> list[Watch]:
    """Reported watches the buildout may have, with master URLs.

    The allow-list is checked on the URL as reported, in the namespace of
    the manifests and workers where admins write their prefixes; the
    rewritten URL, which the master will poll, is checked again by
    ``vcsref`` (a rewrite rule is the admin's, its result still has to be a
    URL the tool may be given).
    """
    kept = []
    dropped = []
    for watch in reported:
        entry = f"{watch.vcs} {watch.url} {watch.branch or ''}".rstrip()
        url = rewrite_url(watch.url, rules)
        if not allowed.admits(watch.url):
            reason = (f"not a repository this buildout may auto-watch (allowed: "
                      f"{allowed.describe()}; see auto_watch_allowed)")
        else:
            problem = url_problem(watch.vcs, url)
            if problem is None:
                kept.append(Watch(watch.vcs, url, watch.branch))
                continue
            reason = f"vcs_master_url_rewrite_rules make it {url!r}, refused: {problem}"
        dropped.append(f"buildout [{spec.name}]: auto-watch entry {entry!r} dropped: {reason}")
    for warning in _capped(dropped, f"buildout [{spec.name}]"):
        warn(warning)
    return kept


def _warner(spec: BuildoutSpec, warn: Callable[[str], None] | None,
             warnings: Warnings | None) -> Callable[[str], None]:
    """Where the warnings about ``spec``'s reported watches go."""
    if warnings is not None:
        return lambda text: warnings.add(spec.location, text, category="auto-watch")
    return warn or (lambda text: None)


def collect(buildouts: Iterable[BuildoutSpec], reports: Mapping[str, tuple[Watch, ...]],
            rules: Sequence[tuple[str, str]], *, allowed: Sequence[str] | None = None,
            errors: Errors | None = None, warn: Callable[[str], None] | None = None,
            warnings: Warnings | None = None
            ) -> tuple[dict[Repo, RepoWatch], dict[str, tuple[Watch, ...]]]:
    """Merge manifest and auto-watch watches.

    Returns (repository -> RepoWatch, buildout -> its deduplicated watches
    with rewritten URLs), both in sorted order for stable configs.
    Reported watches pass the allow-list (``allowed`` prefixes for every
    buildout, or ``default_allowed``); those refused are dropped with one
    warning each, into ``warnings`` at the buildout's section (the master's
    channel) or else given to ``warn``. A manifest URL that the rewrite
    rules turn into a refused one is an error of ``errors`` at its line
    (raised here when no collector is given). Watches keep the manifest
    line they come from, so a poller's warning can point at it.
    """
    own_errors = Errors() if errors is None else errors
    configured = None if allowed is None else AutoWatchAllowed(prefixes=tuple(allowed))
    per_buildout: dict[str, tuple[Watch, ...]] = {}
    for spec in sorted(buildouts, key=lambda s: s.name):
        own = own_repository(spec)
        # watch lines come in addition to the buildout's own repository,
        # unless ``watch-buildout = false``
        watches: list[Watch] = list(spec.watch or ())
        if own is not None and spec.watch_buildout:
            watches.append(own)
        rewritten = []
        for watch in dict.fromkeys(watches):   # the first line naming a repo wins
            url = rewrite_url(watch.url, rules)
            problem = url_problem(watch.vcs, url)
            if problem is None:
                rewritten.append(Watch(watch.vcs, url, watch.branch, watch.location))
                continue
            own_errors.add(watch.location or spec.location,
                           f"vcs_master_url_rewrite_rules make {watch.url!r} a refused "
                           f"{watch.vcs} URL: {problem}", url, hint=URL_FORMS[watch.vcs],
                           subject=f"buildout [{spec.name}] watch")
        if spec.auto_watch and reports.get(spec.name):
            rewritten.extend(_admitted(spec, reports[spec.name],
                                       configured or default_allowed(spec), rules,
                                       _warner(spec, warn, warnings)))
        unique = tuple(dict.fromkeys(rewritten))
        if unique:
            per_buildout[spec.name] = unique
    if errors is None:
        own_errors.raise_if_any()
    repos: dict[Repo, RepoWatch] = {}
    for name, watches in per_buildout.items():
        for watch in watches:
            key = Repo(watch.vcs, watch.url)
            entry = repos.setdefault(key, RepoWatch(key))
            entry.branches.setdefault(watch.branch, []).append(name)
    ordered = dict(sorted(repos.items(), key=lambda item: (item[0].vcs, item[0].url)))
    return ordered, per_buildout
