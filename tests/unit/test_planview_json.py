"""``plan --json`` streamed and ``check`` without the plan's tables (issue 14).

The streamed JSON must be the text ``json.dumps(indent=2, sort_keys=True)``
gave, byte for byte: scripts diff and parse it.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from anybox_buildbot import masterload, planview
from anybox_buildbot.cli import main
from anybox_buildbot.masterload import load_master
from anybox_buildbot.plan import Plan
from anybox_buildbot.planview import to_json, write_json

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def old_text(data: object) -> str:
    """What ``plan --json`` printed before it was streamed."""
    return json.dumps(data, indent=2, sort_keys=True)


def streamed(data: dict) -> str:
    out = io.StringIO()
    write_json(data, out)
    return out.getvalue()


@pytest.fixture
def master(tmp_path: Path) -> Path:
    """The example master, with workers holding several instances of one
    capability, a reserved worker and a builder no worker can run."""
    root = tmp_path / "master"
    root.mkdir()
    shutil.copy(EXAMPLES / "master.cfg", root)
    shutil.copytree(EXAMPLES / "buildouts", root / "buildouts")
    (root / "workers.cfg").write_text(
        "[ci-1]\npassword = pw-1\ncapability = postgresql 9.6 port=5433\n"
        "             postgresql 13 port=5434\n             fakelib 1.0\n"
        "worker_priority = 3\n"
        "[ci-2]\npassword = pw-2\ncapability = fakelib 2.0 tag=two\n"
        "build-only-if-requires = fakelib\n"
        "[ci-3]\npassword = pw-3\ncapability = fakelib 1.0\n             fakelib 2.0\n")
    return root


SHARED = {"w1": ["postgresql 13 port=5434"], "w2": ["a", "b"]}   # one object, many places

VARIED = {
    "shared": {"x": SHARED, "y": SHARED, "z": [SHARED, {"deeper": SHARED}], "e": {}},
    "schema": 1,
    "empty": {"list": [], "dict": {}, "tuple": ()},
    "scalars": [0, -3, 2.5, 1e300, 1.0, True, False, None, ""],
    "text": ["été", "naïve ☃", "tab\there", "quote\" and \\ back", "\u2028", "\x00\x1f",
             "emoji 🎉"],
    "same list twice": {"a": ["w1", "w2"], "b": ["w1", "w2"], "c": [["w1", "w2"]]},
    "tuples": ("x", ("y", "z")),
    "mixed list": ["a", 1, {"k": ["v"]}, [], {}],
    "Key Order": {"b": 1, "a": {"z": [], "y": {"x": None}}, "B": 2, "é": 3},
    "numeric keys": {"k": {2: "two", 1: "one"}},
}


def test_the_streamed_text_is_the_old_text_on_varied_values() -> None:
    assert streamed(VARIED) == old_text(VARIED)
    for value in VARIED.values():
        assert streamed({"v": value}) == old_text({"v": value})


def test_the_streamed_text_is_the_old_text_in_small_pieces(monkeypatch) -> None:
    monkeypatch.setattr(planview, "WRITE_CHUNK", 7)
    writes: list[str] = []

    class Out(io.StringIO):
        def write(self, text: str) -> int:
            writes.append(text)
            return super().write(text)

    out = Out()
    write_json(VARIED, out)
    assert out.getvalue() == old_text(VARIED)
    assert len(writes) > 10      # written as it goes, not once at the end


def test_plan_json_prints_what_json_dumps_printed(master: Path, capsys) -> None:
    loaded = load_master(str(master))
    data = loaded.data()
    assert any(b["instances"] for b in data["builders"])      # a varied plan
    assert data["not_created"] and data["warnings"]
    assert any(w["reserved_for"] for w in data["workers"])
    assert main(["plan", "--json", str(master)]) == 0
    assert capsys.readouterr().out == to_json(data) + "\n"


def test_an_unencodable_value_fails_as_json_dumps_does() -> None:
    with pytest.raises(TypeError):
        old_text({"x": object()})
    with pytest.raises(TypeError):
        streamed({"x": object()})


def test_check_makes_no_table_it_does_not_print(master: Path, capsys, monkeypatch) -> None:
    """``check`` prints counts: the builder-worker tables (10 million
    entries at 10 000 x 2 000) are not made."""

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("check made a table it does not print")

    monkeypatch.setattr(Plan, "worker_builders", refused)
    monkeypatch.setattr(masterload, "plan_data", refused)
    assert main(["check", str(master)]) == 0
    out = capsys.readouterr().out
    assert "ok: 4 builders for 4 buildouts on 3 workers" in out


def test_worker_counts_agree_with_the_builder_lists(master: Path) -> None:
    """Counted once per shared worker tuple; the same as listing them."""
    plan = load_master(str(master)).configurators[0].plan
    assert plan is not None
    listed = {worker: len(names) for worker, names in plan.worker_builders().items()}
    assert plan.worker_counts() == listed
    assert set(listed) == {"ci-1", "ci-2", "ci-3"}
    assert len(set(map(id, (b.workers for b in plan.builders)))) < len(plan.builders)


def walked_worker_builders(plan: Plan) -> dict[str, list[str]]:
    """The builder-by-builder walk ``worker_builders`` did before."""
    result: dict[str, list[str]] = {}
    for builder in plan.builders:
        for worker in builder.workers:
            result.setdefault(worker, []).append(builder.name)
    return result


@pytest.fixture(scope="module")
def fleet_plan(tmp_path_factory) -> tuple[Plan, tuple]:
    """The benchmark's synthetic fleet, small: shared worker tuples, pins,
    reserved workers and workers with several versions of a capability."""
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from populate import bench_registry, make_master, run_parse

    from anybox_buildbot.dispatch import make_plan
    from anybox_buildbot.errors import Errors

    basedir = make_master(tmp_path_factory.mktemp("fleet"), 300, 11, workers=60)
    workers, buildouts = run_parse(basedir)
    return make_plan(list(buildouts), workers, bench_registry(), Errors()), workers


def test_worker_builders_by_groups_is_the_walk_in_the_same_order(fleet_plan) -> None:
    plan, _workers = fleet_plan
    walked = walked_worker_builders(plan)
    assert len(walked) > 20 and max(map(len, walked.values())) > 50
    assert list(plan.worker_builders().items()) == list(walked.items())
    backwards = Plan(tuple(reversed(plan.builders)), plan.misses)   # not in name order
    assert list(backwards.worker_builders().items()) == \
        list(walked_worker_builders(backwards).items())


def test_chosen_instances_are_each_pairs_decision(fleet_plan) -> None:
    plan, workers = fleet_plan
    specs = {w.name: w for w in workers}
    shown = planview.chosen_instances(plan, workers)
    pairs = 0
    for builder in plan.builders:
        for worker, lines in shown[builder.name].items():
            assert lines == planview.instance_lines(builder, specs[worker])
            pairs += 1
    assert pairs > 100
