"""Buildouts shaped like real projects: no false pass (issue 17).

One master, one worker, one PostgreSQL cluster (the session's), real
zc.buildout runs with ``zc.recipe.testrunner`` and ``mr.developer`` (from
the package index, like every buildout of the e2e tests), local git
repositories:

- ``event.git``: a project whose metadata is only in ``pyproject.toml``
  (its ``setup.py`` is the usual ``setup()`` shim), tested by a
  ``zc.recipe.testrunner`` part; an older release of it is on the
  buildout's ``find-links``, like the release on PyPI was. Under
  ``buildout-version = 2.13.8`` the develop egg becomes ``UNKNOWN`` and
  ``bin/test`` tested the release: the build passed without testing the
  commit. It must fail, saying why and how to fix it.
- the same project under the default zc.buildout, with a database:
  ``env.TEST_DSN`` and a ``buildout-options`` value name the build's
  database through ``%(prop:testing_db)s``, and ``bootstrap-packages``
  installs a package into the venv before ``bin/buildout``.
  That buildout also pulls ``lib.git`` in as an mr.developer source, with
  ``auto-watch``: a commit in ``lib.git`` triggers a build that must test
  that commit (mr.developer used to skip the existing checkout) and show
  its revision.

The first builds download the eggs into the worker's caches.
"""

from __future__ import annotations

import functools
import os
import subprocess
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from localrun import (
    Master,
    PgCluster,
    Rest,
    running_master,
    simple_master_cfg,
    src_layout_pyproject,
    wait_for,
)

BUILD_TIMEOUT = 600
POLL = 2
GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}

#: Tests of the demo project: they print what the e2e tests check.
FACTS = """\
import importlib.metadata
import os
import subprocess
import unittest

import demo_event


class Facts(unittest.TestCase):
    def test_facts(self):
        print("DEMO", demo_event.VERSION)
        for var in ("TEST_DSN", "buildout_dsn"):
            dsn = os.environ.get(var, "unset")
            if dsn != "unset":
                # without PGDATABASE: the DSN alone must name the database
                env = {k: v for k, v in os.environ.items() if k != "PGDATABASE"}
                out = subprocess.run(["psql", "-X", "-At", dsn, "-c",
                                      "select current_database()"],
                                     env=env, capture_output=True, text=True, check=True)
                print(var, "->", out.stdout.strip())
        try:
            print("HORSE", importlib.metadata.version("horse-with-no-namespace"))
        except importlib.metadata.PackageNotFoundError:
            print("HORSE none")
"""

EVENT = {
    "pyproject.toml": src_layout_pyproject("demo.event", "2.0"),
    "setup.py": "from setuptools import setup\nsetup()\n",
    "src/demo_event/__init__.py": 'VERSION = "checkout"\n',
    "src/demo_event/tests.py": FACTS,
    "buildout.cfg": """\
        [buildout]
        extensions = mr.developer
        auto-checkout = demo.lib
        develop = .
        parts = test
        find-links = {dists}
        newest = false

        [sources]
        demo.lib = git {lib}

        [test]
        recipe = zc.recipe.testrunner
        eggs = demo.event
               demo.lib
        environment = testenv

        [testenv]
        buildout_dsn = unset
        """,
    # for zc.buildout 2.13.8: the same develop line, and a script whose
    # sys.path takes demo.event from the eggs (cheaper than building
    # zope.testrunner's eggs with that old setuptools)
    "old.cfg": """\
        [buildout]
        develop = .
        parts = py
        find-links = {dists}
        newest = false

        [py]
        recipe = zc.recipe.egg
        eggs = demo.event
        interpreter = py
        """,
}

LIB = {
    "setup.py": "from setuptools import setup\n"
                "setup(name='demo.lib', version='1.0', packages=['demo_lib'])\n",
    "demo_lib/__init__.py": 'VALUE = "one"\n',
    "demo_lib/tests.py": "import unittest\nimport demo_lib\n\n\n"
                         "class T(unittest.TestCase):\n    def test_value(self):\n"
                         "        print('LIB', demo_lib.VALUE)\n",
}

