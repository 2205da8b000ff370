"""Buildbot change sources and schedulers for watched repositories.

Turns the merged watch map of ``watching`` into one poller per repository
and, per buildout, a change-triggered scheduler whose filter accepts
exactly that buildout's (repository, branch) pairs. Filters are comparable
values, so a reconfig with the same files yields equal objects and
Buildbot keeps the running services untouched.

The URLs and branches given here were checked by ``watching`` already;
``make_change_sources`` checks them once more (``vcsref``) right where they
become arguments of the master's own ``git``/``hg`` commands, so a caller
that builds its own map cannot hand a poller an option.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping

from buildbot.plugins import changes, schedulers, util

from .buildoutspec import DEFAULT_TREE_STABLE_TIMER, BuildoutSpec, Watch
from .vcsref import ref_problem, url_problem
from .watching import Repo, RepoWatch

DEFAULT_POLL_INTERVAL = 600
#: ``poll_interval`` value (alone or for one VCS kind) meaning "do not poll":
#: the spelling of anybox.buildbot.odoo. Changes may still come from a
#: hook (``change_hook``) and trigger the change schedulers.
NO_POLLING = -1

#: ``poll_interval``: seconds for every kind, ``NO_POLLING``, None (600), or
#: a dict VCS kind -> one of these (a kind not in it: 600).
PollInterval = int | None | Mapping[str, int | None]


def interval_for(poll_interval: PollInterval, vcs: str) -> int | None:
    """Seconds between polls of a ``vcs`` repository, None for no poller."""
    value = poll_interval.get(vcs) if isinstance(poll_interval, Mapping) else poll_interval
    if value == NO_POLLING:
        return None
    return value or DEFAULT_POLL_INTERVAL


class AcceptWatched:
    """ChangeFilter ``filter_fn`` accepting changes of given (repository,
    branch) pairs; a ``None`` branch accepts any branch (bzr)."""

    def __init__(self, pairs: Iterable[tuple[str, str | None]]) -> None:
        self.pairs = frozenset(pairs)
        self.any_branch = frozenset(repo for repo, branch in self.pairs if branch is None)

    def __call__(self, change) -> bool:
        return (change.repository in self.any_branch
                or (change.repository, change.branch) in self.pairs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AcceptWatched) and other.pairs == self.pairs

    def __hash__(self) -> int:
        return hash(self.pairs)

    def __repr__(self) -> str:
        return f"AcceptWatched({sorted(self.pairs, key=str)!r})"

    @property
    def __name__(self) -> str:
        """Buildbot's ``ChangeFilter.__repr__`` names its ``filter_fn`` by
        ``__name__``, which functions have and instances do not: without it,
        anything that logs the scheduler or its filter would crash."""
        return "AcceptWatched"


def _short_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


def make_change_sources(repos: Mapping[Repo, RepoWatch], poll_interval: PollInterval,
                        warn: Callable[[str], None]) -> list:
    """One poller per repository, with every watched branch of it; none for
    a kind whose interval is ``NO_POLLING`` (see ``interval_for``)."""
    made = []
    for repo, watch in repos.items():
        interval = interval_for(poll_interval, repo.vcs)
        if interval is None:
            continue
        branches = sorted(b for b in watch.branches if b is not None)
        problem = url_problem(repo.vcs, repo.url) or next(
            (f"branch {b!r}: {p}" for b in branches if (p := ref_problem(repo.vcs, b))), None)
        if problem:
            warn(f"{repo.vcs} repository {repo.url!r} is not polled: {problem}")
            continue
        if repo.vcs == "git":
            made.append(changes.GitPoller(
                repourl=repo.url, branches=branches or ["master"], pollInterval=interval,
                name=f"anybox-git:{repo.url}", pollAtLaunch=True,
                workdir=f"gitpoller-work/{_short_hash(repo.url)}"))
        elif repo.vcs == "hg":
            made.append(changes.HgPoller(
                repourl=repo.url, branches=branches or ["default"], pollInterval=interval,
                name=f"anybox-hg:{repo.url}", pollAtLaunch=True,
                workdir=f"hgpoller-work/{_short_hash(repo.url)}"))
        else:
            buildouts = sorted({n for names in watch.branches.values() for n in names})
            warn(f"bzr repository {repo.url} is not polled (Buildbot 4 has no bzr poller); "
                 f"buildouts {', '.join(buildouts)} build on force or nightly only")
    return made


def make_schedulers(buildouts: Iterable[BuildoutSpec], watches: Mapping[str, tuple[Watch, ...]],
                    builders_of: Mapping[str, list[str]],
                    tree_stable_timer: int = DEFAULT_TREE_STABLE_TIMER) -> list:
    """Change-triggered and nightly schedulers, one of each per buildout at most.

    ``tree_stable_timer``: the master's default, for buildouts whose
    manifest does not set ``tree-stable-timer`` (0: no timer)."""
    made = []
    for spec in sorted(buildouts, key=lambda s: s.name):
        names = sorted(builders_of.get(spec.name, ()))
        if not names:
            continue
        mine = watches.get(spec.name, ())
        if mine:
            made.append(schedulers.AnyBranchScheduler(
                name=f"{spec.name}-changes", builderNames=names,
                treeStableTimer=(tree_stable_timer if spec.tree_stable_timer is None
                                 else spec.tree_stable_timer) or None,
                change_filter=util.ChangeFilter(filter_fn=AcceptWatched(
                    (w.url, w.branch) for w in mine))))
        if spec.nightly:
            made.append(schedulers.Nightly(name=f"{spec.name}-nightly", builderNames=names,
                                           onlyIfChanged=False, **spec.nightly.nightly_kwargs()))
    return made
