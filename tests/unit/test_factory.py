"""Build factories: step order, shared recipes, workdirs, cleanup steps."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from buildbot.plugins import steps

from anybox_buildbot.errors import Errors
from anybox_buildbot.factory import FactoryMaker, buildout_dir, cache_dir
from anybox_buildbot.manifest import load_manifests
from anybox_buildbot.registry import compile_registry, default_capabilities
from anybox_buildbot.steps.watchreport import StoreWatchReport
from anybox_buildbot.subfactories import StepSet, builtin_step_sets, catalog_of


def specs(tmp_path: Path, text: str):
    (tmp_path / "a.cfg").write_text("[buildout]\n")
    (tmp_path / "MANIFEST.cfg").write_text(text)
    errors = Errors()
    loaded = {s.name: s for s in load_manifests([tmp_path / "MANIFEST.cfg"], errors,
                                                step_sets=catalog_of(STEP_SETS))}
    errors.raise_if_any()
    return loaded


def drop_db(options, context) -> StepSet:
    return StepSet(steps=[steps.ShellCommand(name="createdb", command=["createdb", "x"])],
                   cleanup=[steps.ShellCommand(name="dropdb", command=["dropdb", "x"])])


STEP_SETS = {**builtin_step_sets(), "db": drop_db}


def maker() -> FactoryMaker:
    registry = compile_registry(default_capabilities(), Errors())
    return FactoryMaker(None, registry, STEP_SETS, Path("/m/watch"))


def names(factory) -> list[str]:
    return [f.kwargs.get("name") or f.step_class.name for f in factory.steps]


def test_step_order_and_cleanup_always_runs(tmp_path: Path) -> None:
    spec = specs(tmp_path, "[a]\nbuildout = standalone a.cfg\ndb-steps = db\n")["a"]
    factory = maker().make(spec)
    assert names(factory) == ["capabilities", "download-buildout", "ship-scripts", "bootstrap",
                              "buildout", "check-develop", "createdb", "test", "dropdb"]
    assert factory.steps[-1].kwargs["alwaysRun"] is True
    assert not factory.steps[-3].kwargs.get("alwaysRun")


def test_identical_steps_are_shared_between_buildouts(tmp_path: Path) -> None:
    loaded = specs(tmp_path, "[a]\nbuildout = standalone a.cfg\n"
                             "[b]\nbuildout = standalone a.cfg\n"
                             "[c]\nbuildout = standalone a.cfg\ntest-command = bin/other\n")
    make = maker()
    a, b, c = (make.make(loaded[n]) for n in "abc")
    assert all(x is y for x, y in zip(a.steps, b.steps, strict=True))
    assert a.steps[-1] is not c.steps[-1]
    assert c.steps[-1].kwargs["command"] == ["bin/other"]


def test_auto_watch_stores_its_report_in_the_database(tmp_path: Path) -> None:
    """The report goes to the database every master reads, under the
    buildout's name: no file of one master's directory."""
    spec = specs(tmp_path, "[a]\nbuildout = git file:///r.git main sub/b.cfg subdir=x\n"
                           "auto-watch = true\n")["a"]
    factory = maker().make(spec)
    upload = next(f for f in factory.steps if f.kwargs.get("name") == "upload-auto-watch")
    assert upload.step_class is StoreWatchReport
    assert upload.kwargs["buildout"] == "a"
    assert "masterdest" not in upload.kwargs
    assert upload.kwargs["workdir"] == "build/x/sub"
    buildout = next(f for f in factory.steps if f.kwargs.get("name") == "buildout")
    assert buildout.kwargs["command"][:8] == [
        "venv/bin/python", "anybox-buildout.py", "--caches", "../../../../buildout-caches",
        "--", "venv/bin/buildout", "-c", "b.cfg"]
    assert not buildout.kwargs.get("locks")   # the wrapper locks the caches on the worker
    assert "buildout:eggs-directory=../../../../buildout-caches/eggs" in \
        buildout.kwargs["command"]


def test_auto_watch_report_never_becomes_a_master_path(tmp_path: Path) -> None:
    """Names are checked by the manifest parser; a spec made another way (a
    plugin, the API) with a path-like name still writes no file on the
    master: the name is only a key in the database."""
    spec = specs(tmp_path, "[a]\nbuildout = standalone a.cfg\nauto-watch = true\n")["a"]
    errors = Errors()
    registry = compile_registry(default_capabilities(), Errors())
    make = FactoryMaker(None, registry, builtin_step_sets(), tmp_path / "watch", errors=errors)
    for name in ("../../tmp/evil", "/tmp/evil", "sub/x", ".."):
        factory = make.make(dataclasses.replace(spec, name=name))
        dests = [f.kwargs["masterdest"] for f in factory.steps if "masterdest" in f.kwargs]
        assert dests == [], name
        store = [f.kwargs["buildout"] for f in factory.steps
                 if f.step_class is StoreWatchReport]
        assert store == [name]


def test_workdirs_follow_the_cfg_location(tmp_path: Path) -> None:
    loaded = specs(tmp_path, "[s]\nbuildout = standalone a.cfg\n"
                             "[t]\nbuildout = archive https://x/t.tgz proj/buildout.cfg\n")
    assert buildout_dir(loaded["s"]) == ("build", "buildout.cfg")
    assert buildout_dir(loaded["t"]) == ("build/archive/proj", "buildout.cfg")
    assert cache_dir("build") == "../../buildout-caches"
    assert cache_dir("build/archive/proj") == "../../../../buildout-caches"


def step_named(factory, name: str):
    return next(f for f in factory.steps if f.kwargs.get("name") == name)


def test_auto_watch_updates_the_checkouts_buildout_makes(tmp_path: Path) -> None:
    """Issue 17: mr.developer keeps an existing checkout ('Skipped checkout of
    existing package') unless always-checkout is force: a build triggered by
    a commit there tested the previous commit."""
    loaded = specs(tmp_path, "[on]\nbuildout = standalone a.cfg\nauto-watch = true\n"
                             "[off]\nbuildout = standalone a.cfg\nauto-watch = true\n"
                             "update-checkouts = false\n"
                             "[mine]\nbuildout = standalone a.cfg\nauto-watch = true\n"
                             "buildout-options = buildout:always-checkout=true\n"
                             "[plain]\nbuildout = standalone a.cfg\n")
    make = maker()
    wrapped = {name: step_named(make.make(spec), "buildout").kwargs["command"]
               for name, spec in loaded.items()}
    # bin/buildout's own arguments, after the locking wrapper's '--'
    commands = {name: command[command.index("--") + 1:] for name, command in wrapped.items()}
    assert commands["on"][5:] == ["buildout:always-checkout=force"]
    assert commands["off"][5:] == []
    assert commands["mine"][5:] == ["buildout:always-checkout=true"]   # the manifest's wins
    assert commands["plain"][5:] == []


def test_bootstrap_packages_reach_the_bootstrap_script(tmp_path: Path) -> None:
    loaded = specs(tmp_path, "[a]\nbuildout = standalone a.cfg\n"
                             "bootstrap-packages = horse-with-no-namespace zope.event>=5\n"
                             "[b]\nbuildout = standalone a.cfg\n")
    make = maker()
    a, b = (step_named(make.make(loaded[n]), "bootstrap").kwargs["command"] for n in "ab")
    assert a[1:] == ["anybox-bootstrap.py", "--version", "6.0.1", "--venv", "venv",
                     "--cache", "../../buildout-caches", "--require=horse-with-no-namespace",
                     "--require=zope.event>=5"]
    assert b[1:] == a[1:-2]


def test_develop_check_runs_right_after_buildout(tmp_path: Path) -> None:
    spec = specs(tmp_path, "[a]\nbuildout = standalone a.cfg\n"
                           "buildout-version = 2.13.8\n")["a"]
    factory = maker().make(spec)
    found = names(factory)
    assert found[found.index("buildout") + 1] == "check-develop"
    assert found.index("ship-scripts") < found.index("bootstrap")
    check = step_named(factory, "check-develop")
    assert check.kwargs["command"] == ["venv/bin/python", "anybox-develop_check.py",
                                       "--buildout-version", "2.13.8"]
    assert check.kwargs["haltOnFailure"] and check.kwargs["workdir"] == "build"


def test_one_step_ships_the_scripts_every_build_runs(tmp_path: Path) -> None:
    """Issue 14 (warm build cost): bootstrap, buildout wrapper and develop
    check are shipped by one step before the bootstrap, into the
    buildout's folder, where the commands run them."""
    spec = specs(tmp_path, "[a]\nbuildout = standalone a.cfg\n")["a"]
    factory = maker().make(spec)
    found = names(factory)
    assert not [n for n in found if n.startswith("ship-") and n != "ship-scripts"]
    ship = step_named(factory, "ship-scripts")
    assert ship.args[0] == ("bootstrap.py", "buildout.py", "develop_check.py")
    assert ship.kwargs["workdir"] == step_named(factory, "bootstrap").kwargs["workdir"]
    assert step_named(factory, "buildout").kwargs["command"][1] == "anybox-buildout.py"
    assert found.index("ship-scripts") < found.index("bootstrap")
