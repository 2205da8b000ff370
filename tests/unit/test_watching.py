"""Watches, auto-watch reports, pollers and change-triggered schedulers."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from buildbot.changes.gitpoller import GitPoller
from buildbot.changes.hgpoller import HgPoller
from buildbot.schedulers.basic import AnyBranchScheduler
from buildbot.schedulers.timed import Nightly

from anybox_buildbot import BuildoutsConfigurator
from anybox_buildbot.cron import nightly_kwargs
from anybox_buildbot.errors import Errors, ParseError
from anybox_buildbot.manifest import Watch, load_manifests
from anybox_buildbot.pollers import AcceptWatched
from anybox_buildbot.watching import (
    MAX_REPORT_BYTES,
    Repo,
    collect,
    read_report,
    rewrite_url,
)

MANIFEST = """\
[DEFAULT]
tree-stable-timer = 5

[a]
buildout = git ssh://git@example.com/a.git master buildout.cfg

[b]
buildout = git ssh://git@example.com/a.git stable buildout.cfg
watch = git ssh://git@example.com/a.git stable
        hg https://hg.example.com/lib default
        git ssh://git@example.com/a.git stable

[c]
buildout = hg https://hg.example.com/lib default buildout.cfg
watch =
nightly = 30 2 * * 1-5

[d]
buildout = gittag ssh://git@example.com/a.git buildout.cfg
auto-watch = true

