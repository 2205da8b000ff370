"""VCS locations and names from untrusted hands never become options.

One real master and worker, real git and Mercurial repositories. Each
attack names an executable script that writes a marker file: the proof
that nothing ran is that the marker never exists, after the master has
had time to poll (poll interval 2 s) and after real builds.

Routes: a manifest line (URL, branch, watch line; refused by ``check`` and
by the master's reconfig), an auto-watch report written by a real build
from a buildout file committed to the repository (entries dropped with a
warning, the legitimate ones still polled), and the tag typed in the force
form (refused before any checkout).
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from localrun import Master, running_master, simple_master_cfg, wait_for

POLL = 2
BUILD_TIMEOUT = 300
CLI = Path(sys.executable).parent / "anybox-buildbot"
GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=True, capture_output=True)


def hg(cwd: Path, *args: str) -> None:
    subprocess.run(["hg", "--config", "ui.username=t <t@example.com>", *args], cwd=cwd,
                   check=True, capture_output=True)


def commit(work: Path, files: dict[str, str], message: str, branch: str) -> None:
    for name, text in files.items():
        (work / name).write_text(text)
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", message)
    git(work, "push", "-q", "origin", branch)


def evil(root: Path, route: str) -> tuple[Path, Path]:
    """(an executable writing a marker, that marker) for one attack route."""
    marker = root / f"marker-{route}"
    script = root / f"evil-{route}.sh"
    if not script.exists():
        script.write_text(f'#!/bin/sh\necho "$0 $*" >> {marker}\n')
        script.chmod(0o755)
    return script, marker


@dataclass
class Setup:
    root: Path
    master: Master
    manifest: Path
    good_manifest: str
    app_url: str
    lib_url: str
    shared: Path

    def evil(self, route: str) -> tuple[Path, Path]:
        return evil(self.root, route)

    def force(self, builder: str, **props: str) -> dict:
        brid = self.master.rest.force([builder], **props)[builder]
        return self.master.rest.wait_build(brid, timeout=BUILD_TIMEOUT)

    def poller_names(self) -> list[str]:
        return [s["name"] for s in self.master.rest.get("changesources")["changesources"]]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("trust")
    # a plain checkout holding the cfg the buildout extends (reported as a path)
    shared = root / "shared"
    shared.mkdir()
    git(shared, "init", "-q", "-b", "master")
    (shared / "base.cfg").write_text("[buildout]\nparts =\n")
    git(shared, "add", "-A")
    git(shared, "commit", "-q", "-m", "base")
    # a develop source, a bare repository next to the buildout's own
    lib = root / "lib.git"
    git(root, "init", "-q", "--bare", "-b", "main", str(lib))
    lib_work = root / "lib-work"
    git(root, "clone", "-q", str(lib), str(lib_work))
    git(lib_work, "symbolic-ref", "HEAD", "refs/heads/main")
    commit(lib_work, {"README": "lib\n"}, "lib", "main")
    app = root / "app.git"
    git(root, "init", "-q", "--bare", "-b", "master", str(app))
    app_work = root / "app-work"
    git(root, "clone", "-q", str(app), str(app_work))
    git(app_work, "symbolic-ref", "HEAD", "refs/heads/master")
    hg_repo = root / "hgrepo"
    hg_repo.mkdir()
    hg(hg_repo, "init")
    (hg_repo / "buildout.cfg").write_text("[buildout]\nparts =\n")
    hg(hg_repo, "commit", "-A", "-m", "first")
    master_dir = root / "master"
    (master_dir / "buildouts").mkdir(parents=True)
    good = f"""\
[DEFAULT]
tree-stable-timer = 1
test-command = cat buildout.cfg

[auto]
buildout = git file://{app} master buildout.cfg
auto-watch = true

[app-tag]
buildout = gittag file://{app} buildout.cfg
watch =

[hg-tag]
buildout = hgtag {hg_repo} buildout.cfg
watch =
"""
    manifest = master_dir / "buildouts" / "MANIFEST.cfg"
    manifest.write_text(good)
    (master_dir / "workers.cfg").write_text("[w1]\npassword = trust-pass\n")
    config = functools.partial(simple_master_cfg, kwargs=f", poll_interval={POLL}")
    # the buildout file a committer controls: develop sources with attacks
    script, _marker = evil(root, "report")
    commit(app_work, {"buildout.cfg": f"""\
[buildout]
extends = {shared / 'base.cfg'}
parts =
sources = sources

