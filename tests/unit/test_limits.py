"""Flood limits: a huge or junk configuration file gives a short report.

A 50 MB file of pasted log lines given as MANIFEST.cfg used to give one
message per line (hundreds of thousands), all kept in memory, all printed by
``checkconfig`` and ``check`` and all logged by a failed reconfig. Now a
load shows at most ``MAX_ERRORS_SHOWN`` messages and then one line counting
the others per file, and a file over ``MAX_FILE_SIZE`` bytes is refused
before it is read.

The limits are written out here (50 messages, 32 MiB) rather than imported:
they are documented numbers, and ``test_the_documented_limits`` ties the
constants to them.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
from unit_helpers import GIT, MASTER_CFG, write

from anybox_buildbot import ConfigError, configure_from_buildouts, errors, inifile
from anybox_buildbot.cli import main
from anybox_buildbot.errors import Errors, Location
from anybox_buildbot.manifest import load_manifests
from anybox_buildbot.workers import load_workers

SHOWN = 50
MIB = 1024 * 1024
SIZE_LIMIT = 32 * MIB
FLOOD_LINES = 300_000


def pasted_log(lines: int) -> str:
    """What an admin pastes by mistake: twistd.log lines, a few indented,
    a few that look like section headers."""
    out = []
    for i in range(lines):
        line = (f"2026-11-{i % 28 + 1:02d} 12:{i % 60:02d}:{i % 60:02d}+0000 [-] "
                f"build {i} of builder app-{i % 97} finished: warnings")
        if i % 7 == 3:
            line = "    Traceback (most recent call last):"
        out.append(line)
    return "\n".join(out) + "\n"


def write_master(root: Path, manifest: str, workers: str = "[w1]\npassword = pw\n") -> Path:
    write(root, "master.cfg", MASTER_CFG)
    write(root, "workers.cfg", workers)
    write(root, "buildouts/MANIFEST.cfg", manifest)
    write(root, "buildouts/app.cfg", "[buildout]\nparts =\n")
    return root


SUMMARY = re.compile(r"\.\.\. and (\d+) more errors: (.*)")


def test_the_documented_limits() -> None:
    """docs/ci-admin.rst gives these numbers."""
    assert errors.MAX_ERRORS_SHOWN == SHOWN
    assert inifile.MAX_FILE_SIZE == SIZE_LIMIT


def test_a_flood_of_bad_lines_gives_a_bounded_config_error(tmp_path: Path) -> None:
    root = write_master(tmp_path, pasted_log(FLOOD_LINES),
                        workers="[w1]\npassword = pw\nmax_builds = two\n")
    with pytest.raises(ConfigError) as info:
        configure_from_buildouts(str(root), {})
    exc = info.value
    messages = exc.errors
    assert len(messages) == SHOWN + 1
    # the first errors, in file order: workers.cfg is read first
    assert messages[0].startswith("workers.cfg:3: worker [w1]: expected a whole number")
    assert messages[1].startswith("buildouts/MANIFEST.cfg:1: option outside any section")
    total = exc.total
    assert total > FLOOD_LINES // 2          # roughly one error per line
    match = SUMMARY.fullmatch(messages[-1])
    assert match, messages[-1]
    assert int(match[1]) == total - SHOWN
    assert match[2] == f"{total - SHOWN} in buildouts/MANIFEST.cfg"
    # str() is what a failed reconfig shows in a traceback-free log line
    assert str(exc).count("\n") == SHOWN


def test_counts_per_file_in_the_summary(tmp_path: Path) -> None:
    bad_workers = "".join(f"[w{i}]\nmax_builds = two\n" for i in range(40))
    root = write_master(tmp_path, pasted_log(1000), workers=bad_workers)
    alone = Errors()
    load_manifests([root / "buildouts" / "MANIFEST.cfg"], alone)
    in_manifest = alone.count
    assert in_manifest > 500
    with pytest.raises(ConfigError) as info:
        configure_from_buildouts(str(root), {})
    exc = info.value
    # 40 workers: no password and a bad number each
    assert exc.total == 80 + in_manifest
    assert exc.errors[-1] == (f"... and {exc.total - SHOWN} more errors: "
                              f"{in_manifest} in buildouts/MANIFEST.cfg, 30 in workers.cfg")


def test_the_collector_keeps_only_what_it_shows() -> None:
    """Memory stays bounded: the errors past the limit are counted, not kept."""
    collected = Errors()
    for i in range(100_000):
        name = "f0.cfg" if i < 60_000 else "f1.cfg" if i < 90_000 else "f2.cfg"
        collected.add(Location(name, i + 1), "bad line", "x" * 100)
    assert len(collected.messages) == SHOWN
    assert collected.count == 100_000
    assert collected
    with pytest.raises(ConfigError) as info:
        collected.raise_if_any()
    assert info.value.total == 100_000
    assert info.value.errors[-1] == (
        "... and 99950 more errors: 59950 in f0.cfg, 30000 in f1.cfg, 10000 in f2.cfg")


def test_the_summary_names_at_most_ten_files() -> None:
    collected = Errors()
    for _ in range(SHOWN):
        collected.add(None, "first ones")
    for i in range(15):
        for _ in range(15 - i):
            collected.add(Location(f"m{i:02d}.cfg", 1), "bad")
    collected.add(None, "no file")
    *_, summary = collected.report()
    assert summary == ("... and 121 more errors: 15 in m00.cfg, 14 in m01.cfg, 13 in m02.cfg, "
                       "12 in m03.cfg, 11 in m04.cfg, 10 in m05.cfg, 9 in m06.cfg, 8 in "
                       "m07.cfg, 7 in m08.cfg, 6 in m09.cfg, 15 in 5 other files, 1 elsewhere")


def test_merging_collectors_keeps_the_bound_and_the_count() -> None:
    inner = Errors()
    for i in range(80):
        inner.add(Location("a.cfg", i + 1), "bad")
    outer = Errors()
    outer.add(Location("b.cfg", 1), "first")
    outer.extend(inner)
    assert outer.count == 81
    assert len(outer.messages) == SHOWN
    assert outer.report()[-1] == "... and 31 more errors: 31 in a.cfg"
    with pytest.raises(ConfigError) as info:
        inner.raise_if_any()
    again = Errors()
    again.extend(info.value)
    assert again.count == 80
    assert again.report() == info.value.errors


def test_a_section_past_the_shown_errors_is_still_refused(tmp_path: Path) -> None:
    """The parsers decide whether a section was valid by the error count: it
    keeps counting once the messages are no longer kept."""
    text = "".join(f"[bad{i}]\n{GIT}\nbuild-requires = pg >=\n" for i in range(SHOWN)) + (
        f"[late]\n{GIT}\ntree-stable-timer = soon\n[good]\n{GIT}\n")
    collected = Errors()
    specs = load_manifests([write(tmp_path, "MANIFEST.cfg", text)], collected)
    assert collected.count == SHOWN + 1
    assert [spec.name for spec in specs] == ["good"]
    workers = "".join(f"[w{i}]\nmax_builds = two\npassword = pw\n" for i in range(SHOWN)) + (
        "[late]\npassword = pw\nmax_builds = many\n[ok]\npassword = pw\n")
    collected = Errors()
    specs = load_workers([write(tmp_path, "workers.cfg", workers)], collected)
    assert collected.count == SHOWN + 1
    assert [spec.name for spec in specs] == ["ok"]


def test_check_prints_the_bounded_report_with_the_total(tmp_path: Path, capsys) -> None:
    root = write_master(tmp_path, pasted_log(20_000))
    code = main(["check", str(root)])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    total = int(out[0].split()[0])
    assert out[0] == f"{total} error(s):"
    assert total > 10_000
    assert len(out) == 1 + SHOWN + 1
    assert out[-1] == f"  ... and {total - SHOWN} more errors: {total - SHOWN} in " \
                      "buildouts/MANIFEST.cfg"


# ------------------------------------------------------------ file size

@pytest.mark.parametrize("kind", ["manifest", "workers"])
def test_a_file_over_the_size_limit_is_one_clear_error(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "big.cfg"
    with path.open("wb") as handle:        # sparse: no 32 MiB written to disk
        handle.truncate(SIZE_LIMIT + 1)
    collected = Errors()
    (load_manifests if kind == "manifest" else load_workers)([path], collected)
    assert collected.messages == [
        f"{path}: file too large: {SIZE_LIMIT + 1} bytes, the limit is 32 MiB "
        f"({SIZE_LIMIT} bytes) per configuration file (split it into several files, or "
        "check that it is the right file)"]
    assert collected.count == 1


def test_a_file_at_the_size_limit_is_read(tmp_path: Path) -> None:
    head = f"[app]\n{GIT}\n"
    filler = "# " + "x" * 1000 + "\n"
    text = head + filler * ((SIZE_LIMIT - len(head)) // len(filler))
    text += "#" * (SIZE_LIMIT - len(text) - 1) + "\n"
    path = write(tmp_path, "MANIFEST.cfg", text)
    assert path.stat().st_size == SIZE_LIMIT
    collected = Errors()
    specs = load_manifests([path], collected)
    assert collected.messages == []
    assert [spec.name for spec in specs] == ["app"]


def test_a_stream_is_read_no_further_than_the_limit(tmp_path: Path) -> None:
    """A path to something that is not a regular file (here a pipe fed by
    another program) has no size to check first: the read itself stops."""
    fifo = tmp_path / "MANIFEST.cfg"
    os.mkfifo(fifo)
    chunk = b"# a comment line, repeated\n" * 4096
    sent = []

    def feed() -> None:
        try:
            with open(fifo, "wb") as pipe:
                while sum(sent) < 2 * SIZE_LIMIT:
                    pipe.write(chunk)
                    sent.append(len(chunk))
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    collected = Errors()
    load_manifests([fifo], collected)
    writer.join(30)
    assert not writer.is_alive()
    assert collected.messages == [
        f"{fifo}: file too large: more than {SIZE_LIMIT} bytes, the limit is 32 MiB "
        f"({SIZE_LIMIT} bytes) per configuration file (split it into several files, or "
        "check that it is the right file)"]
    assert sum(sent) < 2 * SIZE_LIMIT        # the reader stopped early
