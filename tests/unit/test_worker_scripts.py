"""The scripts shipped to workers, run as the worker runs them."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from anybox_buildbot.factory import SCRIPTS_DIR

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]


def run_script(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, f"{SCRIPTS_DIR}/{name}", *args], cwd=cwd,
                          capture_output=True, text=True)


def test_autowatch_reports_extends_checkouts_and_develop_sources(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    subprocess.run([*GIT, "init", "-q", "-b", "main"], cwd=shared, check=True)
    (shared / "base.cfg").write_text("[buildout]\nsources = src\n"
                                     "[src]\nlib = git https://example.com/lib.git "
                                     "branch=dev\nother = svn https://x/y\n")
    subprocess.run([*GIT, "add", "-A"], cwd=shared, check=True)
    subprocess.run([*GIT, "commit", "-q", "-m", "x"], cwd=shared, check=True)
    build = tmp_path / "build"
    build.mkdir()
    (build / "buildout.cfg").write_text(
        f"[buildout]\nextends = {shared / 'base.cfg'}\n"
        "    missing.cfg\n    https://example.com/remote.cfg\n"
        "vcs-extends-develop = hg+https://hg.example.com/a@stable#egg=a\n"
        "    git+https://example.com/b.git#egg=b\n")
    result = run_script("autowatch.py", "buildout.cfg", "out.json", cwd=build)
    assert result.returncode == 0, result.stderr
    repos = json.loads((build / "out.json").read_text())["repos"]
    assert {"vcs": "git", "url": str(shared), "branch": "main"} in repos
    assert {"vcs": "git", "url": "https://example.com/lib.git", "branch": "dev"} in repos
    assert {"vcs": "hg", "url": "https://hg.example.com/a", "branch": "stable"} in repos
    assert {"vcs": "git", "url": "https://example.com/b.git", "branch": "master"} in repos
    assert len(repos) == 4       # svn source, remote and missing extends are skipped
    assert "skipped:" in result.stdout and "missing.cfg" in result.stdout


def make_tar(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_fetch_archive_unpacks_and_replaces(tmp_path: Path) -> None:
    archive = tmp_path / "b.tar.gz"
    make_tar(archive, {"proj/buildout.cfg": b"[buildout]\n"})
    (tmp_path / "archive").mkdir()
    (tmp_path / "archive" / "stale.txt").write_text("old")
    result = run_script("fetch_archive.py", str(archive), "archive", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "archive" / "proj" / "buildout.cfg").read_text() == "[buildout]\n"
    assert not (tmp_path / "archive" / "stale.txt").exists()


@pytest.mark.parametrize("name", ["../evil.cfg", "/abs/evil.cfg"])
def test_fetch_archive_refuses_escaping_members(tmp_path: Path, name: str) -> None:
    archive = tmp_path / "bad.tar.gz"
    make_tar(archive, {name: b"x"})
    result = run_script("fetch_archive.py", str(archive), "archive", cwd=tmp_path)
    assert result.returncode != 0
    assert "refusing archive member outside the build" in result.stderr + result.stdout
    assert not (tmp_path / "evil.cfg").exists()


@pytest.mark.parametrize("terminator", [["--"], []])
@pytest.mark.parametrize("url, problem", [
    ("--help", "must not start with '-'"),
    ("-", "must not start with '-'"),
    ("ftp://example.com/a.tgz", "only http://, https://, file:// URLs"),
    ("data:application/gzip;base64,AAAA", "only http://, https://, file:// URLs"),
    ("file:relative.tgz", "only http://, https://, file:// URLs"),
    ("a.tgz", "expected an http(s):// or file:// URL, or an absolute path"),
    ("https://example.com/a b.tgz", "whitespace or control characters"),
    ("https://example.com/a\x1b.tgz", "whitespace or control characters"),
])
def test_fetch_archive_refuses_bad_urls_at_run_time(tmp_path: Path, terminator: list[str],
                                                    url: str, problem: str) -> None:
    """The URL may come from properties interpolated at build time."""
    (tmp_path / "archive").mkdir()
    (tmp_path / "archive" / "kept.txt").write_text("x")
    (tmp_path / "a.tgz").write_bytes(b"")
    result = run_script("fetch_archive.py", *terminator, url, "archive", cwd=tmp_path)
    assert result.returncode == 2
    assert "refusing archive URL" in result.stderr and problem in result.stderr
    assert (tmp_path / "archive" / "kept.txt").exists()   # nothing touched


def test_fetch_archive_takes_an_option_terminator(tmp_path: Path) -> None:
    archive = tmp_path / "b.tar.gz"
    make_tar(archive, {"proj/buildout.cfg": b"[buildout]\n"})
    result = run_script("fetch_archive.py", "--", f"file://{archive}", "archive", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "archive" / "proj" / "buildout.cfg").exists()
