"""The dispatch plan: which builders exist and which workers run each."""

from __future__ import annotations

import random

import pytest
from unit_helpers import GIT

from anybox_buildbot.dispatch import BUILD_REQUIRES_PROP, make_plan
from anybox_buildbot.errors import Errors
from anybox_buildbot.plan import ChoiceBook, Miss
from anybox_buildbot.planwarnings import FANOUT_WARNING, plan_warnings
from anybox_buildbot.registry import compile_registry, default_capabilities
from anybox_buildbot.version import parse_version

FLEET = """
[w-old]
password = pw
capability = postgresql 9.6 port=5433
    python 3.9

[w-new]
password = pw
capability = postgresql 13 port=5434
    postgresql 9.6 port=5435
    python 3.11
    private-git-access

[w-py]
password = pw
capability = python 3.11
    python 3.12
"""


def registry(extra: dict | None = None):
    errors = Errors()
    caps = default_capabilities()
    caps.update(extra or {})
    compiled = compile_registry(caps, errors)
    assert errors.messages == []
    return compiled


@pytest.fixture
def plan_for(load_workers_text, load_manifest_text):
    """``plan_for(manifest_text, workers_text=FLEET)`` -> (plan, error messages)."""

    def run(manifest: str, workers: str = FLEET, caps: dict | None = None):
        buildouts = list(load_manifest_text(manifest).values())
        fleet = load_workers_text(workers)
        errors = Errors()
        plan = make_plan(buildouts, fleet, registry(caps), errors)
        return plan, errors.messages

    return run


def section(name: str, *options: str) -> str:
    return "\n".join([f"[{name}]", GIT, *options]) + "\n"


def test_no_requirement_runs_everywhere(plan_for):
    plan, errors = plan_for(section("app"))
    assert errors == []
    (builder,) = plan.builders
    assert builder.name == "app"
    assert builder.buildout == "app"
    assert builder.workers == ("w-new", "w-old", "w-py")    # sorted
    assert builder.pins == ()
    assert builder.properties == {}
    assert plan.misses == ()


@pytest.mark.parametrize(("requires", "workers"), [
    (["postgresql"], ("w-new", "w-old")),
    (["postgresql >= 9.6"], ("w-new", "w-old")),
    (["postgresql >= 13"], ("w-new",)),
    (["postgresql < 13"], ("w-new", "w-old")),         # w-new also has a 9.6
    (["postgresql == 9.*"], ("w-new", "w-old")),
    (["postgresql != 9.6"], ("w-new",)),
    (["python >= 3.11"], ("w-new", "w-py")),
    (["python == 3.12 OR == 3.9"], ("w-old", "w-py")),
    (["python >= 3.9, != 3.11"], ("w-old", "w-py")),
    (["postgresql", "python >= 3.11"], ("w-new",)),
    (["private-git-access"], ("w-new",)),
    (["postgresql >= 13", "python < 3.10"], ()),
    (["mysql"], ()),
])
def test_build_requires_filters_workers(plan_for, requires, workers):
    lines = "build-requires = " + "\n    ".join(requires)
    plan, errors = plan_for(section("app", lines))
    assert errors == []
    if workers:
        (builder,) = plan.builders
        assert builder.workers == workers
        assert builder.properties == {BUILD_REQUIRES_PROP: requires}
        assert plan.misses == ()
    else:
        assert plan.builders == ()
        (miss,) = plan.misses
        assert miss.buildout == miss.builder == "app"


def test_build_for_chained_over_two_lines(plan_for):
    plan, errors = plan_for(section("app", "build-for = postgresql >= 9.6",
                                    "    python >= 3.11"))
    assert errors == []
    by_name = {b.name: b for b in plan.builders}
    # versions come from the fleet: pg {9.6, 13} x py {3.11, 3.12}; only
    # w-new has both a postgresql and a python 3.11, nobody has pg and 3.12
    assert list(by_name) == ["app-pg13-py3.11", "app-pg9.6-py3.11"]
    pg13 = by_name["app-pg13-py3.11"]
    assert pg13.workers == ("w-new",)
    assert pg13.pins == (("postgresql", parse_version("13")), ("python", parse_version("3.11")))
    assert pg13.properties == {"pg_version": "13", "py_version": "3.11"}
    assert by_name["app-pg9.6-py3.11"].properties == {"pg_version": "9.6", "py_version": "3.11"}
    assert sorted(m.builder for m in plan.misses) == ["app-pg13-py3.12", "app-pg9.6-py3.12"]
    assert plan.builders_of() == {"app": ["app-pg13-py3.11", "app-pg9.6-py3.11"]}


