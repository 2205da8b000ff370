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


# --------------------------------------------------------------------------- #
# fetch_archive's run-time URL check is the master's (vcsref), restated
# --------------------------------------------------------------------------- #

#: Rendered archive URLs (no interpolation left): each check must accept
#: and refuse the same ones.
ARCHIVE_URLS = [
    "https://files.example.com/app-1.0.tar.gz",
    "http://files.example.com:8080/a/b.tgz?x=1&y=2",
    "HTTPS://Files.example.com/app.tgz",
    "https://user:pw@files.example.com/app.tgz",
    "https://[2001:db8::1]/app.tgz",
    "file:///srv/archives/app.tgz",
    "/srv/archives/app.tgz",
    "/srv/dépôts/app.tgz",
    "https://files.example.com/app-x/../../private/dump.tar.gz",
    "https://files.example.com/a/%2e%2e/b.tgz",
    "https://files.example.com/a/..%2F..%2Fb.tgz",
    "https://files.example.com/a/..%252Fb.tgz",
    "file:///srv/archives/..%2F..%2Fetc/shadow",
    "/srv/archives/../../etc/shadow",
    "https://files.example.com/a::b.tgz",
    "ext::sh -c x",
    "https://-oProxyCommand=x/a.tgz",
    "https://user@-h/a.tgz",
    "https://h:-1/a.tgz",
    "https:///a.tgz",
    "file://evil.example.com/x.tgz",
    "file:relative.tgz",
    "ftp://files.example.com/a.tgz",
    "ssh://files.example.com/a.tgz",
    "data:application/gzip;base64,AAAA",
    "a.tgz",
    "./a.tgz",
    "-O/etc/passwd",
    "",
    "https://files.example.com/a b.tgz",
    "https://files.example.com/a\x1b.tgz",
    "https://files.example.com/a\u200e.tgz",
    "https://files.example.com/`id`.tgz",
    "https://files.example.com/a\\b.tgz",
    "https://files.example.com/" + "a" * 3000,
]


@pytest.mark.parametrize("url", ARCHIVE_URLS)
def test_fetch_archive_and_the_master_agree_on_archive_urls(url: str) -> None:
    from anybox_buildbot.vcsref import url_problem as master_problem
    from anybox_buildbot.worker_scripts.fetch_archive import url_problem as worker_problem

    master, worker = master_problem("archive", url), worker_problem(url)
    assert (master is None) == (worker is None), (master, worker)


def test_fetch_archive_runtime_check_matches_the_master_rules() -> None:
    # The master refuses '..' and '::' in archive URLs; a URL completed at
    # run time from a property (the force form's buildout-tag) is checked
    # by the worker script only, which let both through.
    from anybox_buildbot.vcsref import url_problem
    from anybox_buildbot.worker_scripts import fetch_archive

    rendered = "https://files.example.com/app-x/../../private/dump.tar.gz"
    assert url_problem("archive", rendered) is not None
    assert fetch_archive.url_problem(rendered) is not None


def test_fetch_archive_does_not_read_outside_through_an_encoded_dotdot(tmp_path: Path) -> None:
    """Run as the worker runs it: the file is not copied, DEST untouched."""
    allowed = tmp_path / "archives"
    allowed.mkdir()
    secret = tmp_path / "private.tgz"
    make_tar(secret, {"proj/secret.txt": b"TOPSECRET"})
    (tmp_path / "archive").mkdir()
    (tmp_path / "archive" / "kept.txt").write_text("x")
    url = f"file://{allowed}/..%2Fprivate.tgz"
    result = run_script("fetch_archive.py", "--", url, "archive", cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert "'..' is not allowed" in result.stderr
    assert (tmp_path / "archive" / "kept.txt").exists()
    assert not (tmp_path / "archive" / "proj").exists()


# --------------------------------------------------------------------------- #
# autowatch never writes through a symlink committed in the checkout
# --------------------------------------------------------------------------- #

def test_autowatch_replaces_a_symlink_instead_of_writing_through_it(tmp_path: Path) -> None:
    victim = tmp_path / "authorized_keys"
    victim.write_text("ssh-ed25519 AAAA admin\n")
    build = tmp_path / "build"
    build.mkdir()
    (build / "buildout.cfg").write_text("[buildout]\nparts =\n")
    (build / ".anybox-watch.json").symlink_to(victim)
    result = run_script("autowatch.py", "buildout.cfg", ".anybox-watch.json", cwd=build)
    assert result.returncode == 0, result.stderr
    assert victim.read_text() == "ssh-ed25519 AAAA admin\n"
    report = build / ".anybox-watch.json"
    assert not report.is_symlink()
    assert json.loads(report.read_text()) == {"repos": []}


def test_autowatch_does_not_create_a_file_through_a_dangling_symlink(tmp_path: Path) -> None:
    """The link points nowhere yet: opening it for writing would create its target."""
    build = tmp_path / "build"
    build.mkdir()
    (build / "out.json").symlink_to(tmp_path / "elsewhere")
    result = run_script("autowatch.py", "missing-dir/buildout.cfg", "out.json", cwd=build)
    assert result.returncode == 0, result.stderr   # an unreadable cfg is skipped
    assert not (build / "out.json").is_symlink()
    assert not (tmp_path / "elsewhere").exists()
