"""Built-in step sets: the commands they build, their option checks, and
proof that manifest text reaches programs as literal arguments.

Steps are inspected as Buildbot recipes (``kwargs`` of the step factory),
which is exactly what a worker is later asked to run.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from buildbot.plugins import steps
from buildbot.process import buildstep
from buildbot.process.properties import Properties
from buildbot.process.results import SUCCESS, WARNINGS

from anybox_buildbot import BuildoutsConfigurator, ConfigError
from anybox_buildbot.buildoutspec import BuildoutSpec
from anybox_buildbot.errors import Errors
from anybox_buildbot.factory import SCRIPTS_DIR, FactoryMaker, buildout_dir
from anybox_buildbot.manifest import load_manifests
from anybox_buildbot.registry import compile_registry, default_capabilities
from anybox_buildbot.stepoptions import Schema
from anybox_buildbot.steps.common import no_failure_so_far
from anybox_buildbot.steps.lint import CountWarnings
from anybox_buildbot.steps.publish import (
    BuildResultPath,
    IncomingPath,
    PublishDirectory,
    publish_directory,
    safe_name,
)
from anybox_buildbot.steps.testing import JUnitSummary, RunTests, parse_junit
from anybox_buildbot.steps.transfer import BestEffortUpload
from anybox_buildbot.subfactories import StepContext, builtin_catalog, builtin_step_sets
from anybox_buildbot.subfactories.quality import DOCS_MAX_BYTES
from anybox_buildbot.subfactories.testing import JUNIT_MAX_BYTES

MASTER = Path("/srv/master")
GIT = "buildout = git file:///srv/git/app.git main buildout.cfg"
STEP_SETS = builtin_step_sets()


def load_errors(tmp_path: Path, text: str) -> tuple[dict[str, BuildoutSpec], Errors, Path]:
    """Load a manifest with the built-in step sets: (specs, errors, path)."""
    (tmp_path / "app.cfg").write_text("[buildout]\nparts =\n")
    manifest = tmp_path / "MANIFEST.cfg"
    manifest.write_text(textwrap.dedent(text).lstrip("\n"))
    errors = Errors()
    specs = {s.name: s for s in load_manifests([manifest], errors,
                                               step_sets=builtin_catalog())}
    return specs, errors, manifest


def load(tmp_path: Path, text: str) -> tuple[dict[str, BuildoutSpec], Path]:
    specs, errors, manifest = load_errors(tmp_path, text)
    errors.raise_if_any()
    return specs, manifest


def messages_of(tmp_path: Path, text: str) -> tuple[list[str], Path]:
    _specs, errors, manifest = load_errors(tmp_path, text)
    return errors.messages, manifest


def build(spec: BuildoutSpec, name: str) -> tuple[list, Errors]:
    """Call step set ``name`` as the factory does; (step recipes, errors)."""
    errors = Errors()
    context = StepContext(spec, workdir=buildout_dir(spec)[0], master_dir=MASTER,
                          errors=errors)
    made = STEP_SETS[name](spec.step_options[name], context)
    return [buildstep.get_factory_from_step_or_factory(s) for s in made.steps], errors


def one(tmp_path: Path, section: str, name: str) -> list:
    specs, _ = load(tmp_path, f"[app]\n{section}")
    recipes, errors = build(specs["app"], name)
    assert not errors, errors.messages
    return recipes


def by_name(recipes: list) -> dict[str, buildstep._BuildStepFactory]:
    return {r.kwargs.get("name"): r for r in recipes}


def line_of(path: Path, needle: str) -> int:
    lines = path.read_text().splitlines()
    return next(i for i, text in enumerate(lines, 1) if needle in text)


def render(renderable, **props) -> str:
    return renderable.getRenderingFor(Properties(**props))


# --------------------------------------------------------------------------- #
# commands
# --------------------------------------------------------------------------- #

def test_pytest_runs_with_junit_report_uploaded_and_summarised(tmp_path: Path) -> None:
    recipes = one(tmp_path, f"{GIT}\npost-buildout-steps = pytest\n"
                  "pytest.args = -x -k 'a and b'\npytest.paths = tests more_tests\n",
                  "pytest")
    run, upload, summary = recipes
    assert run.step_class is RunTests
    assert run.kwargs["command"] == ["bin/pytest", "--junitxml=../anybox-results/pytest.xml",
                                     "-x", "-k", "a and b", "tests", "more_tests"]
    assert run.kwargs["workdir"] == "build"
    assert run.kwargs["report"] == "../anybox-results/pytest.xml"
    assert run.kwargs["haltOnFailure"] is False   # the report must still be uploaded
    # Optional: a master-side fault warns (never an EXCEPTION that ends the build)
    assert upload.step_class is BestEffortUpload
    assert upload.kwargs["root"] == "/srv/master/results"
    assert upload.kwargs["maxsize"] == JUNIT_MAX_BYTES
    assert upload.kwargs["workersrc"] == "../anybox-results/pytest.xml"
    assert render(upload.kwargs["masterdest"], buildername="app", buildnumber=7) == \
        "/srv/master/results/app/7/pytest.xml"
    assert summary.step_class is JUnitSummary
    assert summary.kwargs["report"] == upload.kwargs["masterdest"]


def test_pytest_report_lands_next_to_the_builder_folder_whatever_the_workdir(
        tmp_path: Path) -> None:
    recipes = one(tmp_path, "buildout = git file:///r.git main etc/ci.cfg subdir=x\n"
                  "post-buildout-steps = pytest\npytest.command = bin/py -m pytest\n",
                  "pytest")
    assert recipes[0].kwargs["workdir"] == "build/x/etc"
    assert recipes[0].kwargs["command"][:4] == [
        "bin/py", "-m", "pytest", "--junitxml=../../../anybox-results/pytest.xml"]


def test_pytest_without_junit_is_one_halting_step(tmp_path: Path) -> None:
    recipes = one(tmp_path, f"{GIT}\npost-buildout-steps = pytest\npytest.junit = false\n"
                  "pytest.args = -q\n", "pytest")
    assert len(recipes) == 1
    assert recipes[0].kwargs["command"] == ["bin/pytest", "-q"]
    assert recipes[0].kwargs["haltOnFailure"] is True


def test_nose(tmp_path: Path) -> None:
    recipes = one(tmp_path, f"{GIT}\npost-buildout-steps = nose\nnose.args = -v --with-id\n"
                  "nose.paths = tests\n", "nose")
    assert recipes[0].kwargs["command"] == ["bin/nosetests", "-v", "--with-id", "tests"]
    assert recipes[0].kwargs["name"] == "nose"


def test_functional_installs_parts_with_the_buildout_caches_then_runs_each_line(
        tmp_path: Path) -> None:
    recipes = one(tmp_path, f"{GIT}\npost-buildout-steps = functional\n"
                  "buildout-options = buildout:newest=false\n"
                  "functional.parts = selenium fixtures\n"
                  "functional.commands = bin/robot --outputdir 'out dir' tests\n"
                  "    bin/check -v\n", "functional")
    parts, first, second = recipes
    assert parts.kwargs["name"] == "functional-parts"
    assert parts.kwargs["command"] == [
        "venv/bin/python", "anybox-buildout.py", "--caches", "../../buildout-caches", "--",
        "venv/bin/buildout", "-c", "buildout.cfg",
        "buildout:eggs-directory=../../buildout-caches/eggs",
        "buildout:download-cache=../../buildout-caches/downloads",
        "buildout:newest=false", "install", "selenium", "fixtures"]
    assert not parts.kwargs.get("locks")     # the wrapper locks the caches on the worker
    assert first.kwargs["name"] == "functional-1"
    assert first.kwargs["command"] == ["bin/robot", "--outputdir", "out dir", "tests"]
    assert second.kwargs["command"] == ["bin/check", "-v"]


def test_static_analysis_ruff_and_flake8(tmp_path: Path) -> None:
    ruff = one(tmp_path, f"{GIT}\npost-buildout-steps = static-analysis\n"
               "static-analysis.paths = src tests\nstatic-analysis.max-warnings = 3\n",
               "static-analysis")[0]
    assert ruff.step_class is CountWarnings
    assert ruff.kwargs["command"] == ["ruff", "check", "--no-cache", "--output-format=concise",
                                      "src", "tests"]
    assert ruff.kwargs["maxWarnCount"] == 3
    flake8 = one(tmp_path, f"{GIT}\npost-buildout-steps = static-analysis\n"
                 "static-analysis.tool = flake8\nstatic-analysis.args = --select=E,W\n",
                 "static-analysis")[0]
    assert flake8.kwargs["command"] == ["bin/flake8", "--select=E,W", "."]
    assert flake8.kwargs["maxWarnCount"] is None


def test_sphinx_doc_builds_uploads_and_publishes(tmp_path: Path) -> None:
    recipes = one(tmp_path, f"{GIT}\npost-buildout-steps = sphinx-doc\n"
                  "sphinx-doc.source = docs\nsphinx-doc.build-dir = out/html\n"
                  "sphinx-doc.args = -W -j 2\n", "sphinx-doc")
    build_step, upload, publish = recipes
    assert build_step.kwargs["command"] == ["bin/sphinx-build", "-b", "html", "-W", "-j", "2",
                                            "docs", "out/html"]
    assert upload.step_class is steps.DirectoryUpload
    assert upload.kwargs["workersrc"] == "out/html"
    assert upload.kwargs["maxsize"] == DOCS_MAX_BYTES == 256 * 1024 * 1024  # docs/stepsets.rst
    assert not upload.kwargs.get("compress")   # unpacked files: no larger than the bound
    assert render(upload.kwargs["masterdest"], buildername="app", buildnumber=2) == \
        "/srv/master/docs/.incoming/app-app-2"
    assert publish.step_class is PublishDirectory
    assert publish.kwargs["target"] == "/srv/master/docs/app"


def test_packaging_builds_then_uploads_with_the_files(tmp_path: Path) -> None:
    recipes = by_name(one(tmp_path, f"{GIT}\npost-buildout-steps = packaging\n"
                          "packaging.path = src/pkg\n"
                          "packaging.upload-command = bin/twine upload -r internal\n",
                          "packaging"))
    assert recipes["ship-sf_package.py"].kwargs["mastersrc"] == f"{SCRIPTS_DIR}/sf_package.py"
    assert recipes["packaging"].kwargs["command"] == [
        "venv/bin/python", "anybox-sf_package.py", "build", "--builder=pep517",
        "--path=src/pkg", "--dist-dir=dist"]
    assert recipes["upload-dist"].kwargs["command"] == [
        "venv/bin/python", "anybox-sf_package.py", "upload", "--dist-dir=dist", "--",
        "bin/twine", "upload", "-r", "internal"]


def test_autocommit_pushes_to_the_buildout_repository(tmp_path: Path) -> None:
    recipes = by_name(one(tmp_path, f"{GIT}\npost-buildout-steps = autocommit\n"
                          "autocommit.path = generated\n", "autocommit"))
    command = recipes["autocommit"].kwargs["command"]
    assert command[1:] == ["anybox-sf_autocommit.py", "--path=generated", "--branch=main",
                           "--url=file:///srv/git/app.git", "--author-name=buildbot",
                           "--author-email=buildbot@localhost",
                           "--message=Automatic commit from buildbot"]
    assert recipes["autocommit"].kwargs["doStepIf"] is no_failure_so_far
    assert recipes["ship-sf_autocommit.py"].kwargs["doStepIf"] is no_failure_so_far


@pytest.mark.parametrize(("results", "expected"), [(SUCCESS, True), (WARNINGS, True),
                                                   (2, False), (4, False)])
def test_autocommit_runs_only_when_nothing_failed(results: int, expected: bool) -> None:
    class Build:
        pass

    class Step:
        build = Build()

    Step.build.results = results
    assert no_failure_so_far(Step()) is expected  # type: ignore[arg-type]


def test_every_step_set_declares_its_options_and_wires_into_a_factory(tmp_path: Path) -> None:
    specs, _ = load(tmp_path, f"""
        [app]
        {GIT}
        post-buildout-steps = pytest nose functional static-analysis sphinx-doc packaging
                              autocommit
        functional.commands = bin/check
        autocommit.path = generated
        """)
    for name in ("test", "pytest", "nose", "functional", "static-analysis", "sphinx-doc",
                 "packaging", "autocommit"):
        assert isinstance(STEP_SETS[name].schema, Schema), name
    errors = Errors()
    registry = compile_registry(default_capabilities(), errors)
    factory = FactoryMaker(None, registry, STEP_SETS, master_dir=MASTER,
                           errors=errors).make(specs["app"])
    assert not errors, errors.messages
    names = [f.kwargs.get("name") for f in factory.steps]
    assert names[names.index("check-develop") + 1:] == [
        "pytest", "upload-junit", "pytest-summary", "nose", "functional", "static-analysis",
        "sphinx-doc", "upload-docs", "publish-docs", "ship-sf_package.py", "packaging",
        "ship-sf_autocommit.py", "autocommit"]
    for recipe in factory.steps[names.index("pytest"):]:
        if "command" in recipe.kwargs:
            assert isinstance(recipe.kwargs["command"], list)   # never a shell string


# --------------------------------------------------------------------------- #
# option errors, at their manifest line, all in one pass
# --------------------------------------------------------------------------- #

BAD_OPTIONS = """
[app]
buildout = git file:///srv/git/app.git main buildout.cfg
post-buildout-steps = pytest nose functional static-analysis sphinx-doc packaging autocommit
pytest.args = -k 'unbalanced
pytest.junit = maybe
pytest.paths = --rootdir=/
nose.command =
functional.parts = good -c
static-analysis.tool = pylint
static-analysis.max-warnings = ten
sphinx-doc.build-dir = ../../escape
packaging.dist-dir = /tmp/dist
packaging.builder = poetry
autocommit.branch = bad..name
autocommit.author = nobody
"""
EXPECTED = {
    "pytest.args": "cannot split into arguments",
    "pytest.junit": "expected true or false",
    "pytest.paths": "a path may not start with '-'",
    "nose.command": "empty",
    "functional.parts": "invalid buildout part name",
    "static-analysis.tool": "unknown tool: 'pylint' (valid: flake8, ruff)",
    "static-analysis.max-warnings": "expected a whole number",
    "sphinx-doc.build-dir": "expected a folder inside the buildout's folder",
    "packaging.dist-dir": "expected a folder inside the buildout's folder",
    "packaging.builder": "valid: build, pep517, setup.py",
    "autocommit.branch": "invalid branch name",
    "autocommit.author": "expected 'Name <email>'",
}


def test_bad_options_are_reported_with_file_and_line(tmp_path: Path) -> None:
    """All at load time, in one pass, each at its line."""
    messages, manifest = messages_of(tmp_path, BAD_OPTIONS)
    # required options missing altogether: at the line naming the step set
    for key in ("functional.commands", "autocommit.path"):
        missing = [m for m in messages if f"missing option '{key}'" in m]
        assert missing and missing[0].startswith(f"{manifest}:3: buildout [app] {key}: "), key
    for key, fragment in EXPECTED.items():
        where = f"{manifest}:{line_of(manifest, key)}: buildout [app] {key}: "
        found = [m for m in messages if m.startswith(where)]
        assert found, (key, messages)
        assert fragment in found[0], found[0]
    assert len(messages) == len(EXPECTED) + 2, "\n".join(messages)


@pytest.mark.parametrize("value", [".", "./", "./.", "a/..", "../x", "/tmp/x", "-x"])
def test_folders_we_empty_must_be_inside_the_buildout(tmp_path: Path, value: str) -> None:
    messages, manifest = messages_of(tmp_path, f"[app]\n{GIT}\npost-buildout-steps = "
                                     f"packaging\npackaging.dist-dir = {value}\n")
    assert messages == [
        f"{manifest}:4: buildout [app] packaging.dist-dir: expected a folder inside the "
        f"buildout's folder: {value!r} (a relative path without '..', e.g. dist)"]


def test_autocommit_needs_git(tmp_path: Path) -> None:
    messages, manifest = messages_of(tmp_path, """
        [std]
        buildout = standalone app.cfg
        post-buildout-steps = autocommit
        autocommit.path = x
        [tag]
        buildout = gittag file:///r.git buildout.cfg
        post-buildout-steps = autocommit
        autocommit.path = x
        """)
    assert messages == [f"{manifest}:2: buildout [std]: autocommit needs a git buildout, "
                        "not 'standalone' (remove autocommit from the step sets or build "
                        "from git)",
                        f"{manifest}:7: buildout [tag] autocommit.branch: a 'gittag' buildout "
                        "has no branch to push to (give autocommit.branch)"]


def test_configurator_rejects_unknown_options_and_bad_values_together(tmp_path: Path) -> None:
    """One pass: the unknown option does not hide the bad value (issue 11)."""
    (tmp_path / "buildouts").mkdir()
    (tmp_path / "workers.cfg").write_text("[w1]\npassword = x\n")
    (tmp_path / "buildouts" / "MANIFEST.cfg").write_text(
        f"[app]\n{GIT}\npost-buildout-steps = pytest static-analysis no-such-set\n"
        "pytest.arg = -x\nstatic-analysis.max-warnings = -1\n")
    with pytest.raises(ConfigError) as exc:
        BuildoutsConfigurator(tmp_path, {}).populate()
    assert exc.value.errors[1:] == [
        "buildouts/MANIFEST.cfg:4: buildout [app]: unknown option of step set 'pytest': "
        "'pytest.arg' (did you mean 'args'?)",
        "buildouts/MANIFEST.cfg:5: buildout [app] static-analysis.max-warnings: must not be "
        "negative: '-1' (e.g. static-analysis.max-warnings = 20)"]
    assert exc.value.errors[0].startswith(
        "buildouts/MANIFEST.cfg:3: buildout [app] post-buildout-steps: unknown step set "
        "'no-such-set': 'no-such-set' (known: ")


# --------------------------------------------------------------------------- #
# shell metacharacters stay literal arguments
# --------------------------------------------------------------------------- #

EVIL = ["; rm -rf x", "$(touch pwned)", "`touch pwned`", "a && b | c > d", "'q' \"dq\""]


def test_shell_metacharacters_reach_commands_as_literal_arguments(tmp_path: Path) -> None:
    quoted = " ".join(f"'{e}'" if "'" not in e else f'"{e}"' for e in EVIL[:4])
    specs, _ = load(tmp_path, f"""
        [app]
        {GIT}
        post-buildout-steps = pytest nose functional static-analysis sphinx-doc packaging
                              autocommit
        pytest.args = {quoted}
        pytest.paths = {quoted}
        nose.args = {quoted}
        functional.commands = bin/run {quoted}
        static-analysis.paths = {quoted}
        sphinx-doc.source = doc; rm -rf x $(touch pwned) `touch pwned`
        packaging.path = $(touch pwned)
        packaging.upload-command = bin/up {quoted}
        autocommit.path = x; rm -rf x
        autocommit.message = done; rm -rf x $(touch pwned) `touch pwned`
        """)
    spec = specs["app"]
    commands: list[list] = []
    for name in spec.post_buildout_steps:
        recipes, errors = build(spec, name)
        assert not errors, errors.messages
        commands += [r.kwargs["command"] for r in recipes if "command" in r.kwargs]
    for command in commands:
        assert isinstance(command, list)
        assert not any(word in ("sh", "bash", "-c") for word in command[:2] if
                       isinstance(word, str))
    flat = [word for command in commands for word in command if isinstance(word, str)]
    for evil in EVIL[:4]:
        # each value is one argument, as written: not split, not interpreted
        assert flat.count(evil) >= 6, (evil, flat)
    assert "doc; rm -rf x $(touch pwned) `touch pwned`" in flat        # sphinx source
    assert "--path=$(touch pwned)" in flat                             # packaging
    assert "--path=x; rm -rf x" in flat                                # autocommit
    assert "--message=done; rm -rf x $(touch pwned) `touch pwned`" in flat


def test_metacharacters_really_stay_literal_in_the_worker_scripts(tmp_path: Path) -> None:
    """What the command lines above hand to our scripts is used verbatim:
    the commit message of a real commit is the manifest text."""
    repo, bare = make_repo(tmp_path)
    evil = "; rm -rf x $(touch pwned) `touch pwned`"
    (repo / "generated").mkdir()
    (repo / "generated" / "out.txt").write_text("one\n")
    result = autocommit(repo, bare, "generated", evil)
    assert result.returncode == 0, result.stdout
    log = git(bare, "log", "-1", "--format=%B", "ci")
    assert log.strip() == evil
    assert not list(tmp_path.rglob("pwned"))


# --------------------------------------------------------------------------- #
# master-side helpers
# --------------------------------------------------------------------------- #

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="1" skipped="1" tests="5">
<testcase classname="t" name="a"/><testcase classname="t" name="b"/>
<testcase classname="t" name="c"><failure message="x">boom</failure></testcase>
<testcase classname="t" name="d"><skipped message="later"/></testcase>
<testcase classname="t" name="e"><error message="fixture">oops</error></testcase>
</testsuite></testsuites>
"""


