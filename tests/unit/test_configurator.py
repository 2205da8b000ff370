"""The public API, loaded the way Buildbot loads master.cfg (in process)."""

from __future__ import annotations

from pathlib import Path

import pytest
from buildbot.config.errors import ConfigErrors
from buildbot.config.master import FileLoader
from buildbot.process.factory import BuildFactory
from buildbot.process.properties import Interpolate
from unit_helpers import MASTER_CFG

from anybox_buildbot import BuildoutsConfigurator, ConfigError, configure_from_buildouts
from anybox_buildbot.configurator import prefer_priority
from anybox_buildbot.steps.capabilities import ChooseCapabilities

WORKERS = """\
[w1]
password = first-Secret
capability = postgresql 9.6 port=5433
             postgresql 13 port=5434 bin=/opt/pg13/bin
worker_priority = 10
arch = x86_64
[w2]
password = %(secret:w2pass)s
capability = postgresql 13
max_builds = 2
notify_on_missing = ops@example.com
"""
MANIFEST = """\
[DEFAULT]
test-command = bin/test -v

[app]
buildout = standalone app.cfg
build-requires = postgresql >= 9.6
build-category = apps

[matrix]
inherit = app
build-for = postgresql >= 9.6

[oracle]
buildout = standalone app.cfg
build-requires = oracle
"""


def write_master(root: Path, manifest: str = MANIFEST, workers: str = WORKERS,
                 master_cfg: str = MASTER_CFG) -> Path:
    (root / "buildouts").mkdir(parents=True, exist_ok=True)
    (root / "buildouts" / "MANIFEST.cfg").write_text(manifest)
    (root / "buildouts" / "app.cfg").write_text("[buildout]\nparts =\n")
    (root / "workers.cfg").write_text(workers)
    (root / "master.cfg").write_text(master_cfg)
    return root


def load(root: Path):
    return FileLoader(str(root), "master.cfg").loadConfig()


def test_master_cfg_gets_workers_builders_and_force_scheduler(tmp_path: Path) -> None:
    cfg = load(write_master(tmp_path))
    builders = {b.name: b for b in cfg.builders}
    assert list(builders) == ["app", "matrix-pg13", "matrix-pg9.6"]
    assert builders["app"].workernames == ["w1", "w2"]
    assert builders["matrix-pg9.6"].workernames == ["w1"]
    assert builders["matrix-pg13"].properties == {
        "pg_version": "13", "build_requires": ["postgresql >= 9.6"]}
    assert builders["app"].tags == ["apps"]
    assert builders["app"].nextWorker is prefer_priority
    assert [w.workername for w in cfg.workers] == ["w1", "w2"]
    assert list(cfg.schedulers) == ["force"]
    assert sorted(cfg.schedulers["force"].builderNames) == sorted(builders)
    # one factory per buildout, shared by its build-for builders
    assert builders["matrix-pg13"].factory is builders["matrix-pg9.6"].factory


def test_worker_objects_keep_options_and_hide_password(tmp_path: Path) -> None:
    cfg = load(write_master(tmp_path))
    w1, w2 = cfg.workers
    assert w1.properties.getProperty("worker_priority") == 10
    assert w1.properties.getProperty("arch") == "x86_64"
    assert w2.max_builds == 2
    assert w2.notify_on_missing == ["ops@example.com"]
    for worker in cfg.workers:
        props = worker.properties.asDict()
        assert not any("Secret" in str(value) for value in props.values())
        assert "password" not in props
    # the secret reference is rendered at connection time, not stored as text
    assert isinstance(w2.password, Interpolate)
    assert w1.password == "first-Secret"


def test_errors_of_all_files_come_in_one_config_error(tmp_path: Path) -> None:
    workers = WORKERS + "[w3]\ncapability = postgresql >= 9\nmax_builds = two\n"
    manifest = MANIFEST + "[bad]\nbuildout = standalone missing.cfg\nbuild-for = pg >=\n"
    write_master(tmp_path, manifest, workers)
    with pytest.raises(ConfigErrors) as info:
        load(tmp_path)
    messages = "\n".join(info.value.errors)
    assert "workers.cfg:12: worker [w3]: missing password" in messages
    assert "workers.cfg:14: worker [w3]: expected a whole number: 'two'" in messages
    assert "workers.cfg:13: worker [w3]:" in messages
    assert "buildouts/MANIFEST.cfg:17: buildout [bad] buildout: standalone buildout file " \
           "not found" in messages
    assert "buildouts/MANIFEST.cfg:18: buildout [bad] build-for: expected a version after " \
           "'>=' at column 4: 'pg >='" in messages
    assert len(info.value.errors) == 5


def test_config_error_is_a_buildbot_config_errors() -> None:
    error = ConfigError(["a.cfg:1: one", "b.cfg:2: two"])
    assert isinstance(error, ConfigErrors)
    assert error.errors == ["a.cfg:1: one", "b.cfg:2: two"]


