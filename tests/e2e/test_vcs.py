"""Buildouts from real git repositories, watched by real pollers.

A real master and worker; bare git repositories in a temp dir reached by
file:// URLs; a short poll interval and tree-stable timer so that a commit
turns into a build within seconds.
"""

from __future__ import annotations

import functools
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from localrun import Master, Rest, running_master, simple_master_cfg, wait_for

BUILD_TIMEOUT = 300
POLL = 2
GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}


def git(cwd: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=True,
                         capture_output=True, text=True)
    return out.stdout.strip()


def commit(work: Path, files: dict[str, str], message: str, branch: str,
           push: bool = True) -> str:
    if git(work, "symbolic-ref", "--short", "HEAD") != branch:
        git(work, "checkout", "-q", branch)
    for name, text in files.items():
        (work / name).write_text(text)
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", message)
    if push:
        git(work, "push", "-q", "origin", branch)
    return git(work, "rev-parse", "HEAD")


@dataclass
class Setup:
    root: Path
    master: Master
    rest: Rest
    app_work: Path
    shared: Path
    own_work: Path
    addons_work: Path

    def builds(self, builder: str) -> list[dict]:
        return self.rest.get(f"builders/{builder}/builds")["builds"]

    def counts(self) -> dict[str, int]:
        return {name: len(self.builds(name)) for name in self.rest.builders()}

    def wait_new_build(self, builder: str, before: int) -> dict:
        def finished() -> dict | None:
            builds = self.builds(builder)
            if len(builds) > before:
                latest = max(builds, key=lambda b: b["number"])
                return latest if latest["complete"] else None
            return None
        return wait_for(finished, BUILD_TIMEOUT, interval=0.5,
                        what=f"a change-triggered build of {builder}")


def new_repo(root: Path, name: str, files: dict[str, str]) -> tuple[Path, str]:
    """A bare repository with one commit on master, and a clone to commit in."""
    bare = root / f"{name}.git"
    git(root, "init", "-q", "--bare", "-b", "master", str(bare))
    work = root / f"{name}-work"
    git(root, "clone", "-q", str(bare), str(work))
    git(work, "symbolic-ref", "HEAD", "refs/heads/master")
    commit(work, files, "first", "master")
    return work, f"file://{bare}"


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("vcs")
    # shared: a plain checkout holding a cfg the app buildout extends
    shared = root / "shared"
    shared.mkdir()
    git(shared, "init", "-q", "-b", "master")
    commit(shared, {"base.cfg": "[buildout]\nparts =\n"}, "base", "master", push=False)
    # app: a bare repository with master, other and feature branches and a tag
    bare = root / "app.git"
    git(root, "init", "-q", "--bare", "-b", "master", str(bare))
    work = root / "app-work"
    git(root, "clone", "-q", str(bare), str(work))
    git(work, "symbolic-ref", "HEAD", "refs/heads/master")
    cfg = f"[buildout]\nextends = {shared / 'base.cfg'}\n"
    commit(work, {"buildout.cfg": cfg, "VERSION": "one\n"}, "v1", "master")
    git(work, "tag", "v1")
    git(work, "push", "-q", "origin", "v1")
    commit(work, {"VERSION": "two\n"}, "v2", "master")
    for branch in ("other", "feature"):
        git(work, "checkout", "-q", "-b", branch)
        git(work, "push", "-q", "origin", branch)
    url = f"file://{bare}"
    # watched: a buildout of its own repository, with a watch line for a
    # second one (an addons repository): both trigger its builds
    own_work, own_url = new_repo(root, "own", {"buildout.cfg": "[buildout]\nparts =\n"})
    addons_work, addons_url = new_repo(root, "addons", {"ADDON": "one\n"})
    archive = root / "proj.tar.gz"
    subprocess.run(["tar", "-czf", str(archive), "-C", str(work), "--exclude=.git",
                    "--transform=s,^\\.,proj,", "."], check=True)
    master_dir = root / "master"
    (master_dir / "buildouts").mkdir(parents=True)
    (master_dir / "buildouts" / "MANIFEST.cfg").write_text(f"""\
[DEFAULT]
tree-stable-timer = 1
test-command = cat VERSION

[app]
buildout = git {url} master buildout.cfg
watch = git {url} master

[other]
buildout = git {url} other buildout.cfg

[app-tag]
buildout = gittag {url} buildout.cfg
watch =

[auto]
buildout = git {url} master buildout.cfg
watch =
auto-watch = true

[arch]
buildout = archive {archive} proj/buildout.cfg

[watched]
buildout = git {own_url} master buildout.cfg
watch = git {addons_url} master
test-command = true
""")
    (master_dir / "workers.cfg").write_text("[w1]\npassword = vcs-pass\n")
    config = functools.partial(simple_master_cfg, kwargs=f", poll_interval={POLL}")
    with running_master(master_dir, {"w1": "vcs-pass"}, config) as master:
        yield Setup(root, master, master.rest, work, shared, own_work, addons_work)


