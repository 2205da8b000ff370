"""Paths and names stay in their place, on a real master and worker.

The attacks of issue 10 that need a running master: a standalone file
swapped for a symlink after the configuration was loaded, a section name
that would have written an auto-watch report outside ``watch/`` (reports
are now stored in the database), an auto-watch report too big to be
stored (the upload is optional: it must end with WARNINGS and the tests
must still run), and a ``results`` folder the master cannot write JUnit
reports into.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from localrun import Master, Rest, running_master

BUILD_TIMEOUT = 300
SUCCESS, WARNINGS, FAILURE = 0, 1, 2
SECRET = "TOPSECRET-7f3a9c"
EMPTY_BUILDOUT = "[buildout]\nparts =\n"
#: Stands for pytest: writes a JUnit report of one passing test case where
#: ``--junitxml=PATH`` says.
JUNIT_WRITER = ("import os,sys;p=sys.argv[1].split('=',1)[1];"
                "os.makedirs(os.path.dirname(p),exist_ok=True);"
                "open(p,'w').write('<testsuite><testcase/></testsuite>')")
MANIFEST = f"""\
[watched]
buildout = standalone plain.cfg
auto-watch = true
test-command = echo tests ran

[shipped]
buildout = standalone shipped.cfg
test-command = cat buildout.cfg

[junit]
buildout = standalone plain.cfg
post-buildout-steps = pytest
pytest.command = python3 -c "{JUNIT_WRITER}"
"""


@dataclass
class Setup:
    root: Path
    master: Master
    rest: Rest

    @property
    def buildouts(self) -> Path:
        return self.master.basedir / "buildouts"

    def force(self, builder: str) -> tuple[dict, dict[str, dict]]:
        """Run one build; (build, {step name: step})."""
        brid = self.rest.force([builder])[builder]
        build = self.rest.wait_build(brid, timeout=BUILD_TIMEOUT)
        return build, {s["name"]: s for s in self.rest.steps(build["buildid"])}

    def all_logs(self, build: dict) -> str:
        """Every log of every step of ``build``."""
        texts = []
        for step in self.rest.steps(build["buildid"]):
            logs = self.rest.get(f"steps/{step['stepid']}/logs")["logs"]
            for log in logs:
                texts.append(self.rest.step_log(build["buildid"], step["number"], log["slug"]))
        return "\n".join(texts)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("confine")
    (root / "secrets").mkdir()
    (root / "secrets" / "token").write_text(f"[buildout]\n# {SECRET}\nparts =\n")
    master_dir = root / "master"
    buildouts = master_dir / "buildouts"
    buildouts.mkdir(parents=True)
    (buildouts / "plain.cfg").write_text(EMPTY_BUILDOUT)
    (buildouts / "shipped.cfg").write_text(EMPTY_BUILDOUT)
    (buildouts / "MANIFEST.cfg").write_text(MANIFEST)
    (master_dir / "workers.cfg").write_text("[w1]\npassword = confine-pass\n")
    with running_master(master_dir, {"w1": "confine-pass"}) as master:
        yield Setup(root, master, master.rest)


def test_an_oversized_auto_watch_report_only_warns(setup: Setup) -> None:
    """A report over 256 KiB (a buildout file listing thousands of sources)
    is not stored: ``upload-auto-watch`` warns and says why, the test step
    after it runs, the build is not an EXCEPTION. A normal report is then
    stored in the master's database, where every master reads it."""
    plain = setup.buildouts / "plain.cfg"
    sources = "".join(f"s{i} = git https://git.example.com/{'x' * 150}/{i}.git\n"
                      for i in range(2000))
    plain.write_text(EMPTY_BUILDOUT + "\n[sources]\n" + sources)
    try:
        build, steps = setup.force("watched")
        assert build["results"] == WARNINGS, build["state_string"]
        assert steps["upload-auto-watch"]["results"] == WARNINGS
        assert steps["test"]["results"] == SUCCESS
        assert "tests ran" in setup.rest.step_log(build["buildid"], "test")
        problem = setup.rest.step_log(build["buildid"], "upload-auto-watch", "problem")
        assert "larger than 262144 bytes" in problem
        assert setup.master.stored_watch_report("watched") is None
    finally:
        plain.write_text(EMPTY_BUILDOUT)
    build, steps = setup.force("watched")
    assert build["results"] == SUCCESS, build["state_string"]
    assert steps["upload-auto-watch"]["results"] == SUCCESS
    assert '"repos"' in (setup.master.stored_watch_report("watched") or "")
    assert not (setup.master.basedir / "watch").exists()