def test_strict_turns_missing_builders_into_errors(tmp_path: Path) -> None:
    write_master(tmp_path)
    with pytest.raises(ConfigError) as info:
        configure_from_buildouts(str(tmp_path), {}, strict=True)
    assert any("buildout 'oracle' is not created" in e and "has no oracle" in e
               for e in info.value.errors)


def test_missing_builder_is_logged_with_closest_worker(tmp_path: Path) -> None:
    from twisted.python import log

    seen: list[str] = []

    def observer(event: dict) -> None:
        seen.append(" ".join(str(m) for m in event.get("message", ())))

    log.addObserver(observer)
    try:
        conf = configure_from_buildouts(str(write_master(tmp_path)), {})
    finally:
        log.removeObserver(observer)
    assert [m.buildout for m in conf.misses] == ["oracle"]
    assert any("buildouts/MANIFEST.cfg:13" in m and "'oracle' is not created" in m
               and "closest is 'w1'" in m for m in seen)


def test_step_by_step_api(tmp_path: Path) -> None:
    write_master(tmp_path)
    c: dict = {"builders": ["kept"]}
    conf = BuildoutsConfigurator(str(tmp_path), c)
    workers = conf.make_workers()
    assert [w.workername for w in workers] == ["w1", "w2"] and c["workers"] == workers
    factories = conf.register_build_factories("buildouts/MANIFEST.cfg")
    assert set(factories) == {"app", "matrix", "oracle"}
    assert all(isinstance(f, BuildFactory) for f in conf.build_factories.values())
    builders = conf.make_builders()
    assert [b.name for b in builders] == ["app", "matrix-pg13", "matrix-pg9.6"]
    assert c["builders"][0] == "kept"          # never removes what the admin put
    assert conf.factories_to_builders == {"app": ["app"],
                                          "matrix": ["matrix-pg13", "matrix-pg9.6"]}
    scheds = conf.make_schedulers()
    assert scheds[0].name == "force"


def ports_chosen(conf: BuildoutsConfigurator, builder: str, worker: str) -> list[str]:
    return [cap.options.get("port", "-") for _w, cap in conf.choices.chosen(builder, worker)]


def test_capability_steps_look_up_the_plan_of_the_load(tmp_path: Path) -> None:
    write_master(tmp_path)
    conf = configure_from_buildouts(str(tmp_path), {})
    by_name = {b.name: b for b in conf.config["builders"]}
    for builder in by_name.values():
        (recipe,) = [s for s in builder.factory.steps if s.step_class is ChooseCapabilities]
        assert recipe.args[0] is conf.choices      # the book the plan filled
    # w1 has two clusters: 'app' (highest >= 9.6) uses 13, each matrix builder its own
    assert ports_chosen(conf, "app", "w1") == ["5434"]
    assert ports_chosen(conf, "matrix-pg9.6", "w1") == ["5433"]
    assert ports_chosen(conf, "matrix-pg13", "w1") == ["5434"]
    assert ports_chosen(conf, "matrix-pg13", "w2") == ["-"]
    assert conf.choices.chosen("matrix-pg9.6", "w2") is None


def test_staged_api_fills_the_book_when_the_builders_are_made(tmp_path: Path) -> None:
    write_master(tmp_path)
    conf = BuildoutsConfigurator(str(tmp_path), {})
    conf.make_workers()
    factory = conf.register_build_factories("buildouts/MANIFEST.cfg")["matrix"]
    assert factory.steps[0].args[0] is conf.choices
    assert conf.choices.chosen("matrix-pg13", "w1") is None     # no plan yet
    conf.make_builders()
    assert ports_chosen(conf, "matrix-pg13", "w1") == ["5434"]


def test_capabilities_registry_is_configurable(tmp_path: Path) -> None:
    manifest = "[q]\nbuildout = standalone app.cfg\nbuild-for = rabbitmq\n"
    workers = "[w]\npassword = x\ncapability = rabbitmq 3.8 base_uri=amqp://h/\n"
    write_master(tmp_path, manifest, workers)
    conf = BuildoutsConfigurator(str(tmp_path), {})
    conf.add_capability_environ("rabbitmq", dict(
        version_prop="rabbitmq_version", abbrev="rmq",
        environ={"RMQ_BASE_URI": "%(cap(base_uri):-)s"}))
    conf.populate()
    builder = conf.config["builders"][0]
    assert builder.name == "q-rmq3.8"
    assert builder.properties == {"rabbitmq_version": "3.8"}
    step = builder.factory.steps[0]
    assert step.step_class is ChooseCapabilities


def test_capabilities_argument_replaces_defaults(tmp_path: Path) -> None:
    manifest = "[q]\nbuildout = standalone app.cfg\nbuild-for = postgresql\n"
    write_master(tmp_path, manifest, WORKERS)
    conf = BuildoutsConfigurator(str(tmp_path), {}, capabilities={})
    conf.populate()
    names = [b.name for b in conf.config["builders"]]
    assert names == ["q-postgresql13", "q-postgresql9.6"]
    assert conf.config["builders"][0].properties == {"postgresql_version": "13"}


