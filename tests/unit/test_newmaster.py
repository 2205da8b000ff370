"""``anybox-buildbot create-master``: a directory ``check`` is clean on.

The directory is made for real (Buildbot's own create-master runs in a
subprocess); starting it with a worker is tests/e2e/test_tutorial.py.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from anybox_buildbot.cli import main
from anybox_buildbot.newmaster import MasterSettings, render

DOC_EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "docs"
#: The options of the tutorial's create-master command (docs/tutorial.rst).
TUTORIAL = ["--title", "Tutorial CI", "--web-port", "8010", "--worker-port", "9989",
            "--worker", "laptop"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def password_of(path: Path) -> str:
    (line,) = [x for x in path.read_text().splitlines() if x.startswith("password = ")]
    return line.removeprefix("password = ")


def test_new_master_is_clean_for_check(tmp_path: Path, capsys) -> None:
    master = tmp_path / "deep" / "ci"
    code, out, err = run(capsys, "create-master", str(master))
    assert (code, err) == (0, "")
    assert "buildbot-worker create-worker WORKER_DIR localhost:9989 worker-1 PASSWORD" in out
    for name in ("buildbot.tac", "state.sqlite", "master.cfg", "buildouts/MANIFEST.cfg",
                 "buildouts/hello.cfg", "workers.cfg", "workers.cfg.sample"):
        assert (master / name).is_file(), name
    assert stat.S_IMODE((master / "workers.cfg").stat().st_mode) & 0o077 == 0
    password = password_of(master / "workers.cfg")
    assert re.fullmatch(r"[A-Za-z0-9_-]{24}", password)
    assert password not in out
    code, out, err = run(capsys, "check", "--strict", str(master))
    assert (code, out, err) == (0, "ok: 1 builder for 1 buildout on 1 worker\n", "")
    code, out, _err = run(capsys, "plan", str(master))
    assert "hello  hello     worker-1" in out


def test_passwords_are_random(tmp_path: Path, capsys) -> None:
    for name in ("a", "b"):
        assert run(capsys, "create-master", str(tmp_path / name))[0] == 0
    assert password_of(tmp_path / "a" / "workers.cfg") != \
        password_of(tmp_path / "b" / "workers.cfg")


def test_tutorial_master_is_the_documented_one(tmp_path: Path, capsys) -> None:
    """docs/tutorial.rst shows examples/docs/ci as what create-master made."""
    master = tmp_path / "ci"
    assert run(capsys, "create-master", str(master), *TUTORIAL)[0] == 0
    shown = DOC_EXAMPLES / "ci"
    for name in ("master.cfg", "buildouts/MANIFEST.cfg", "buildouts/hello.cfg",
                 "workers.cfg"):
        made = (master / name).read_text()
        if name == "workers.cfg":
            made = made.replace(password_of(master / name), password_of(shown / name))
        assert made == (shown / name).read_text(), f"examples/docs/ci/{name} is out of date"


def test_refuses_to_overwrite(tmp_path: Path, capsys) -> None:
    master = tmp_path / "ci"
    (master / "buildouts").mkdir(parents=True)
    (master / "buildouts" / "MANIFEST.cfg").write_text("[mine]\n")
    code, out, err = run(capsys, "create-master", str(master))
    assert code == 1 and out == ""
    assert err == (f"error: {master} already has buildouts/MANIFEST.cfg: nothing written "
                   "(create-master never overwrites)\n")
    assert (master / "buildouts" / "MANIFEST.cfg").read_text() == "[mine]\n"
    assert sorted(p.name for p in master.rglob("*")) == ["MANIFEST.cfg", "buildouts"]
    assert run(capsys, "create-master", str(tmp_path / "ok"))[0] == 0
    code, _out, err = run(capsys, "create-master", str(tmp_path / "ok"))
    assert code == 1 and "already has buildbot.tac, state.sqlite, master.cfg" in err


def test_refuses_a_file(tmp_path: Path, capsys) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    code, _out, err = run(capsys, "create-master", str(target))
    assert code == 1 and err == f"error: {target} exists and is not a directory\n"


@pytest.mark.parametrize(("options", "message"), [
    (["--title", "A title far too long for the UI"], "--title 'A title far too long"),
    (["--web-port", "9989"], "--web-port and --worker-port are both 9989"),
    (["--worker=-rf"], "--worker '-rf': must start with a letter or '_'"),
    (["--url", "localhost:8010"], "--url: malformed URL 'localhost:8010'"),
    (["--url", "http://admin:pw@ci.example.org/"], "--url: no user or password"),
])
def test_bad_options_are_usage_errors(tmp_path: Path, capsys, options: list[str],
                                      message: str) -> None:
    code, out, err = run(capsys, "create-master", str(tmp_path / "ci"), *options)
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {message}")
    assert not (tmp_path / "ci").exists()


@pytest.mark.parametrize("port", ["0", "65536", "http"])
def test_ports_are_checked_by_the_parser(tmp_path: Path, port: str) -> None:
    with pytest.raises(SystemExit) as info:
        main(["create-master", str(tmp_path / "ci"), "--web-port", port])
    assert info.value.code == 2


def test_values_become_python_literals() -> None:
    """A title or URL with quotes cannot break out of master.cfg's strings."""
    settings = MasterSettings.from_options(
        "x", title='a"b\'c', web_port=1, worker_port=2,
        url="http://ci.example.org/a'b/", worker="w")
    text = render(settings, "pw")["master.cfg"]
    namespace: dict = {}
    exec(compile(text.replace("configure_from_buildouts(basedir, c)", ""), "m", "exec"),
         namespace)
    config = namespace["BuildmasterConfig"]
    assert config["title"] == 'a"b\'c'
    assert config["buildbotURL"] == "http://ci.example.org/a'b/"
    assert config["protocols"]["pb"]["port"] == "tcp:2:interface=127.0.0.1"
