"""Forcing onto one worker: the force form's field and the builders' check."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from buildbot.process.properties import Properties
from buildbot.schedulers.forcesched import ValidationError, WorkerChoiceParameter
from test_configurator import write_master

from anybox_buildbot import configure_from_buildouts
from anybox_buildbot.workerchoice import ANY_WORKER, chosen_worker_only, worker_parameter


def form(param, **sent: str) -> dict:
    """The properties a forced build gets from ``param`` for a form post."""
    props: dict = {}
    param.updateFromKwargs(properties=props, kwargs={k: [v] for k, v in sent.items()},
                           collector=None, master=None, changes=[], changeids=[])
    return props


def test_no_choice_sets_no_property() -> None:
    # Buildbot's default value ('') would name no worker and stall every build
    param = worker_parameter(["w2", "w1"])
    assert form(param) == {}
    assert form(param, workername="-any-") == {}
    assert form(param, workername="w2") == {"workername": "w2"}
    assert param.choices == ["-any-", "w1", "w2"]


def test_the_sentinel_is_buildbots() -> None:
    assert ANY_WORKER == WorkerChoiceParameter.anySentinel


def test_a_name_outside_the_fleet_is_refused_by_the_scheduler() -> None:
    with pytest.raises(ValidationError, match="available choices"):
        form(worker_parameter(["w1"]), workername="elsewhere")


def request(**props: object) -> SimpleNamespace:
    properties = Properties()
    for name, value in props.items():
        properties.setProperty(name, value, "Force Build Form")
    return SimpleNamespace(properties=properties)


def offer(name: str) -> SimpleNamespace:
    return SimpleNamespace(worker=SimpleNamespace(workername=name))


def test_a_chosen_worker_takes_the_build_alone() -> None:
    chosen = request(workername="w2")
    assert not chosen_worker_only(None, offer("w1"), chosen)
    assert chosen_worker_only(None, offer("w2"), chosen)
    for free in (request(), request(workername=""), request(workername="-any-"),
                 request(workername=["w2"])):
        assert chosen_worker_only(None, offer("w1"), free)


def test_the_configuration_wires_both(tmp_path: Path) -> None:
    write_master(tmp_path)
    conf = configure_from_buildouts(str(tmp_path), {})
    assert {b.canStartBuild for b in conf.config["builders"]} == {chosen_worker_only}
    force = next(s for s in conf.config["schedulers"] if s.name == "force")
    (param,) = [p for p in force._config_kwargs["properties"] if p.name == "workername"]
    assert param.choices == ["-any-", "w1", "w2"]