def force(setup: Setup, builder: str, **props) -> tuple[dict, dict]:
    brid = setup.rest.force([builder], **props)[builder]
    build = setup.rest.wait_build(brid, timeout=BUILD_TIMEOUT)
    return build, setup.rest.build_properties(build["buildid"])


def test_git_buildout_builds_branch_head(setup: Setup) -> None:
    build, props = force(setup, "app")
    assert build["results"] == 0, build["state_string"]
    head = git(setup.app_work, "rev-parse", "origin/master")
    assert props["got_revision"] == head
    assert setup.rest.step_log(build["buildid"], "test").count("two") == 1


def test_gittag_builds_the_given_tag_and_requires_one(setup: Setup) -> None:
    build, _props = force(setup, "app-tag", **{"buildout-tag": "v1"})
    assert build["results"] == 0, build["state_string"]
    assert "one" in setup.rest.step_log(build["buildid"], "test")
    build, _props = force(setup, "app-tag")
    assert build["results"] == 2
    message = setup.rest.step_log(build["buildid"], "check-buildout-tag", "error")
    assert "'buildout-tag' property is empty" in message


def test_commits_trigger_exactly_the_watching_builders(setup: Setup) -> None:
    time.sleep(POLL * 2)  # pollers have recorded the initial heads
    before = setup.counts()
    commit(setup.app_work, {"VERSION": "three\n"}, "v3", "master")
    build = setup.wait_new_build("app", before["app"])
    assert build["results"] == 0
    setup.wait_new_build("auto", before["auto"])  # auto-watch covers its own repository
    # 'other' builds from the same repository but watches branch 'other'
    commit(setup.app_work, {"NOTE": "x\n"}, "on other", "other")
    setup.wait_new_build("other", before["other"])
    time.sleep(POLL * 2 + 2)
    after = setup.counts()
    assert after["app"] == before["app"] + 1
    assert after["other"] == before["other"] + 1
    assert after["auto"] == before["auto"] + 1
    assert after["app-tag"] == before["app-tag"]  # explicit empty watch
    # a commit on a branch nobody watches triggers nothing
    commit(setup.app_work, {"NOTE": "y\n"}, "on feature", "feature")
    time.sleep(POLL * 3 + 2)
    assert setup.counts() == after


def test_auto_watch_adds_the_extended_repository(setup: Setup) -> None:
    build, _props = force(setup, "auto")
    assert build["results"] == 0, build["state_string"]
    assert str(setup.shared) in (setup.master.stored_watch_report("auto") or "")
    sources = setup.rest.get("changesources")["changesources"]
    assert not any(str(setup.shared) in s["name"] for s in sources)
    rc, output = setup.master.reconfig()
    assert rc == 0, output
    sources = wait_for(
        lambda: [s for s in setup.rest.get("changesources")["changesources"]
                 if str(setup.shared) in s["name"]] or None,
        30, what="a poller for the extended repository")
    assert len(sources) == 1
    time.sleep(POLL * 2)
    before = len(setup.builds("auto"))
    commit(setup.shared, {"base.cfg": "[buildout]\nparts =\n# changed\n"}, "base 2",
           "master", push=False)
    build = setup.wait_new_build("auto", before)
    assert build["results"] == 0


def test_archive_buildout_is_unpacked_and_built(setup: Setup) -> None:
    build, _props = force(setup, "arch")
    assert build["results"] == 0, build["state_string"]
    assert "unpacked" in setup.rest.step_log(build["buildid"], "fetch-archive")
    assert "two" in setup.rest.step_log(build["buildid"], "test")


def test_own_repository_stays_watched_next_to_a_watch_line(setup: Setup) -> None:
    """As in anybox.buildbot.odoo: a ``watch`` line for a second repository
    adds a trigger; a commit to the buildout's own repository still builds."""
    time.sleep(POLL * 2)  # pollers have recorded the initial heads
    before = len(setup.builds("watched"))
    own = commit(setup.own_work, {"buildout.cfg": "[buildout]\nparts =\n# 2\n"}, "own 2",
                 "master")
    build = setup.wait_new_build("watched", before)
    assert build["results"] == 0, build["state_string"]
    props = setup.rest.build_properties(build["buildid"])
    assert props["got_revision"] == own
    commit(setup.addons_work, {"ADDON": "two\n"}, "addons 2", "master")
    build = setup.wait_new_build("watched", before + 1)
    assert build["results"] == 0, build["state_string"]
    changes = setup.rest.get(f"builds/{build['buildid']}/changes")["changes"]
    assert [c["comments"] for c in changes] == ["addons 2"]
    assert len(setup.builds("watched")) == before + 2