def test_junit_counts_by_test_case(tmp_path: Path) -> None:
    (tmp_path / "r.xml").write_text(JUNIT)
    counts = parse_junit(tmp_path / "r.xml")
    assert (counts.passed, counts.failed, counts.skipped, counts.errors, counts.total) == \
        (2, 1, 1, 1, 5)
    assert counts.summary() == "2 passed, 1 failed, 1 skipped, 1 errors"


def test_master_paths_are_sanitised() -> None:
    assert safe_name("../../etc") == "_.._etc"
    assert safe_name("..") == "_"
    assert safe_name("app-pg13") == "app-pg13"
    path = render(BuildResultPath("/m/results", "pytest.xml"), buildername="../x y",
                  buildnumber=3)
    assert path == "/m/results/_x_y/3/pytest.xml"
    assert render(IncomingPath("/m/docs", "a"), buildername="/b", buildnumber=1) == \
        "/m/docs/.incoming/a-_b-1"


def test_publish_directory_replaces_the_old_tree_and_makes_it_readable(tmp_path: Path) -> None:
    target = tmp_path / "docs" / "app"
    target.mkdir(parents=True)
    (target / "stale.html").write_text("old")
    incoming = tmp_path / "docs" / ".incoming" / "app-app-1"
    (incoming / "_static").mkdir(parents=True)
    (incoming / "index.html").write_text("new")
    os.chmod(incoming / "index.html", 0o600)
    publish_directory(str(incoming), str(target))
    assert sorted(p.name for p in target.iterdir()) == ["_static", "index.html"]
    assert stat.S_IMODE((target / "index.html").stat().st_mode) == 0o644
    assert not incoming.exists()
    assert list((tmp_path / "docs" / ".incoming").iterdir()) == []


