"""Mercurial buildouts: a real hg repository, a real HgPoller, real builds."""

from __future__ import annotations

import functools
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from localrun import Master, Rest, running_master, simple_master_cfg, wait_for

POLL = 2
BUILD_TIMEOUT = 300
def hg(cwd: Path, *args: str) -> str:
    out = subprocess.run(["hg", "--config", "ui.username=t <t@example.com>", *args],
                         cwd=cwd, check=True, capture_output=True, text=True)
    return out.stdout.strip()


@pytest.fixture(scope="module")
def hg_master(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Master, Path]]:
    root = tmp_path_factory.mktemp("hg")
    repo = root / "repo"
    repo.mkdir()
    hg(repo, "init")
    (repo / "buildout.cfg").write_text("[buildout]\nparts =\n")
    (repo / "VERSION").write_text("first\n")
    hg(repo, "commit", "-A", "-m", "first")
    hg(repo, "tag", "v1")
    (repo / "VERSION").write_text("second\n")
    hg(repo, "commit", "-m", "second")
    master_dir = root / "master"
    (master_dir / "buildouts").mkdir(parents=True)
    (master_dir / "buildouts" / "MANIFEST.cfg").write_text(f"""\
[DEFAULT]
test-command = cat VERSION
tree-stable-timer = 1

[app]
buildout = hg {repo} default buildout.cfg

[app-tag]
buildout = hgtag {repo} buildout.cfg
""")
    (master_dir / "workers.cfg").write_text("[w1]\npassword = hg-pass\n")
    config = functools.partial(simple_master_cfg, kwargs=f", poll_interval={POLL}")
    with running_master(master_dir, {"w1": "hg-pass"}, config) as master:
        yield master, repo


def force(rest: Rest, builder: str, **props) -> dict:
    brid = rest.force([builder], **props)[builder]
    return rest.wait_build(brid, timeout=BUILD_TIMEOUT)


def test_hg_head_tag_and_poller(hg_master: tuple[Master, Path]) -> None:
    master, repo = hg_master
    rest = master.rest
    build = force(rest, "app")
    assert build["results"] == 0, build["state_string"]
    assert "second" in rest.step_log(build["buildid"], "test")
    build = force(rest, "app-tag", **{"buildout-tag": "v1"})
    assert build["results"] == 0, build["state_string"]
    assert "first" in rest.step_log(build["buildid"], "test")
    # a commit on the watched branch triggers 'app' (and not the tag builder)
    time.sleep(POLL * 2)
    before = len(rest.get("builders/app/builds")["builds"])
    tag_before = len(rest.get("builders/app-tag/builds")["builds"])
    (repo / "VERSION").write_text("third\n")
    hg(repo, "commit", "-m", "third")
    latest = wait_for(lambda: [b for b in rest.get("builders/app/builds")["builds"]
                               if b["number"] > before and b["complete"]] or None,
                      BUILD_TIMEOUT, interval=0.5, what="a build triggered by the hg commit")
    assert latest[0]["results"] == 0
    assert "third" in rest.step_log(latest[0]["buildid"], "test")
    assert len(rest.get("builders/app-tag/builds")["builds"]) == tag_before
