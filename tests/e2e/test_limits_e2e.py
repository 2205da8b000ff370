"""Flood limits on a real master: a junk manifest cannot drown twistd.log.

A file of pasted log lines given as MANIFEST.cfg used to make a reconfig
log one line per error (hundreds of thousands: the log rotated its whole
history away) and ``buildbot reconfig`` never saw the end. Now the reconfig
fails at once, logs a bounded report and the running configuration stays.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from localrun import Master, running_master

MANIFEST = "[hello]\nbuildout = standalone empty.cfg\n"
FLOOD_LINES = 300_000
SIZE_LIMIT = 32 * 1024 * 1024
PROMPT = 60.0          # seconds: the old code had not finished after minutes
LOG_GROWTH = 64 * 1024  # bytes a failed reconfig may add to twistd.log


def pasted_log(lines: int) -> str:
    return "".join(f"2026-11-30 08:{i % 60:02d}:00+0000 [-] build {i} of builder app-{i % 97} "
                   "finished: warnings\n" for i in range(lines))


def log_bytes(master: Master) -> int:
    """twistd.log and its rotated files: what the reconfig wrote, rotation or not."""
    return sum(path.stat().st_size for path in master.basedir.glob("twistd.log*"))


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("limits") / "master"
    (root / "buildouts").mkdir(parents=True)
    (root / "buildouts" / "empty.cfg").write_text("[buildout]\nparts =\n")
    (root / "buildouts" / "MANIFEST.cfg").write_text(MANIFEST)
    (root / "workers.cfg").write_text("[w1]\npassword = limits-pass\n")
    with running_master(root, {}) as running:
        assert set(running.rest.builders()) == {"hello"}
        yield running


def refused_reconfig(master: Master, manifest: Path) -> tuple[str, float, int]:
    """Reconfig with a bad manifest: (new log text, seconds, log bytes written)."""
    before = log_bytes(master)
    offset = (master.basedir / "twistd.log").stat().st_size
    start = time.monotonic()
    rc, output = master.reconfig(timeout=PROMPT * 3)
    seconds = time.monotonic() - start
    assert rc == 1, output
    assert "Reconfiguration failed" in output
    grown = log_bytes(master) - before
    text = (master.basedir / "twistd.log").read_text(errors="replace")[offset:]
    return text, seconds, grown


def test_a_pasted_log_as_manifest(master: Master) -> None:
    manifest = master.basedir / "buildouts" / "MANIFEST.cfg"
    manifest.write_text(pasted_log(FLOOD_LINES))
    try:
        text, seconds, grown = refused_reconfig(master, manifest)
        rc, output = master.checkconfig()
    finally:
        manifest.write_text(MANIFEST)
    assert rc == 1
    shown = [line for line in output.splitlines() if "buildouts/MANIFEST.cfg" in line]
    assert len(shown) == 51, output[-2000:]
    assert shown[-1].strip() == (f"... and {FLOOD_LINES - 50} more errors: "
                                 f"{FLOOD_LINES - 50} in buildouts/MANIFEST.cfg")
    assert seconds < PROMPT
    assert grown < LOG_GROWTH, f"twistd.log grew by {grown} bytes"
    # the first errors, then the count of the others: every line was one error
    assert "buildouts/MANIFEST.cfg:1: option outside any section: '2026-11-30 08'" in text
    assert f"... and {FLOOD_LINES - 50} more errors: {FLOOD_LINES - 50} in " \
           "buildouts/MANIFEST.cfg" in text
    assert "buildouts/MANIFEST.cfg:51:" not in text
    assert master.running
    assert set(master.rest.builders()) == {"hello"}     # the running config stayed


def test_a_manifest_over_the_size_limit(master: Master) -> None:
    manifest = master.basedir / "buildouts" / "MANIFEST.cfg"
    with manifest.open("wb") as handle:    # sparse: 32 MiB of nothing on disk
        handle.truncate(SIZE_LIMIT + 10)
    try:
        text, seconds, grown = refused_reconfig(master, manifest)
        rc, output = master.checkconfig()
    finally:
        manifest.write_text(MANIFEST)
    message = (f"buildouts/MANIFEST.cfg: file too large: {SIZE_LIMIT + 10} bytes, the limit "
               f"is 32 MiB ({SIZE_LIMIT} bytes) per configuration file")
    assert message in text
    assert seconds < PROMPT and grown < LOG_GROWTH
    assert rc == 1 and message in output
    assert len(output.splitlines()) < 5
    assert set(master.rest.builders()) == {"hello"}


def test_the_master_takes_a_good_manifest_again(master: Master) -> None:
    manifest = master.basedir / "buildouts" / "MANIFEST.cfg"
    manifest.write_text(MANIFEST + "\n[again]\ninherit = hello\n")
    rc, output = master.reconfig()
    assert rc == 0, output
    assert set(master.rest.builders()) == {"again", "hello"}