# --------------------------------------------------------------------------- #
# worker scripts
# --------------------------------------------------------------------------- #

GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=True,
                          capture_output=True, text=True).stdout


def make_repo(tmp_path: Path) -> tuple[Path, Path]:
    bare = tmp_path / "app.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    repo = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(bare), str(repo))
    (repo / "README").write_text("x\n")
    git(repo, "add", "README")
    git(repo, "commit", "-q", "-m", "init")
    git(repo, "push", "-q", "origin", "HEAD:refs/heads/main")
    return repo, bare


def autocommit(repo: Path, bare: Path, path: str, message: str
               ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, f"{SCRIPTS_DIR}/sf_autocommit.py", f"--path={path}", "--branch=ci",
         f"--url=file://{bare}", "--author-name=Bot", "--author-email=bot@example.com",
         f"--message={message}"], cwd=repo, capture_output=True, text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("GIT_")})


def test_autocommit_script_commits_pushes_and_accepts_nothing_to_do(tmp_path: Path) -> None:
    repo, bare = make_repo(tmp_path)
    (repo / "generated").mkdir()
    (repo / "generated" / "a.txt").write_text("a\n")
    (repo / "other.txt").write_text("not committed\n")
    first = autocommit(repo, bare, "generated", "update generated")
    assert first.returncode == 0, first.stdout + first.stderr
    assert git(bare, "show", "--name-only", "--format=%an <%ae>%n%s", "ci").split() == [
        "Bot", "<bot@example.com>", "update", "generated", "generated/a.txt"]
    again = autocommit(repo, bare, "generated", "again")
    assert again.returncode == 0
    assert "nothing to commit in generated" in again.stdout
    assert git(bare, "rev-list", "--count", "ci").strip() == "2"


