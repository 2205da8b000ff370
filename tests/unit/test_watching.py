"""Watches, auto-watch reports, pollers and change-triggered schedulers."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from buildbot.changes.gitpoller import GitPoller
from buildbot.changes.hgpoller import HgPoller
from buildbot.schedulers.basic import AnyBranchScheduler
from buildbot.schedulers.timed import Nightly
from unit_helpers import load_manifest

from anybox_buildbot import BuildoutsConfigurator
from anybox_buildbot.buildoutspec import Watch
from anybox_buildbot.cron import Cron, parse_cron
from anybox_buildbot.errors import ConfigError, Errors, ParseError
from anybox_buildbot.manifest import load_manifests
from anybox_buildbot.pollers import AcceptWatched, make_schedulers
from anybox_buildbot.watching import (
    MAX_DROP_WARNINGS,
    MAX_REPORT_BYTES,
    Repo,
    collect,
    own_repository,
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
watch-buildout = false
nightly = 30 2 * * 1-5

[d]
buildout = gittag ssh://git@example.com/a.git buildout.cfg
auto-watch = true

[e]
buildout = bzr lp:e buildout.cfg
"""


def load(tmp_path: Path, text: str = MANIFEST):
    return load_manifest(tmp_path, text)


def test_rewrite_rules_apply_in_order() -> None:
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
    assert "c" not in per_buildout          # watch-buildout = false
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
    (b"[" * 100_000, "malformed auto-watch report"),   # too deep for json: not a crash
    (b"[]", 'expected {"repos": [...]}'),
    (b'{"repos": {}}', 'expected {"repos": [...]}'),
    (b'{"repos": [], "hooks": "x"}', 'expected {"repos": [...]} and nothing else'),
    (json.dumps({"repos": [{"vcs": "git", "url": f"/r{i}", "branch": "m"}
                           for i in range(201)]}).encode(), "201 repositories ignored"),
    (b" " * (MAX_REPORT_BYTES + 1), "bytes ignored"),
])
def test_bad_reports_are_ignored_with_a_warning(tmp_path: Path, content: bytes,
                                                warning: str) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(content)
    watches, messages = read_report(path)
    assert watches == ()
    assert len(messages) == 1 and warning in messages[0] and str(path) in messages[0]


GOOD = {"vcs": "git", "url": "https://git.example.com/lib.git", "branch": "main"}


