"""The develop check after bin/buildout (issue 17: no false pass).

The worker script runs for real on buildout folders laid out as zc.buildout
2.13 and 6 leave them (``.installed.cfg``, ``develop-eggs/*.egg-link``,
``bin/test`` with its ``sys.path`` lines); the e2e test
(tests/e2e/test_realbuild_e2e.py) runs it after real buildouts. The
master-side parsing of its ``revision:`` lines gets untrusted text.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from buildbot.process.results import FAILURE, SUCCESS
from buildbot.test.reactor import TestReactorMixin
from buildbot.test.steps import ExpectShell, TestBuildStepMixin
from twisted.trial import unittest
from unit_helpers import write

from anybox_buildbot.factory import SCRIPTS_DIR
from anybox_buildbot.steps.develop import (
    MAX_REVISIONS,
    REVISIONS_PROPERTY,
    check_develop_step,
    develop_revisions,
)

GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
PYPROJECT = '[project]\nname = "demo.event"\nversion = "2.0"\n'


def script(here: Path, eggs: Path, paths: list[str]) -> None:
    lines = "".join(f"  '{p}',\n" for p in paths)
    write(here, "bin/test", f"#!/venv/bin/python\nimport sys\nsys.path[0:0] = [\n{lines}  ]\n")


def buildout(here: Path, develop: dict[str, Path]) -> None:
    """``.installed.cfg`` and develop-eggs/ as bin/buildout leaves them."""
    links = []
    for name, folder in develop.items():
        link = write(here, f"develop-eggs/{name}.egg-link", f"{folder}\n..")
        links.append(str(link))
    write(here, ".installed.cfg", "[buildout]\ninstalled_develop_eggs = "
          + "\n\t".join(links) + "\nparts = test\n")


def check(here: Path, version: str = "2.13.8") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, f"{SCRIPTS_DIR}/develop_check.py",
                           "--buildout-version", version], cwd=here, capture_output=True,
                          text=True, timeout=60)


def test_unknown_develop_egg_and_release_from_the_index_fail(tmp_path: Path) -> None:
    """What zc.buildout 2.13.8 did with a pyproject.toml-only project: the
    develop egg is UNKNOWN and bin/test uses the release from the index."""
    write(tmp_path, "pyproject.toml", PYPROJECT)
    write(tmp_path, "setup.py", "from setuptools import setup\nsetup()\n")
    buildout(tmp_path, {"UNKNOWN": tmp_path})
    release = "/w/buildout-caches/eggs/demo.event-1.0-py3.11.egg"
    script(tmp_path, tmp_path, [release, "/w/buildout-caches/eggs/zope.testrunner-7.4.egg"])
    done = check(tmp_path)
    assert done.returncode == 1
    assert f"develop: UNKNOWN from {tmp_path}" in done.stdout
    problems = done.stderr.splitlines()
    assert len(problems) == 2, done.stderr
    assert problems[0].startswith(f"develop check: the develop project in {tmp_path} was "
                                  "installed as 'UNKNOWN': zc.buildout 2.13.8")
    assert "'demo.event'" in problems[0]
    assert problems[1].startswith(f"develop check: bin/test uses demo.event-1.0-py3.11.egg "
                                  f"({release})")
    assert f"instead of the checkout in {tmp_path}" in problems[1]
    for problem in problems:
        assert "buildout-version = 6.0.1 or newer" in problem and "setup.py" in problem


def test_develop_project_from_the_checkout_passes(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", PYPROJECT)
    buildout(tmp_path, {"demo.event": tmp_path / "src"})
    write(tmp_path, "develop-eggs/demo_event-2.0.dist-info/METADATA", "Name: demo.event\n")
    script(tmp_path, tmp_path, [str(tmp_path / "src"),
                                "/w/buildout-caches/eggs/v5/zope.event_other-5.0-py3.egg"])
    done = check(tmp_path, "6.0.1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"develop: demo.event from {tmp_path / 'src'}\n")


def test_project_installed_under_another_name_fails(tmp_path: Path) -> None:
    write(tmp_path, "setup.cfg", "[metadata]\nname = demo.event\n")
    buildout(tmp_path, {"demo.other": tmp_path})
    done = check(tmp_path)
    assert done.returncode == 1
    assert "installed as 'demo.other' but declares the name 'demo.event'" in done.stderr


def test_nothing_to_check(tmp_path: Path) -> None:
    write(tmp_path, ".installed.cfg", "[buildout]\nparts =\n")
    done = check(tmp_path)
    assert (done.returncode, done.stdout) == (0, "no develop projects\n")
    assert check(tmp_path / "..").returncode == 0          # no .installed.cfg at all


def test_egg_links_outside_the_buildout_are_not_read(tmp_path: Path) -> None:
    """.installed.cfg is written from repository content: it may name any file."""
    here = tmp_path / "build"
    outside = write(tmp_path, "secret/UNKNOWN.egg-link", "/top-secret-value\n")
    write(here, ".installed.cfg", f"[buildout]\ninstalled_develop_eggs = {outside}\n")
    done = check(here)
    assert done.returncode == 0
    assert "top-secret" not in done.stdout + done.stderr


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=True,
                          capture_output=True, text=True).stdout.strip()


def test_revisions_of_develop_checkouts_and_sources(tmp_path: Path) -> None:
    """mr.developer checks sources out under src/: each one's revision is
    printed, whether or not it is a develop egg."""
    here = tmp_path / "build"
    for name in ("demo.lib", "addons"):
        repo = here / "src" / name
        write(repo, "setup.py", f"from setuptools import setup\nsetup(name='{name}')\n")
        git(repo, "init", "-q")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "one")
    buildout(here, {"demo.lib": here / "src" / "demo.lib"})
    (here / "src" / "not-a-checkout").mkdir()
    done = check(here)
    assert done.returncode == 0, done.stderr
    lib = git(here / "src" / "demo.lib", "rev-parse", "HEAD")
    addons = git(here / "src" / "addons", "rev-parse", "HEAD")
    assert f"revision: demo.lib git {lib}\n" in done.stdout
    assert f"revision: addons git {addons}\n" in done.stdout
    assert develop_revisions(done.stdout.splitlines()) == {
        "demo.lib": f"git {lib}", "addons": f"git {addons}"}


@pytest.mark.parametrize("line", [
    "revision: ../etc git " + "a" * 40,
    "revision: -x git " + "a" * 40,
    "revision: name svn " + "a" * 40,
    "revision: name git $(touch pwned)",
    "revision: name git " + "a" * 40 + " extra",
    "revision: name git ABCDEF0",
])
def test_revision_lines_from_the_worker_are_checked(line: str) -> None:
    assert develop_revisions([line, f"revision: ok hg {'b' * 40}"]) == {"ok": f"hg {'b' * 40}"}


def test_revisions_are_bounded_and_absent_when_none() -> None:
    lines = "".join(f"revision: p{i} git {'c' * 40}\n" for i in range(MAX_REVISIONS + 50))
    assert len(develop_revisions(lines.splitlines())) == MAX_REVISIONS
    assert develop_revisions(["no develop projects"]) == {}


def test_the_step_keeps_no_output_in_master_memory() -> None:
    """The script's output comes from repository content and a worker: a
    checkout printing gigabytes must not be buffered on the master, only
    the bounded ``revision:`` lines kept."""
    step = check_develop_step("2.13.8", "build", {})
    observers = [obs for log, obs in step._pendingLogObservers if log == "stdio"]
    assert observers
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(24):          # 24 MB of output, fresh strings each time
            chunk = "".join(f"noise {i} {n} " + "x" * 80 + "\n" for n in range(10000))
            for observer in observers:
                observer.gotData("o", chunk)
                observer.gotData("e", chunk)
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 4 * 1024 * 1024, kept


class CheckDevelopStepTest(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    """The step's results and property, as Buildbot runs it."""

    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step()

    def run_check(self, stdout: str, rc: int):
        self.setup_step(check_develop_step("6.0.1", "build", {}))
        self.expect_commands(ExpectShell(workdir="build", command=[
            "venv/bin/python", "anybox-develop_check.py", "--buildout-version", "6.0.1"])
            .stdout(stdout).exit(rc))
        return self.run_step()

    def test_revisions_become_a_property(self):
        self.expect_outcome(result=SUCCESS,
                            state_string="develop projects from the checkout")
        self.expect_property(REVISIONS_PROPERTY, {"demo.lib": f"git {'a' * 40}",
                                                  "addons": f"hg {'b' * 12}"})
        return self.run_check(f"develop: demo.lib from /w/src\nrevision: demo.lib git "
                              f"{'a' * 40}\nrevision: ../x git {'c' * 40}\n"
                              f"revision: addons hg {'b' * 12}\n", 0)

    def test_a_failed_check_fails_without_property(self):
        self.expect_outcome(result=FAILURE,
                            state_string="develop projects NOT from the checkout (failure)")
        self.expect_no_property(REVISIONS_PROPERTY)
        return self.run_check("no develop projects\n", 1)