def test_build_for_runs_only_on_workers_with_that_exact_version(plan_for):
    plan, _ = plan_for(section("app", "build-for = postgresql"))
    assert {b.name: b.workers for b in plan.builders} == {
        "app-pg9.6": ("w-new", "w-old"),
        "app-pg13": ("w-new",),
    }


def test_build_for_with_build_requires_property_and_filter(plan_for):
    plan, _ = plan_for(section("app", "build-for = python >= 3.11",
                               "build-requires = postgresql"))
    assert {b.name: b.workers for b in plan.builders} == {"app-py3.11": ("w-new",)}
    (builder,) = plan.builders
    assert builder.properties == {"py_version": "3.11", BUILD_REQUIRES_PROP: ["postgresql"]}
    (miss,) = plan.misses
    assert miss.builder == "app-py3.12"
    # one gap each for w-old, w-new (python version) and w-py (no postgresql):
    # a wrong version is closer than a missing capability; then workers.cfg order
    assert miss.worker == "w-old"
    assert miss.lacks == ("has python 3.9; needs == 3.12",)


def test_build_for_versions_are_filtered_by_the_requirement(plan_for):
    plan, _ = plan_for(section("app", "build-for = postgresql >= 10"))
    assert [b.name for b in plan.builders] == ["app-pg13"]


def test_abbrev_falls_back_to_the_capability_name(plan_for):
    workers = "[w]\npassword = pw\ncapability = selenium-server 2.3\n    rabbitmq 3.8\n"
    plan, _ = plan_for(section("app", "build-for = selenium-server", "    rabbitmq"),
                       workers, caps={"rabbitmq": {"version_prop": "rmq_v", "abbrev": "rmq"}})
    (builder,) = plan.builders
    assert builder.name == "app-selenium-server2.3-rmq3.8"
    assert builder.properties == {"selenium_server_version": "2.3", "rmq_v": "3.8"}


def test_equal_versions_spelled_differently_give_one_builder(plan_for):
    workers = ("[a]\npassword = pw\ncapability = postgresql 9.2\n"
               "[b]\npassword = pw\ncapability = postgresql 9.2.0\n")
    plan, _ = plan_for(section("app", "build-for = postgresql"), workers)
    (builder,) = plan.builders
    assert builder.name == "app-pg9.2"              # first spelling in workers.cfg
    assert builder.workers == ("a", "b")
    assert builder.properties == {"pg_version": "9.2"}


def test_original_spelling_is_kept_in_names_and_properties(plan_for):
    workers = "[a]\npassword = pw\ncapability = postgresql 9.2-devel\n    postgresql 9.2rc1\n"
    plan, _ = plan_for(section("app", "build-for = postgresql"), workers)
    assert [b.name for b in plan.builders] == ["app-pg9.2-devel", "app-pg9.2rc1"]
    assert [b.properties["pg_version"] for b in plan.builders] == ["9.2-devel", "9.2rc1"]


def test_unversioned_capability_gives_no_build_for_version(plan_for):
    workers = ("[a]\npassword = pw\ncapability = postgresql\n"
               "[b]\npassword = pw\ncapability = postgresql 13\n")
    plan, _ = plan_for(section("app", "build-for = postgresql"), workers)
    assert {b.name: b.workers for b in plan.builders} == {"app-pg13": ("b",)}


@pytest.mark.parametrize(("requires", "workers"), [
    ("postgresql", ("bare", "numbered", "odd")),       # bare name: any version, or none
    ("postgresql >= 9", ("numbered",)),                # never orders 'trusty' or no version
    ("postgresql < 100", ("numbered",)),
    ("postgresql != 13", ("odd",)),
    ("postgresql == trusty", ("odd",)),
])
def test_unversioned_and_unorderable_worker_capabilities(plan_for, requires, workers):
    fleet = ("[bare]\npassword = pw\ncapability = postgresql\n"
             "[numbered]\npassword = pw\ncapability = postgresql 13\n"
             "[odd]\npassword = pw\ncapability = postgresql trusty\n")
    plan, _ = plan_for(section("app", f"build-requires = {requires}"), fleet)
    (builder,) = plan.builders
    assert builder.workers == workers


