"""The example master, for real: manifest + workers.cfg -> builds that pass.

One master built from examples/, two real workers, one real PostgreSQL
cluster. Builds are forced over REST and checked through REST and logs.
The module shares one run: a zc.buildout bootstrap costs seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from anybox_buildbot.factory import SCRIPTS_DIR
from examplerun import PG_WORKER, PLAIN_WORKER, ExampleRun
from localrun import Rest

EXPECTED_BUILDERS = {
    "hello": {PG_WORKER, PLAIN_WORKER},
    "pg-check": {PG_WORKER},
    "fakelib-matrix-fl1.0": {PG_WORKER},
    "fakelib-matrix-fl2.0": {PLAIN_WORKER},
}
BUILD_TIMEOUT = 300


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExampleRun]:
    example = ExampleRun(tmp_path_factory.mktemp("example"))
    try:
        example.start()
        yield example
    finally:
        example.stop()


@pytest.fixture(scope="module")
def rest(run: ExampleRun) -> Rest:
    assert run.master is not None
    return run.master.rest


def force_and_wait(rest: Rest, builder: str, **props) -> tuple[dict, dict]:
    brid = rest.force([builder], **props)[builder]
    build = rest.wait_build(brid, timeout=BUILD_TIMEOUT)
    return build, rest.build_properties(build["buildid"])


def step_text(rest: Rest, build: dict, step: str) -> str:
    return rest.step_log(build["buildid"], step)


def test_builders_and_their_workers(rest: Rest) -> None:
    builders = rest.builders()
    assert set(builders) == set(EXPECTED_BUILDERS)
    by_id = {b["builderid"]: name for name, b in builders.items()}
    assigned: dict[str, set[str]] = {name: set() for name in builders}
    for worker in rest.get("workers")["workers"]:
        for conf in worker["configured_on"]:
            assigned[by_id[conf["builderid"]]].add(worker["name"])
    assert assigned == EXPECTED_BUILDERS


def test_checkconfig_is_clean(run: ExampleRun) -> None:
    assert run.master is not None
    code, output = run.master.checkconfig()
    assert code == 0, output
    assert "Config file is good!" in output
    assert "Traceback" not in output and "Warning" not in output


def test_unbuildable_buildout_is_warned_about(run: ExampleRun) -> None:
    assert run.master is not None
    log = run.master.log_text()
    line = next(x for x in log.splitlines() if "needs-oracle" in x)
    assert "WARNING" in line and "not created" in line
    assert "has no oracle" in line


def test_passwords_stay_secret(run: ExampleRun, rest: Rest) -> None:
    assert run.master is not None
    exposed = run.master.log_text() + str(rest.get("workers"))
    for password in run.passwords.values():
        assert password not in exposed


def test_postgresql_build_uses_capability_environment(run: ExampleRun, rest: Rest) -> None:
    assert run.pg is not None
    build, props = force_and_wait(rest, "pg-check")
    assert build["results"] == 0, build["state_string"]
    assert props["workername"] == PG_WORKER
    assert props["cap_postgresql_port"] == str(run.pg.port)
    assert props["pg_version"] == run.pg.version
    assert props["build_requires"] == ["postgresql >= 9.6"]
    out = step_text(rest, build, "test")
    assert f"server PostgreSQL {run.pg.version}" in out
    env_log = rest.step_log(build["buildid"], "capabilities", "capabilities")
    assert f"env PGPORT={run.pg.port}" in env_log
    assert f"env PATH={run.pg.bin_dir}:$PATH\n" in env_log     # as a shell user reads it


def test_build_for_runs_each_version_on_its_worker(rest: Rest) -> None:
    for builder, worker, version, tag in (("fakelib-matrix-fl1.0", PG_WORKER, "1.0", "one"),
                                          ("fakelib-matrix-fl2.0", PLAIN_WORKER, "2.0", "two")):
        build, props = force_and_wait(rest, builder)
        assert build["results"] == 0, (builder, build["state_string"])
        assert props["workername"] == worker
        assert props["fakelib_version"] == version
        assert props["cap_fakelib_tag"] == tag
        assert f"fakelib {version} tag {tag}" in step_text(rest, build, "test")


def test_priority_and_warm_caches(run: ExampleRun, rest: Rest) -> None:
    """hello can run on both workers; local-pg has the higher priority.

    By now local-pg bootstrapped zc.buildout for other builders: the first
    hello build takes it from the worker's wheel cache, the second finds
    it in its own venv. Neither downloads it. One step ships our three
    worker scripts (issue 14), whole, into the build folder.
    """
    first, props = force_and_wait(rest, "hello")
    assert first["results"] == 0
    assert props["workername"] == PG_WORKER
    boot = step_text(rest, first, "bootstrap")
    assert "installed from the worker wheel cache" in boot
    assert "downloading" not in boot
    second, props = force_and_wait(rest, "hello")
    assert second["results"] == 0 and props["workername"] == PG_WORKER
    boot = step_text(rest, second, "bootstrap")
    assert "already installed" in boot and "downloading" not in boot
    buildout = step_text(rest, second, "buildout")
    assert "Getting distribution" not in buildout
    ships = [s for s in rest.steps(second["buildid"]) if s["name"].startswith("ship-")]
    assert [(s["name"], s["results"]) for s in ships] == [("ship-scripts", 0)]
    assert ships[0]["state_string"] == ("shipped anybox-bootstrap.py anybox-buildout.py "
                                        "anybox-develop_check.py")
    build_dir = run.workers[PG_WORKER].basedir / "hello" / "build"
    for script in ("bootstrap.py", "buildout.py", "develop_check.py"):
        shipped = (build_dir / f"anybox-{script}").read_bytes()
        assert shipped == Path(SCRIPTS_DIR, script).read_bytes()
    assert "six" in step_text(rest, second, "test")


def test_broken_manifest_reconfig_keeps_previous_config(run: ExampleRun, rest: Rest) -> None:
    assert run.master is not None
    manifest = run.master_dir / "buildouts" / "MANIFEST.cfg"
    good = manifest.read_text()
    manifest.write_text(good + "\n[broken]\nbuildout = standalone hello.cfg\n"
                        "build-requires = postgresql >=\n")
    try:
        rc, output = run.master.reconfig()
        assert rc != 0
        log = run.master.log_text()
        assert "build-requires: expected a version after '>='" in log
        assert "MANIFEST.cfg:" in log
        assert set(rest.builders()) == set(EXPECTED_BUILDERS)
        build, _props = force_and_wait(rest, "hello")
        assert build["results"] == 0
    finally:
        manifest.write_text(good.replace("[needs-oracle]", "[extra]\ninherit = hello\n\n"
                                         "[needs-oracle]"))
    rc, output = run.master.reconfig()
    assert rc == 0, output
    assert set(rest.builders()) >= set(EXPECTED_BUILDERS) | {"extra"}
