"""confine.py: the rules that keep names and paths in their place."""

from __future__ import annotations

from pathlib import Path

import pytest

from anybox_buildbot.confine import (
    MAX_BUILDOUT_NAME,
    file_in,
    name_problem,
    relative_path_problem,
    resolves_inside,
    worker_name_problem,
)


@pytest.mark.parametrize(("text", "problem"), [
    ("odoo-8.0-pg9.3", None),
    ("anybox.buildbot.openerp", None),
    ("a+b_c", None),
    ("9", None),
    ("", "empty name"),
    ("..", "must start with a letter or digit"),
    (".hidden", "must start with a letter or digit"),
    ("-rf", "must start with a letter or digit"),
    ("a/b", "character '/' is not allowed"),
    ("a\\b", "character '\\\\' is not allowed"),
    ("a b", "character ' ' is not allowed"),
    ("caf\u00e9", "character '\u00e9' is not allowed"),
    ("a\x00", "character '\\x00' is not allowed"),
    ("x" * 101, "too long (101 characters, at most 100)"),
])
def test_name_problem(text, problem):
    assert name_problem(text, MAX_BUILDOUT_NAME) == problem


@pytest.mark.parametrize(("text", "problem"), [
    ("w1", None), ("_w", None), ("ci-worker_2", None), ("W" * 50, None),
    ("9w", "must start with a letter or '_'"),
    ("-w", "must start with a letter or '_'"),
    ("w.example.com", "character '.' is not allowed"),
    ("status", "'status' is reserved by Buildbot"),
    ("w" * 51, "too long (51 characters, at most 50)"),
])
def test_worker_name_problem(text, problem):
    assert worker_name_problem(text) == problem


@pytest.mark.parametrize(("text", "is_file", "problem"), [
    ("buildout.cfg", True, None),
    ("conf/prod.cfg", True, None),
    ("./buildout.cfg", True, None),
    ("a..b/c...cfg", True, None),
    ("odoo/addons/", False, None),
    ("", False, "is empty"),
    ("../b.cfg", True, "goes up with '..'"),
    ("a/../../b.cfg", True, "goes up with '..'"),
    ("a/..", False, "goes up with '..'"),
    ("/etc/b.cfg", True, "is absolute"),
    ("//host/b.cfg", True, "is absolute"),
    ("-c", True, "has a part starting with '-'"),
    ("a/--upload-pack=x/b.cfg", True, "has a part starting with '-'"),
    ("a\\..\\b.cfg", True, "contains a backslash"),
    ("b\x1b[2J.cfg", True, "contains a control character"),
    ("b\u202e.cfg", True, "contains a control character"),  # right-to-left override
    ("conf/", True, "does not name a file"),
    ("conf/.", True, "does not name a file"),
])
def test_relative_path_problem(text, is_file, problem):
    assert relative_path_problem(text, is_file) == problem


def test_resolves_inside_follows_symlinks(tmp_path: Path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (tmp_path / "out").mkdir()
    (folder / "up").symlink_to(tmp_path / "out")
    (folder / "loop").symlink_to(folder / "loop")
    (folder / "side").symlink_to("sub")
    assert resolves_inside(folder / "sub" / "a.cfg", folder)          # need not exist
    assert resolves_inside(folder / "side" / "a.cfg", folder)
    assert resolves_inside(folder / "sub" / ".." / "a.cfg", folder)
    assert not resolves_inside(folder / "up" / "a.cfg", folder)
    assert not resolves_inside(folder / ".." / "out" / "a.cfg", folder)
    assert not resolves_inside(Path("/etc/passwd"), folder)
    assert not resolves_inside(folder, folder)                       # the folder itself
    assert not resolves_inside(folder / "loop", folder)


def test_file_in_refuses_names_that_leave_the_folder(tmp_path: Path):
    assert file_in(tmp_path, "odoo-16.0", ".json") == tmp_path / "odoo-16.0.json"
    for name in ("../x", "/tmp/x", "a/b", "..", "", "x" * 101):
        with pytest.raises(ValueError):
            file_in(tmp_path, name, ".json")
