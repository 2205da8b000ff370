"""Report the repositories a buildout depends on (``auto-watch = true``).

Shipped by the master and run on the worker after ``bin/buildout`` as
``python3 autowatch.py CFG OUT``. It follows the ``extends`` chain of CFG
(local paths and file:// URLs), and for every file met records the
version-controlled checkout holding it; it also reads develop sources
declared the mr.developer way (``[sources]``: ``name = git URL
branch=B``) and the gp.vcsdevelop way (``vcs-extends-develop =
git+URL@BRANCH#egg=NAME``). Writes ``{"repos": [{"vcs", "url",
"branch"}]}`` to OUT, a new file (never through a symlink found there).
Standard library only; never fails the build for an unreadable file (it
is reported and skipped).
"""

from __future__ import annotations

import configparser
import json
import os
import re
import subprocess
import sys
import urllib.parse

DEFAULT_BRANCH = {"git": "master", "hg": "default", "bzr": None}
_VCSDEVELOP = re.compile(r"(?P<vcs>git|hg|bzr)\+(?P<url>[^@#\s]+)(?:@(?P<branch>[^#\s]+))?")


def _run(argv: list[str]) -> str | None:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def checkout_of(path: str) -> dict | None:
    """The repository (remote URL if any, else the checkout) holding path."""
    directory = os.path.dirname(os.path.abspath(path))
    while True:
        if os.path.isdir(os.path.join(directory, ".git")):
            url = _run(["git", "-C", directory, "config", "--get", "remote.origin.url"])
            branch = _run(["git", "-C", directory, "rev-parse", "--abbrev-ref", "HEAD"])
            return {"vcs": "git", "url": url or directory,
                    "branch": branch if branch and branch != "HEAD" else "master"}
        if os.path.isdir(os.path.join(directory, ".hg")):
            url = _run(["hg", "-R", directory, "paths", "default"])
            branch = _run(["hg", "-R", directory, "branch"])
            return {"vcs": "hg", "url": url or directory, "branch": branch or "default"}
        if os.path.isdir(os.path.join(directory, ".bzr")):
            return {"vcs": "bzr", "url": directory, "branch": None}
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _local_path(ref: str, base_dir: str) -> str | None:
    parsed = urllib.parse.urlparse(ref)
    if parsed.scheme == "file":
        return urllib.parse.unquote(parsed.path)
    if parsed.scheme and len(parsed.scheme) > 1:
        return None  # http(s) and other remote files: nothing to poll
    return os.path.normpath(os.path.join(base_dir, ref))


def _sources(parser: configparser.ConfigParser, section: str) -> list[dict]:
    found = []
    if not parser.has_section(section):
        return found
    for _name, value in parser.items(section, raw=True):
        words = value.split()
        if len(words) >= 2 and words[0] in DEFAULT_BRANCH:
            options = dict(w.split("=", 1) for w in words[2:] if "=" in w)
            found.append({"vcs": words[0], "url": words[1],
                          "branch": options.get("branch", DEFAULT_BRANCH[words[0]])})
    return found


def inspect(cfg: str) -> tuple[list[dict], list[str]]:
    repos: list[dict] = []
    problems: list[str] = []
    seen: set[str] = set()
    todo = [os.path.abspath(cfg)]
    while todo:
        path = todo.pop(0)
        if path in seen:
            continue
        seen.add(path)
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            with open(path, encoding="utf-8") as handle:
                parser.read_file(handle)
        except (OSError, UnicodeDecodeError, configparser.Error) as exc:
            problems.append(f"{path}: {exc}")
            continue
        repo = checkout_of(path)
        if repo is not None:
            repos.append(repo)
        if not parser.has_section("buildout"):
            continue
        buildout = dict(parser.items("buildout", raw=True))
        for ref in buildout.get("extends", "").split():
            local = _local_path(ref, os.path.dirname(path))
            if local is not None:
                todo.append(local)
        repos.extend(_sources(parser, buildout.get("sources", "sources")))
        for line in buildout.get("vcs-extends-develop", "").split():
            match = _VCSDEVELOP.match(line)
            if match:
                vcs = match["vcs"]
                repos.append({"vcs": vcs, "url": match["url"],
                              "branch": match["branch"] or DEFAULT_BRANCH[vcs]})
    unique = list({json.dumps(r, sort_keys=True): r for r in repos}.values())
    return unique, problems


def remove(path: str) -> None:
    """Remove ``path`` if it exists (a symlink itself, never its target)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def write_new(path: str, text: str) -> None:
    """Write ``text`` to a file that this call creates.

    OUT is in the checkout, where a commit may have put a symlink of that
    name (to ``~/.ssh/authorized_keys``...): the old file is removed first,
    and ``O_EXCL | O_NOFOLLOW`` refuse anything that reappears there, so
    the report is never written through a link.
    """
    remove(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    with os.fdopen(os.open(path, flags, 0o644), "w", encoding="utf-8") as handle:
        handle.write(text)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: autowatch.py CFG OUT", file=sys.stderr)
        return 2
    # Before anything else: if this run fails, no stale file and no link
    # named OUT is left for the upload step to send.
    remove(argv[1])
    repos, problems = inspect(argv[0])
    for problem in problems:
        print("skipped:", problem)
    for repo in repos:
        print(f"watch: {repo['vcs']} {repo['url']} {repo['branch'] or ''}".rstrip())
    write_new(argv[1], json.dumps({"repos": repos}, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
