"""Property: one load reports every planted mistake, once, at its line.

From a valid master directory, Hypothesis plants 1 to 6 independent
mistakes, drawn from a pool covering both files (manifest and workers.cfg),
step-set options, inheritance and capability options; each mistake lives in
a section of its own. ``populate()`` must then raise one ``ConfigError``
with exactly that many errors, each starting with the file and line where
the mistake was written: no wave (an error hiding another), no duplicate
(an inherited mistake reported per section), nothing else.

Step-set option mistakes are those that hold wherever the check lives (the
configurator today, the manifest loader once step sets declare schemas):
an unknown option of ``pytest``, a negative ``static-analysis.max-warnings``.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anybox_buildbot import BuildoutsConfigurator, ConfigError

MANIFEST = "buildouts/MANIFEST.cfg"
WORKERS = "workers.cfg"
BASE_MANIFEST = "[app]\nbuildout = standalone app.cfg\nbuild-requires = postgresql >= 13\n"
BASE_WORKERS = ("[w-base]\npassword = x\ncapability = postgresql 15 port=5432\n"
                "             python 3.11 bin=/usr/bin\n")
BUILDOUT = "buildout = standalone app.cfg"


@dataclass(frozen=True)
class Mistake:
    """Sections to append to one file; the mistake is on line ``line`` of them."""

    name: str
    file: str
    text: str        # {i}: a number making the section names unique
    line: int


POOL = [
    # manifest, plain options
    Mistake("unknown option", MANIFEST, f"[m{{i}}]\n{BUILDOUT}\nbuild-requirs = pg\n", 3),
    Mistake("timer in minutes", MANIFEST, f"[m{{i}}]\n{BUILDOUT}\ntree-stable-timer = 10m\n",
            3),
    Mistake("nightly hour", MANIFEST, f"[m{{i}}]\n{BUILDOUT}\nnightly = 0 25 * * *\n", 3),
    Mistake("requirement operator", MANIFEST,
            f"[m{{i}}]\n{BUILDOUT}\nbuild-for = postgresql => 13\n", 3),
    # manifest, step sets and their options
    Mistake("unknown step set", MANIFEST,
            f"[m{{i}}]\n{BUILDOUT}\npost-buildout-steps = tset\n", 3),
    Mistake("unknown pytest option", MANIFEST,
            f"[m{{i}}]\n{BUILDOUT}\npost-buildout-steps = pytest\npytest.nope = 1\n", 4),
    Mistake("bad step option value", MANIFEST,
            f"[m{{i}}]\n{BUILDOUT}\npost-buildout-steps = static-analysis\n"
            "static-analysis.max-warnings = -1\n", 4),
    # manifest, inheritance: once at the parent's line, whatever the children
    Mistake("inherited nightly", MANIFEST,
            f"[p{{i}}]\n{BUILDOUT}\nnightly = 0 25 * * *\n"
            "[p{i}-a]\ninherit = p{i}\n[p{i}-b]\ninherit = p{i}\n", 3),
    Mistake("inherited pytest option", MANIFEST,
            f"[p{{i}}]\n{BUILDOUT}\npost-buildout-steps = pytest\npytest.nope = 1\n"
            "[p{i}-a]\ninherit = p{i}\n[p{i}-b]\ninherit = p{i}-a\n", 4),
    # workers.cfg, plain options
    Mistake("max_builds word", WORKERS, "[wk{i}]\npassword = x\nmax_builds = two\n", 3),
    Mistake("near-miss of a reserved key", WORKERS, "[wk{i}]\npassword = x\nmax_build = 2\n",
            3),
    Mistake("missing password", WORKERS, "[wk{i}]\ncapability = python 3.12\n", 1),
    Mistake("only-if operator", WORKERS,
            "[wk{i}]\npassword = x\nbuild-only-if-requires = postgresql => 13\n", 3),
    # workers.cfg, capability options
    Mistake("capability option typo", WORKERS,
            "[wk{i}]\npassword = x\ncapability = postgresql 16 prot=5432\n", 3),
    Mistake("port not a number", WORKERS,
            "[wk{i}]\npassword = x\ncapability = python 3.12\n"
            "             postgresql 16 port=abc\n", 4),
]


def plant(root: Path, mistakes: list[Mistake]) -> list[tuple[str, int]]:
    """Write the master with the mistakes; the (file, line) of each."""
    texts = {MANIFEST: BASE_MANIFEST, WORKERS: BASE_WORKERS}
    planted = []
    for i, mistake in enumerate(mistakes):
        before = texts[mistake.file]
        planted.append((mistake.file, before.count("\n") + mistake.line))
        texts[mistake.file] = before + mistake.text.format(i=i)
    (root / "buildouts").mkdir()
    (root / "buildouts" / "app.cfg").write_text("[buildout]\nparts =\n")
    for name, text in texts.items():
        (root / name).write_text(text)
    return planted


def test_the_unplanted_master_loads(tmp_path: Path) -> None:
    plant(tmp_path, [])
    BuildoutsConfigurator(str(tmp_path), {}).populate()


@pytest.mark.parametrize("mistake", POOL, ids=lambda m: m.name)
def test_each_mistake_alone_is_one_error_at_its_line(tmp_path: Path, mistake: Mistake) -> None:
    (where,) = plant(tmp_path, [mistake])
    with pytest.raises(ConfigError) as info:
        BuildoutsConfigurator(str(tmp_path), {}).populate()
    assert info.value.total == 1, info.value.errors
    assert info.value.errors[0].startswith(f"{where[0]}:{where[1]}: "), info.value.errors


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(POOL), min_size=1, max_size=6))
def test_one_load_reports_every_planted_mistake_once_at_its_line(mistakes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        planted = plant(root, mistakes)
        with pytest.raises(ConfigError) as info:
            BuildoutsConfigurator(str(root), {}).populate()
    errors = info.value.errors
    assert info.value.total == len(errors) == len(mistakes), errors
    for file, line in planted:
        at_line = [e for e in errors if e.startswith(f"{file}:{line}: ")]
        assert len(at_line) == 1, (file, line, errors)
