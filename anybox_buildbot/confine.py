"""Names and paths that must stay in their place.

Text from a manifest or a worker fragment ends up as paths: a section name
becomes ``watch/<name>.json`` on the master and, with capability versions
and abbrevs, a builder name, which is a directory on every worker; the
configuration file and ``subdir=`` of a checkout become step directories
on the worker; a standalone file is read on the master and shipped. The
rules here keep each one where it belongs *by construction*: a name is
made of characters that cannot form a path, a relative path cannot climb
out, a file must resolve (symlinks followed) inside its folder, and a
buildout section or option name given to ``bin/buildout`` cannot be read
as one of its options.

The parsers apply them at the offending line (a ``ConfigError`` with a
hint); the few places that build a path from a name check again with
:func:`file_in`, so confinement holds even for a value that did not come
through a parser (a plugin, the Python API). Pure functions: the parsing
layer imports this module, which imports nothing from Buildbot.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from .rules import PART_NAME, PART_NAME_RULE

#: Section (buildout) names, capability versions and abbrevs: safe in file
#: names, directory names and command lines (no '/', no leading '-' or '.').
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
SAFE_NAME_RULE = "letters, digits, '.', '_', '+' and '-', starting with a letter or digit"
MAX_BUILDOUT_NAME = 100
MAX_VERSION = 64
MAX_ABBREV = 32
#: A builder name is a directory name on the worker (255 bytes at most on
#: common file systems); this leaves room for Buildbot's own suffixes.
MAX_BUILDER_NAME = 200

#: Buildbot's rule for worker names (``buildbot.util.identifiers`` and the
#: checks of ``c['workers']``), restricted to ASCII: a name it would refuse
#: without a line number is refused here at its line.
WORKER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
WORKER_NAME_RULE = ("letters, digits, '_' and '-', starting with a letter or '_', "
                    "at most 50 characters (Buildbot's rule)")
MAX_WORKER_NAME = 50
RESERVED_WORKER_NAMES = frozenset({"debug", "change", "status"})

#: Buildout section (part) and option names: the one rule of rules.py.
BUILDOUT_WORD = PART_NAME
BUILDOUT_WORD_RULE = PART_NAME_RULE


def _bad_character(text: str, allowed: re.Pattern[str]) -> str:
    """Describe the first character of ``text`` that ``allowed`` refuses."""
    for index in range(1, len(text) + 1):
        if not allowed.fullmatch(text[:index]):
            return f"character {text[index - 1]!r} is not allowed"
    return "invalid name"  # pragma: no cover - only called on a refused text


def name_problem(text: str, limit: int) -> str | None:
    """Why ``text`` cannot be a name that becomes a path, or None if it can."""
    if not text:
        return "empty name"
    if len(text) > limit:
        return f"too long ({len(text)} characters, at most {limit})"
    if SAFE_NAME.fullmatch(text):
        return None
    if not SAFE_NAME.fullmatch(text[0]):
        return "must start with a letter or digit"
    return _bad_character(text, SAFE_NAME)


def worker_name_problem(text: str) -> str | None:
    """Why ``text`` cannot be a worker name, or None if it can."""
    if not text:
        return "empty name"
    if len(text) > MAX_WORKER_NAME:
        return f"too long ({len(text)} characters, at most {MAX_WORKER_NAME})"
    if text in RESERVED_WORKER_NAMES:
        return f"{text!r} is reserved by Buildbot"
    if WORKER_NAME.fullmatch(text):
        return None
    if not WORKER_NAME.fullmatch(text[0]):
        return "must start with a letter or '_'"
    return _bad_character(text, WORKER_NAME)


def relative_path_problem(text: str, is_file: bool = False) -> str | None:
    """Why ``text`` cannot be a path inside a checkout, or None if it can.

    Such a path is joined to the build directory on the worker and passed
    to commands: it must be relative, never climb with ``..``, have no part
    that a command would read as an option, and no character that changes
    meaning between systems (backslash) or terminals (control characters).
    ``is_file``: it must also name a file, not a folder.
    """
    if not text:
        return "is empty"
    for char in text:
        if unicodedata.category(char).startswith("C"):
            return "contains a control character"
    if "\\" in text:
        return "contains a backslash"
    if text.startswith("/"):
        return "is absolute"
    parts = text.split("/")
    if ".." in parts:
        return "goes up with '..'"
    for part in parts:
        if part.startswith("-"):
            return "has a part starting with '-'"
    if is_file and parts[-1] in ("", "."):
        return "does not name a file"
    return None


def resolves_inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` resolves, symlinks followed, inside ``folder``.

    The answer does not depend on whether ``path`` exists, so it tells
    nothing about files outside ``folder``.
    """
    try:
        resolved = path.resolve()
        base = folder.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return False
    return resolved != base and resolved.is_relative_to(base)


def file_in(folder: Path, name: str, suffix: str = "") -> Path:
    """``folder/<name><suffix>``; ValueError for a name that would leave it."""
    problem = name_problem(name, MAX_BUILDOUT_NAME)
    path = folder / f"{name}{suffix}"
    if problem is not None or path.parent != folder:
        raise ValueError(f"{name!r} cannot name a file in {folder}: {problem or 'a path'}")
    return path
