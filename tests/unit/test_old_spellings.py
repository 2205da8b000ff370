"""Files written for anybox.buildbot.odoo load, with deprecation warnings
naming the new spelling (issue 15, item 3). The files are ours, written in
the shapes the original's users wrote (its sample and test data)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from buildbot.schedulers.forcesched import ForceScheduler

from anybox_buildbot import BuildoutsConfigurator, ConfigError
from anybox_buildbot.configurator import prefer_priority

OLD_WORKERS = """\
[two-pg-one-py]
passwd = s3cret
capability = postgresql 9.6 port=5432
             python 2.7 bin=python2.7
             postgresql 13 port=5433
max_builds = 2
worker_priority = 0.5

[plain]
password = other
capability = postgresql 13
worker_priority = 2.25
"""

OLD_MANIFEST = """\
[DEFAULT]
bootstrap-version = 2.13.8

[addons-list]
buildout = git https://git.example.com/acme/buildout.git 16.0 buildout.cfg
buildout-part = odoo
openerp-addons = stock, crm
post-buildout-steps = test-openerp
build-for = postgresql >= 9.6
env.PGCLUSTER = %(prop:pg_version:-)s/main

[docs]
buildout = git https://git.example.com/acme/buildout.git 16.0 buildout.cfg
post-buildout-steps = doc
doc.sphinx-sourcedir = doc/source

[standalone-addons]
buildout = git https://git.example.com/acme/buildout.git 16.0 buildout.cfg
odoo-addons = sale

[no-more-watch]
buildout = git https://git.example.com/acme/other.git main buildout.cfg
watch =
auto-watch = true
"""


def write_master(root: Path, manifest: str = OLD_MANIFEST, workers: str = OLD_WORKERS) -> Path:
    (root / "buildouts").mkdir(parents=True)
    (root / "buildouts" / "MANIFEST.cfg").write_text(manifest)
    (root / "workers.cfg").write_text(workers)
    return root


def populate(root: Path, config: dict | None = None) -> BuildoutsConfigurator:
    conf = BuildoutsConfigurator(str(root), {} if config is None else config)
    conf.populate()
    return conf


def warnings_of(conf: BuildoutsConfigurator) -> list[str]:
    return conf.warnings.messages


def test_old_worker_spellings_load_with_warnings(tmp_path: Path) -> None:
    conf = populate(write_master(tmp_path))
    workers = {w.name: w for w in conf.config["workers"]}
    assert workers["two-pg-one-py"].password == "s3cret"
    assert workers["two-pg-one-py"].properties.getProperty("worker_priority") == 0.5
    spec = {s.name: s for s in conf.worker_specs}["two-pg-one-py"]
    (python,) = spec.instances("python")
    assert dict(python.options) == {"executable": "python2.7"}
    text = "\n".join(warnings_of(conf))
    assert "workers.cfg:2: worker [two-pg-one-py] passwd: passwd is the spelling of " \
           "anybox.buildbot.odoo, read as password" in text
    assert "workers.cfg:4: worker [two-pg-one-py] capability: bin=INTERPRETER is the " \
           "spelling of anybox.buildbot.odoo, read as executable=INTERPRETER" in text
    assert "write: python 2.7 executable=python2.7" in text
    assert "workers.cfg:7: worker [two-pg-one-py] worker_priority: a fractional " \
           "worker_priority" in text


def test_fractional_priorities_keep_their_order() -> None:
    class WFB:
        def __init__(self, value):
            props = type("P", (), {"getProperty": lambda self, n, d=None: value})()
            self.worker = type("W", (), {"properties": props})()

    workers = [WFB(0.5), WFB(0.75), WFB(0)]
    assert prefer_priority(None, workers, None) is workers[1]


def test_old_manifest_spellings_load_with_warnings(tmp_path: Path) -> None:
    conf = populate(write_master(tmp_path))
    specs = conf.buildouts
    addons = specs["addons-list"]
    assert addons.post_buildout_steps == ("install-modules-test",)
    assert addons.step_options["install-modules-test"]["addons"] == ("stock", "crm")
    assert addons.buildout_version == "2.13.8"
    (var, template), = addons.env
    assert var == "PGCLUSTER" and template.text == "%(pg_version:-)s/main"
    assert specs["docs"].post_buildout_steps == ("sphinx-doc",)
    assert specs["docs"].step_options["sphinx-doc"]["source"] == "doc/source"
    assert specs["standalone-addons"].post_buildout_steps == ("test",)
    text = "\n".join(warnings_of(conf))
    for expected in [
        "MANIFEST.cfg:2: buildout [docs] bootstrap-version: bootstrap-version is the spelling "
        "of anybox.buildbot.odoo, read as buildout-version",
        "MANIFEST.cfg:7: buildout [addons-list] openerp-addons: openerp-addons is the spelling "
        "of anybox.buildbot.odoo, read as install-modules-test.addons",
        "MANIFEST.cfg:8: buildout [addons-list] post-buildout-steps: step set 'test-openerp' "
        "is the spelling of anybox.buildbot.odoo, read as 'install-modules-test'",
        "MANIFEST.cfg:10: buildout [addons-list] env.PGCLUSTER: %(prop:NAME)s is the spelling "
        "of anybox.buildbot.odoo, read as %(NAME)s",
        "read as 'sphinx-doc'",
        "doc.sphinx-sourcedir is the spelling of anybox.buildbot.odoo, read as "
        "sphinx-doc.source",
        "MANIFEST.cfg:19: buildout [standalone-addons] odoo-addons: odoo-addons ignored: no "
        "Odoo step set here takes it",
        "MANIFEST.cfg:23: buildout [no-more-watch] watch: an empty watch no longer stops "
        "watching the buildout's own repository",
    ]:
        assert expected in text, expected
    categories = {d.category for d in conf.warnings.diagnostics if "spelling" in d.problem}
    assert categories == {"deprecation"}


def test_old_auto_watch_report_is_read_with_a_warning(tmp_path: Path) -> None:
    root = write_master(tmp_path)
    (root / "watch").mkdir()
    (root / "watch" / "no-more-watch").write_text(json.dumps([
        {"vcs": "git", "url": "https://git.example.com/acme/dep.git", "revspec": "main"},
        {"vcs": "git", "url": "--upload-pack=evil", "revspec": "main"}]))
    conf = populate(root)
    polled = sorted(s.name for s in conf.config["change_source"])
    assert "anybox-git:https://git.example.com/acme/dep.git" in polled
    assert not [name for name in polled if "upload-pack" in name]   # still checked
    text = "\n".join(warnings_of(conf))
    assert "watch/no-more-watch: auto-watch report in the format of anybox.buildbot.odoo" \
        in text
    assert "--upload-pack=evil" in text and "dropped" in text


def test_a_force_scheduler_of_master_cfg_is_a_clear_error(tmp_path: Path) -> None:
    config = {"schedulers": [ForceScheduler(name="force", builderNames=["x"])]}
    with pytest.raises(ConfigError) as info:
        populate(write_master(tmp_path), config)
    assert info.value.errors == [
        "BuildoutsConfigurator: master.cfg already has a scheduler named 'force' "
        "(ForceScheduler) (populate() makes one ForceScheduler 'force' for every builder, "
        "with the 'Buildout tag' field: remove yours from master.cfg (or rename it))"]


PORT_MANIFEST = """\
[odoo-ports]
buildout = git https://git.example.com/acme/buildout.git 16.0 buildout.cfg
buildout-part = start_odoo
post-buildout-steps = install-modules-test, update-odoo
odoo-addons = sale
odoo.use-port = true
odoo.http-port-min = 7000
odoo.http-port-step = 5

