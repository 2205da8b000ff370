"""Watching as users of anybox.buildbot.odoo expect it (issue 15, item 1).

A git/hg buildout's own repository stays watched when ``watch`` lines are
added (``watch-buildout = false`` turns it off); URL rewrite rules are
chained; poll intervals per VCS kind, ``-1`` for no polling; a master-wide
default tree-stable timer.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from buildbot.changes.gitpoller import GitPoller
from buildbot.changes.hgpoller import HgPoller
from unit_helpers import load_manifest

from anybox_buildbot import BuildoutsConfigurator, ConfigError
from anybox_buildbot.buildoutspec import Watch
from anybox_buildbot.watching import collect, rewrite_url

MANIFEST = """\
[own-and-addon]
buildout = git https://git.example.com/acme/buildout.git main buildout.cfg
watch = git https://git.example.com/acme/addons.git 16.0

[own-off]
buildout = hg https://hg.example.com/acme/buildout default buildout.cfg
watch = hg https://hg.example.com/acme/addons default
watch-buildout = false

[own-only]
buildout = hg https://hg.example.com/acme/buildout stable buildout.cfg

[empty-watch]
buildout = git https://git.example.com/acme/buildout.git main buildout.cfg
watch =

[timer]
buildout = git https://git.example.com/acme/buildout.git main buildout.cfg
tree-stable-timer = 30
"""


def load(tmp_path: Path, text: str = MANIFEST):
    return load_manifest(tmp_path, text)


def test_own_repository_stays_watched_next_to_watch_lines(tmp_path: Path) -> None:
    _repos, per_buildout = collect(load(tmp_path), {}, [])
    assert per_buildout["own-and-addon"] == (
        Watch("git", "https://git.example.com/acme/addons.git", "16.0"),
        Watch("git", "https://git.example.com/acme/buildout.git", "main"))
    assert per_buildout["own-only"] == (
        Watch("hg", "https://hg.example.com/acme/buildout", "stable"),)
    # an empty watch adds nothing and takes nothing away
    assert per_buildout["empty-watch"] == (
        Watch("git", "https://git.example.com/acme/buildout.git", "main"),)


def test_watch_buildout_false_turns_the_own_repository_off(tmp_path: Path) -> None:
    _repos, per_buildout = collect(load(tmp_path), {}, [])
    assert per_buildout["own-off"] == (
        Watch("hg", "https://hg.example.com/acme/addons", "default"),)


def test_watch_buildout_is_a_boolean(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, "[a]\nbuildout = git https://h/a.git main b.cfg\nwatch-buildout = maybe\n")
    assert "MANIFEST.cfg:3: buildout [a] watch-buildout: expected true or false" \
        in info.value.errors[0]


def test_rewrite_rules_are_chained_in_order() -> None:
    rules = [("protocol://special/", "http://hg.example/"),
             ("http://hg.example/", "ssh://hg@example/")]
    assert rewrite_url("protocol://special/repo2", rules) == "ssh://hg@example/repo2"
    assert rewrite_url("http://hg.example/myrepo", rules) == "ssh://hg@example/myrepo"
    assert rewrite_url("https://other/x", rules) == "https://other/x"
    # a rule applies once, on the result of the rules before it, never again
    assert rewrite_url("a/b", [("a/", "a/a/")]) == "a/a/b"


def write_master(root: Path, manifest: str = MANIFEST) -> Path:
    (root / "buildouts").mkdir(parents=True)
    (root / "buildouts" / "MANIFEST.cfg").write_text(manifest)
    (root / "workers.cfg").write_text("[w]\npassword = x\n")
    return root


def populate(root: Path, **kwargs) -> BuildoutsConfigurator:
    conf = BuildoutsConfigurator(str(root), {}, **kwargs)
    conf.populate()
    return conf


def pollers(conf: BuildoutsConfigurator) -> dict[str, object]:
    return {type(p).__name__: p for p in conf.config["change_source"]}


def test_poll_interval_per_vcs(tmp_path: Path) -> None:
    conf = populate(write_master(tmp_path), poll_interval={"git": 3600, "hg": 86400})
    made = pollers(conf)
    assert isinstance(made["GitPoller"], GitPoller) and isinstance(made["HgPoller"], HgPoller)
    assert made["GitPoller"]._config_kwargs["pollInterval"] == 3600
    assert made["HgPoller"]._config_kwargs["pollInterval"] == 86400


def test_poll_interval_minus_one_turns_polling_off_for_a_kind(tmp_path: Path) -> None:
    conf = populate(write_master(tmp_path), poll_interval={"git": -1, "hg": None})
    made = pollers(conf)
    assert "GitPoller" not in made
    assert made["HgPoller"]._config_kwargs["pollInterval"] == 600   # None: the default
    # the change-triggered schedulers stay (changes may come from a hook)
    names = {s.name for s in conf.config["schedulers"]}
    assert "own-and-addon-changes" in names


def test_poll_interval_minus_one_turns_all_polling_off(tmp_path: Path) -> None:
    conf = populate(write_master(tmp_path), poll_interval=-1)
    assert conf.config["change_source"] == []
    assert not [w for w in conf.warnings.pending() if "not polled" in w]


@pytest.mark.parametrize("value, message", [
    (0, "poll_interval: expected a whole number of seconds, at least 1, -1 (no polling), "
        "None (600) or a dict VCS -> one of these, got int 0"),
    (-2, "got int -2"),
    ({"svn": 60}, "poll_interval['svn']: unknown VCS kind (known: bzr, git, hg)"),
    ({"git": "60"}, "poll_interval['git']: expected a whole number of seconds, at least 1, "
                    "-1 (no polling) or None (600), got str '60'"),
    ({"git": 0}, "poll_interval['git']: expected"),
    (lambda **kw: 60, "got a function"),
])
def test_bad_poll_intervals_are_clear_errors(tmp_path: Path, value, message) -> None:
    with pytest.raises(ConfigError) as info:
        BuildoutsConfigurator(str(tmp_path), {}, poll_interval=value)
    assert message in info.value.errors[0]


def test_master_wide_tree_stable_timer(tmp_path: Path) -> None:
    conf = populate(write_master(tmp_path), tree_stable_timer=120)
    timers = {s.name: s._config_kwargs["treeStableTimer"] for s in conf.config["schedulers"]
              if s.name.endswith("-changes")}
    assert timers["own-only-changes"] == 120       # the master's default
    assert timers["timer-changes"] == 30           # the manifest wins
    conf = populate(write_master(tmp_path / "again"))
    timers = {s.name: s._config_kwargs["treeStableTimer"] for s in conf.config["schedulers"]
              if s.name.endswith("-changes")}
    assert timers["own-only-changes"] == 600       # no argument: 600 as before


@pytest.mark.parametrize("value", [-1, "600", 1.5, True])
def test_bad_tree_stable_timer_argument(tmp_path: Path, value) -> None:
    with pytest.raises(ConfigError) as info:
        BuildoutsConfigurator(str(tmp_path), {}, tree_stable_timer=value)
    assert "argument tree_stable_timer: expected a whole number of seconds" \
        in info.value.errors[0]
