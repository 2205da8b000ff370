"""One pass (issue 11): every error of every file in one load, whatever
failed before, and one warnings channel with locations.

Real master directories, loaded by the configurator (``populate`` and the
``make_*`` stages) and by the command line (``check``, ``worker-check``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from unit_helpers import MASTER_CFG

from anybox_buildbot import BuildoutsConfigurator, ConfigError
from anybox_buildbot.cli import main

GOOD_WORKERS = "[w1]\npassword = x\ncapability = postgresql 15 port=5432\n"
#: Warnings only: a builder not created, a name no worker declares, a bzr
#: repository that cannot be polled, an auto-watch report not written yet.
WARNING_MANIFEST = """\
[app]
buildout = standalone app.cfg
build-requires = postgres >= 9.6

[lp]
buildout = bzr lp:acme/tools buildout.cfg

[auto]
buildout = git https://git.example.com/auto.git main buildout.cfg
auto-watch = true
"""


def write_master(root: Path, manifest: str, workers: str = GOOD_WORKERS) -> Path:
    (root / "buildouts").mkdir(parents=True, exist_ok=True)
    (root / "buildouts" / "MANIFEST.cfg").write_text(manifest)
    (root / "buildouts" / "app.cfg").write_text("[buildout]\nparts =\n")
    (root / "workers.cfg").write_text(workers)
    (root / "master.cfg").write_text(MASTER_CFG)
    return root


def errors_of(root: Path, **kwargs) -> list[str]:
    with pytest.raises(ConfigError) as info:
        BuildoutsConfigurator(str(root), {}, **kwargs).populate()
    return info.value.errors




# -- errors: one pass ------------------------------------------------------------

def test_a_broken_workers_file_hides_no_step_set_error(tmp_path: Path) -> None:
    """Planning and step-set building run after a worker error: the bad step
    set option value (found when the manifest is loaded, with the step sets'
    schemas) comes in the same report, in file order."""
    root = write_master(tmp_path, """\
[app]
buildout = standalone app.cfg
post-buildout-steps = static-analysis
static-analysis.max-warnings = -1

[other]
buildout = standalone app.cfg
post-buildout-steps = no-such-step-set
""", workers="[w1]\npassword = x\nmax_builds = two\n")
    errors = errors_of(root)
    assert [e.split(": ")[0] for e in errors] == [
        "workers.cfg:3", "buildouts/MANIFEST.cfg:4", "buildouts/MANIFEST.cfg:8"]
    assert "static-analysis.max-warnings: must not be negative" in errors[1]


def test_a_section_with_an_error_still_has_its_step_sets_checked(tmp_path: Path) -> None:
    root = write_master(tmp_path, """\
[app]
buildout = standalone app.cfg
tree-stable-timer = 10m
post-buildout-steps = no-such-step-set
pytest.nope = 1
""")
    errors = errors_of(root)
    assert [e.split(": ")[0] for e in errors] == [
        "buildouts/MANIFEST.cfg:3", "buildouts/MANIFEST.cfg:4", "buildouts/MANIFEST.cfg:5"]
    assert "unknown step set 'no-such-step-set'" in errors[1]
    assert "'pytest', which this buildout does not use" in errors[2]


def test_a_step_set_error_in_a_parent_is_reported_once(tmp_path: Path) -> None:
    root = write_master(tmp_path, """\
[base]
buildout = standalone app.cfg
post-buildout-steps = pytest tset
pytest.arg = -x

[a]
inherit = base

[b]
inherit = base
""")
    assert errors_of(root) == [
        "buildouts/MANIFEST.cfg:3: buildout [base] post-buildout-steps, inherited by [a], [b]: "
        "unknown step set 'tset': 'tset' (known: autocommit, final_dropdb, functional, "
        "functional-odoo, install-modules, install-modules-test, nose, odoo-default, "
        "openerpcommand-initialize-tests, packaging, pg_remote_copy, pytest, reserve-port, "
        "simple_create, sphinx-doc, static-analysis, test, update-odoo)",
        "buildouts/MANIFEST.cfg:4: buildout [base], inherited by [a], [b]: unknown option of "
        "step set 'pytest': 'pytest.arg' (did you mean 'args'?)"]


def test_register_build_factories_checks_step_set_values_after_an_error(
        tmp_path: Path) -> None:
    root = write_master(tmp_path, """\
