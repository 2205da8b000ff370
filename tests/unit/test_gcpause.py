"""The cyclic collector is paused while a configuration loads, and always
comes back: a master that stayed without it would grow on every cycle."""

from __future__ import annotations

import gc

import pytest
from unit_helpers import configure_errors

from anybox_buildbot import configurator as configurator_module
from anybox_buildbot.gcpause import collector_paused


def test_paused_inside_and_enabled_after_even_on_error() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        with collector_paused():
            assert not gc.isenabled()
            with collector_paused():       # nested: the outer block restores
                assert not gc.isenabled()
            assert not gc.isenabled()
            raise RuntimeError("boom")
    assert gc.isenabled()


def test_left_disabled_when_the_caller_disabled_it() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_populate_loads_without_the_collector_and_gives_it_back(tmp_path,
                                                                 monkeypatch) -> None:
    seen = []
    real = configurator_module.load_manifests

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(configurator_module, "load_manifests", spy)
    errors = configure_errors(tmp_path, "build-for = postgresql ~~ 9\n")   # a ConfigError
    assert errors and seen == [False]
    assert gc.isenabled()


def test_freeze_hides_what_the_block_made_from_later_collections() -> None:
    gc.unfreeze()          # from an earlier load of this process
    made = []
    try:
        with collector_paused(freeze=True):
            made.append([{"a": 1}])        # a tracked container made in the block
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_without_freeze_nothing_is_frozen() -> None:
    gc.unfreeze()
    with collector_paused():
        made = [{"a": 1}]
    assert made and gc.get_freeze_count() == 0
