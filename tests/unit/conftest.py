"""Helpers for the unit tests: write INI text to tmp_path and load it.

Files are real (in ``tmp_path``) so that every message carries the file
name the way an admin sees it; loading goes through the public loaders with
an ``Errors`` collector, exactly as the configurator does.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from unit_helpers import write

from anybox_buildbot.buildoutspec import BuildoutSpec
from anybox_buildbot.errors import Errors
from anybox_buildbot.manifest import load_manifests
from anybox_buildbot.workers import WorkerSpec, load_workers


@pytest.fixture(autouse=True)
def collectable_after_a_load() -> Iterator[None]:
    """The command line freezes what a load made (a short-lived process);
    the test process lives on: give those objects back to the collector."""
    yield
    if gc.get_freeze_count():
        gc.unfreeze()


@pytest.fixture
def load_workers_text(tmp_path: Path) -> Callable[..., tuple[WorkerSpec, ...]]:
    """``load(text, ...)`` -> workers; raises ConfigError on any problem."""

    def load(*texts: str) -> tuple[WorkerSpec, ...]:
        paths = [write(tmp_path, f"workers{i}.cfg", text) for i, text in enumerate(texts)]
        errors = Errors()
        specs = load_workers(paths, errors)
        errors.raise_if_any()
        return specs

    return load


@pytest.fixture
def load_manifest_text(tmp_path: Path) -> Callable[..., dict[str, BuildoutSpec]]:
    """``load(text, ...)`` -> {buildout name: spec}; raises ConfigError."""

    def load(*texts: str) -> dict[str, BuildoutSpec]:
        paths = [write(tmp_path, f"MANIFEST{i}.cfg", text) for i, text in enumerate(texts)]
        errors = Errors()
        specs = load_manifests(paths, errors)
        errors.raise_if_any()
        return {spec.name: spec for spec in specs}

    return load


@pytest.fixture
def logged():
    """Messages logged through Twisted (the master's twistd.log) during a test."""
    from twisted.python import log

    seen: list[str] = []

    def observer(event: dict) -> None:
        seen.append(" ".join(map(str, event.get("message", ()))))

    log.addObserver(observer)
    yield seen
    log.removeObserver(observer)
