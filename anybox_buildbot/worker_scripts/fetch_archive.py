"""Fetch a buildout archive (tarball or zip) and unpack it, on the worker.

Shipped by the master and run as ``python3 fetch_archive.py -- URL DEST``.
DEST is emptied first so files removed from the archive do not linger.
Extraction refuses members escaping DEST (absolute paths, ``..``, links
pointing outside). Standard library only.

The URL may hold Buildbot properties interpolated at build time, which the
master could not check: it is checked again here (``http``, ``https`` or
``file`` URL, or an absolute path; nothing starting with ``-``; no
whitespace or control characters), the same forms as the master's
``vcsref`` rules for archives. This script cannot import them: it runs on
the worker with the standard library only.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tarfile
import tempfile
import urllib.request
import zipfile

ALLOWED_SCHEMES = ("http", "https", "file")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")


def url_problem(url: str) -> str | None:
    """Why ``url`` is not an archive location we fetch, or None."""
    if not url:
        return "empty URL"
    if url.startswith("-"):
        return "a URL must not start with '-'"
    if any(char.isspace() or not char.isprintable() for char in url):
        return "whitespace or control characters in the URL"
    match = _SCHEME.match(url)
    if match:
        scheme = match[1].lower()
        if scheme not in ALLOWED_SCHEMES or not url[match.end():].startswith("//"):
            return f"only {', '.join(s + '://' for s in ALLOWED_SCHEMES)} URLs are fetched"
        return None
    if not url.startswith("/"):
        return "expected an http(s):// or file:// URL, or an absolute path"
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