def test_unorderable_versions_demultiply_by_equality(plan_for):
    workers = ("[a]\npassword = pw\ncapability = ubuntu trusty\n"
               "[b]\npassword = pw\ncapability = ubuntu xenial\n")
    plan, _ = plan_for(section("app", "build-for = ubuntu") + section("pinned", "build-for = "
                       "ubuntu == trusty") + section("odd", "build-requires = ubuntu != xenial"),
                       workers)
    assert {b.name: b.workers for b in plan.builders} == {
        "app-ubuntutrusty": ("a",), "app-ubuntuxenial": ("b",),
        "pinned-ubuntutrusty": ("a",), "odd": ("a",)}


RESERVED_FLEET = FLEET + """
[w-sel]
password = pw
capability = selenium-server 2.3
    python 3.11
build-only-if-requires = selenium-server
"""


@pytest.mark.parametrize(("options", "workers"), [
    ([], ("w-new", "w-old", "w-py")),
    (["build-requires = python >= 3.11"], ("w-new", "w-py")),
    (["build-requires = selenium-server"], ("w-sel",)),
    (["build-requires = selenium-server >= 2", "    python"], ("w-sel",)),
    (["build-requires = python >= 3.11", "    selenium-server"], ("w-sel",)),
])
def test_build_only_if_requires_reserves_the_worker(plan_for, options, workers):
    plan, _ = plan_for(section("app", *options), RESERVED_FLEET)
    (builder,) = plan.builders
    assert builder.workers == workers


def test_build_only_if_requires_is_met_by_build_for(plan_for):
    plan, _ = plan_for(section("app", "build-for = selenium-server"), RESERVED_FLEET)
    assert {b.name: b.workers for b in plan.builders} == {"app-selenium-server2.3": ("w-sel",)}


def test_reserved_worker_alone_cannot_take_other_builds(plan_for):
    workers = ("[w-sel]\npassword = pw\ncapability = python 3.11\n"
               "build-only-if-requires = selenium-server\n")
    plan, _ = plan_for(section("app", "build-requires = python"), workers)
    assert plan.builders == ()
    (miss,) = plan.misses
    assert miss.worker == "w-sel"
    assert miss.lacks == ("only takes builds that require selenium-server",)


def test_miss_names_the_closest_worker_and_what_it_lacks(plan_for):
    workers = ("[far]\npassword = pw\ncapability = python 3.11\n"
               "[close]\npassword = pw\ncapability = postgresql 9.6\n    python 3.11\n")
    plan, errors = plan_for(section("app", "build-requires = postgresql >= 13",
                                    "    python"), workers)
    assert errors == []
    assert plan.builders == ()
    (miss,) = plan.misses
    assert miss == Miss("app", "app", "close", ("has postgresql 9.6; needs >= 13",))
    assert miss.message() == ("buildout 'app' is not created: no worker can run it; closest "
                              "is 'close', which has postgresql 9.6; needs >= 13")


def test_miss_of_a_pinned_builder(plan_for):
    workers = ("[a]\npassword = pw\ncapability = postgresql 13\n    python 3.11\n"
               "[b]\npassword = pw\ncapability = postgresql 9.6\n    python 3.12\n")
    plan, _ = plan_for(section("app", "build-for = postgresql", "    python"), workers)
    assert {b.name: b.workers for b in plan.builders} == {
        "app-pg13-py3.11": ("a",), "app-pg9.6-py3.12": ("b",)}
    misses = {m.builder: m for m in plan.misses}
    assert sorted(misses) == ["app-pg13-py3.12", "app-pg9.6-py3.11"]
    miss = misses["app-pg9.6-py3.11"]
    assert miss.worker == "a"       # tie: first in workers.cfg
    assert miss.lacks == ("has postgresql 13; needs == 9.6",)
    assert miss.message().startswith("builder 'app-pg9.6-py3.11' of buildout 'app' is not "
                                     "created: no worker can run it; closest is 'a', which ")


def test_miss_when_no_version_in_the_fleet_matches_build_for(plan_for):
    plan, _ = plan_for(section("app", "build-for = postgresql >= 20"))
    assert plan.builders == ()
    (miss,) = plan.misses
    assert miss.worker is None
    assert miss.message() == ("buildout 'app' is not created: no worker has a version of "
                              "postgresql matching 'postgresql >= 20'")


def test_miss_with_no_workers_at_all(plan_for):
    plan, _ = plan_for(section("app"), "")
    assert plan.builders == ()
    (miss,) = plan.misses
    assert miss.worker is None
    assert "there are no workers" in miss.message()