def test_package_script_builds_sdist_and_wheel_and_uploads_them(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / "src" / "demo").mkdir(parents=True)
    (project / "src" / "demo" / "__init__.py").write_text("")
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "demo-pkg"\nversion = "0.1"\n')
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "stale.whl").write_text("")
    script = f"{SCRIPTS_DIR}/sf_package.py"
    built = subprocess.run([sys.executable, script, "build", "--path=proj", "--dist-dir=dist"],
                           cwd=tmp_path, capture_output=True, text=True)
    assert built.returncode == 0, built.stdout + built.stderr
    assert sorted(p.name for p in (tmp_path / "dist").iterdir()) == [
        "demo_pkg-0.1-py3-none-any.whl", "demo_pkg-0.1.tar.gz"]
    assert "built: demo_pkg-0.1.tar.gz" in built.stdout
    record = [sys.executable, "-c", "import json, sys; print(json.dumps(sys.argv[1:]))",
              "$(touch pwned)"]
    uploaded = subprocess.run([sys.executable, script, "upload", "--dist-dir=dist", "--",
                               *record], cwd=tmp_path, capture_output=True, text=True)
    assert uploaded.returncode == 0, uploaded.stderr
    argv = json.loads(uploaded.stdout.splitlines()[-1])
    assert argv[0] == "$(touch pwned)"
    assert [Path(a).name for a in argv[1:]] == ["demo_pkg-0.1-py3-none-any.whl",
                                                "demo_pkg-0.1.tar.gz"]
    assert not list(tmp_path.rglob("pwned"))


def test_non_ascii_digit_count_is_a_config_error(tmp_path: Path) -> None:
    """'²'.isdigit() is true but int('²') fails: must be an error, not a crash."""
    from anybox_buildbot.errors import ConfigError

    root = tmp_path / "m"
    (root / "buildouts").mkdir(parents=True)
    (root / "buildouts" / "a.cfg").write_text("[buildout]\n")
    (root / "buildouts" / "MANIFEST.cfg").write_text(
        "[a]\nbuildout = standalone a.cfg\npost-buildout-steps = static-analysis\n"
        "static-analysis.max-warnings = \u00b2\n", encoding="utf-8")
    (root / "workers.cfg").write_text("[w]\npassword = x\n")
    from anybox_buildbot import configure_from_buildouts
    with pytest.raises(ConfigError) as info:
        configure_from_buildouts(str(root), {})
    (message,) = info.value.errors
    assert "static-analysis.max-warnings" in message and "expected a whole number" in message
