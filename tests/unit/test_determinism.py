"""Same files, same configuration, on every master (issue 16, docs/scale-out.rst).

Several masters share one database: if two of them derived different
builders, properties or schedulers from the same files, each reconfig
would rewrite the other's rows. So the configuration must not depend on
Python's hash seed (set and dict order of strings), on the order a
directory lists its files, or on the master's directory.

Each load runs in its own interpreter (the hash seed is fixed at start):
``anybox-buildbot plan --json``, and ``configdump.py``, which prints what
Buildbot gets from master.cfg (builders with every step and argument,
workers, schedulers, change sources) in Buildbot's order. The example
master of the docs is the richest configuration we have: matrices of
builders, git/hg/standalone buildouts, watches, an auto-watch report and
rewrite rules.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "docs" / "master"
CLI = Path(sys.executable).parent / "anybox-buildbot"
DUMP = ROOT / "tests" / "support" / "configdump.py"
SEEDS = ("0", "4242")


def run(argv: list[str], seed: str, cwd: Path) -> bytes:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    env.pop("ANYBOX_WORKERS", None)
    proc = subprocess.run(argv, capture_output=True, env=env, cwd=cwd, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


def copy_reversed(source: Path, target: Path) -> Path:
    """A copy of ``source`` whose files are created in the reverse order
    (a directory then lists them differently on many file systems)."""
    files = sorted((p for p in source.rglob("*") if p.is_file()), reverse=True)
    for path in files:
        dest = target / path.relative_to(source)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
    return target


@pytest.fixture(scope="module")
def masters(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("determinism")
    one = root / "srv" / "buildbot" / "master-1"
    shutil.copytree(EXAMPLE, one)
    two = copy_reversed(EXAMPLE, root / "other-host" / "m2")
    return one, two


@pytest.mark.parametrize("what", ["plan", "config"])
def test_every_hash_seed_gives_the_same_bytes(masters: tuple[Path, Path], what: str) -> None:
    one, _two = masters
    argv = ([str(CLI), "plan", "--json", str(one)] if what == "plan"
            else [sys.executable, str(DUMP), str(one)])
    outputs = {seed: run(argv, seed, one) for seed in SEEDS}
    first = outputs[SEEDS[0]]
    assert len(first) > 5_000   # the whole configuration, not an error message
    for seed, output in outputs.items():
        assert output == first, f"PYTHONHASHSEED={seed} gives another {what}"


def test_another_directory_gives_the_same_configuration(masters: tuple[Path, Path]) -> None:
    """Paths under the master's own directory (a standalone buildout's file)
    name that directory; everything else is the same, byte for byte."""
    one, two = masters
    plans = [run([str(CLI), "plan", "--json", str(m)], "random", m) for m in masters]
    assert plans[0] == plans[1]
    dumps = [run([sys.executable, str(DUMP), str(m), "--basedir-token"], "random", m)
             for m in (one, two)]
    assert dumps[0] == dumps[1]
    assert b"<BASEDIR>/buildouts/" in dumps[0]