def test_bad_registry_entry_is_a_config_error(tmp_path: Path) -> None:
    write_master(tmp_path)
    conf = BuildoutsConfigurator(str(tmp_path), {})
    conf.add_capability_environ("redis", {"environ": {"R": "%(cap(port)"}, "abrev": "r"})
    with pytest.raises(ConfigError) as info:
        conf.populate()
    text = "\n".join(info.value.errors)
    assert "capabilities['redis']: unknown key 'abrev'" in text
    assert "did you mean 'abbrev'" in text
    assert "malformed %(...)s reference" in text


@pytest.mark.parametrize("abbrev", ["../x", "a/b", "-pg", "p g"])
def test_registry_abbrev_cannot_make_path_like_builder_names(tmp_path: Path, abbrev) -> None:
    """The abbrev is part of builder names: the same characters as names."""
    write_master(tmp_path)
    conf = BuildoutsConfigurator(str(tmp_path), {})
    conf.add_capability_environ("redis", {"abbrev": abbrev})
    with pytest.raises(ConfigError) as info:
        conf.populate()
    (message,) = info.value.errors
    assert message.startswith(f"capabilities['redis']: invalid abbrev: {abbrev!r} (")
    assert "abbrevs become part of builder names" in message


def test_unknown_step_set_lists_known_ones(tmp_path: Path) -> None:
    manifest = "[a]\nbuildout = standalone app.cfg\npost-buildout-steps = tset\n"
    write_master(tmp_path, manifest)
    with pytest.raises(ConfigError) as info:
        configure_from_buildouts(str(tmp_path), {})
    assert "unknown step set 'tset'" in info.value.errors[0]
    assert "known: " in info.value.errors[0] and "test" in info.value.errors[0]


def test_checkconfig_style_message_is_clean(tmp_path: Path) -> None:
    write_master(tmp_path, workers="[w1]\ncapability = postgresql 9.1 port\n")
    with pytest.raises(ConfigErrors) as info:
        load(tmp_path)
    assert info.value.errors == [
        "workers.cfg:1: worker [w1]: missing password: '[w1]' "
        "(add 'password = ...' or 'password = %(secret:NAME)s')",
        "workers.cfg:2: worker [w1]: expected OPTION=VALUE, got 'port' at column 16: "
        "'postgresql 9.1 port' (the version comes right after the name, options are "
        "key=value without spaces)\n"
        "    postgresql 9.1 port\n"
        "                   ^",
    ]


@pytest.mark.parametrize("priorities, expected", [
    ([1, 10, 5], 1), ([3, 3], 0), ([None, 2], 1), ([], None)])
def test_prefer_priority_picks_highest(priorities, expected) -> None:
    class Props:
        def __init__(self, value):
            self.value = value

        def getProperty(self, name, default=None):
            return default if self.value is None else self.value

    class WFB:
        def __init__(self, value):
            self.worker = type("W", (), {"properties": Props(value)})()

    workers = [WFB(p) for p in priorities]
    chosen = prefer_priority(None, workers, None)
    assert chosen is (workers[expected] if expected is not None else None)


def test_paths_are_relative_to_master_dir(tmp_path: Path, monkeypatch) -> None:
    write_master(tmp_path)
    monkeypatch.chdir(tmp_path.parent)
    conf = configure_from_buildouts(tmp_path.name, {})
    assert sorted(conf.build_factories) == ["app", "matrix", "oracle"]
    assert conf.basedir == tmp_path


@pytest.mark.parametrize("options, message", [
    ("pytest.args = -x\n", "option for step set 'pytest', which this buildout does not use"),
    ("test.retries = 3\n", "unknown option of step set 'test': 'test.retries' ('test' "
                           "takes no options)"),
])
def test_step_set_options_must_match_used_step_sets(tmp_path: Path, options: str,
                                                    message: str) -> None:
    manifest = "[a]\nbuildout = standalone app.cfg\n" + options
    write_master(tmp_path, manifest)
    with pytest.raises(ConfigError) as info:
        configure_from_buildouts(str(tmp_path), {})
    (error,) = info.value.errors
    assert error.startswith("buildouts/MANIFEST.cfg:3: buildout [a]: ")
    assert message in error


def test_a_crashing_step_set_is_a_config_error(tmp_path: Path) -> None:
    write_master(tmp_path, "[a]\nbuildout = standalone app.cfg\npost-buildout-steps = boom\n")
    conf = BuildoutsConfigurator(str(tmp_path), {})

    def boom(options, context):
        raise RuntimeError("kaput")

    from anybox_buildbot.subfactories import load_registry
    conf._step_sets = {**load_registry(), "boom": boom}
    with pytest.raises(ConfigError) as info:
        conf.populate()
    assert info.value.errors[0].startswith(
        "buildouts/MANIFEST.cfg:3: buildout [a] post-buildout-steps: step set 'boom' failed "
        "to build its steps: RuntimeError: kaput")
    assert conf.config == {}          # nothing was added
