"""Capability lines of workers.cfg: ``NAME [VERSION] [OPTION=VALUE ...]``.

A capability says what a worker offers (``postgresql 13 port=5434``); its
options are worker-local facts the build needs (port, bin dir...). Parsing
is a pure function over one line; the worker parser adds locations and
checks duplicates across lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .confine import MAX_VERSION, SAFE_NAME_RULE, name_problem
from .constraint import NAME_RE
from .errors import ParseError
from .version import Version, parse_version

OPTION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_FORM = "NAME [VERSION] [OPTION=VALUE ...], e.g. 'postgresql 13 port=5434'"


@dataclass(frozen=True, slots=True)
class Capability:
    """One capability instance of one worker.

    ``options`` keeps declaration order; it is excluded from hashing only
    because dicts are unhashable.
    """

    name: str
    version: Version | None
    options: dict[str, str] = field(default_factory=dict, hash=False)

    @property
    def version_text(self) -> str | None:
        return self.version.text if self.version is not None else None

    def format(self) -> str:
        """Canonical line text: parsing it again gives an equal capability."""
        parts = [self.name]
        if self.version is not None:
            parts.append(self.version.text)
        parts.extend(f"{k}={v}" for k, v in self.options.items())
        return " ".join(parts)

    def __str__(self) -> str:
        return self.format()


def parse_capability(line: str) -> Capability:
    """Parse one capability line (comments already removed)."""
    words = line.split()
    if not words:
        raise ParseError("empty capability line", line, _FORM)
    offsets = [m.start() + 1 for m in re.finditer(r"\S+", line)]
    name = words[0]
    if not NAME_RE.fullmatch(name):
        raise ParseError(f"invalid capability name {name!r}", line.strip(),
                         "names start with a letter or digit, then letters, digits, "
                         "'_', '.', '+' or '-'", offsets[0])
    rest = 1
    version = None
    if len(words) > 1 and "=" not in words[1]:
        problem = name_problem(words[1], MAX_VERSION)
        if problem is not None:
            hint = ("one capability per line: put the next one on an indented "
                    "continuation line" if words[1].endswith(",") else
                    f"{problem}; versions become part of builder names: "
                    f"{SAFE_NAME_RULE}, at most {MAX_VERSION} characters")
            raise ParseError(f"invalid version {words[1]!r}", line.strip(), hint, offsets[1])
        version = parse_version(words[1])
        rest = 2
    options: dict[str, str] = {}
    for word, column in zip(words[rest:], offsets[rest:], strict=True):
        key, sep, value = word.partition("=")
        if not sep:
            raise ParseError(f"expected OPTION=VALUE, got {word!r}", line.strip(),
                             "the version comes right after the name, options are "
                             "key=value without spaces", column)
        if not OPTION_NAME.fullmatch(key):
            raise ParseError(f"invalid option name {key!r}", line.strip(),
                             "option names are letters, digits, '_', '.', '-'", column)
        if not value:
            raise ParseError(f"option {key!r} has an empty value", line.strip(),
                             f"write {key}=VALUE or drop the option", column)
        if key in options:
            raise ParseError(f"option {key!r} given twice", line.strip(), None, column)
        options[key] = value
    return Capability(name, version, options)
