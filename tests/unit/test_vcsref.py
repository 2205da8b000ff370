"""The URL and ref forms each tool accepts (``anybox_buildbot.vcsref``)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from anybox_buildbot.vcsref import (
    host_of,
    is_under,
    local_path_of,
    prefix_problem,
    ref_problem,
    url_problem,
)

ACCEPTED_URLS = [
    ("git", "https://github.com/acme/erp.git"),
    ("git", "http://git.example.com/erp"),
    ("git", "HTTPS://GitHub.com/acme/erp.git"),
    ("git", "https://user:token@git.example.com:8443/a/b.git"),
    ("git", "ssh://git@example.com/a.git"),
    ("git", "ssh://git@example.com:2222/~user/a.git"),
    ("git", "git://example.com/a.git"),
    ("git", "file:///srv/git/app.git"),
    ("git", "git@github.com:acme/erp.git"),
    ("git", "github.com:acme/erp.git"),
    ("git", "/srv/git/app.git"),
    ("git", "/tmp/pytest-of-root/pytest-3/vcs0/app.git"),
    ("git", "/srv/dépôts/app.git"),
    ("git", "https://git.example.com/a/b.git?x=1&y=2"),
    ("git", "ssh://git@[2001:db8:0:0:0:0:0:1]/a.git"),
    ("hg", "https://hg.example.com/lib"),
    ("hg", "http://hg.example.com/lib"),
    ("hg", "ssh://hg@hg.example.com/repos/lib"),
    ("hg", "file:///srv/hg/lib"),
    ("hg", "/srv/hg/lib"),
    ("bzr", "lp:e"),
    ("bzr", "lp:~user/project/branch"),
    ("bzr", "bzr://bzr.example.com/tools"),
    ("bzr", "bzr+ssh://bzr.example.com/tools/trunk"),
    ("bzr", "sftp://me@bzr.example.com/tools"),
    ("bzr", "https://bzr.example.com/tools/trunk"),
    ("bzr", "/srv/bzr/tools"),
    ("archive", "https://downloads.example.com/app-1.0.tar.gz"),
    ("archive", "https://downloads.example.com/app-%(prop:version)s.tar.gz"),
    ("archive", "https://dl.example.com/app.tgz?token=%(prop:token:-none)s"),
    ("archive", "%(prop:archive_url)s"),
    ("archive", "file:///srv/archives/app.tgz"),
    ("archive", "/srv/archives/app.tgz"),
]

REFUSED_URLS = [
    # options in place of a URL
    ("git", "--upload-pack=touch${IFS}/tmp/x;", "must not start with '-'"),
    ("git", "-uevil", "must not start with '-'"),
    ("hg", "--config=hooks.pre-pull=touch${IFS}/tmp/x", "must not start with '-'"),
    ("hg", "--config=hooks.pre-clone=/tmp/evil.sh", "must not start with '-'"),
    ("bzr", "--no-plugins", "must not start with '-'"),
    ("archive", "-O/etc/passwd", "must not start with '-'"),
    # git's command-running transports
    ("git", "ext::sh -c touch% /tmp/x", "whitespace"),
    ("git", "ext::sh", "'::' is not allowed"),
    ("git", "fd::17", "'::' is not allowed"),
    ("git", "https://h/a::b", "'::' is not allowed"),
    ("git", "transport::https://h/a", "'::' is not allowed"),
    # an ssh host or user read as an ssh option
    ("git", "ssh://-oProxyCommand=touch%20x/a", "must not start with '-'"),
    ("git", "ssh://git@-oProxyCommand=x/a", "must not start with '-'"),
    ("hg", "ssh://-oProxyCommand=sh/a", "must not start with '-'"),
    ("bzr", "bzr+ssh://-oProxyCommand=x/a", "must not start with '-'"),
    ("git", "git@-oProxyCommand=x:a.git", "must not start with '-'"),
    ("git", "-oProxyCommand=x@h:a.git", "must not start with '-'"),
    ("git", "git@h:-a.git", "none of them may start with '-'"),
    ("git", "ssh://h:-1/a.git", "invalid host part"),
    # whitespace and control characters
    ("git", "https://h/a b.git", "whitespace"),
    ("git", "https://h/a\tb.git", "whitespace"),
    ("git", "https://h/a\nb.git", "whitespace"),
    ("hg", "https://h/a\x00b", "control character"),
    ("git", "https://h/a\x1b[31m.git", "control character"),
    ("git", "https://h/a\u200e.git", "control character"),
    ("git", "https://h/a\u00a0.git", "whitespace"),
    ("git", "https://h/`touch x`.git", "not allowed in a URL"),
    ("git", "https://h/a\\b.git", "not allowed in a URL"),
    ("git", "https://h/a|b.git", "not allowed in a URL"),
    # schemes a tool is not given
    ("git", "ftp://h/a.git", "ftp:// URLs are not accepted for git"),
    ("git", "sftp://h/a.git", "sftp:// URLs are not accepted for git"),
    ("hg", "git://h/a", "git:// URLs are not accepted for hg"),
    ("hg", "bundle:/tmp/x.hg", "bundle: URLs are not accepted for hg"),
    ("hg", "static-http://h/a", "static-http:// URLs are not accepted for hg"),
    ("hg", "hg@h:repo", "hg@h: URLs are not accepted for hg"),
    ("archive", "ftp://h/a.tgz", "ftp:// URLs are not accepted for archive"),
    ("archive", "data:,x", "data: URLs are not accepted for archive"),
    ("archive", "ssh://h/a.tgz", "ssh:// URLs are not accepted for archive"),
    ("bzr", "lp:-x", "not accepted"),
    # relative paths, hosts in file URLs, '..'
    ("git", "app.git", "relative paths are not"),
    ("git", "./app.git", "relative paths are not"),
    ("hg", "default", "relative paths are not"),
    ("git", "file://evil.example.com/x", "names no host"),
    ("git", "file://localhost/x", "names no host"),
    ("hg", "file:relative", "file: URLs are not accepted for hg"),
    ("git", "/srv/mirror/../../etc/repo", "'..' is not allowed"),
    ("git", "https://h/a/../b.git", "'..' is not allowed"),
    ("git", "https://h/a/%2e%2e/b.git", "'..' is not allowed"),
    ("git", "file:///srv/git/%2E%2E/x", "'..' is not allowed"),
    ("git", "git@h:../x.git", "'..' is not allowed"),
    ("hg", "https://h/lib#stable", "no '#fragment'"),
    ("hg", "/srv/hg/lib#-r", "no '#fragment'"),
    ("git", "", "empty URL"),
    ("git", "https://h/" + "a" * 3000, "longer than"),
    ("git", "https://-h/a.git", "must not start with '-'"),
    ("git", "https:///a.git", "invalid host part"),
    ("git", "https://h h/a.git", "whitespace"),
]


@pytest.mark.parametrize("tool, url", ACCEPTED_URLS)
def test_accepted_urls(tool: str, url: str) -> None:
    assert url_problem(tool, url) is None


@pytest.mark.parametrize("tool, url, problem", REFUSED_URLS)
def test_refused_urls(tool: str, url: str, problem: str) -> None:
    found = url_problem(tool, url)
    assert found is not None and problem in found, found


@pytest.mark.parametrize("url", [
    "--upload-pack=x", "ext::sh", "ssh://-oProxyCommand=x/a", "a b", "git@h:-x",
])
@pytest.mark.parametrize("tool", ["git", "hg", "bzr", "archive"])
def test_attacks_are_refused_for_every_tool(tool: str, url: str) -> None:
    assert url_problem(tool, url) is not None


ACCEPTED_REFS = [
    ("git", "master"), ("git", "main"), ("git", "17.0"), ("git", "release/v2.1"),
    ("git", "feature/JIRA-12_fix"), ("git", "v1"), ("git", "a" * 255),
    ("git", "0123456789abcdef0123456789abcdef01234567"), ("git", "café"),
    ("git", "x@y"), ("git", "a.b"),
    ("hg", "default"), ("hg", "stable"), ("hg", "1.2"), ("hg", "feature/x-y"),
    ("hg", "v1"), ("hg", "release_2024.1"),
    ("bzr", "trunk"),
]

REFUSED_REFS = [
    ("git", "--upload-pack=touch${IFS}/tmp/x;", "must not start with '-'"),
    ("git", "-b", "must not start with '-'"),
    ("hg", "--config=hooks.pre-update=x", "must not start with '-'"),
    ("hg", "-rtip", "must not start with '-'"),
    ("bzr", "-x", "must not start with '-'"),
    ("git", "a..b", "'..'"),
    ("hg", "1..2", "'..'"),
    ("git", "a b", "whitespace"),
    ("git", "a\tb", "whitespace"),
    ("git", "a\nb", "whitespace"),
    ("hg", "a\x00b", "control"),
    ("git", "a\x7fb", "control"),
    ("git", "a~1", "'~'"), ("git", "a^", "'^'"), ("git", "a:b", "':'"),
    ("git", "a?", "'?'"), ("git", "a*", "'*'"), ("git", "a[b", "'['"),
    ("git", "a\\b", "'\\\\'"),
    ("git", "a@{1}", "'@{'"), ("git", "@", "'@'"),
    ("git", "a.lock", "'.lock'"), ("git", "x/a.lock/y", "'.lock'"),
    ("git", "a/", "'/'"), ("git", "/a", "'/'"), ("git", "a//b", "'//'"),
    ("git", "a.", "end with '.'"), ("git", ".hidden", "start with '.'"),
    ("git", "x/.y", "start with '.'"),
    ("hg", "a:b", "':'"), ("hg", "tip~1", "'~'"), ("hg", "all()", "'('"),
    ("hg", "a|b", "'|'"), ("hg", "'x'", "\"'\""),
    ("git", "", "empty name"), ("hg", "x" * 300, "longer than"),
]


@pytest.mark.parametrize("tool, ref", ACCEPTED_REFS)
def test_accepted_refs(tool: str, ref: str) -> None:
    assert ref_problem(tool, ref) is None


@pytest.mark.parametrize("tool, ref, problem", REFUSED_REFS)
def test_refused_refs(tool: str, ref: str, problem: str) -> None:
    found = ref_problem(tool, ref)
    assert found is not None and problem in found, found


@pytest.mark.parametrize("url, host", [
    ("https://GitHub.com/acme/erp.git", "github.com"),
    ("ssh://git@example.com:2222/a.git", "example.com"),
    ("git@Example.com:a.git", "example.com"),
    ("example.com:a.git", "example.com"),
    ("https://user:pw@h.example.com/a", "h.example.com"),
    ("lp:tools", "launchpad.net"),
    ("file:///srv/git/a.git", None),
    ("/srv/git/a.git", None),
])
def test_host_of(url: str, host: str | None) -> None:
    assert host_of(url) == host


def test_local_path_of() -> None:
    assert local_path_of("file:///srv/git/a%20b") == "/srv/git/a b"
    assert local_path_of("/srv/x") == "/srv/x"
    assert local_path_of("https://h/x") is None
    assert local_path_of("git@h:x") is None


@pytest.mark.parametrize("url, prefix, under", [
    ("https://h/acme/x.git", "https://h/acme", True),
    ("https://h/acme/x.git", "https://h/acme/", True),
    ("https://h/acme", "https://h/acme", True),
    ("https://h/acme-evil/x.git", "https://h/acme", False),
    ("https://h.evil.org/x.git", "https://h", False),
    ("https://h@evil.org/x.git", "https://h", False),
    ("git@h:acme/x.git", "git@h:acme/", True),
    ("git@h:acme/x.git", "git@h", True),
    ("git@h:acme/x.git", "git@h:acme", True),
    ("git@hx:acme/x.git", "git@h", False),
    ("/srv/git/x", "file:///srv/git/", True),
    ("file:///srv/git/x", "/srv/git", True),
    ("/srv/git2/x", "/srv/git", False),
    ("https://h/x", "", False),
])
def test_is_under(url: str, prefix: str, under: bool) -> None:
    assert is_under(url, prefix) is under


# --------------------------------------------------------------------------- #
# Security review of issue 10: '..' hidden behind a percent-encoded '/'
# --------------------------------------------------------------------------- #

ESCAPES = [
    "file:///srv/git/app.git%2F..%2F..%2Fsecret%2Frepo.git",
    "file:///srv/git/..%2F..%2Fsecret/repo.git",
    "https://git.example.com/acme/x%2F..%2F..%2Fother/repo.git",
]


@pytest.mark.parametrize("url", ESCAPES)
def test_percent_encoded_slash_does_not_hide_a_dotdot_segment(url: str) -> None:
    # vcsref promises "no '..' path segment" (and checks '%2e%2e'), but a
    # segment '..%2F..%2Fsecret' decodes to '../../secret' in git and hg.
    assert url_problem("git", url) is not None


@pytest.mark.parametrize("tool, url", [
    ("git", "https://h/a/..%252F..%252Fb.git"),       # encoded twice
    ("git", "git@h:acme/..%2F..%2Fother.git"),
    ("hg", "/srv/hg/%2E%2E%5C..%5Cx"),                 # '\\' encoded
    ("archive", "https://h/a/%2e%2E%2Fb.tgz"),
    ("git", "https://h/a/" + ("%" + "25" * 4 + "2e") * 2),  # '..' encoded 5 times
])
def test_encoded_dotdot_is_refused_however_it_is_encoded(tool: str, url: str) -> None:
    found = url_problem(tool, url)
    assert found is not None and "'..'" in found, found


def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, check=False)


@pytest.mark.skipif(shutil.which("hg") is None, reason="needs hg")
def test_hg_follows_the_percent_encoded_escape_too(tmp_path: Path) -> None:
    (tmp_path / "srv").mkdir()
    secret = tmp_path / "hgsecret" / "r"
    secret.parent.mkdir()
    assert _run("hg", "init", str(secret)).returncode == 0
    escaped = f"file://{tmp_path}/srv/..%2Fhgsecret/r"
    assert _run("hg", "identify", escaped).returncode == 0  # hg reads it
    assert url_problem("hg", escaped) is not None


def test_prefix_boundary_colon_does_not_admit_another_https_path() -> None:
    # ':' is a boundary for scp-like prefixes (git@h:acme), not in an https
    # path: 'acme:evil' is another repository than 'acme/...'.
    assert not is_under("https://git.example.com/acme:evil/x.git",
                        "https://git.example.com/acme")


@pytest.mark.parametrize("url, prefix, under", [
    # a decoded '..' is under nothing, whatever the prefix
    ("file:///srv/git/..%2F..%2Fsecret/repo.git", "/srv/git/", False),
    ("/srv/git/../../etc/repo", "/srv/git/", False),
    ("https://h/acme/x%2F..%2F..%2Fother/r.git", "https://h/acme/", False),
    ("git@h:acme/..%2Fother.git", "git@h:acme", False),
    ("https://h/acme/x.git", "https://h/acme/../", False),
    # the namespace is the scheme and authority: another port is elsewhere
    ("https://h:8443/acme/x.git", "https://h", False),
    ("https://h:8443/acme/x.git", "https://h:8443/acme", True),
    ("https://H.example.com/acme/x.git", "https://h.EXAMPLE.com/acme", True),
    ("ssh://git@h/acme/x.git", "git@h:acme", False),
    ("git@h:acme:x.git", "git@h:acme", False),
    # paths are normalised: '//' and '.' segments say nothing
    ("file:///srv/git//./x.git", "/srv/git/", True),
    ("https://h/acme//x.git", "https://h/acme/", True),
    # an encoded '/' is not a path boundary on a server
    ("https://h/acme%2Fx.git", "https://h/acme", False),
    ("git@h:x.git", "git@h:", True),
])
def test_is_under_compares_normalised_places(url: str, prefix: str, under: bool) -> None:
    assert is_under(url, prefix) is under


@pytest.mark.parametrize("prefix, problem", [
    ("https://h/acme/..%2F", "'..'"),
    ("/srv/git/../", "'..'"),
    ("https://h/a b", "whitespace"),
    ("", "empty"),
    ("https://-h/x", "not a form"),
])
def test_prefix_problem(prefix: str, problem: str) -> None:
    found = prefix_problem(prefix)
    assert found is not None and problem in found, found


@pytest.mark.parametrize("prefix", [
    "https://git.example.com/acme/", "git@git.example.com:acme/", "git@h", "/srv/git/",
    "file:///srv/git/", "lp:", "ssh://git@h:2222/x",
])
def test_prefix_problem_accepts_prefixes(prefix: str) -> None:
    assert prefix_problem(prefix) is None


# --------------------------------------------------------------------------- #
# Security review of issue 10: archive URLs take build properties only
# --------------------------------------------------------------------------- #

@pytest.mark.parametrize("key", ["secret:w1pass", "worker:host", "kw:x", "src::branch"])
def test_archive_url_interpolation_is_prop_only(key: str) -> None:
    assert url_problem("archive", f"https://files.example.com/%({key})s.tar.gz") is not None


@pytest.mark.parametrize("url", [
    "https://h/%(prop:x:~y)s.tgz",                       # other Interpolate operators
    "https://h/%(prop:x:+%(secret:w1pass)s)s.tgz",
    "https://h/%(prop:x:-%(secret:w1pass)s)s.tgz",       # a secret as a default
    "https://h/%(prop:x)s::%(prop:y)s.tgz",
    "%(secret:archive_url)s",                            # the whole URL, any host
    "https://h/%(prop:-x)s.tgz",
])
def test_archive_url_interpolation_tricks_are_refused(url: str) -> None:
    assert url_problem("archive", url) is not None
