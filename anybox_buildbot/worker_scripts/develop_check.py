"""Check that ``bin/buildout`` installed the develop projects from the checkout.

Shipped by the master and run on the worker right after ``bin/buildout``,
in the buildout's folder, as ``python anybox-develop_check.py
--buildout-version V``. Standard library only.

Why: an old zc.buildout whose setuptools cannot read a project's name
(metadata only in ``pyproject.toml``) installs the checkout as a develop
egg named ``UNKNOWN``; the project's own name is then not provided by the
checkout, so buildout fetches its last release from the index, and
``bin/test`` tests that release. The build passes without testing the
commit, and nothing says so. This script fails the build instead:

- a develop egg named ``UNKNOWN`` (or not under the name its project
  declares) is an error;
- a script of ``bin/`` that puts on ``sys.path`` an egg or a wheel
  install of a develop project's name, taken from the eggs directory
  instead of the checkout, is an error.

It also prints, for each develop project and each folder of ``src/`` (the
default ``sources-dir`` of mr.developer) that is a git or Mercurial
checkout, the revision it holds: ``revision: NAME VCS REV`` lines, which
the master turns into the build property ``develop_revisions``.

Everything read here comes from the repository and from what buildout
made of it: it is only read, never run (a Mercurial revision is read from
``.hg/dirstate``: ``hg`` would run the checkout's own hooks). The egg-links and scripts read are
those inside the buildout's folder (``develop-eggs/``, ``bin/``; no
symlinked script, no egg-link resolving elsewhere); beyond them, only the
metadata files (``pyproject.toml``, ``setup.cfg``, ``setup.py``) of the
develop folders those egg-links name are read, and only a project name of
a safe shape is taken from them.
"""

from __future__ import annotations

import argparse
import configparser
import os
import re
import stat
import subprocess
import sys

MAX_SCRIPT_BYTES = 1024 * 1024
#: quoted absolute paths in a generated script (its ``sys.path`` lines)
_QUOTED_PATH = re.compile(r"""['"](/[^'"\n]+)['"]""")
#: a built distribution: NAME-VERSION[-...].egg or NAME-VERSION.dist-info
_DIST = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9._]*?)-(?P<version>[0-9][^-/]*)"
                   r"(?:-[^/]*)?\.(?:egg|dist-info)")
_SETUP_NAME = re.compile(r"""\bname\s*=\s*['"]([A-Za-z0-9][A-Za-z0-9._-]*)['"]""")
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_REVISION = re.compile(r"[0-9a-f]{7,64}")
#: Mercurial's dirstate-v2 docket starts so, then the first parent's node
_DIRSTATE_V2 = b"dirstate-v2\n"
FIX = ("use a zc.buildout that reads pyproject.toml (buildout-version = 6.0.1 or newer in "
       "the manifest), or give the project a setup.py (or setup.cfg) naming it")