[e]
buildout = bzr lp:e buildout.cfg
"""


def load(tmp_path: Path, text: str = MANIFEST):
    path = tmp_path / "MANIFEST.cfg"
    path.write_text(text)
    errors = Errors()
    specs = load_manifests([path], errors)
    errors.raise_if_any()
    return specs


def test_rewrite_first_matching_prefix() -> None:
    rules = [("ssh://git@example.com/", "/srv/mirror/"), ("ssh://", "https://")]
    assert rewrite_url("ssh://git@example.com/a.git", rules) == "/srv/mirror/a.git"
    assert rewrite_url("ssh://other/x", rules) == "https://other/x"
    assert rewrite_url("https://x/y", rules) == "https://x/y"


def test_collect_groups_by_repository_and_applies_defaults(tmp_path: Path) -> None:
    repos, per_buildout = collect(load(tmp_path), {}, [])
    assert per_buildout["a"] == (Watch("git", "ssh://git@example.com/a.git", "master"),)
    # duplicates in one buildout collapse
    assert per_buildout["b"] == (Watch("git", "ssh://git@example.com/a.git", "stable"),
                                 Watch("hg", "https://hg.example.com/lib", "default"))
    assert "c" not in per_buildout          # explicit empty watch
    assert "d" not in per_buildout          # tags are not watched, no report yet
    assert per_buildout["e"] == (Watch("bzr", "lp:e", None),)
    git = repos[Repo("git", "ssh://git@example.com/a.git")]
    assert git.branches == {"master": ["a"], "stable": ["b"]}
    assert list(repos) == [Repo("bzr", "lp:e"), Repo("git", "ssh://git@example.com/a.git"),
                           Repo("hg", "https://hg.example.com/lib")]


def test_collect_merges_reports_and_rewrites(tmp_path: Path) -> None:
    reports = {"d": (Watch("git", "ssh://git@example.com/shared.git", "main"),
                     Watch("git", "ssh://git@example.com/a.git", "master"))}
    repos, per_buildout = collect(load(tmp_path), reports,
                                  [("ssh://git@example.com/", "file:///mirror/")])
    assert per_buildout["d"] == (Watch("git", "file:///mirror/shared.git", "main"),
                                 Watch("git", "file:///mirror/a.git", "master"))
    assert repos[Repo("git", "file:///mirror/a.git")].branches["master"] == ["a", "d"]


@pytest.mark.parametrize("content, warning", [
    (b"", "empty auto-watch report"),
    (b"{not json", "malformed auto-watch report"),
    (b"\xff\xfe", "malformed auto-watch report"),
    (b"[]", 'expected {"repos": [...]}'),
    (b'{"repos": [{"vcs": "svn", "url": "x", "branch": "b"}]}', "unknown VCS 'svn'"),
    (b'{"repos": [{"vcs": "git", "url": "a b", "branch": "m"}]}', "bad url"),
    (b'{"repos": [{"vcs": "git", "url": "u", "branch": 3}]}', "bad branch"),
    (b'{"repos": [1]}', "is not an object"),
    (b" " * (MAX_REPORT_BYTES + 1), "bytes ignored"),
])
def test_bad_reports_are_ignored_with_a_warning(tmp_path: Path, content: bytes,
                                                warning: str) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(content)
    watches, message = read_report(path)
    assert watches == ()
    assert message is not None and warning in message and str(path) in message


def test_good_report_and_missing_report(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"repos": [
        {"vcs": "git", "url": "/r", "branch": "main"},
        {"vcs": "git", "url": "/r", "branch": "main"},
        {"vcs": "bzr", "url": "lp:x", "branch": "ignored"}]}))
    assert read_report(path) == ((Watch("git", "/r", "main"), Watch("bzr", "lp:x", None)),
                                 None)
    watches, warning = read_report(tmp_path / "missing.json")
    assert watches == () and warning is not None
    assert "missing.json: no auto-watch report yet" in warning


def test_accept_watched_filter() -> None:
    accept = AcceptWatched([("r1", "master"), ("r2", None)])
    change = SimpleNamespace
    assert accept(change(repository="r1", branch="master"))
    assert not accept(change(repository="r1", branch="other"))
    assert accept(change(repository="r2", branch="anything"))
    assert not accept(change(repository="r3", branch="master"))
    assert accept == AcceptWatched([("r2", None), ("r1", "master")])
    assert accept != AcceptWatched([("r1", "master")])


@pytest.mark.parametrize("cron, expected", [
    ("0 3 * * *", dict(minute=0, hour=3, dayOfMonth="*", month="*", dayOfWeek="*")),
    ("30 2 * * 1-5", dict(minute=30, hour=2, dayOfMonth="*", month="*",
                          dayOfWeek=[0, 1, 2, 3, 4])),
    ("0 0 1 * 0,7", dict(minute=0, hour=0, dayOfMonth=1, month="*", dayOfWeek=[6])),
    ("*/15 1,13 * */3 */2", dict(minute=[0, 15, 30, 45], hour=[1, 13], dayOfMonth="*",
                                 month=[1, 4, 7, 10], dayOfWeek=[1, 3, 5, 6])),
])
def test_cron_to_nightly(cron: str, expected: dict) -> None:
    assert nightly_kwargs(cron) == expected


@pytest.mark.parametrize("cron, problem", [
    ("0 3 * *", "expected a cron line of 5 fields, got 4"),
    ("60 3 * * *", "invalid minute field '60' (allowed 0-59)"),
    ("0 3 0 * *", "invalid dayOfMonth field '0'"),
    ("0 3 * 5-2 *", "invalid month field '5-2'"),
    ("0 3 * * mon", "invalid dayOfWeek field 'mon'"),
    ("0 3 * * */0", "invalid dayOfWeek field '*/0'"),
])
def test_bad_cron_lines(cron: str, problem: str) -> None:
    with pytest.raises(ParseError) as info:
        nightly_kwargs(cron)
    assert info.value.problem.startswith(problem)


def write_master(root: Path, manifest: str = MANIFEST) -> Path:
    (root / "buildouts").mkdir(parents=True, exist_ok=True)
    (root / "buildouts" / "MANIFEST.cfg").write_text(manifest)
    (root / "workers.cfg").write_text("[w]\npassword = x\n")
    return root


def populate(root: Path, **kwargs) -> dict:
    config: dict = {}
    BuildoutsConfigurator(str(root), config, poll_interval=60, **kwargs).populate()
    return config


def test_one_poller_per_repository_and_schedulers(tmp_path: Path) -> None:
    config = populate(write_master(tmp_path))
    sources = {s.name: s for s in config["change_source"]}
    assert sorted(sources) == ["anybox-git:ssh://git@example.com/a.git",
                               "anybox-hg:https://hg.example.com/lib"]
    git = sources["anybox-git:ssh://git@example.com/a.git"]
    assert isinstance(git, GitPoller)
    assert isinstance(sources["anybox-hg:https://hg.example.com/lib"], HgPoller)
    scheds = {s.name: s for s in config["schedulers"]}
    assert sorted(scheds) == ["a-changes", "b-changes", "c-nightly", "e-changes", "force"]
    assert isinstance(scheds["b-changes"], AnyBranchScheduler)
    assert scheds["b-changes"]._config_kwargs["treeStableTimer"] == 5
    assert scheds["b-changes"]._config_kwargs["builderNames"] == ["b"]
    assert git._config_kwargs["branches"] == ["master", "stable"]
    assert git._config_kwargs["pollInterval"] == 60
    nightly = scheds["c-nightly"]
    assert isinstance(nightly, Nightly)
    assert nightly._config_kwargs["dayOfWeek"] == [0, 1, 2, 3, 4]


def test_same_files_give_equal_pollers_and_schedulers(tmp_path: Path) -> None:
    root = write_master(tmp_path)
    first, second = populate(root), populate(root)
    assert first["change_source"] == second["change_source"]
    for one, two in zip(first["schedulers"], second["schedulers"], strict=True):
        if one.name != "force":
            assert one == two, one.name


def test_bzr_is_warned_about_not_polled(tmp_path: Path) -> None:
    from twisted.python import log

    seen: list[str] = []
    log.addObserver(lambda e: seen.append(" ".join(map(str, e.get("message", ())))))
    populate(write_master(tmp_path))
    warnings = [m for m in seen if "bzr repository lp:e is not polled" in m]
    assert len(warnings) == 1 and "buildouts e" in warnings[0]


def test_auto_watch_report_feeds_next_config(tmp_path: Path) -> None:
    root = write_master(tmp_path)
    (root / "watch").mkdir()
    (root / "watch" / "d.json").write_text(json.dumps(
        {"repos": [{"vcs": "git", "url": "ssh://git@example.com/base.git",
                    "branch": "main"}]}))
    config = populate(root, vcs_master_url_rewrite_rules=[("ssh://git@example.com/",
                                                           "/srv/")])
    names = sorted(s.name for s in config["change_source"])
    assert "anybox-git:/srv/base.git" in names and "anybox-git:/srv/a.git" in names
    assert any(s.name == "d-changes" for s in config["schedulers"])


def test_many_buildouts_share_pollers(tmp_path: Path) -> None:
    lines = []
    for index in range(200):
        repo = f"file:///repos/r{index % 10}.git"
        lines.append(f"[b{index}]\nbuildout = git {repo} br{index % 3} buildout.cfg\n")
    config = populate(write_master(tmp_path, "\n".join(lines)))
    assert len(config["change_source"]) == 10
    assert len([s for s in config["schedulers"] if s.name.endswith("-changes")]) == 200