[sources]
lib = git file://{lib} branch=main
evil-url = git --upload-pack={script}
evil-hg = hg --config=hooks.pre-pull={script}
evil-branch = git file://{lib} branch=--upload-pack={script}
evil-host = git https://attacker.invalid/x.git
"""}, "app", "master")
    git(app_work, "tag", "v1")
    git(app_work, "push", "-q", "origin", "v1")
    with running_master(master_dir, {"w1": "trust-pass"}, config) as master:
        yield Setup(root, master, manifest, good, f"file://{app}", f"file://{lib}", shared)


def test_manifest_attacks_are_refused_by_check_and_reconfig(setup: Setup) -> None:
    script, marker = setup.evil("manifest")
    attacks = {
        "evil-url": f"buildout = git --upload-pack={script} master buildout.cfg",
        "evil-hg": f"buildout = hg --config=hooks.pre-clone={script} default buildout.cfg",
        "evil-branch": f"buildout = git {setup.app_url} --upload-pack={script} buildout.cfg",
        "evil-watch": f"buildout = git {setup.app_url} master buildout.cfg\n"
                      f"watch = hg --config=hooks.pre-pull={script} default\n"
                      f"        git {setup.app_url} --upload-pack={script}",
        "evil-ext": f"buildout = git ext::{script} master buildout.cfg",
        "evil-ssh": f"buildout = git ssh://-oProxyCommand={script}/x master buildout.cfg",
    }
    bad = setup.good_manifest + "".join(f"\n[{name}]\n{text}\n"
                                        for name, text in attacks.items())
    setup.manifest.write_text(bad)
    try:
        rc, output = setup.master.reconfig()
        time.sleep(POLL * 3)   # pollers would have run by now
        assert not marker.exists(), marker.read_text()
        assert rc == 1, output  # rejected: the master keeps its configuration
        check = subprocess.run([str(CLI), "check", str(setup.master.basedir)],
                               capture_output=True, text=True)
    finally:
        setup.manifest.write_text(setup.good_manifest)
    out = check.stdout + check.stderr
    assert check.returncode == 1, out
    lines = bad.splitlines()
    expected = {  # (line of the attack, what the message says)
        "evil-url": ("buildout", "refused git URL: a URL must not start with '-'"),
        "evil-hg": ("buildout", "refused hg URL: a URL must not start with '-'"),
        "evil-branch": ("buildout", "refused git branch: a name must not start with '-'"),
        "evil-ext": ("buildout", "refused git URL: '::' is not allowed"),
        "evil-ssh": ("buildout", "refused git URL: the user or host of a URL must not"),
    }
    for name, (option, problem) in expected.items():
        line = lines.index(f"[{name}]") + 2
        assert f"MANIFEST.cfg:{line}: buildout [{name}] {option}: {problem}" in out, out
    watch_line = lines.index("[evil-watch]") + 3
    assert (f"MANIFEST.cfg:{watch_line}: buildout [evil-watch] watch: refused hg URL"
            in out), out
    assert (f"MANIFEST.cfg:{watch_line + 1}: buildout [evil-watch] watch: refused git "
            "branch" in out), out
    assert str(script) in out
    assert not any("evil" in name for name in setup.master.rest.builders())
    assert not marker.exists()


def test_auto_watch_report_attacks_are_dropped_and_the_rest_polled(setup: Setup) -> None:
    _script, marker = setup.evil("report")
    build = setup.force("auto")
    assert build["results"] in (0, 1), build["state_string"]
    report = setup.master.stored_watch_report("auto") or ""
    assert "--upload-pack=" in report and "--config=hooks.pre-pull=" in report  # sent
    before = setup.master.log_text()
    rc, output = setup.master.reconfig()
    assert rc == 0, output

    def with_shared() -> list[str] | None:
        names = setup.poller_names()
        return names if any(str(setup.shared) in name for name in names) else None

    names = wait_for(with_shared, 30, what="a poller for the extended checkout")
    time.sleep(POLL * 3)   # every poller has polled at least twice
    assert not marker.exists(), marker.read_text()
    assert f"anybox-git:{setup.app_url}" in names
    assert f"anybox-git:{setup.lib_url}" in names
    assert not any("evil" in n or "attacker" in n or n.startswith("anybox-hg") for n in names)
    log = setup.master.log_text()[len(before):]
    warnings = [line for line in log.splitlines()
                if "anybox_buildbot: WARNING:" in line and "[auto]" in line
                and "dropped" in line]
    for fragment in ('"url": "--upload-pack=', '"url": "--config=hooks.pre-pull=',
                     '"branch": "--upload-pack=', "https://attacker.invalid/x.git"):
        assert sum(fragment in w for w in warnings) == 1, (fragment, warnings)
    assert len(warnings) == 4, warnings
    # one warnings channel: each at the manifest section of the buildout
    assert all(re.search(r"WARNING: buildouts/MANIFEST\.cfg:\d+: buildout \[auto\]", w)
               for w in warnings), warnings


@pytest.mark.parametrize("builder, tag", [
    ("app-tag", "--upload-pack={script}"),
    ("app-tag", "v1..v2"),
    ("hg-tag", "--config=hooks.pre-update={script}"),
])
def test_forced_tag_is_checked_before_any_checkout(setup: Setup, builder: str,
                                                   tag: str) -> None:
    script, marker = setup.evil("tag")
    build = setup.force(builder, **{"buildout-tag": tag.format(script=script)})
    assert build["results"] == 2, build["state_string"]
    steps = [s["name"] for s in setup.master.rest.steps(build["buildid"])]
    assert steps[-1] == "check-buildout-tag", steps
    message = setup.master.rest.step_log(build["buildid"], "check-buildout-tag", "error")
    assert "property" in message and "is refused" in message, message
    assert not marker.exists()


def test_a_valid_tag_still_builds(setup: Setup) -> None:
    build = setup.force("app-tag", **{"buildout-tag": "v1"})
    assert build["results"] in (0, 1), build["state_string"]
