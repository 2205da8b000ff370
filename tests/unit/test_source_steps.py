"""The steps that fetch a buildout: what their commands become at build time."""

from __future__ import annotations

from pathlib import Path

import pytest
from buildbot.process import buildstep
from buildbot.process.properties import Properties

from anybox_buildbot.errors import Errors
from anybox_buildbot.manifest import load_manifests
from anybox_buildbot.steps.source import RequireTag, source_steps


def spec(tmp_path: Path, line: str):
    (tmp_path / "MANIFEST.cfg").write_text(f"[b]\nbuildout = {line}\n")
    errors = Errors()
    (loaded,) = load_manifests([tmp_path / "MANIFEST.cfg"], errors)
    errors.raise_if_any()
    return loaded


def recipes(tmp_path: Path, line: str) -> list:
    made = source_steps(spec(tmp_path, line), lambda script: f"ship {script}")
    return [buildstep.get_factory_from_step_or_factory(s) if not isinstance(s, str) else s
            for s in made]


def rendered(command: list, **props: str) -> list[str]:
    properties = Properties()
    for key, value in props.items():
        properties.setProperty(key, value, "test")
    result: list = []
    properties.render(command).addCallback(result.append)
    return result[0]


def test_hg_tag_is_glued_to_its_option(tmp_path: Path) -> None:
    update = recipes(tmp_path, "hgtag https://hg.example.com/app buildout.cfg")[-1]
    command = rendered(update.kwargs["command"], **{"buildout-tag": "--config=hooks.x=y"})
    assert command == ["hg", "update", "--clean", "--rev=--config=hooks.x=y"]


@pytest.mark.parametrize("url, props, expected", [
    ("https://dl.example.com/a.tgz", {}, "https://dl.example.com/a.tgz"),
    ("%(prop:where)s", {"where": "-h"}, "-h"),
])
def test_archive_url_comes_after_an_option_terminator(tmp_path: Path, url: str, props: dict,
                                                      expected: str) -> None:
    fetch = recipes(tmp_path, f"archive {url} buildout.cfg")[-1]
    command = rendered(fetch.kwargs["command"], **props)
    assert command == ["python3", "anybox-fetch_archive.py", "--", expected, "archive"]


@pytest.mark.parametrize("line, vcs", [
    ("gittag https://git.example.com/app.git buildout.cfg", "git"),
    ("hgtag https://hg.example.com/app buildout.cfg", "hg"),
])
def test_tag_check_comes_first_with_the_rules_of_its_tool(tmp_path: Path, line: str,
                                                          vcs: str) -> None:
    first = recipes(tmp_path, line)[0]
    assert first.step_class is RequireTag
    assert first.args == (vcs,) or first.kwargs.get("vcs") == vcs