@pytest.mark.parametrize("entry, problem", [
    ({"vcs": "git", "url": "--upload-pack=touch${IFS}/tmp/m;", "branch": "main"},
     "refused git URL: a URL must not start with '-'"),
    ({"vcs": "git", "url": "-u/tmp/evil.sh", "branch": "main"}, "must not start with '-'"),
    ({"vcs": "hg", "url": "--config=hooks.pre-pull=/tmp/evil.sh", "branch": "default"},
     "refused hg URL: a URL must not start with '-'"),
    ({"vcs": "git", "url": "ext::sh -c touch% /tmp/m", "branch": "main"}, "whitespace"),
    ({"vcs": "git", "url": "ext::sh", "branch": "main"}, "'::' is not allowed"),
    ({"vcs": "git", "url": "ssh://-oProxyCommand=sh/x", "branch": "main"},
     "user or host of a URL must not start with '-'"),
    ({"vcs": "hg", "url": "ssh://-oProxyCommand=sh/x", "branch": "default"},
     "user or host of a URL must not start with '-'"),
    ({"vcs": "git", "url": "https://h/a\x1b[2J.git", "branch": "main"}, "control character"),
    ({"vcs": "git", "url": "https://h/a.git", "branch": "--upload-pack=/tmp/evil.sh"},
     "refused git branch: a name must not start with '-'"),
    ({"vcs": "hg", "url": "https://h/a", "branch": "--config=hooks.update=/tmp/evil.sh"},
     "refused hg branch"),
    ({"vcs": "git", "url": "https://h/a.git", "branch": "a\nb"}, "whitespace"),
    ({"vcs": "git", "url": "https://h/a.git", "branch": "x..y"}, "'..'"),
    ({"vcs": "git", "url": "app.git", "branch": "main"}, "relative paths are not"),
    ({"vcs": "git", "url": "https://h/a.git"}, "expected exactly the keys branch, url, vcs"),
    ({**GOOD, "upload-pack": "x"}, "expected exactly the keys"),
    ({"vcs": "svn", "url": "https://h/a", "branch": "b"}, "unknown VCS"),
    ({"vcs": ["git"], "url": "https://h/a", "branch": "b"}, "unknown VCS"),
    ({"vcs": "git", "url": 3, "branch": "main"}, "url is not a string"),
    ({"vcs": "git", "url": "https://h/a.git", "branch": None}, "branch is not a string"),
    ({"vcs": "bzr", "url": "lp:x", "branch": 3}, "branch is neither a string nor null"),
    ("https://h/a.git", "not an object"),
])
def test_bad_entries_are_dropped_and_the_rest_kept(tmp_path: Path, entry, problem) -> None:
    path = tmp_path / "shop.json"
    path.write_text(json.dumps({"repos": [GOOD, entry]}))
    watches, warnings = read_report(path, "shop")
    assert watches == (Watch("git", GOOD["url"], "main"),)
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith(f"{path}: auto-watch entry of buildout [shop] dropped: ")
    assert json.dumps(entry, sort_keys=True)[:60] in warnings[0]
    assert problem in warnings[0]
    assert "\n" not in warnings[0] and "\x1b" not in warnings[0]


def test_many_bad_entries_give_bounded_warnings(tmp_path: Path) -> None:
    path = tmp_path / "shop.json"
    path.write_text(json.dumps({"repos": [
        {"vcs": "git", "url": f"--upload-pack=x{i}", "branch": "m"} for i in range(150)]}))
    watches, warnings = read_report(path, "shop")
    assert watches == ()
    assert len(warnings) == MAX_DROP_WARNINGS + 1
    assert warnings[-1].endswith(f"and {150 - MAX_DROP_WARNINGS} more entries dropped")


def test_good_report_and_missing_report(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"repos": [
        {"vcs": "git", "url": "/r", "branch": "main"},
        {"vcs": "git", "url": "/r", "branch": "main"},
        {"vcs": "bzr", "url": "lp:x", "branch": "ignored"},
        {"vcs": "bzr", "url": "lp:y", "branch": None}]}))
    assert read_report(path) == ((Watch("git", "/r", "main"), Watch("bzr", "lp:x", None),
                                  Watch("bzr", "lp:y", None)), ())
    watches, warnings = read_report(tmp_path / "missing.json")
    assert watches == () and len(warnings) == 1
    assert "missing.json: no auto-watch report yet" in warnings[0]


ALLOW_MANIFEST = """\
[own-https]
buildout = git https://git.example.com/acme/app.git main buildout.cfg
auto-watch = true

[own-scp]
buildout = git git@git.example.com:acme/app.git main buildout.cfg
auto-watch = true

[own-local]
buildout = git file:///srv/git/app.git main buildout.cfg
auto-watch = true

[standalone-watching]
buildout = standalone a.cfg
watch = hg https://hg.example.com/lib default
auto-watch = true

[standalone-alone]
buildout = standalone a.cfg
auto-watch = true

[tag]
buildout = hgtag ssh://hg@hg.example.com/app buildout.cfg
auto-watch = true
"""

REPORTED = (
    Watch("git", "https://git.example.com/acme/lib.git", "main"),
    Watch("git", "ssh://git@git.example.com/other/x.git", "main"),
    Watch("git", "git@Git.Example.com:acme/y.git", "main"),
    Watch("hg", "https://hg.example.com/theme", "default"),
    Watch("git", "https://evil.example.net/x.git", "main"),
    Watch("git", "https://git.example.com.evil.net/x.git", "main"),
    Watch("git", "/srv/git/shared", "master"),
    Watch("git", "file:///srv/git/sub/lib.git", "master"),
    Watch("git", "/home/admin/secret", "master"),
)


