"""Odoo step sets: commands, option errors, and how Odoo's log sets the result."""

from __future__ import annotations

from pathlib import Path

import pytest
from buildbot.process.properties import Properties
from buildbot.process.results import FAILURE, SUCCESS, WARNINGS
from buildbot.test.reactor import TestReactorMixin
from buildbot.test.steps import ExpectShell, TestBuildStepMixin
from twisted.trial import unittest
from unit_helpers import STANDALONE_HEAD, configure_errors

from anybox_buildbot.errors import Errors
from anybox_buildbot.factory import make_factory
from anybox_buildbot.manifest import load_manifests
from anybox_buildbot.registry import compile_registry, default_capabilities
from anybox_buildbot.steps.odoo import ODOO_ERROR_LINE, OdooCommand
from anybox_buildbot.subfactories import builtin_catalog, load_registry

REGISTRY = compile_registry(default_capabilities(), Errors())
HEAD = STANDALONE_HEAD


def steps_after_buildout(tmp_path: Path, section: str) -> list:
    (tmp_path / "a.cfg").write_text("[buildout]\nparts =\n")
    (tmp_path / "MANIFEST.cfg").write_text(HEAD + section)
    errors = Errors()
    (spec,) = load_manifests([tmp_path / "MANIFEST.cfg"], errors,
                                          step_sets=builtin_catalog())
    errors.raise_if_any()
    factory = make_factory(spec, None, REGISTRY, load_registry())
    first = next(i for i, f in enumerate(factory.steps) if f.kwargs.get("name") == "buildout")
    return factory.steps[first + 1:]


def rendered(step, **values) -> list[str]:
    props = Properties()
    for name, value in values.items():
        props.setProperty(name, value, "test")
    got = []
    props.render(step.kwargs["command"]).addCallback(got.append)
    return got[0]


def name(step) -> str:
    return step.kwargs.get("name") or step.step_class.name


def by_name(steps: list) -> dict:
    return {name(f): f for f in steps}


def test_commands_of_the_three_step_sets(tmp_path: Path) -> None:
    steps = steps_after_buildout(tmp_path, """\
buildout-part = odoo16
post-buildout-steps = install-modules-test install-modules update-odoo
install-modules-test.addons = sale, stock
    account
install-modules.addons = base,web  base
install-modules.args = --without-demo=all "--note=a b;$(x)"
update-odoo.log_errors = warn
""")
    assert [name(f) for f in steps] == [
        "check-develop", "dropdb-stale", "install-modules-test", "install-modules",
        "update-odoo", "final-dropdb"]
    named = by_name(steps)
    assert rendered(named["install-modules-test"], testing_db="ci_a") == [
        "bin/odoo16", "-d", "ci_a", "-i", "sale,stock,account", "--stop-after-init",
        "--test-enable", "--log-level=test"]
    assert rendered(named["install-modules"], testing_db="ci_a") == [
        "bin/odoo16", "-d", "ci_a", "-i", "base,web", "--stop-after-init",
        "--without-demo=all", "--note=a b;$(x)"]
    assert rendered(named["update-odoo"], testing_db="ci_a") == [
        "bin/odoo16", "-d", "ci_a", "-u", "all", "--stop-after-init"]
    assert named["update-odoo"].kwargs["log_errors"] == "warn"
    assert named["install-modules"].kwargs["log_errors"] == "fail"
    for kind in ("install-modules-test", "install-modules", "update-odoo"):
        kwargs = named[kind].kwargs
        assert kwargs["haltOnFailure"] and kwargs["workdir"] == "build"
        assert named[kind].step_class is OdooCommand


def test_odoo_after_simple_create_reuses_its_database(tmp_path: Path) -> None:
    steps = steps_after_buildout(tmp_path, "buildout-part = odoo\n"
                                           "db-steps = simple_create\n"
                                           "post-buildout-steps = update-odoo\n"
                                           "update-odoo.addons = my_module\n")
    assert [name(f) for f in steps] == [
        "check-develop", "dropdb-stale", "createdb", "update-odoo", "final-dropdb"]
    assert rendered(steps[3], testing_db="x")[3:5] == ["-u", "my_module"]