def git(cwd: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=True,
                         capture_output=True, text=True)
    return out.stdout.strip()


def repository(root: Path, name: str, files: dict[str, str]) -> tuple[Path, Path]:
    """(bare repository, work clone) with ``files`` committed on master."""
    bare = root / f"{name}.git"
    git(root, "init", "-q", "--bare", "-b", "master", str(bare))
    work = root / f"{name}-work"
    git(root, "clone", "-q", str(bare), str(work))
    git(work, "symbolic-ref", "HEAD", "refs/heads/master")
    commit(work, files, name)
    return bare, work


def commit(work: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(textwrap.dedent(text))
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", message)
    git(work, "push", "-q", "origin", "master")
    return git(work, "rev-parse", "HEAD")


def release(root: Path) -> Path:
    """demo.event 1.0 as an sdist in a find-links folder: "the index"."""
    project = root / "release"
    (project / "demo_event").mkdir(parents=True)
    (project / "setup.py").write_text("from setuptools import setup\n"
                                      "setup(name='demo.event', version='1.0', "
                                      "packages=['demo_event'])\n")
    (project / "demo_event" / "__init__.py").write_text('VERSION = "release"\n')
    (project / "demo_event" / "tests.py").write_text(FACTS)
    dists = root / "dists"
    dists.mkdir()
    subprocess.run(["tar", "-czf", str(dists / "demo.event-1.0.tar.gz"),
                    "--transform=s,^release,demo.event-1.0,", "-C", str(root), "release"],
                   check=True)
    return dists


def manifest(event: Path) -> str:
    return textwrap.dedent(f"""\
        [DEFAULT]
        tree-stable-timer = 1
        watch =

        [event-old]
        buildout = git file://{event} master old.cfg
        buildout-version = 2.13.8
        test-command = bin/py -m unittest demo_event.tests

        [event]
        buildout = git file://{event} master buildout.cfg
        build-requires = postgresql
        db-steps = simple_create
        env.TEST_DSN = postgresql:///%(prop:testing_db)s
        buildout-options = testenv:buildout_dsn=postgresql:///%(prop:testing_db)s
        bootstrap-packages = horse-with-no-namespace
        auto-watch = true
        """)


@dataclass
class Setup:
    root: Path
    master: Master
    rest: Rest
    lib_work: Path
    builds: dict[str, dict]

    def log(self, build: dict, step: str, slug: str = "stdio") -> str:
        return self.rest.step_log(build["buildid"], step, slug)

    def steps(self, build: dict) -> dict[str, dict]:
        return {s["name"]: s for s in self.rest.steps(build["buildid"])}

    def props(self, build: dict) -> dict:
        return self.rest.build_properties(build["buildid"])


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, pg_cluster: PgCluster) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("realbuild")
    dists = release(root)
    lib_bare, lib_work = repository(root, "lib", LIB)
    event = {**EVENT, **{cfg: EVENT[cfg].format(dists=dists, lib=f"file://{lib_bare}")
                         for cfg in ("buildout.cfg", "old.cfg")}}
    event_bare, _work = repository(root, "event", event)
    master_dir = root / "master"
    (master_dir / "buildouts").mkdir(parents=True)
    (master_dir / "buildouts" / "MANIFEST.cfg").write_text(manifest(event_bare))
    (master_dir / "workers.cfg").write_text(
        f"[w1]\npassword = real-pass\ndb_prefix = rb_\ncapability = postgresql "
        f"{pg_cluster.version} port={pg_cluster.port} host={pg_cluster.host} "
        f"bin={pg_cluster.bin_dir}\n")
    config = functools.partial(simple_master_cfg, kwargs=f", poll_interval={POLL}")
    with running_master(master_dir, {"w1": "real-pass"}, config) as master:
        requests = master.rest.force(["event", "event-old"])
        builds = {name: master.rest.wait_build(brid, timeout=BUILD_TIMEOUT)
                  for name, brid in requests.items()}
        yield Setup(root, master, master.rest, lib_work, builds)


