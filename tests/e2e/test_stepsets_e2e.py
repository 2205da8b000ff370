"""Built-in step sets in real builds: one master, one worker, one git repository.

The repository holds a small project: a buildout making ``bin/pytest``,
``bin/nosetests``, ``bin/flake8``, ``bin/sphinx-build`` and ``bin/py``
from PyPI eggs, tests, docs, a lint target and a pyproject. Two builders
use it:

- ``full`` runs every quality and test step set, with shell metacharacters
  in a functional command and in the autocommit message;
- ``strict`` runs after it with an unreachable package index: its buildout
  must be served by the worker's caches alone (offline-safe after the
  first download), then flake8 goes over its warning threshold and a test
  fails.

The first build downloads the eggs (about 30 s); everything after that
comes from the per-worker caches.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from localrun import Master, Rest, Worker, running_master, src_layout_pyproject

BUILD_TIMEOUT = 600
GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
EVIL_MESSAGE = "CI results; rm -rf x $(touch pwned) `touch pwned`"
EVIL_ARGS = ["; rm -rf x", "$(touch pwned)", "`touch pwned`", "a b"]

PROJECT = {
    "buildout.cfg": """\
        [buildout]
        parts = tools
        newest = false

        [tools]
        recipe = zc.recipe.egg
        eggs = pytest
               pynose
               flake8
               sphinx
        interpreter = py
        extra-paths = ${buildout:directory}/src

        # not in parts: functional.parts installs it
        [fixture]
        recipe = zc.recipe.egg
        eggs = pluggy
        interpreter = fixturepy
        """,
    ".gitignore": "bin/\nparts/\ndevelop-eggs/\n.installed.cfg\nvenv/\nanybox-*\n",
    "pyproject.toml": src_layout_pyproject("demo-pkg", "0.1"),
    "src/demo/__init__.py": """\
        import os


        def add(a, b):
            return a + b
        """,
    "tests/test_demo.py": """\
        import unittest

        import demo


        def test_add():
            assert demo.add(1, 2) == 3


        def test_more():
            assert demo.add(2, 2) == 4


        def test_later():
            raise unittest.SkipTest("not yet")
        """,
    "failing_tests/test_fail.py": """\
        def test_ok():
            pass


        def test_broken():
            assert 1 == 2
        """,
    "lint_me.py": "import os\nimport sys\nx=1\n",
    "docs/conf.py": "project = 'Demo'\n",
    "docs/index.rst": "Demo docs\n=========\n\nBuilt by buildbot.\n",
    "echo_args.py": """\
        import json
        import os
        import sys

        os.makedirs("generated", exist_ok=True)
        with open("generated/args.json", "w") as handle:
            json.dump(sys.argv[1:], handle)
        print("ARGS", json.dumps(sys.argv[1:]))
        """,
    "record_upload.py": """\
        import json
        import os
        import sys

        with open("uploaded.json", "w") as handle:
            json.dump([os.path.basename(a) for a in sys.argv[1:]], handle)
        print("uploaded", len(sys.argv) - 1, "files")
        """,
}


def git(cwd: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=True,
                         capture_output=True, text=True)
    return out.stdout.strip()


def ruff_program() -> str:
    """ruff of this environment (a test dependency); the worker has no
    ruff of its own on PATH."""
    candidate = Path(sys.executable).parent / "ruff"
    found = str(candidate) if candidate.is_file() else shutil.which("ruff")
    if not found:
        pytest.fail("ruff not installed: make install", pytrace=False)
    return found


def manifest(url: str) -> str:
    return textwrap.dedent(f"""\
        [DEFAULT]
        buildout = git {url} master buildout.cfg

        [full]
        post-buildout-steps = pytest nose functional static-analysis sphinx-doc packaging
                              autocommit
        pytest.paths = tests
        nose.paths = tests
        functional.parts = fixture
        functional.commands = bin/fixturepy -c "print('fixture part installed')"
            bin/py echo_args.py '; rm -rf x' '$(touch pwned)' '`touch pwned`' "a b"
        static-analysis.command = {ruff_program()}
        static-analysis.paths = src
        static-analysis.max-warnings = 2
        sphinx-doc.source = docs
        packaging.upload-command = bin/py record_upload.py
        autocommit.path = generated
        autocommit.branch = ci-results
        autocommit.message = {EVIL_MESSAGE}

        [strict]
        buildout-options = buildout:index=http://127.0.0.1:9/simple
        post-buildout-steps = static-analysis pytest
        static-analysis.tool = flake8
        static-analysis.paths = lint_me.py
        static-analysis.max-warnings = 1
        pytest.paths = tests failing_tests
        """)


@dataclass
class Built:
    build: dict
    props: dict
    steps: dict[str, dict]


@dataclass
class Setup:
    root: Path
    master: Master
    worker: Worker
    rest: Rest
    bare: Path
    builds: dict[str, Built]

    def log(self, builder: str, step: str, slug: str = "stdio") -> str:
        return self.rest.step_log(self.builds[builder].build["buildid"], step, slug)


def run_build(rest: Rest, builder: str) -> Built:
    brid = rest.force([builder])[builder]
    build = rest.wait_build(brid, timeout=BUILD_TIMEOUT)
    steps = {s["name"]: s for s in rest.steps(build["buildid"])}
    return Built(build, rest.build_properties(build["buildid"]), steps)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("stepsets")
    bare = root / "proj.git"
    git(root, "init", "-q", "--bare", "-b", "master", str(bare))
    work = root / "proj-work"
    git(root, "clone", "-q", str(bare), str(work))
    git(work, "symbolic-ref", "HEAD", "refs/heads/master")
    for name, text in PROJECT.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(textwrap.dedent(text))
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "project")
    git(work, "push", "-q", "origin", "master")
    master_dir = root / "master"
    (master_dir / "buildouts").mkdir(parents=True)
    (master_dir / "buildouts" / "MANIFEST.cfg").write_text(manifest(f"file://{bare}"))
    (master_dir / "workers.cfg").write_text("[w1]\npassword = sets-pass\n")
    with running_master(master_dir, {"w1": "sets-pass"}) as master:
        # 'full' fills the worker's caches; 'strict' must then do without the index
        builds = {name: run_build(master.rest, name) for name in ("full", "strict")}
        yield Setup(root, master, master.workers["w1"], master.rest, bare, builds)


def test_full_build_runs_every_step_set(setup: Setup) -> None:
    full = setup.builds["full"]
    for name, built in setup.builds.items():   # shown with -s, or when a test fails
        print(name, {n: s["complete_at"] - s["started_at"] for n, s in built.steps.items()})
    failed = {n: s["state_string"] for n, s in full.steps.items() if s["results"] not in (0, 1)}
    assert not failed, failed
    # ruff warnings under the threshold: the build passes with warnings
    assert full.build["results"] == 1, full.build["state_string"]


def test_pytest_junit_summary_is_in_the_build(setup: Setup) -> None:
    full = setup.builds["full"]
    assert full.steps["pytest"]["results"] == 0
    assert full.steps["pytest-summary"]["state_string"] == "2 passed, 0 failed, 1 skipped"
    assert (full.props["tests_passed"], full.props["tests_failed"],
            full.props["tests_skipped"], full.props["tests_total"]) == (2, 0, 1, 3)
    number = full.build["number"]
    report = setup.master.basedir / "results" / "full" / str(number) / "pytest.xml"
    assert full.props["tests_report"] == str(report)
    assert "test_add" in report.read_text()


def test_failing_tests_are_counted_and_fail_the_build(setup: Setup) -> None:
    strict = setup.builds["strict"]
    assert strict.build["results"] == 2
    assert strict.steps["pytest"]["results"] == 2
    assert strict.steps["pytest-summary"]["results"] == 2
    assert strict.steps["pytest-summary"]["state_string"].startswith(
        "3 passed, 1 failed, 1 skipped")
    assert strict.props["tests_failed"] == 1


def test_buildout_is_served_by_the_worker_caches_offline(setup: Setup) -> None:
    strict = setup.builds["strict"]
    assert strict.steps["bootstrap"]["results"] == 0
    assert strict.steps["buildout"]["results"] == 0
    assert "installed from the worker wheel cache" in setup.log("strict", "bootstrap")


def test_nose(setup: Setup) -> None:
    log = setup.log("full", "nose")
    assert setup.builds["full"].steps["nose"]["results"] == 0
    assert "Ran 3 tests" in log and "OK (SKIP=1)" in log


def test_functional_installs_its_part_and_passes_metacharacters_verbatim(
        setup: Setup) -> None:
    steps = setup.builds["full"].steps
    assert steps["functional-parts"]["results"] == 0
    assert "Installing fixture" in setup.log("full", "functional-parts")
    assert "fixture part installed" in setup.log("full", "functional-1")
    assert steps["functional-2"]["results"] == 0
    builder_dir = setup.worker.basedir / "full"
    written = json.loads((builder_dir / "build" / "generated" / "args.json").read_text())
    assert written == EVIL_ARGS
    assert not list(setup.worker.basedir.rglob("pwned"))
    assert not list(setup.master.basedir.rglob("pwned"))


def test_static_analysis_threshold(setup: Setup) -> None:
    full, strict = setup.builds["full"], setup.builds["strict"]
    assert full.steps["static-analysis"]["results"] == 1            # 1 warning, max 2
    assert full.steps["static-analysis"]["state_string"].startswith("1 warnings (max 2)")
    assert full.props["static_analysis_warnings"] == 1
    assert strict.steps["static-analysis"]["results"] == 2          # 3 warnings, max 1
    assert strict.steps["static-analysis"]["state_string"].startswith("3 warnings (max 1)")
    assert strict.props["static_analysis_warnings"] == 3
    assert "E225" in setup.log("strict", "static-analysis")


def test_sphinx_doc_html_is_published_on_the_master(setup: Setup) -> None:
    docs = setup.master.basedir / "docs" / "full"
    assert setup.builds["full"].props["docs_dir"] == str(docs)
    assert "Demo docs" in (docs / "index.html").read_text()
    assert oct((docs / "index.html").stat().st_mode & 0o777) == oct(0o644)
    assert not list((setup.master.basedir / "docs" / ".incoming").iterdir())


def test_packaging_builds_sdist_and_wheel_and_runs_the_upload_command(setup: Setup) -> None:
    build_dir = setup.worker.basedir / "full" / "build"
    names = sorted(p.name for p in (build_dir / "dist").iterdir())
    assert names == ["demo_pkg-0.1-py3-none-any.whl", "demo_pkg-0.1.tar.gz"]
    assert "built: demo_pkg-0.1.tar.gz" in setup.log("full", "packaging")
    assert json.loads((build_dir / "uploaded.json").read_text()) == names


def test_autocommit_pushes_to_the_buildout_repository(setup: Setup) -> None:
    assert setup.builds["full"].steps["autocommit"]["results"] == 0
    message = git(setup.bare, "log", "-1", "--format=%B", "ci-results")
    assert message == EVIL_MESSAGE
    assert git(setup.bare, "log", "-1", "--format=%an <%ae>", "ci-results") == \
        "buildbot <buildbot@localhost>"
    assert json.loads(git(setup.bare, "show", "ci-results:generated/args.json")) == EVIL_ARGS
    master_head = git(setup.bare, "rev-parse", "master")
    assert git(setup.bare, "rev-parse", "ci-results^") == master_head
    # 'strict' failed: it did not commit (and has no autocommit anyway)
    assert "autocommit" not in setup.builds["strict"].steps
