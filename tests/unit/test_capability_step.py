"""Instance choice and environment of the capability step (pure parts)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from buildbot.process.results import FAILURE, SUCCESS
from buildbot.test.reactor import TestReactorMixin
from buildbot.test.steps import TestBuildStepMixin
from twisted.trial import unittest

from anybox_buildbot.capability import parse_capability
from anybox_buildbot.constraint import parse_requirement
from anybox_buildbot.errors import Errors
from anybox_buildbot.fleetindex import choose_instance
from anybox_buildbot.plan import BuilderPlan, ChoiceBook, Plan, Wanted
from anybox_buildbot.registry import compile_registry, default_capabilities
from anybox_buildbot.steps.capabilities import (
    ChooseCapabilities,
    build_environment,
    python_command,
    shell_assignment,
)
from anybox_buildbot.template import parse_template
from anybox_buildbot.version import parse_version

PG = [parse_capability(line) for line in (
    "postgresql 9.6 port=5433", "postgresql 13 port=5434 bin=/pg13/bin",
    "postgresql 13 port=5435", "postgresql 15devel port=5436 lib=/pg15/lib")]
REGISTRY = compile_registry(default_capabilities(), Errors())


@pytest.mark.parametrize("reqs, pin, port", [
    ((), None, "5436"),                                 # highest, pre-release included
    (("postgresql < 14",), None, "5434"),               # highest allowed; tie: first
    (("postgresql < 15",), None, "5436"),               # 15devel < 15
    (("postgresql >= 9", "postgresql < 10"), None, "5433"),
    ((), "13", "5434"),                                 # exact pin, first declared
    ((), "13.0", "5434"),                               # the pin as ``==`` means it
    (("postgresql > 13",), "13", None),                 # pin must meet requirements
    (("postgresql > 16",), None, None),
])
def test_choose_instance(reqs: tuple[str, ...], pin: str | None, port: str | None) -> None:
    found = choose_instance(PG, [parse_requirement(r) for r in reqs],
                            parse_version(pin) if pin else None)
    assert (PG[found].options["port"] if found is not None else None) == port


def test_an_unversioned_instance_ranks_below_every_version() -> None:
    caps = [parse_capability(line) for line in (
        "postgresql port=1", "postgresql trusty port=2", "postgresql 9.6 port=3")]
    assert choose_instance(caps, [], None) == 2
    assert choose_instance(caps[:2], [], None) == 1      # an odd version is still one
    assert choose_instance(caps[:1], [], None) == 0
    assert choose_instance(caps, [parse_requirement("postgresql == trusty")], None) == 1
    assert choose_instance([], [], None) is None


@pytest.mark.parametrize("line, command", [
    (None, "python3"),
    ("python 3.12", "python3.12"),
    ("python 3.12 bin=/opt/py/bin/", "/opt/py/bin/python3.12"),
    ("python bin=/usr/bin", "/usr/bin/python3"),
    ("python 3.11 executable=/x/py bin=/y", "/x/py"),
])
def test_python_command(line: str | None, command: str) -> None:
    assert python_command(parse_capability(line) if line else None) == command


def test_environment_from_registry_and_manifest() -> None:
    pg = REGISTRY["postgresql"]
    chosen = [(PG[1], pg), (parse_capability("python 3.11 bin=/py/bin"), REGISTRY["python"])]
    props = {"pg_version": "13", "cap_postgresql_port": "5434"}
    extra = [("DB_URL", parse_template("postgresql://:%(cap_postgresql_port)s/x")),
             ("EMPTY", parse_template("%(missing)s"))]
    env = build_environment(chosen, extra, props.get, {"PATH": "/usr/bin"})
    assert env == {
        "PGPORT": "5434",
        "PATH": ["/pg13/bin", "/py/bin", "${PATH}"],   # prepended, worker's value kept
        "DB_URL": "postgresql://:5434/x",
    }                                                  # no PGHOST, no EMPTY


def test_library_path_has_no_empty_entry_when_worker_has_none() -> None:
    pg = REGISTRY["postgresql"]
    env = build_environment([(PG[3], pg)], [], {}.get, {"PATH": "/usr/bin"})
    assert env["LD_LIBRARY_PATH"] == ["/pg15/lib"]
    env = build_environment([(PG[3], pg)], [], {}.get,
                            {"PATH": "/usr/bin", "LD_LIBRARY_PATH": "/opt/lib"})
    assert env["LD_LIBRARY_PATH"] == ["/pg15/lib", "${LD_LIBRARY_PATH}"]
    assert build_environment([(PG[0], pg)], [], {}.get, {})["PGPORT"] == "5433"


@pytest.mark.parametrize("var, value, shown", [
    ("PGPORT", "5432", "PGPORT=5432"),
    ("PATH", ["/usr/lib/postgresql/15/bin", "${PATH}"], "PATH=/usr/lib/postgresql/15/bin:$PATH"),
    ("LD_LIBRARY_PATH", ["/pg/lib"], "LD_LIBRARY_PATH=/pg/lib"),
    ("PATH", ["/opt/my tools/bin", "/a", "${PATH}"], "PATH='/opt/my tools/bin':/a:$PATH"),
    ("GREETING", "hello world", "GREETING='hello world'"),
    ("LITERAL", "${HOME}", "LITERAL='${HOME}'"),     # a plain value is not expanded
    ("EMPTYISH", "", "EMPTYISH=''"),
])
def test_environment_is_logged_as_a_shell_user_reads_it(var, value, shown) -> None:
    assert shell_assignment(var, value) == shown


# --------------------------------------------------------------------------- #
# the step, in Buildbot's step harness: it looks the plan's decision up
# --------------------------------------------------------------------------- #

TWO_PG = (parse_capability("postgresql 9.6 port=5433 bin=/pg96/bin"),
          parse_capability("postgresql 13 port=5434"))
WANT_PG = Wanted("postgresql", "pg_version", pinned=False)


def book_of(*builders: BuilderPlan) -> ChoiceBook:
    book = ChoiceBook()
    book.record(Plan(builders, ()), [SimpleNamespace(name="w1", capabilities=TWO_PG),
                                     SimpleNamespace(name="w2", capabilities=TWO_PG[1:])])
    return book


class ChooseCapabilitiesTest(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step()

    def run_on(self, book: ChoiceBook, builder: str, worker: str):
        self.setup_step(ChooseCapabilities(book, REGISTRY))
        self.build.builder.name = builder
        self.build.getWorkerName = lambda: worker
        return self.run_step()

    def test_publishes_the_instance_the_plan_recorded(self):
        # The plan says: on w1, the first instance (9.6), although the rule
        # alone would take 13 -- the step must not choose again.
        book = book_of(BuilderPlan("app", "app", ("w1", "w2"), wanted=(WANT_PG,),
                                   choices=({"w1": 0, "w2": 0},)))
        self.expect_outcome(result=SUCCESS, state_string="capabilities postgresql 9.6")
        self.expect_property("pg_version", "9.6", "Capabilities")
        self.expect_property("cap_postgresql_port", "5433", "Capabilities")
        self.expect_property("anybox_env", {"PGPORT": "5433",
                                            "PATH": ["/pg96/bin", "${PATH}"]}, "Capabilities")
        self.expect_log_file("capabilities", "worker w1\n"
                             "postgresql: postgresql 9.6 port=5433 bin=/pg96/bin\n"
                             "env PATH=/pg96/bin:$PATH\nenv PGPORT=5433\n")
        return self.run_on(book, "app", "w1")

    def test_the_builder_name_picks_the_decision_in_a_shared_factory(self):
        pinned = Wanted("postgresql", "pg_version", pinned=True)
        book = book_of(BuilderPlan("app-pg9.6", "app", ("w1",), wanted=(pinned,),
                                   choices=({"w1": 0},)),
                       BuilderPlan("app-pg13", "app", ("w1", "w2"), wanted=(pinned,),
                                   choices=({"w1": 1, "w2": 0},)))
        self.expect_outcome(result=SUCCESS)
        self.expect_property("cap_postgresql_port", "5434", "Capabilities")
        self.expect_property("pg_version", "13", "Capabilities")
        return self.run_on(book, "app-pg13", "w1")

    def test_no_decision_for_this_worker_fails_the_build(self):
        book = book_of(BuilderPlan("app", "app", ("w2",), wanted=(WANT_PG,),
                                   choices=({"w2": 0},)))
        self.expect_outcome(result=FAILURE, state_string="no capability choice (failure)")
        self.expect_log_file("capabilities", "worker w1\nthe dispatch plan has no capability "
                             "choice for builder 'app' on this worker\n")
        return self.run_on(book, "app", "w1")