def test_unknown_develop_egg_fails_the_build_instead_of_testing_a_release(
        setup: Setup) -> None:
    """The false pass of issue 17: zc.buildout 2.13.8 cannot read the name of
    a pyproject.toml project, buildout takes demo.event 1.0 from find-links
    and the scripts (bin/test there, bin/py here) use it. The build fails
    right after bin/buildout."""
    for name, built in setup.builds.items():   # shown with -s, or when a test fails
        print(name, {n: round(s["complete_at"] - s["started_at"], 1)
                     for n, s in setup.steps(built).items() if s["complete_at"]})
    build = setup.builds["event-old"]
    steps = setup.steps(build)
    assert steps["buildout"]["results"] == 0            # buildout itself saw no problem
    assert build["results"] == 2, build["state_string"]
    assert steps["check-develop"]["results"] == 2
    assert "test" not in steps                          # the release is never tested
    log = setup.log(build, "check-develop")
    assert "installed as 'UNKNOWN': zc.buildout 2.13.8" in log
    assert "bin/py uses demo.event-1.0" in log
    assert "buildout-version = 6.0.1 or newer" in log and "setup.py" in log
    assert steps["check-develop"]["state_string"] == \
        "develop projects NOT from the checkout (failure)"


def test_current_buildout_tests_the_checkout_against_its_own_database(
        setup: Setup) -> None:
    build = setup.builds["event"]
    assert build["results"] == 0, build["state_string"]
    props = setup.props(build)
    dbname = props["testing_db"]
    assert dbname == "rb_event"
    out = setup.log(build, "test")
    assert "DEMO checkout" in out and "DEMO release" not in out
    # env.VAR and buildout-options rendered once the database was named
    assert f"TEST_DSN -> {dbname}" in out
    assert f"buildout_dsn -> {dbname}" in out
    assert f"env TEST_DSN=postgresql:///{dbname}" in setup.log(build, "testing-db",
                                                               "testing-db")
    # bootstrap-packages: in the venv before bin/buildout
    assert "HORSE none" not in out and "HORSE " in out
    assert "horse-with-no-namespace" in setup.log(build, "bootstrap")
    assert setup.steps(build)["check-develop"]["results"] == 0


def test_auto_watch_triggered_build_tests_the_new_commit_of_a_source(setup: Setup) -> None:
    first = setup.builds["event"]
    assert first["results"] == 0, first["state_string"]
    assert "LIB one" in setup.log(first, "test")
    head = git(setup.lib_work, "rev-parse", "HEAD")
    assert setup.props(first)["develop_revisions"] == {"demo.lib": f"git {head}"}
    rc, output = setup.master.reconfig()
    assert rc == 0, output
    wait_for(lambda: [s for s in setup.rest.get("changesources")["changesources"]
                      if "lib.git" in s["name"]] or None, 30, what="a poller for lib.git")
    time.sleep(POLL * 2)   # the poller has recorded the current head
    before = len(setup.rest.get("builders/event/builds")["builds"])
    new = commit(setup.lib_work, {"demo_lib/__init__.py": 'VALUE = "two"\n'}, "two")

    def triggered() -> dict | None:
        builds = setup.rest.get("builders/event/builds")["builds"]
        latest = max(builds, key=lambda b: b["number"])
        return latest if len(builds) > before and latest["complete"] else None

    build = wait_for(triggered, BUILD_TIMEOUT, interval=0.5,
                     what="the build triggered by the commit in lib.git")
    assert build["results"] == 0, build["state_string"]
    out = setup.log(build, "test")
    assert "LIB two" in out and "LIB one" not in out
    assert "always-checkout=force" in setup.log(build, "buildout")
    assert setup.props(build)["develop_revisions"] == {"demo.lib": f"git {new}"}
    assert f"revision: demo.lib git {new}" in setup.log(build, "check-develop")
