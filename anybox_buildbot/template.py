"""Environment templates: ``WithProperties`` syntax plus ``cap(OPTION)``.

``%(KEY)s``, ``%(KEY:-DEFAULT)s`` (default when missing or empty),
``%(KEY:~DEFAULT)s`` (same), ``%(KEY:+ALT)s`` (ALT when set) and ``%%``.
KEY is a build property name, or ``cap(OPT)`` for an option of the
capability instance chosen for the build. ``prop:NAME`` is the same as
``NAME``: it is how Buildbot's ``Interpolate`` names a property, so
``%(prop:testing_db)s`` works as users write it.

Templates are parsed once on the master at configuration time (so a typo
is a ``ConfigError``) and rendered at build time with plain dict lookups:
the registry's and the manifest's ``env.VAR`` by the capability step, or,
when the build has a database, by the ``testing-db`` step once it is
named; ``buildout-options`` values when ``bin/buildout`` starts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .errors import ParseError

_PART = re.compile(
    r"""
    %%                                           # literal percent
  | %\(                                          # %( key [:op arg] )s
      (?P<key>cap\([A-Za-z_][A-Za-z0-9_.-]*\)    #   cap(port)
            |(?:prop:)?                          #   or a property name, with
             [A-Za-z_][A-Za-z0-9_.-]*)           #   Interpolate's prefix or not
      (?::(?P<op>[-~+])(?P<arg>[^)]*))?
    \)s
    """,
    re.VERBOSE,
)
_HINT = ("write %(cap(port))s, %(cap(port):-5432)s, %(prop:name)s, %(name)s or %% for "
         "a percent sign")


@dataclass(frozen=True, slots=True)
class Ref:
    key: str          # property name, or the option inside cap(...)
    is_cap: bool
    op: str | None
    arg: str


Part = str | Ref


@dataclass(frozen=True, slots=True)
class Template:
    text: str
    parts: tuple[Part, ...]

    @property
    def properties(self) -> tuple[str, ...]:
        """The build properties the template reads."""
        return tuple(p.key for p in self.parts if isinstance(p, Ref) and not p.is_cap)

    @property
    def is_literal(self) -> bool:
        """Whether it renders to the same text in every build."""
        return not any(isinstance(p, Ref) for p in self.parts)

    @property
    def cap_options(self) -> tuple[str, ...]:
        return tuple(p.key for p in self.parts if isinstance(p, Ref) and p.is_cap)

    def render(self, cap_option: Callable[[str], str | None],
               prop: Callable[[str], object]) -> str:
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            raw = cap_option(part.key) if part.is_cap else prop(part.key)
            value = "" if raw is None else str(raw)
            if part.op in ("-", "~"):
                out.append(value if value else part.arg)
            elif part.op == "+":
                out.append(part.arg if value else "")
            else:
                out.append(value)
        return "".join(out)


def parse_template(text: str) -> Template:
    """Split a template into literal text and references; raise on bad syntax."""
    parts: list[Part] = []
    pos = 0
    literal = []
    while True:
        index = text.find("%", pos)
        if index < 0:
            literal.append(text[pos:])
            break
        literal.append(text[pos:index])
        match = _PART.match(text, index)
        if not match:
            raise ParseError("malformed %(...)s reference", text, _HINT, index + 1)
        if match.group() == "%%":
            literal.append("%")
        else:
            if any(literal):
                parts.append("".join(literal))
            literal = []
            key = match["key"]
            is_cap = key.startswith("cap(")
            key = key[4:-1] if is_cap else key.removeprefix("prop:")
            parts.append(Ref(key, is_cap, match["op"],
                             match["arg"] or ""))
        pos = match.end()
    tail = "".join(literal)
    if tail:
        parts.append(tail)
    return Template(text, tuple(parts))