def admitted(tmp_path: Path, name: str, **kwargs) -> tuple[set[str], list[str]]:
    (tmp_path / "a.cfg").write_text("[buildout]\n")
    specs = [s for s in load(tmp_path, ALLOW_MANIFEST) if s.name == name]
    warnings: list[str] = []
    _repos, per_buildout = collect(specs, {name: REPORTED}, [], warn=warnings.append,
                                   **kwargs)
    own = own_repository(specs[0])
    manifest = {w.url for w in specs[0].watch or ()} | ({own.url} if own else set())
    urls = {w.url for w in per_buildout.get(name, ()) if w.url not in manifest}
    return urls, warnings


@pytest.mark.parametrize("name, urls", [
    ("own-https", {"https://git.example.com/acme/lib.git",
                   "ssh://git@git.example.com/other/x.git", "git@Git.Example.com:acme/y.git"}),
    ("own-scp", {"https://git.example.com/acme/lib.git",
                 "ssh://git@git.example.com/other/x.git", "git@Git.Example.com:acme/y.git"}),
    ("own-local", {"/srv/git/shared", "file:///srv/git/sub/lib.git"}),
    ("standalone-watching", {"https://hg.example.com/theme"}),
    ("standalone-alone", set()),
    ("tag", {"https://hg.example.com/theme"}),
])
def test_auto_watch_default_allows_the_hosts_the_manifest_names(tmp_path: Path, name: str,
                                                                 urls: set[str]) -> None:
    found, warnings = admitted(tmp_path, name)
    assert found == urls
    dropped = [w for w in REPORTED if w.url not in urls]
    assert len(warnings) == len(dropped)
    for watch, warning in zip(dropped, warnings, strict=True):
        assert warning.startswith(f"buildout [{name}]: auto-watch entry ")
        assert watch.url in warning and "see auto_watch_allowed" in warning


def test_auto_watch_allowed_prefixes_replace_the_default(tmp_path: Path) -> None:
    found, warnings = admitted(tmp_path, "own-https", allowed=(
        "https://git.example.com/acme/", "/srv/git", "https://evil.example.net/x.git"))
    assert found == {"https://git.example.com/acme/lib.git", "/srv/git/shared",
                     "file:///srv/git/sub/lib.git", "https://evil.example.net/x.git"}
    assert len(warnings) == len(REPORTED) - 4
    assert "allowed: under https://git.example.com/acme/, under /srv/git" in warnings[0]
    found, warnings = admitted(tmp_path, "own-https", allowed=())
    assert found == set() and len(warnings) == len(REPORTED)


def test_auto_watch_entries_are_checked_after_rewriting(tmp_path: Path) -> None:
    specs = load(tmp_path, "[a]\nbuildout = git https://h/a.git main buildout.cfg\n"
                           "auto-watch = true\n")
    warnings: list[str] = []
    reported = {"a": (Watch("git", "https://h/x.git", "main"),
                      Watch("git", "https://h/ok/y.git", "main"))}
    rules = [("https://h/ok/", "file:///srv/mirror/"), ("https://h/x", "--upload-pack=")]
    _repos, per_buildout = collect(specs, reported, rules, warn=warnings.append)
    assert [w.url for w in per_buildout["a"]] == ["https://h/a.git",
                                                  "file:///srv/mirror/y.git"]
    assert len(warnings) == 1
    assert "entry 'git https://h/x.git main' dropped" in warnings[0]
    assert "'--upload-pack=.git', refused: a URL must not start" in warnings[0]