def test_a_file_in_place_of_the_results_folder_only_warns(setup: Setup) -> None:
    """The JUnit report of the ``pytest`` step set is optional too: a master
    that cannot store it ends ``upload-junit`` with WARNINGS (Buildbot's
    own FileUpload made the build an EXCEPTION), the summary says there is
    no report, and the build is not lost."""
    results = setup.master.basedir / "results"
    shutil.rmtree(results, ignore_errors=True)
    results.write_text("not a folder\n")
    try:
        build, steps = setup.force("junit")
        assert build["results"] == WARNINGS, build["state_string"]
        assert steps["pytest"]["results"] == SUCCESS
        assert steps["upload-junit"]["results"] == WARNINGS
        assert steps["pytest-summary"]["results"] == WARNINGS
        problem = setup.rest.step_log(build["buildid"], "upload-junit", "problem")
        assert "The master could not write the JUnit report" in problem
        assert "make it a folder the master can write to" in problem
    finally:
        results.unlink()
    build, steps = setup.force("junit")
    assert build["results"] == SUCCESS, build["state_string"]
    assert steps["upload-junit"]["results"] == SUCCESS
    summary = setup.rest.step_log(build["buildid"], "pytest-summary", "summary")
    assert "1 passed, 0 failed" in summary


def test_standalone_file_swapped_for_a_symlink_is_not_shipped(setup: Setup) -> None:
    """The manifest's folder may change between two reconfigs (a ``git pull``):
    the download checks again, when the build runs, that the file is inside."""
    shipped = setup.buildouts / "shipped.cfg"
    build, _steps = setup.force("shipped")
    assert build["results"] == SUCCESS, build["state_string"]
    shipped.unlink()
    shipped.symlink_to(setup.root / "secrets" / "token")
    try:
        build, steps = setup.force("shipped")
        assert build["results"] == FAILURE, build["state_string"]
        assert steps["download-buildout"]["results"] == FAILURE
        assert "test" not in steps
        assert SECRET not in setup.all_logs(build)
        problem = setup.rest.step_log(build["buildid"], "download-buildout", "problem")
        assert "outside" in problem and str(setup.buildouts) in problem
    finally:
        shipped.unlink()
        shipped.write_text(EMPTY_BUILDOUT)


def test_section_name_cannot_write_a_report_outside_watch(setup: Setup) -> None:
    """``[../../x]`` with auto-watch would upload to ``watch/../../x.json``:
    the reconfig is refused at the section's line and the master keeps its
    builders."""
    manifest = setup.buildouts / "MANIFEST.cfg"
    outside = setup.root / "escaped.json"
    manifest.write_text(MANIFEST + "\n[../../escaped]\nbuildout = standalone plain.cfg\n"
                        "auto-watch = true\n")
    try:
        rc, output = setup.master.reconfig()
        assert rc != 0, output
        log = setup.master.log_text()
        line = MANIFEST.count("\n") + 2
        assert f"MANIFEST.cfg:{line}: invalid buildout name: '[../../escaped]'" in log
        assert set(setup.rest.builders()) == {"watched", "shipped", "junit"}
        assert not outside.exists()
    finally:
        manifest.write_text(MANIFEST)
        rc, output = setup.master.reconfig()
        assert rc == 0, output