@pytest.mark.parametrize("section, line, message", [
    ("post-buildout-steps = install-modules\ninstall-modules.addons = sale\n", 3,
     "step set 'install-modules' needs the 'buildout-part' option (the part whose "
     "bin/ script runs the Odoo server, e.g. buildout-part = odoo)"),
    ("buildout-part = odoo\npost-buildout-steps = install-modules-test\n", 4,
     "install-modules-test.addons: missing option 'install-modules-test.addons'"),
    ("buildout-part = odoo\npost-buildout-steps = install-modules\n"
     "install-modules.addons = sale;stock\n", 5,
     "install-modules.addons: invalid Odoo module name: 'sale;stock'"),
    ("buildout-part = odoo\npost-buildout-steps = install-modules\n"
     "install-modules.addons = $(touch_pwned)\n", 5,
     "install-modules.addons: invalid Odoo module name: '$(touch_pwned)'"),
    ("buildout-part = odoo\npost-buildout-steps = update-odoo\n"
     "update-odoo.log_errors = maybe\n", 5,
     "update-odoo.log_errors: unknown log_errors: 'maybe' (valid: fail, ignore, warn)"),
    ("buildout-part = odoo\npost-buildout-steps = update-odoo\n"
     "update-odoo.args = --x='unbalanced\n", 5,
     "update-odoo.args: cannot split into arguments"),
    ("buildout-part = ../odoo\npost-buildout-steps = update-odoo\n", 3,
     "buildout-part: invalid buildout part name: '../odoo'"),
    ("buildout-part = odoo\npost-buildout-steps = update-odoo\nupdate-odoo.addon = x\n", 5,
     "unknown option of step set 'update-odoo': 'update-odoo.addon' "
     "(did you mean 'addons'?)"),
])
def test_bad_options_are_config_errors_at_their_line(tmp_path: Path, section: str,
                                                     line: int, message: str) -> None:
    errors = configure_errors(tmp_path, section)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"buildouts/MANIFEST.cfg:{line}: buildout [a]")
    assert message in errors[0]


@pytest.mark.parametrize("line, match", [
    ("2024-05-01 10:00:00,123 4242 ERROR db odoo.modules.loading: boom", True),
    ("2024-05-01 10:00:00,123 4242 CRITICAL db odoo.service.server: boom", True),
    ("2024-05-01 10:00:00,123 4242 INFO db odoo.modules.loading: ERROR is a word", False),
    ("2024-05-01 10:00:00,123 4242 WARNING db odoo.x: careful", False),
    ("ERROR: something else", False),
])
def test_odoo_error_lines(line: str, match: bool) -> None:
    assert bool(ODOO_ERROR_LINE.match(line)) is match


ERROR = "2026-01-01 00:00:00,000 42 ERROR db odoo.addons.sale.tests: FAIL: test_x\n"
INFO = "2026-01-01 00:00:00,000 42 INFO db odoo.modules.loading: loaded\n"


class OdooCommandTest(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step()

    def run_odoo(self, log_errors: str, output: str, rc: int = 0):
        self.setup_step(OdooCommand(name="install-modules-test", log_errors=log_errors,
                                    command=["bin/odoo", "-d", "db"], workdir="build",
                                    descriptionDone=["tests"]))
        self.expect_commands(ExpectShell(workdir="build", command=["bin/odoo", "-d", "db"])
                             .stdout(output).exit(rc))
        return self.run_step()

    def test_error_lines_fail_the_step_despite_exit_code_0(self):
        self.expect_outcome(result=FAILURE, state_string="tests 1 error line (failure)")
        self.expect_log_file("odoo-errors", ERROR)
        return self.run_odoo("fail", INFO + ERROR)

    def test_warn_gives_a_warning(self):
        self.expect_outcome(result=WARNINGS, state_string="tests 2 error lines (warnings)")
        self.expect_log_file("odoo-errors", ERROR + ERROR)
        return self.run_odoo("warn", ERROR + INFO + ERROR)

    def test_ignore_trusts_the_exit_code(self):
        self.expect_outcome(result=SUCCESS)
        return self.run_odoo("ignore", ERROR)

    def test_clean_log_and_exit_code_0_succeed(self):
        self.expect_outcome(result=SUCCESS)
        return self.run_odoo("fail", INFO)

    def test_non_zero_exit_fails(self):
        self.expect_outcome(result=FAILURE)
        return self.run_odoo("fail", INFO, rc=1)
