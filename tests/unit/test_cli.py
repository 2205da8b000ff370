"""``anybox-buildbot check / plan / worker-check`` on real master directories."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from anybox_buildbot.cli import build_parser, main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SECRET = "very-Secret-pw-123"


@pytest.fixture
def master(tmp_path: Path) -> Path:
    root = tmp_path / "master"
    root.mkdir()
    shutil.copy(EXAMPLES / "master.cfg", root)
    shutil.copytree(EXAMPLES / "buildouts", root / "buildouts")
    (root / "workers.cfg").write_text(
        f"[ci-1]\npassword = {SECRET}\ncapability = postgresql 9.6 port=5433\n"
        "             fakelib 1.0\nworker_priority = 3\n"
        f"[ci-2]\npassword = {SECRET}\ncapability = fakelib 2.0 tag=two\n"
        "build-only-if-requires = fakelib\n")
    return root


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


def test_check_reports_misses_with_closest_worker(master: Path, capsys) -> None:
    code, out = run(capsys, "check", str(master))
    assert code == 0
    assert "ok: 4 builders for 4 buildouts on 2 workers" in out
    assert "2 warning(s):" in out
    assert ("  buildouts/MANIFEST.cfg:33: buildout 'needs-oracle' is not created: no worker "
            "can run it; closest is 'ci-1', which has no oracle\n") in out
    assert run(capsys, "check", "--strict", str(master))[0] == 1


def test_check_lists_every_error(master: Path, capsys) -> None:
    manifest = master / "buildouts" / "MANIFEST.cfg"
    manifest.write_text(manifest.read_text() + "\n[bad]\nbuildout = standalone hello.cfg\n"
                        "build-for = postgresql >=\nbogus = 1\n")
    (master / "workers.cfg").write_text("[ci-1]\ncapability = postgresql 9.1 port\n")
    code, out = run(capsys, "check", str(master))
    assert code == 1
    assert "4 error(s):" in out
    assert "workers.cfg:1: worker [ci-1]: missing password" in out
    assert "workers.cfg:2: worker [ci-1]: expected OPTION=VALUE, got 'port' at column 16" in out
    assert "buildout [bad] build-for: expected a version after '>=' at column 12" in out
    assert "buildout [bad] bogus: unknown option" in out


def test_check_usage_errors(capsys, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as info:
        main(["check"])
    assert info.value.code == 2
    code, out = run(capsys, "check", str(tmp_path))
    assert code == 1 and "no master.cfg here" in out


def test_plan_text_and_json_never_show_passwords(master: Path, capsys) -> None:
    code, text = run(capsys, "plan", str(master))
    assert code == 0
    assert "fakelib-matrix-fl1.0  fakelib-matrix  ci-1" in text
    assert any(line.split()[:3] == ["ci-2", "0", "fakelib"] for line in text.splitlines())
    code, raw = run(capsys, "plan", "--json", str(master))
    data = json.loads(raw)
    assert data["schema"] == 1
    builders = {b["name"]: b for b in data["builders"]}
    assert builders["pg-check"]["workers"] == ["ci-1"]
    assert builders["hello"]["workers"] == ["ci-1"]           # ci-2 is reserved
    assert builders["fakelib-matrix-fl2.0"]["properties"] == {"fakelib_version": "2.0"}
    workers = {w["name"]: w for w in data["workers"]}
    assert workers["ci-2"]["reserved_for"] == ["fakelib"]
    assert {"name": "fakelib-matrix", "builders": ["fakelib-matrix-fl1.0",
            "fakelib-matrix-fl2.0"], "fanout": 2} in data["buildouts"]
    assert SECRET not in text and SECRET not in raw


def test_plan_warns_on_large_fanout(tmp_path: Path, capsys) -> None:
    root = tmp_path / "m"
    (root / "buildouts").mkdir(parents=True)
    (root / "buildouts" / "a.cfg").write_text("[buildout]\n")
    (root / "buildouts" / "MANIFEST.cfg").write_text(
        "[wide]\nbuildout = standalone a.cfg\nbuild-for = lib\n")
    caps = "\n".join(f"             lib 1.{i}" for i in range(60))
    (root / "workers.cfg").write_text(f"[w]\npassword = x\ncapability = lib 0.1\n{caps}\n")
    (root / "master.cfg").write_text(
        "from anybox_buildbot import configure_from_buildouts\n"
        "c = BuildmasterConfig = {'buildbotNetUsageData': None, 'db': {'db_url': 'sqlite://'},"
        " 'protocols': {'pb': {'port': 'tcp:0'}}}\nconfigure_from_buildouts(basedir, c)\n")
    code, out = run(capsys, "plan", str(root))
    assert code == 0
    assert ("warning: buildouts/MANIFEST.cfg:3: buildout 'wide' multiplies into 61 builders "
            "(more than 50): check its build-for lines") in out


def test_plan_diff(master: Path, tmp_path: Path, capsys) -> None:
    other = tmp_path / "other"
    shutil.copytree(master, other)
    (other / "workers.cfg").write_text(
        "[ci-1]\npassword = x\ncapability = postgresql 13\n             fakelib 1.0\n"
        "[ci-3]\npassword = y\ncapability = fakelib 3.0\n")
    code, out = run(capsys, "plan", str(master), "--diff", str(other))
    assert code == 0
    assert "+ builder fakelib-matrix-fl3.0" in out
    assert "- builder fakelib-matrix-fl2.0" in out
    assert "+ ci-3 runs hello" in out
    code, raw = run(capsys, "plan", str(master), "--json", "--diff", str(master))
    assert json.loads(raw) == {"builders_gained": [], "builders_lost": [],
                               "assignments_gained": [], "assignments_lost": []}


def test_worker_check_alone_and_with_master(master: Path, tmp_path: Path, capsys) -> None:
    fragment = tmp_path / "mine.cfg"
    fragment.write_text(f"[new-one]\npassword = {SECRET}\n"
                        "capability = postgresql 13 port=5434\n             fakelib 1.0\n")
    code, out = run(capsys, "worker-check", str(fragment))
    assert code == 0 and "capability postgresql 13 port=5434" in out
    code, out = run(capsys, "worker-check", str(fragment), "--master", str(master))
    assert code == 0
    assert "new-one would run 3 builder(s): fakelib-matrix-fl1.0, hello, pg-check" in out
    assert "needs-oracle: has no oracle" in out
    assert SECRET not in out


def test_worker_check_rejects_bad_fragment(tmp_path: Path, capsys) -> None:
    fragment = tmp_path / "mine.cfg"
    fragment.write_text("[w]\npassword = x\ncapability = postgresql 9.1\n"
                        "             postgresql 9.1 port=5432\n")
    code, out = run(capsys, "worker-check", str(fragment))
    assert code == 1
    assert "mine.cfg:4: worker [w]: capability postgresql 9.1 declared twice" in out


# -- command-line conventions ---------------------------------------------------

def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert re.fullmatch(r"anybox-buildbot \d+\.\d+\.\d+\S* \(Buildbot 4\.3\.\d+\S*, "
                        r"Python 3\.\d+\.\d+\S*\)\n", out), out


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(commands.choices)


def test_every_argument_has_help() -> None:
    commands = _subcommands()
    assert {"check", "plan", "worker-check", "create-master", "force", "status"} <= set(commands)
    for name, sub in commands.items():
        for action in sub._actions:
            assert action.help, f"{name} {action.option_strings or action.dest}: no help text"


@pytest.mark.parametrize("argv", [["--help"], *[[name, "--help"] for name in
                                                 ("check", "plan", "worker-check",
                                                  "create-master", "force", "status")]])
def test_help_is_plain_text_with_exit_codes(capsys, argv: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    out = capsys.readouterr().out
    for markup in ("``", ":ref:", ":doc:", ":mod:", ".. "):
        assert markup not in out, f"{' '.join(argv)}: reStructuredText {markup!r} in help"
    assert "exit status:" in out and "141" in out


def test_missing_fragment_is_named_by_its_absolute_path(tmp_path: Path, capsys,
                                                        monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out = run(capsys, "worker-check", "mine.cfg")
    assert code == 1
    assert f"cannot read {tmp_path}/mine.cfg: No such file or directory" in out


def test_output_cut_short_by_a_closed_pipe_ends_quietly(master: Path) -> None:
    """``anybox-buildbot plan DIR | head -1``: no BrokenPipeError traceback.

    The reading end is closed before the command writes anything, so the
    first write fails whatever the size of the output and the pipe buffer.
    """
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "anybox_buildbot.cli", "plan", str(master)],
                              stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert proc.stderr == ""
    assert proc.returncode == 141