def test_miss_for_a_missing_capability(plan_for):
    plan, _ = plan_for(section("app", "build-requires = mysql >= 8"))
    (miss,) = plan.misses
    assert miss.worker == "w-old"
    assert miss.lacks == ("has no mysql",)


def test_builder_name_collision_is_an_error(plan_for, tmp_path):
    plan, errors = plan_for(section("a", "build-for = postgresql == 13") + section("a-pg13"))
    (message,) = errors
    manifest = tmp_path / "MANIFEST0.cfg"
    assert message.startswith(f"{manifest}:4: ")
    assert "builder name 'a-pg13' is produced by buildouts 'a' " in message
    assert f"({manifest}:1) and 'a-pg13'" in message
    assert "rename one of the sections" in message
    assert [b.name for b in plan.builders] == ["a-pg13"]
    assert plan.builders[0].buildout == "a"


def test_builder_names_have_a_bounded_length(plan_for, tmp_path):
    """A builder name is a directory name on the workers (255 bytes at most)."""
    workers = ("[w]\npassword = pw\ncapability = postgresql 13\n"
               f"    aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa {'1' * 64}\n")
    long_name = "b" * 95
    plan, errors = plan_for(section(long_name, "build-for = postgresql",
                                    "    aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
                            + section("ok", "build-for = postgresql"), workers)
    (message,) = errors
    assert message.startswith(f"{tmp_path / 'MANIFEST0.cfg'}:1: buildout [{long_name}]: "
                              "builder name too long (208 characters, at most 200)")
    assert "shorten the section name" in message
    assert [b.name for b in plan.builders] == ["ok-pg13"]


def test_collision_between_two_demultiplied_buildouts(plan_for):
    workers = "[w]\npassword = pw\ncapability = postgresql 13\n    pg 13\n"
    _, errors = plan_for(section("x", "build-for = postgresql") +
                         section("x-pg", "build-for = pg"), workers)
    # x-pg13 from [x] (postgresql, abbrev pg) and [x-pg] + pg 13 -> x-pg-pg13: no clash
    assert errors == []
    _, errors = plan_for(section("x", "build-for = pg") + section("x-pg13"), workers)
    assert len(errors) == 1 and "'x-pg13'" in errors[0]


def test_tags_and_worker_builders(plan_for):
    plan, _ = plan_for(section("b", "build-category = odoo ci",
                               "build-requires = python == 3.12")
                       + section("a", "build-for = postgresql"))
    assert [b.name for b in plan.builders] == ["a-pg13", "a-pg9.6", "b"]
    assert plan.builders[2].tags == ("odoo", "ci")
    assert plan.worker_builders() == {"w-new": ["a-pg13", "a-pg9.6"], "w-old": ["a-pg9.6"],
                                      "w-py": ["b"]}


DETERMINISM_FLEET = """
[w1]
password = pw
capability = postgresql 9.6
    python 3.11
[w2]
password = pw
capability = postgresql 13
    python 3.12
    selenium-server 2.3
build-only-if-requires = selenium-server
[w3]
password = pw
capability = postgresql 13
    postgresql 14
    python 3.11
"""
DETERMINISM_MANIFEST = (
    section("zeta", "build-for = postgresql", "    python")
    + section("alpha", "build-requires = python >= 3.11")
    + section("mid", "build-for = postgresql >= 13", "build-requires = selenium-server")
    + section("gone", "build-requires = mysql")
    + section("beta", "build-for = python == 3.*")
)


def test_plan_does_not_depend_on_input_order(load_workers_text, load_manifest_text):
    buildouts = list(load_manifest_text(DETERMINISM_MANIFEST).values())
    workers = list(load_workers_text(DETERMINISM_FLEET))
    reg = registry()
    reference = make_plan(buildouts, workers, reg, Errors())
    assert [(b.name, b.workers) for b in reference.builders] == [
        ("alpha", ("w1", "w3")),
        ("beta-py3.11", ("w1", "w3")),
        ("mid-pg13", ("w2",)),
        ("zeta-pg13-py3.11", ("w3",)),
        ("zeta-pg14-py3.11", ("w3",)),
        ("zeta-pg9.6-py3.11", ("w1",)),
    ]
    expected_misses = ["beta-py3.12", "gone", "mid-pg14", "zeta-pg9.6-py3.12",
                       "zeta-pg13-py3.12", "zeta-pg14-py3.12"]
    assert [m.builder for m in reference.misses] == expected_misses
    rng = random.Random(1234)
    for _ in range(20):
        # buildout order never matters, misses included
        rng.shuffle(buildouts)
        again = make_plan(buildouts, workers, reg, Errors())
        assert again == reference
        # worker order only breaks ties (closest worker of a miss, spelling of
        # equal versions); builders and their workers stay the same
        shuffled = workers[:]
        rng.shuffle(shuffled)
        again = make_plan(buildouts, shuffled, reg, Errors())
        assert again.builders == reference.builders
        assert [m.builder for m in again.misses] == expected_misses


SPLIT_FLEET = """\
[two-pg]
password = x
capability = postgresql 9.2
             postgresql 12
             postgresql 14
[one-pg]
password = y
capability = postgresql 13
"""


def test_build_requires_on_a_build_for_capability_narrows_its_versions(plan_for):
    plan, errors = plan_for(section("app", "build-for = postgresql",
                                    "build-requires = postgresql >= 10"), SPLIT_FLEET)
    assert errors == []
    assert {b.name: b.workers for b in plan.builders} == {
        "app-pg12": ("two-pg",), "app-pg13": ("one-pg",), "app-pg14": ("two-pg",)}
    assert plan.misses == ()


def test_several_lines_on_one_capability_need_one_instance_meeting_all(plan_for):
    plan, _ = plan_for(section("app", "build-requires = postgresql >= 13",
                               "    postgresql < 14"), SPLIT_FLEET)
    # two-pg has 12 (< 14) and 14 (>= 13) but no single instance in [13, 14)
    assert {b.name: b.workers for b in plan.builders} == {"app": ("one-pg",)}
    plan, _ = plan_for(section("app", "build-requires = postgresql >= 14",
                               "    postgresql < 13"), SPLIT_FLEET)
    (miss,) = plan.misses
    assert miss.worker == "two-pg"
    assert miss.lacks == ("has postgresql 9.2, 12, 14; needs >= 14 and < 13",)


# --------------------------------------------------------------------------- #
# the instance each build uses, decided by the plan (SPEC section 4)
# --------------------------------------------------------------------------- #

CHOICE_FLEET = """\
[two-pg]
password = x
capability = python 3.11
             postgresql 9.2 port=5432
             postgresql 12 port=5433
             postgresql 14 port=5434
[one-pg]
password = y
capability = postgresql 13 port=5440
             python 3.12
[reserved]
password = z
capability = postgresql 16 port=5450
             selenium
build-only-if-requires = selenium
"""


def chosen_ports(plan, builder: str, workers: str = CHOICE_FLEET, load=None) -> dict:
    """worker -> the options of the instances the plan chose there."""
    (item,) = [b for b in plan.builders if b.name == builder]
    book = ChoiceBook()
    book.record(plan, load(workers))
    return {worker: [f"{want.name} {cap.format()}" for want, cap in book.chosen(builder, worker)]
            for worker in item.workers}


def test_plan_records_the_instance_each_worker_uses(plan_for, load_workers_text):
    plan, errors = plan_for(section("app", "build-requires = postgresql >= 10 < 16",
                                    "    python"), CHOICE_FLEET)
    assert errors == []
    (app,) = plan.builders
    assert [w.name for w in app.wanted] == ["postgresql", "python"]
    assert app.workers == ("one-pg", "two-pg")
    # positions in each worker's capability tuple, one per wanted capability
    assert app.chosen("two-pg") == (3, 0)     # the highest postgresql in range: 14
    assert app.chosen("one-pg") == (0, 1)
    assert app.chosen("reserved") is None     # not a worker of this builder
    assert chosen_ports(plan, "app", load=load_workers_text) == {
        "one-pg": ["postgresql postgresql 13 port=5440", "python python 3.12"],
        "two-pg": ["postgresql postgresql 14 port=5434", "python python 3.11"]}


def test_a_build_for_builder_uses_the_instance_of_its_version(plan_for, load_workers_text):
    plan, _ = plan_for(section("app", "build-for = postgresql",
                               "build-requires = postgresql >= 10"), CHOICE_FLEET)
    assert {b.name: b.workers for b in plan.builders} == {
        "app-pg12": ("two-pg",), "app-pg13": ("one-pg",), "app-pg14": ("two-pg",)}
    by_name = {b.name: b for b in plan.builders}
    assert by_name["app-pg12"].chosen("two-pg") == (2,)
    assert by_name["app-pg14"].chosen("two-pg") == (3,)
    assert chosen_ports(plan, "app-pg12", load=load_workers_text) == {
        "two-pg": ["postgresql postgresql 12 port=5433"]}


def test_identical_requirements_share_one_decision_table(plan_for):
    plan, _ = plan_for(section("a", "build-requires = postgresql >= 10")
                       + section("b", "build-requires = postgresql >= 10", "    python")
                       + section("c", "build-requires = postgresql >= 13")
                       + section("d", "build-for = postgresql >= 10"), CHOICE_FLEET)
    by_name = {b.name: b for b in plan.builders}
    assert by_name["a"].choices[0] is by_name["b"].choices[0]
    assert by_name["a"].choices[0] is not by_name["c"].choices[0]
    assert by_name["a"].workers is by_name["b"].workers      # one tuple per worker set
    # a table covers every worker with a fitting instance, reserved ones too:
    # the builder's ``workers`` says who may run it
    assert dict(by_name["a"].choices[0]) == {"two-pg": 3, "one-pg": 0, "reserved": 0}
    assert "reserved" not in by_name["a"].workers
    assert by_name["d-pg14"].choices[0] is not by_name["a"].choices[0]   # pinned: its own


def test_choice_book_knows_only_planned_pairs(plan_for, load_workers_text):
    plan, _ = plan_for(section("app", "build-requires = postgresql >= 14"), CHOICE_FLEET)
    book = ChoiceBook()
    assert book.chosen("app", "two-pg") is None                  # nothing recorded yet
    book.record(plan, load_workers_text(CHOICE_FLEET))
    ((want, cap),) = book.chosen("app", "two-pg")
    assert (want.name, cap.options["port"]) == ("postgresql", "5434")
    assert book.chosen("app", "reserved") is None               # not one of its workers
    assert book.chosen("app", "nobody") is None
    assert book.chosen("other", "two-pg") is None


# -- warnings of a plan (one channel: planwarnings.plan_warnings) ---------------

@pytest.fixture
def warnings_for(load_workers_text, load_manifest_text):
    """``warnings_for(manifest_text, workers_text=FLEET)`` -> plan_warnings()."""

    def run(manifest: str, workers: str = FLEET):
        buildouts = list(load_manifest_text(manifest).values())
        fleet = load_workers_text(workers)
        plan = make_plan(buildouts, fleet, registry(), Errors())
        return plan_warnings(plan, buildouts, fleet)

    return run


def test_a_name_no_worker_declares_gets_the_closest_one(warnings_for):
    found = warnings_for(section("app", "build-requires = python >= 3.9",
                                 "    postgres >= 9.6"))
    (unknown, miss) = found
    assert unknown.category == "capability"
    assert unknown.render().split("\n") == [
        "MANIFEST0.cfg:4: build-requires: no worker declares capability 'postgres' at "
        "column 1: 'postgres >= 9.6' (did you mean 'postgresql'?)".replace(
            "MANIFEST0.cfg", unknown.location.file),
        "    postgres >= 9.6",
        "    ^"]
    assert miss.category == "not-created" and "closest is" in miss.problem


def test_a_name_far_from_any_lists_the_declared_ones(warnings_for):
    (unknown, _miss) = warnings_for(section("app", "build-for = oracle"))
    assert unknown.subject == "build-for"
    assert unknown.hint == "declared: postgresql, private-git-access, python"


def test_one_warning_per_inherited_requirement_line(warnings_for):
    """Sections inheriting the line give the same warning: the channel
    keeps one (``Warnings`` deduplicates equal diagnostics)."""
    found = warnings_for(section("base", "build-requires = postgres") +
                         "[a]\ninherit = base\n[b]\ninherit = base\n")
    unknown = [w for w in found if w.category == "capability"]
    assert len(unknown) == 3 and len(set(unknown)) == 1


def test_no_capability_warning_for_declared_names(warnings_for):
    assert warnings_for(section("app", "build-requires = postgresql >= 13",
                                "    python")) == []


def test_fanout_warning_points_at_the_build_for_line(warnings_for):
    caps = "\n".join(f"    lib 1.{i}" for i in range(FANOUT_WARNING + 1))
    (fanout,) = warnings_for(section("wide", "build-category = x", "build-for = lib"),
                             f"[w]\npassword = x\ncapability = lib 0.1\n{caps}\n")
    assert fanout.category == "fan-out"
    assert (fanout.location.line, fanout.location.column) == (4, None)
    assert fanout.problem == (f"buildout 'wide' multiplies into {FANOUT_WARNING + 2} builders "
                              f"(more than {FANOUT_WARNING}): check its build-for lines")
