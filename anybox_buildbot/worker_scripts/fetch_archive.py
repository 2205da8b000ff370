"""Fetch a buildout archive (tarball or zip) and unpack it, on the worker.

Shipped by the master and run as ``python3 fetch_archive.py -- URL DEST``.
DEST is emptied first so files removed from the archive do not linger.
Extraction refuses members escaping DEST (absolute paths, ``..``, links
pointing outside). Standard library only.

The URL may hold Buildbot properties interpolated at build time, which the
master could not check: it is checked again here with the rules of the
master's ``vcsref`` for archives (``http``, ``https`` or ``file`` URL, or
an absolute path; nothing starting with ``-``; URL characters only; no
``::``, no user or host starting with ``-``, no ``..`` segment, also
percent-encoded). This script cannot import them: it runs on the worker
with the standard library only, so they are restated, and a unit test
checks that both accept and refuse the same URLs.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request
import zipfile

ALLOWED_SCHEMES = ("http", "https", "file")
MAX_URL_LENGTH = 2048
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
# The same rules as vcsref (the master's check of archive URLs), restated
# here because this script runs on the worker with the standard library
# only; tests/unit/test_worker_scripts.py runs both over one table.
_URL_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                       "-._~:/?#[]@!$&'()*+,;=%")
_SCHEME_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.*)", re.S)
_AUTHORITY = re.compile(r"""
    (?:[A-Za-z0-9_.~+%!$&'()*,;=][A-Za-z0-9_.~+%!$&'()*,;=:-]*@)?   # user[:password]@
    (?:[A-Za-z0-9_][A-Za-z0-9_.-]*|\[[0-9A-Fa-f:.]+\])              # host, never '-...'
    (?::[0-9]{1,5})?                                                # :port
    """, re.X)
_MAX_DECODE_ROUNDS = 4


def _bad_character(url: str) -> str | None:
    for char in url:
        if char.isspace() or not char.isprintable():
            return f"whitespace or control characters in the URL ({char!r})"
        if char not in _URL_CHARS and (char.isascii() or not char.isalnum()):
            return f"character {char!r} not allowed in a URL"
    return None


def _dotdot_segment(path: str) -> bool:
    """A ``..`` segment once percent-decoded (``%2e%2e``, ``..%2F``)."""
    for _round in range(_MAX_DECODE_ROUNDS):
        plain = urllib.parse.unquote(path)
        if plain == path:
            return ".." in re.split(r"[/\\]", plain)
        path = plain
    return True  # still encoded after several rounds: refused


def url_problem(url: str) -> str | None:
    """Why ``url`` is not an archive location we fetch, or None."""
    if not url:
        return "empty URL"
    if len(url) > MAX_URL_LENGTH:
        return f"URL longer than {MAX_URL_LENGTH} characters"
    if url.startswith("-"):
        return "a URL must not start with '-'"
    bad = _bad_character(url)
    if bad:
        return bad
    if "::" in url:
        return "'::' is not allowed"
    only = f"only {', '.join(s + '://' for s in ALLOWED_SCHEMES)} URLs are fetched"
    match = _SCHEME_URL.fullmatch(url)
    if match is None and _SCHEME.match(url):
        return only  # 'data:...', 'file:relative'
    if match:
        scheme = match["scheme"].lower()
        if scheme not in ALLOWED_SCHEMES:
            return only
        authority, slash, path = match["rest"].partition("/")
        path = slash + path
        if scheme == "file":
            if authority or not path.startswith("/"):
                return "a file:// URL names no host and has an absolute path (file:///PATH)"
        elif authority.startswith("-") or "@-" in authority:
            return "the user or host of a URL must not start with '-'"
        elif not _AUTHORITY.fullmatch(authority):
            return f"invalid host part {authority!r}"
    elif url.startswith("/"):
        path = url
    else:
        return "expected an http(s):// or file:// URL, or an absolute path"
    if _dotdot_segment(path):
        return "'..' is not allowed in the path"
    return None


def _inside(dest: str, name: str) -> bool:
    target = os.path.realpath(os.path.join(dest, name))
    return target == dest or target.startswith(dest + os.sep)


def unpack(archive: str, dest: str) -> int:
    dest = os.path.realpath(dest)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            names = zf.namelist()
            bad = [n for n in names if not _inside(dest, n)]
            if bad:
                raise SystemExit(f"refusing archive member outside the build: {bad[0]!r}")
            zf.extractall(dest)
            return len(names)
    with tarfile.open(archive) as tf:
        members = tf.getmembers()
        bad = [m.name for m in members if not _inside(dest, m.name)]
        if bad:
            raise SystemExit(f"refusing archive member outside the build: {bad[0]!r}")
        tf.extractall(dest, filter="data")
        return len(members)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if len(argv) != 2:
        print("usage: fetch_archive.py [--] URL DEST", file=sys.stderr)
        return 2
    url, dest = argv
    problem = url_problem(url)
    if problem:
        print(f"refusing archive URL {url!r}: {problem}", file=sys.stderr)
        return 2
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    with tempfile.NamedTemporaryFile(suffix=".archive", delete=False) as tmp:
        path = tmp.name
    try:
        if _SCHEME.match(url):
            print(f"downloading {url}", flush=True)
            urllib.request.urlretrieve(url, path)
        else:
            shutil.copyfile(url, path)
        count = unpack(path, dest)
    finally:
        os.unlink(path)
    print(f"unpacked {count} entries into {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