def test_a_rewrite_rule_giving_a_refused_url_is_an_error_at_the_watch_line(
        tmp_path: Path) -> None:
    specs = load(tmp_path, "[a]\nbuildout = git https://h/a.git main buildout.cfg\n"
                           "watch = git https://h/a.git main\n        hg https://h/lib default\n")
    rules = [("https://h/lib", "ext::sh")]
    errors = Errors()
    collect(specs, {}, rules, errors=errors)
    assert len(errors.messages) == 1
    message = errors.messages[0]
    assert message.startswith(f"{tmp_path / 'MANIFEST.cfg'}:4: buildout [a] watch: ")
    assert "'::' is not allowed" in message and "'ext::sh'" in message
    with pytest.raises(ConfigError):
        collect(specs, {}, rules)


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
    assert parse_cron(cron).nightly_kwargs() == expected


def test_a_cron_line_is_parsed_once_into_a_frozen_value() -> None:
    cron = parse_cron("  */20  3 *\t* 0,7 ")
    assert cron == Cron("*/20 3 * * 0,7", minute=(0, 20, 40), hour=(3,), day_of_month=None,
                        month=None, day_of_week=(6,))            # Buildbot: Sunday = 6
    assert str(cron) == "*/20 3 * * 0,7"
    with pytest.raises(AttributeError):
        cron.minute = (1,)  # type: ignore[misc]
    assert hash(cron) == hash(parse_cron("*/20 3 * * 0,7"))


