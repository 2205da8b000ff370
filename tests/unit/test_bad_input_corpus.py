"""The corpus of malformed files in ``tests/bad_inputs/``.

Each file is a small worker fragment (``*.workers.cfg``) or manifest
(``*.manifest.cfg``) with one mistake an admin could make. Its first lines
are comments giving what the loader must say::

    # expect-line: 7
    # expect-column: 12                (optional)
    # expect-caret: yes                (optional: the caret lines must be there)
    # expect: build-requires: expected a version after '>='
    # expect: postgresql >= 9.6        (one or more fragments)

The file is loaded alone, like the configurator does (one ``Errors``
collector, then ``raise_if_any()``); some message must start with
``FILE:LINE:`` and contain every fragment (and ``at column N``). A message
with a column may end with the text and a caret line: the caret must
stand under that column. Line numbers count the header lines too: they
are the lines an editor shows.
``ok.cfg`` is a valid standalone buildout that manifests may reference.

Manifests are loaded with the step sets a master would know: the built-in
ones and those of ``anybox-corpus-plugin`` (``tests/support/corpus_plugin``,
step sets that misbehave like buggy plugins, named ``corpus-*``); when the
load finds nothing, their factories are built too, as ``populate()`` does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.metadata import distributions
from pathlib import Path

import pytest

import anybox_buildbot
from anybox_buildbot.errors import Errors
from anybox_buildbot.factory import FactoryMaker
from anybox_buildbot.manifest import load_manifests
from anybox_buildbot.registry import compile_registry, default_capabilities
from anybox_buildbot.subfactories import (
    ENTRY_POINT_GROUP,
    StepSetRegistry,
    builtin_step_sets,
)
from anybox_buildbot.workers import load_workers

TESTS = Path(__file__).resolve().parent.parent
CORPUS = TESTS / "bad_inputs"
PLUGIN = TESTS / "support" / "corpus_plugin"


def step_sets() -> StepSetRegistry:
    """Built-in step sets and those of the corpus plugin's metadata."""
    (dist,) = distributions(path=[str(PLUGIN)])
    return StepSetRegistry(builtin_step_sets(), dist.entry_points.select(group=ENTRY_POINT_GROUP))


def load_manifest_case(paths: list[Path], errors: Errors) -> None:
    registry = step_sets()
    specs = load_manifests(paths, errors, step_sets=registry.catalog)
    if not errors:
        capabilities = compile_registry(default_capabilities(), errors)
        maker = FactoryMaker(None, capabilities, registry, errors=errors)
        for spec in specs:
            maker.make(spec)


KINDS = {".workers.cfg": load_workers, ".manifest.cfg": load_manifest_case}
_HEADER = re.compile(r"# expect(?P<what>-line|-column|-caret|): ?(?P<value>.*)")


@dataclass(frozen=True)
class Case:
    path: Path
    line: int
    column: int | None
    fragments: tuple[str, ...]
    caret: bool = False

    @property
    def loader(self):
        return next(load for suffix, load in KINDS.items() if self.path.name.endswith(suffix))


def _header_text(data: bytes) -> str:
    """The file as text, enough to read the ASCII header of any case.

    A UTF-16 case (Notepad) has its header in UTF-16 like the rest; every
    other case starts with ASCII lines, whatever bytes follow.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    return data.decode("utf-8", "replace")


def read_case(path: Path) -> Case:
    line = column = None
    caret = False
    fragments = []
    for text in _header_text(path.read_bytes()).splitlines():
        if not text.startswith("#"):
            break
        match = _HEADER.fullmatch(text.rstrip("\r"))
        if match is None:
            continue
        if match["what"] == "-line":
            line = int(match["value"])
        elif match["what"] == "-column":
            column = int(match["value"])
        elif match["what"] == "-caret":
            caret = match["value"].strip() == "yes"
        else:
            fragments.append(match["value"])
    assert line is not None, f"{path.name}: no '# expect-line: N' header"
    assert fragments, f"{path.name}: no '# expect: TEXT' header"
    return Case(path, line, column, tuple(fragments), caret)


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.name.endswith(tuple(KINDS)))


def test_corpus_is_large_and_every_file_is_a_case():
    files = corpus_files()
    assert len(files) >= 60
    strays = sorted(p.name for p in CORPUS.iterdir() if p not in files and p.name != "ok.cfg")
    assert not strays, f"files that are neither a case nor ok.cfg: {strays}"
    assert sum(p.name.endswith(".workers.cfg") for p in files) >= 20
    assert sum(p.name.endswith(".manifest.cfg") for p in files) >= 20


def test_ok_cfg_alone_is_fine(tmp_path):
    """The standalone file the cases reference is valid: the mistakes are theirs.

    (A copy next to the manifest: a standalone file must be in its folder.)"""
    (tmp_path / "ok.cfg").write_bytes((CORPUS / "ok.cfg").read_bytes())
    manifest = tmp_path / "MANIFEST.cfg"
    manifest.write_text("[erp]\nbuildout = standalone ok.cfg\n")
    errors = Errors()
    specs = load_manifests([manifest], errors)
    errors.raise_if_any()
    assert [s.name for s in specs] == ["erp"]


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_bad_input_file(path: Path):
    case = read_case(path)
    errors = Errors()
    case.loader([path], errors)
    with pytest.raises(anybox_buildbot.ConfigError) as info:
        errors.raise_if_any()
    messages = info.value.errors
    prefix = f"{path}:{case.line}:"
    wanted = list(case.fragments)
    if case.column is not None:
        wanted.append(f"at column {case.column}")
    found = [m for m in messages if m.startswith(prefix) and all(f in m for f in wanted)]
    assert found, (f"no message starts with {prefix!r} and contains {wanted!r}; got:\n"
                   + "\n".join(messages))
    if case.column is not None:
        carets = [m.split("\n")[2] for m in found if m.count("\n") == 2]
        assert carets or not case.caret, f"no caret line in {found!r}"
        for line in carets:
            assert line == " " * (4 + case.column - 1) + "^", found
    assert all(len(m) < 2000 for m in messages)