[app]
buildout = standalone app.cfg
post-buildout-steps = static-analysis
static-analysis.max-warnings = -1

[bad]
buildout = standalone app.cfg
post-buildout-steps = tset
""")
    conf = BuildoutsConfigurator(str(root), {})
    conf.make_workers()
    with pytest.raises(ConfigError) as info:
        conf.register_build_factories("buildouts/MANIFEST.cfg")
    assert [e.split(": ")[0] for e in info.value.errors] == [
        "buildouts/MANIFEST.cfg:4", "buildouts/MANIFEST.cfg:8"]


# -- warnings: one channel with locations ----------------------------------------

def test_every_warning_goes_through_the_channel_with_its_location(tmp_path: Path,
                                                                   logged) -> None:
    root = write_master(tmp_path, WARNING_MANIFEST)
    conf = BuildoutsConfigurator(str(root), {})
    conf.populate()
    by_category = {w.category: w.render() for w in conf.warnings.diagnostics}
    assert by_category == {
        "capability": "buildouts/MANIFEST.cfg:3: build-requires: no worker declares "
                      "capability 'postgres' at column 1: 'postgres >= 9.6' (did you mean "
                      "'postgresql'?)\n    postgres >= 9.6\n    ^",
        "not-created": "buildouts/MANIFEST.cfg:1: buildout 'app' is not created: no worker "
                       "can run it; closest is 'w1', which has no postgres",
        "auto-watch": "buildouts/MANIFEST.cfg:8: buildout [auto] auto-watch: no auto-watch "
                      "report stored yet (its first build stores it)",
        "polling": "buildouts/MANIFEST.cfg:6: bzr repository lp:acme/tools is not polled "
                   "(Buildbot 4 has no bzr poller); buildouts lp build on force or nightly "
                   "only",
    }
    # the master logs each once, with its location
    ours = [line for line in logged if line.startswith("anybox_buildbot: WARNING: ")]
    assert sorted(ours) == sorted(f"anybox_buildbot: WARNING: {text}"
                                  for text in by_category.values())


def test_the_stages_log_each_warning_once(tmp_path: Path, logged) -> None:
    """make_schedulers and make_change_sources both read the watches; the
    log still gets each warning once per load."""
    root = write_master(tmp_path, WARNING_MANIFEST)
    conf = BuildoutsConfigurator(str(root), {})
    conf.make_workers()
    conf.register_build_factories("buildouts/MANIFEST.cfg")
    conf.make_builders()
    conf.make_schedulers()
    conf.make_change_sources()
    conf.make_schedulers()
    ours = [line for line in logged if line.startswith("anybox_buildbot: WARNING: ")]
    assert len(ours) == len(set(ours)) == conf.warnings.count == 4


def test_strict_keeps_its_meaning_builders_not_created_only(tmp_path: Path) -> None:
    """``strict=True`` refuses a builder not created, not the other
    warnings: a fresh master has no auto-watch report, and must load."""
    root = write_master(tmp_path, WARNING_MANIFEST.replace("postgres >=", "postgresql >="))
    conf = BuildoutsConfigurator(str(root), {}, strict=True)
    conf.populate()
    assert {w.category for w in conf.warnings.diagnostics} == {"auto-watch", "polling"}
    root = write_master(tmp_path, WARNING_MANIFEST)
    errors = errors_of(root, strict=True)
    assert errors == ["buildouts/MANIFEST.cfg:1: buildout 'app' is not created: no worker can "
                      "run it; closest is 'w1', which has no postgres (fix the worker fleet "
                      "or the requirements (strict mode))"]


def test_no_plan_warnings_after_an_error(tmp_path: Path) -> None:
    """With a worker file in error the fleet is incomplete: "not created"
    would be wrong. The other warnings stay."""
    root = write_master(tmp_path, WARNING_MANIFEST,
                        workers="[w1]\npassword = x\ncapability = postgresql 15 prot=1\n")
    conf = BuildoutsConfigurator(str(root), {})
    with pytest.raises(ConfigError):
        conf.populate()
    assert {w.category for w in conf.warnings.diagnostics} == {"auto-watch", "polling"}


def test_plugin_shadowing_goes_through_the_channel(tmp_path: Path, monkeypatch) -> None:
    from importlib.metadata import EntryPoint

    from anybox_buildbot import subfactories

    shadow = EntryPoint("pytest", "anybox_nothing:steps", subfactories.ENTRY_POINT_GROUP)
    monkeypatch.setattr(subfactories, "entry_points", lambda group: [shadow])
    root = write_master(tmp_path, "[app]\nbuildout = standalone app.cfg\n")
    conf = BuildoutsConfigurator(str(root), {})
    conf.populate()
    (warning,) = conf.warnings.diagnostics
    assert warning.category == "plugin"
    assert "step set 'pytest'" in warning.problem and "is ignored" in warning.problem


# -- the command line ------------------------------------------------------------

def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


def test_check_prints_every_warning_and_strict_fails_on_any(tmp_path: Path, capsys) -> None:
    root = write_master(tmp_path, WARNING_MANIFEST.replace("postgres >=", "postgresql >="))
    code, out = run(capsys, "check", str(root))
    assert code == 0
    assert out.splitlines() == [
        "ok: 3 builders for 3 buildouts on 1 worker",
        "2 warning(s):",
        "  buildouts/MANIFEST.cfg:8: buildout [auto] auto-watch: no auto-watch report "
        "stored yet (its first build stores it)",
        "  buildouts/MANIFEST.cfg:6: bzr repository lp:acme/tools is not polled (Buildbot 4 "
        "has no bzr poller); buildouts lp build on force or nightly only"]
    code, out = run(capsys, "check", "--strict", str(root))
    assert code == 1 and "--strict: warnings count as errors" in out


def test_check_prints_errors_and_warnings_together(tmp_path: Path, capsys) -> None:
    root = write_master(tmp_path, WARNING_MANIFEST + "\n[bad]\nbuildout = standalone app.cfg\n"
                        "build-for = postgresql => 13\n")
    code, out = run(capsys, "check", str(root))
    assert code == 1
    assert out.splitlines()[:4] == [
        "1 error(s):",
        "  buildouts/MANIFEST.cfg:14: buildout [bad] build-for: unknown operator '=>' at "
        "column 12: 'postgresql => 13' (valid operators: == != <= >= < >)",
        "      postgresql => 13",
        "                 ^"]
    assert "2 warning(s):" in out and "bzr repository lp:acme/tools is not polled" in out


def test_worker_check_reports_the_fragment_and_the_master_in_one_run(tmp_path: Path,
                                                                     capsys) -> None:
    root = write_master(tmp_path / "m", "[app]\nbuildout = standalone app.cfg\n"
                        "nightly = 0 25 * * *\n")
    fragment = tmp_path / "mine.cfg"
    fragment.write_text("[new]\npassword = x\ncapability = postgresql 15 prot=5432\n")
    code, out = run(capsys, "worker-check", str(fragment), "--master", str(root))
    assert code == 1
    assert f"{fragment}:3: worker [new]: unknown option 'prot' of capability 'postgresql'" \
        in out
    assert "the master configuration in" in out
    assert "buildouts/MANIFEST.cfg:3: buildout [app] nightly: invalid hour field '25'" in out


def test_worker_check_uses_the_options_the_master_declares(tmp_path: Path, capsys) -> None:
    root = write_master(tmp_path / "m", "[app]\nbuildout = standalone app.cfg\n")
    (root / "master.cfg").write_text(MASTER_CFG.replace(
        "configure_from_buildouts(basedir, c)",
        "configure_from_buildouts(basedir, c, capabilities={'rabbitmq': "
        "{'options': {'base_uri': 'text'}}})"))
    fragment = tmp_path / "mine.cfg"
    fragment.write_text("[new]\npassword = x\ncapability = rabbitmq 3 base_url=amqp://h/\n"
                        "             postgresql 15 prot=5432\n")
    code, out = run(capsys, "worker-check", str(fragment), "--master", str(root))
    assert code == 1
    assert "unknown option 'base_url' of capability 'rabbitmq'" in out
    assert "prot" not in out        # this master's registry has no postgresql entry
    code, out = run(capsys, "worker-check", str(fragment))   # built-in registry
    assert code == 1 and "'prot' of capability 'postgresql'" in out and "base_url" not in out
