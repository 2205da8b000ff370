"""What ``migrate`` returns for one file, and how it edits the file.

``Migration`` holds the old and new text with the changes made and what
was left; its diff masks secret values (``passwd = X``), because the diff
is printed while the files keep their values. ``LineEditor`` collects
line edits and applies them at the end, so the line numbers the parser
gave stay true while a file is converted, and comments, order and layout
stay as written.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from .inifile import SECRET_KEYS, IniOption


@dataclass
class Migration:
    """One file's new text, the changes made and what was left, each a line
    ``FILE:LINE: ...``."""

    name: str
    old: str
    new: str = ""
    changes: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)

    def diff(self) -> str:
        """The unified diff, secret values (``passwd = X``) as ``***``: the
        diff is printed, the files keep their values."""
        return "".join(difflib.unified_diff(
            _masked(self.old), _masked(self.new),
            f"{self.name} (anybox.buildbot.odoo)", f"{self.name} (anybox_buildbot)"))


_SECRET_LINE = re.compile(r"^(?P<key>[^\s=:]+)(?P<sep>\s*[=:]\s*)(?P<value>.*?)(?P<end>\r?\n?)\Z")
_SECRET_REFERENCE = re.compile(r"^%\(secret:[^()\s]+\)s\s*$")


def _masked(text: str) -> list[str]:
    """``text``'s lines, the value of each secret key (and its continuation
    lines) replaced by ``***`` unless it names a Buildbot secret."""
    out: list[str] = []
    in_secret = False
    for line in text.splitlines(keepends=True):
        if in_secret and line[:1] in (" ", "\t") and line.strip():
            out.append(line[:len(line) - len(line.lstrip())] + "***"
                       + line[len(line.rstrip("\r\n")):])
            continue
        match = _SECRET_LINE.match(line)
        in_secret = bool(match and match["key"].lower() in SECRET_KEYS)
        if in_secret and match and not _SECRET_REFERENCE.match(match["value"]):
            line = f"{match['key']}{match['sep']}***{match['end']}"
        out.append(line)
    return out


class LineEditor:
    """Line edits of one file, applied at the end (1-based line numbers)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.after: dict[int, list[str]] = {}
        self.removed: set[int] = set()

    def rename_key(self, option: IniOption, new: str) -> None:
        index = option.location.line - 1
        self.lines[index] = re.sub(rf"^{re.escape(option.name)}(?=\s*[=:])", new,
                                   self.lines[index], count=1)

    def replace_in(self, line: int, old: str, new: str) -> None:
        self.lines[line - 1] = self.lines[line - 1].replace(old, new, 1)

    def insert_after(self, line: int, text: str) -> None:
        self.after.setdefault(line, []).append(text)

    def remove(self, option: IniOption) -> None:
        """The option's lines, continuation lines included."""
        last = max([option.location.line, *(loc.line for _, loc in option.lines)])
        self.removed.update(range(option.location.line, last + 1))

    def replace(self, option: IniOption, lines: Iterable[str]) -> None:
        """The option's lines by ``lines`` (the first at its place)."""
        self.remove(option)
        for text in lines:
            self.insert_after(option.location.line, text)

    def text(self, trailing_newline: bool) -> str:
        out: list[str] = []
        for number, line in enumerate(self.lines, 1):
            if number not in self.removed:
                out.append(line)
            out.extend(self.after.get(number, ()))
        return "\n".join(out) + ("\n" if trailing_newline else "")