@pytest.mark.parametrize("cron, problem", [
    ("0 3 * *", "expected a cron line of 5 fields, got 4"),
    ("60 3 * * *", "invalid minute field '60' (allowed 0-59)"),
    ("0 3 0 * *", "invalid dayOfMonth field '0'"),
    ("0 3 * 5-2 *", "invalid month field '5-2'"),
    ("0 3 * * mon", "invalid dayOfWeek field 'mon'"),
    ("0 3 * * */0", "invalid dayOfWeek field '*/0'"),
    ("\u0663 3 * * *", "invalid minute field '\u0663'"),        # an Arabic-Indic three
    ("0 \uff13 * * *", "invalid hour field '\uff13'"),          # a full-width three
    ("0 3 * * 1-" + "5" * 5000, "invalid dayOfWeek field '1-555"),
])
def test_bad_cron_lines(cron: str, problem: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_cron(cron)
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


def test_schedulers_and_their_filters_can_be_logged(tmp_path: Path) -> None:
    # Buildbot's ChangeFilter.__repr__ reads filter_fn.__name__: anything
    # logging a scheduler or its filter must not crash on ours.
    scheds = {s.name: s for s in populate(write_master(tmp_path))["schedulers"]}
    for name in ("a-changes", "b-changes", "e-changes", "c-nightly", "force"):
        assert name in repr(scheds[name])
    change_filter = scheds["b-changes"]._config_kwargs["change_filter"]
    assert repr(change_filter) == "<ChangeFilter on AcceptWatched()>"
    assert "AcceptWatched([(" in repr(change_filter.filter_fn)   # the pairs, for debugging


def test_nightly_scheduler_is_made_from_the_parsed_value(tmp_path: Path) -> None:
    (spec,) = [s for s in load(tmp_path) if s.name == "c"]
    assert isinstance(spec.nightly, Cron)         # parsed when the manifest was read
    (sched,) = make_schedulers([spec], {}, {"c": ["c"]})
    assert sched._config_kwargs["minute"] == 30
    assert sched._config_kwargs["dayOfWeek"] == [0, 1, 2, 3, 4]


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




def test_master_drops_malicious_report_entries_with_one_warning_each(tmp_path: Path,
                                                                     logged) -> None:
    root = write_master(tmp_path)
    (root / "watch").mkdir()
    (root / "watch" / "d.json").write_text(json.dumps({"repos": [
        {"vcs": "git", "url": "ssh://git@example.com/base.git", "branch": "main"},
        {"vcs": "git", "url": "--upload-pack=/tmp/evil.sh", "branch": "main"},
        {"vcs": "hg", "url": "--config=hooks.pre-pull=/tmp/evil.sh", "branch": "default"},
        {"vcs": "git", "url": "ssh://git@example.com/c.git", "branch": "--upload-pack=x"},
        {"vcs": "git", "url": "https://attacker.example.net/x.git", "branch": "main"},
    ]}))
    config = populate(root)
    names = sorted(s.name for s in config["change_source"])
    assert "anybox-git:ssh://git@example.com/base.git" in names
    assert not any("evil" in n or "attacker" in n or "c.git" in n for n in names)
    warnings = [m for m in logged if m.startswith("anybox_buildbot: WARNING: ")
                and "[d]" in m and "dropped" in m]
    assert len(warnings) == 4, warnings
    for fragment in ("--upload-pack=/tmp/evil.sh", "--config=hooks.pre-pull=/tmp/evil.sh",
                     "--upload-pack=x", "https://attacker.example.net/x.git"):
        assert sum(fragment in w for w in warnings) == 1, fragment


def test_auto_watch_allowed_keyword(tmp_path: Path, logged) -> None:
    root = write_master(tmp_path)
    (root / "watch").mkdir()
    (root / "watch" / "d.json").write_text(json.dumps({"repos": [
        {"vcs": "git", "url": "ssh://git@example.com/base.git", "branch": "main"},
        {"vcs": "git", "url": "https://mirror.example.org/acme/lib.git", "branch": "main"},
    ]}))
    config = populate(root, auto_watch_allowed="https://mirror.example.org/acme/")
    names = sorted(s.name for s in config["change_source"])
    assert "anybox-git:https://mirror.example.org/acme/lib.git" in names
    assert "anybox-git:ssh://git@example.com/base.git" not in names
    assert any("ssh://git@example.com/base.git" in m and "under https://mirror.example.org"
               in m for m in logged)


@pytest.mark.parametrize("value", [[""], [3], ["https://h/ x"], [None]])
def test_bad_auto_watch_allowed_is_a_config_error(tmp_path: Path, value) -> None:
    with pytest.raises(ConfigError, match="auto_watch_allowed: .* is not a URL prefix"):
        populate(write_master(tmp_path), auto_watch_allowed=value)


def test_a_bad_rewrite_rule_fails_populate_before_anything_is_added(tmp_path: Path) -> None:
    config: dict = {}
    conf = BuildoutsConfigurator(str(write_master(tmp_path)), config,
                                 vcs_master_url_rewrite_rules=[("ssh://", "--upload-pack=")])
    with pytest.raises(ConfigError) as info:
        conf.populate()
    assert config == {}
    assert all("--upload-pack=git@example.com/a.git" in m for m in info.value.errors)
    assert len(info.value.errors) == 2  # a (its own repository), b (its watch line)


def test_pollers_refuse_what_vcsref_refuses_even_from_a_hand_made_map() -> None:
    from anybox_buildbot.pollers import make_change_sources
    from anybox_buildbot.watching import RepoWatch

    repos = {}
    for vcs, url, branch in (("git", "--upload-pack=/tmp/evil.sh", "main"),
                             ("hg", "https://h/lib", "--config=hooks.x=y"),
                             ("git", "https://h/ok.git", "main")):
        repos[Repo(vcs, url)] = RepoWatch(Repo(vcs, url), {branch: ["b"]})
    warnings: list[str] = []
    made = make_change_sources(repos, 60, warnings.append)
    assert [s.name for s in made] == ["anybox-git:https://h/ok.git"]
    assert len(warnings) == 2
    assert "'--upload-pack=/tmp/evil.sh' is not polled" in warnings[0]
    assert "branch '--config=hooks.x=y'" in warnings[1]


# --------------------------------------------------------------------------- #
# Security review of issue 10: '..' hidden behind a percent-encoded '/'
# --------------------------------------------------------------------------- #

def _git(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *argv], capture_output=True, text=True, check=False)