def normalize(name: str) -> str:
    """PEP 503 form: egg file names write ``-`` as ``_``, some ``.`` as ``_``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def inside(path: str, folder: str) -> bool:
    real, base = os.path.realpath(path), os.path.realpath(folder)
    return real == base or real.startswith(base.rstrip("/") + "/")


def read_text(path: str, limit: int = MAX_SCRIPT_BYTES) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(limit)
    except OSError:
        return ""


def declared_name(folder: str) -> str | None:
    """The name a project declares in ``folder`` or its parent (a src
    layout's egg-link points at ``src/``): pyproject.toml ``[project]``,
    setup.cfg ``[metadata]``, else a literal ``name=`` in setup.py."""
    for where in (folder, os.path.dirname(folder.rstrip("/"))):
        pyproject = read_text(os.path.join(where, "pyproject.toml"))
        if pyproject:
            try:
                import tomllib
                name = tomllib.loads(pyproject).get("project", {}).get("name")
            except (ImportError, ValueError, AttributeError):
                name = None
            if isinstance(name, str) and _SAFE_NAME.fullmatch(name):
                return name
        setup_cfg = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            setup_cfg.read_string(read_text(os.path.join(where, "setup.cfg")))
            name = setup_cfg.get("metadata", "name", fallback=None)
        except configparser.Error:
            name = None
        if name and _SAFE_NAME.fullmatch(name):
            return name
        match = _SETUP_NAME.search(read_text(os.path.join(where, "setup.py")))
        if match:
            return match[1]
    return None


def develop_eggs(here: str) -> list[tuple[str, str]]:
    """(name, folder) of every develop egg of ``.installed.cfg``: the
    ``NAME.egg-link`` files of ``develop-eggs/`` and the folder each points to."""
    installed = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        installed.read_string(read_text(os.path.join(here, ".installed.cfg")))
    except configparser.Error:
        return []
    listed = installed.get("buildout", "installed_develop_eggs", fallback="").split()
    found = []
    for path in listed:
        if not path.endswith(".egg-link") or not inside(path, here):
            continue
        lines = read_text(path, 64 * 1024).splitlines()
        name = os.path.basename(path)[:-len(".egg-link")]
        if lines and _SAFE_NAME.fullmatch(name):
            found.append((name, lines[0].strip()))
    return found


def used_distributions(here: str) -> list[tuple[str, str, str]]:
    """(script, distribution name, path) of each built distribution that a
    script of ``bin/`` puts on ``sys.path``."""
    folder = os.path.join(here, "bin")
    used = []
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return used
    for entry in names:
        script = os.path.join(folder, entry)
        if os.path.islink(script) or not os.path.isfile(script):
            continue
        for path in _QUOTED_PATH.findall(read_text(script)):
            match = _DIST.fullmatch(os.path.basename(path.rstrip("/")))
            if match:
                used.append((f"bin/{entry}", match["name"], path))
    return used


def hg_revision(folder: str) -> str | None:
    """The working directory's parent of the Mercurial checkout ``folder``,
    read from ``.hg/dirstate`` (its first 20 bytes; after the 12-byte
    marker in the ``dirstate-v2`` format), or None.

    Not ``hg log``: it would run the hooks of the checkout's ``.hg/hgrc``,
    which is repository content (a ``.hg`` committed in a git buildout).
    Neither ``.hg`` nor the file may be a symbolic link (the 20 bytes are
    printed: they must not be those of another file), and only a regular
    file is opened (no fifo to block on).
    """
    meta = os.path.join(folder, ".hg")
    if os.path.islink(meta):
        return None
    try:
        fd = os.open(os.path.join(meta, "dirstate"),
                     os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        head = os.read(fd, len(_DIRSTATE_V2) + 20)
    except OSError:
        return None
    finally:
        os.close(fd)
    node = head[len(_DIRSTATE_V2):] if head.startswith(_DIRSTATE_V2) else head[:20]
    return node.hex() if len(node) == 20 and node != bytes(20) else None


def revision(folder: str) -> tuple[str, str] | None:
    """(vcs, revision) of the checkout ``folder`` is the top of, if any."""
    if os.path.isdir(os.path.join(folder, ".git")):
        try:
            out = subprocess.run(["git", "-C", folder, "rev-parse", "HEAD"],
                                 capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        rev = out.stdout.strip()
        return ("git", rev) if out.returncode == 0 and _REVISION.fullmatch(rev) else None
    if os.path.isdir(os.path.join(folder, ".hg")):
        rev = hg_revision(folder)
        return ("hg", rev) if rev is not None else None
    return None


def checkouts(here: str, eggs: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(name, vcs, revision) of the develop projects and ``src/*`` folders
    that are checkouts of their own (not the buildout's own checkout)."""
    candidates = []
    for name, folder in eggs:
        top = folder if os.path.isdir(os.path.join(folder, ".git")) \
            or os.path.isdir(os.path.join(folder, ".hg")) else os.path.dirname(folder)
        candidates.append((name, top))
    src = os.path.join(here, "src")
    if os.path.isdir(src) and not os.path.islink(src):
        candidates.extend((entry, os.path.join(src, entry)) for entry in sorted(os.listdir(src))
                          if _SAFE_NAME.fullmatch(entry))
    found, seen = [], set()
    for name, folder in candidates:
        real = os.path.realpath(folder)
        if real in seen or real == os.path.realpath(here):
            continue
        seen.add(real)
        got = revision(folder)
        if got is not None:
            found.append((name, *got))
    return found


def problems(here: str, eggs: list[tuple[str, str]], version: str) -> list[str]:
    found = []
    names: dict[str, str] = {}   # normalized develop project name -> its folder
    for name, folder in eggs:
        declared = declared_name(folder)
        if normalize(name) == "unknown":
            what = f"{declared!r}" if declared else "its project"
            found.append(
                f"the develop project in {folder} was installed as 'UNKNOWN': zc.buildout "
                f"{version} (with its setuptools) could not read the name of {what}, so the "
                f"checkout does not provide it; fix: {FIX}")
        elif declared and normalize(declared) != normalize(name):
            found.append(f"the develop project in {folder} was installed as {name!r} but "
                         f"declares the name {declared!r}; fix: {FIX}")
        names[normalize(name)] = folder
        if declared:
            names[normalize(declared)] = folder
    names.pop("unknown", None)
    reported = set()
    for script, dist, path in used_distributions(here):
        folder = names.get(normalize(dist))
        if folder is None or (script, normalize(dist)) in reported:
            continue
        reported.add((script, normalize(dist)))
        found.append(f"{script} uses {os.path.basename(path)} ({path}), a distribution of "
                     f"develop project {dist!r} taken from an index or the eggs directory "
                     f"instead of the checkout in {folder}: the build would test that "
                     f"release, not the commit; fix: {FIX}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--buildout-version", default="(unknown)")
    args = parser.parse_args(argv)
    here = os.getcwd()
    eggs = develop_eggs(here)
    for name, folder in eggs:
        print(f"develop: {name} from {folder}")
    if not eggs:
        print("no develop projects")
    for name, vcs, rev in checkouts(here, eggs):
        print(f"revision: {name} {vcs} {rev}")
    found = problems(here, eggs, args.buildout_version)
    for problem in found:
        print(f"develop check: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