def hg(cwd: Path, *args: str) -> str:
    return subprocess.run(["hg", "--config", "ui.username=t <t@example.com>", *args],
                          cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def test_hg_revision_is_read_without_running_repository_hooks(tmp_path: Path) -> None:
    """A checkout's ``.hg/hgrc`` is repository content (committed inside a
    git buildout, say): its hooks must not run on the worker."""
    here = tmp_path / "build"
    repo = here / "src" / "addons"
    repo.mkdir(parents=True)
    hg(repo, "init")
    write(repo, "a.txt", "one\n")
    hg(repo, "add", "a.txt")
    hg(repo, "commit", "-m", "one")
    node = hg(repo, "log", "-r", ".", "--template", "{node}")
    write(repo, "b.txt", "two\n")
    hg(repo, "add", "b.txt")
    hg(repo, "commit", "-m", "two")
    hg(repo, "update", "-r", node)              # the working directory's parent, not tip
    pwned = tmp_path / "pwned"
    write(repo, ".hg/hgrc", f"[hooks]\npre-log = touch {pwned}\npre-parents = touch {pwned}\n"
          f"pre-identify = touch {pwned}\npre-id = touch {pwned}\n")
    write(here, ".installed.cfg", "[buildout]\nparts =\n")
    done = check(here)
    assert done.returncode == 0, done.stderr
    assert not pwned.exists()
    assert f"revision: addons hg {node}\n" in done.stdout


def test_hg_dirstate_formats_and_links(tmp_path: Path) -> None:
    """dirstate-v2 (a docket: marker, then the parent padded to 32 bytes),
    a new repository (null parent), and a ``.hg`` or dirstate that is a
    link to another file (its bytes would be printed): only the first is a
    revision."""
    here = tmp_path / "build"
    node = bytes(range(1, 21))
    write(here, ".installed.cfg", "[buildout]\nparts =\n")
    v2 = here / "src" / "v2" / ".hg"
    v2.mkdir(parents=True)
    (v2 / "dirstate").write_bytes(b"dirstate-v2\n" + node + bytes(12) + bytes(32) + bytes(50))
    fresh = here / "src" / "fresh" / ".hg"
    fresh.mkdir(parents=True)
    (fresh / "dirstate").write_bytes(bytes(40))
    secret = write(tmp_path, "secret/dirstate", "0123456789abcdefghijKLMN")
    linked = here / "src" / "linked" / ".hg"
    linked.mkdir(parents=True)
    (linked / "dirstate").symlink_to(secret)
    (here / "src" / "linked-meta").mkdir()
    (here / "src" / "linked-meta" / ".hg").symlink_to(secret.parent)
    done = check(here)
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stdout.splitlines() if line.startswith("revision:")] == [
        f"revision: v2 hg {node.hex()}"]