def _make_git_repo_with_branch(work: Path, bare: Path, branch: str) -> None:
    env_args = ("-c", "user.name=t", "-c", "user.email=t@example.com")
    assert _git("init", "-q", "-b", branch, str(work)).returncode == 0
    (work / "f").write_text("x")
    assert _git("-C", str(work), "add", "f").returncode == 0
    assert _git(*env_args, "-C", str(work), "commit", "-qm", "secret plans").returncode == 0
    assert _git("clone", "-q", "--bare", str(work), str(bare)).returncode == 0


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_auto_watch_report_cannot_leave_the_default_local_folder_git(tmp_path: Path) -> None:
    """A commit to the watched repository makes the master poll (and show in
    its Changes pages) a repository outside the folder the default rule
    allows."""
    allowed = tmp_path / "srv" / "git"
    allowed.mkdir(parents=True)
    own = allowed / "app.git"
    secret = tmp_path / "secret" / "repo.git"
    assert _git("init", "-q", "--bare", str(own)).returncode == 0
    _make_git_repo_with_branch(tmp_path / "work", secret, "private")
    escaped = f"file://{allowed}/..%2F..%2Fsecret/repo.git"
    # Precondition: git itself follows the escape and reads the secret repo.
    listed = _git("ls-remote", escaped)
    assert listed.returncode == 0 and "refs/heads/private" in listed.stdout

    manifest = tmp_path / "MANIFEST.cfg"
    manifest.write_text(f"[app]\nbuildout = git file://{own} main buildout.cfg\n"
                        "auto-watch = true\n")
    errors = Errors()
    specs = load_manifests([manifest], errors)
    errors.raise_if_any()
    report = tmp_path / "app.json"
    report.write_text(json.dumps({"repos": [
        {"vcs": "git", "url": escaped, "branch": "private"}]}))
    watches, _warnings = read_report(report, "app")
    repos, _ = collect(specs, {"app": watches}, [], warn=lambda text: None)
    polled = {repo.url for repo in repos}
    assert escaped not in polled, f"master would poll {escaped} (outside {allowed}/)"


def test_an_allowed_prefix_with_an_encoded_dotdot_admits_nothing(tmp_path: Path) -> None:
    """Checked by the allow-list itself (not only by the URL rules): a
    reported path that climbs out of the prefix once decoded is dropped."""
    specs = load(tmp_path, "[d]\nbuildout = git https://git.example.com/app.git main "
                 "buildout.cfg\nauto-watch = true\n")
    reported = (Watch("git", "https://git.example.com/acme/ok.git", "main"),
                Watch("git", "https://git.example.com/acme/x%2F..%2F..%2Fother.git", "main"))
    seen: list[str] = []
    _repos, watches = collect(specs, {"d": reported}, [],
                              allowed=["https://git.example.com/acme/"], warn=seen.append)
    urls = {w.url for w in watches["d"]}
    assert "https://git.example.com/acme/ok.git" in urls
    assert not any("other" in url for url in urls)
    assert len(seen) == 1 and "not a repository this buildout may auto-watch" in seen[0]


@pytest.mark.parametrize("prefix", ["/srv/git/..%2F", "https://h/acme/../",
                                    "file:///srv/%2e%2e/x/"])
def test_auto_watch_allowed_prefix_with_dotdot_is_a_config_error(tmp_path: Path,
                                                                 prefix: str) -> None:
    with pytest.raises(ConfigError, match="auto_watch_allowed: .* is not a URL prefix: "
                       "'..' is not allowed"):
        populate(write_master(tmp_path), auto_watch_allowed=[prefix])


def test_rewrite_rule_output_with_an_encoded_dotdot_is_a_config_error(tmp_path: Path) -> None:
    conf = BuildoutsConfigurator(str(write_master(tmp_path)), {}, vcs_master_url_rewrite_rules=[
        ("ssh://git@example.com/", "file:///srv/mirror/..%2F..%2Fsecret/")])
    with pytest.raises(ConfigError) as info:
        conf.populate()
    assert any("'..' is not allowed" in m for m in info.value.errors), info.value.errors