[ocb-7]
buildout = git https://git.example.com/acme/ocb.git 7.0 buildout.cfg
buildout-part = openerp
db-steps = simple_create
post-buildout-steps = openerpcommand-initialize-tests
openerp-addons = crm
odoo.use-port = true

[no-port]
buildout = git https://git.example.com/acme/other.git main buildout.cfg
odoo.use-port = false
"""


def test_old_port_reservation_loads_as_port_options(tmp_path: Path) -> None:
    """``odoo.use-port`` of the Odoo step sets: a port of the same range,
    handed to the server with the same option as the original did."""
    conf = populate(write_master(tmp_path, PORT_MANIFEST))
    specs = conf.buildouts
    for name in ("install-modules-test", "update-odoo"):
        options = specs["odoo-ports"].step_options[name]
        assert options["port"] is True and options["port_option"] == "--xmlrpc-port"
        assert str(options["ports"]) == "7000-7068"
        assert options["addons"] == ("sale",)
    ocb = specs["ocb-7"].step_options["openerpcommand-initialize-tests"]
    assert ocb["port"] is True and str(ocb["ports"]) == "6069-7068"
    assert ocb["addons"] == ("crm",)
    assert "port" not in specs["no-port"].step_options.get("test", {})
    text = "\n".join(warnings_of(conf))
    for expected in [
        "MANIFEST.cfg:6: buildout [odoo-ports] odoo.use-port: odoo.use-port is the spelling "
        "of anybox.buildbot.odoo, read as install-modules-test.port = true, "
        "install-modules-test.port_option = --xmlrpc-port, install-modules-test.ports = "
        "7000-7068, update-odoo.port = true",
        "MANIFEST.cfg:8: buildout [odoo-ports] odoo.http-port-step: odoo.http-port-step "
        "ignored: a build takes one port here",
        "MANIFEST.cfg:15: buildout [ocb-7] openerp-addons: openerp-addons is the spelling of "
        "anybox.buildbot.odoo, read as openerpcommand-initialize-tests.addons",
        "read as openerpcommand-initialize-tests.port = true, "
        "openerpcommand-initialize-tests.ports = 6069-7068",
        "MANIFEST.cfg:20: buildout [no-port] odoo.use-port: odoo.use-port ignored: no port "
        "is reserved without odoo.use-port = true",
    ]:
        assert expected in text, expected


def test_the_old_spellings_name_our_odoo_step_sets_and_their_options() -> None:
    """The parsing layer's copy of the Odoo set names (it may not import
    the step sets) matches the step sets: the ones taking ``port`` and
    ``addons``, and those of them with ``port_option``."""
    from anybox_buildbot import deprecated
    from anybox_buildbot.subfactories import builtin_step_sets
    from anybox_buildbot.subfactories.ports import OPTIONAL

    assert set(deprecated.ADDONS_STEP_SETS) == set(OPTIONAL)
    sets = builtin_step_sets()
    for name in deprecated.ADDONS_STEP_SETS:
        options = {option.name for option in sets[name].schema.options}
        assert {"addons", "port", "ports"} <= options, name
        assert ("port_option" in options) == (name in deprecated.PORT_OPTION_STEP_SETS), name
