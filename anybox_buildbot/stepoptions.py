"""Step-set option schemas: what each ``NAME.OPTION`` of a manifest may be.

A step set declares its options once, as a :class:`Schema` of
:class:`Option` (name, type, default, check), in a ``schema`` attribute of
the step-set callable; built-in step sets and plugins do it the same way::

    flake8.schema = Schema(
        Option("paths", Paths(), default=("src",)),
        Option("max-line-length", Number(minimum=40), check=...),
    )

The manifest loader applies the schemas (:mod:`.steploading`): every value
is parsed there, at its manifest line, into a frozen :class:`StepOptions`
of the buildout's spec, and the step set receives typed values (a tuple of
arguments, an ``int``, a ``bool``); nothing parses option text while steps
are built. Types raise :class:`~.rules.RuleError`; a schema-level ``check``
sees all the values and the buildout and returns :class:`Problem` values
(an option that needs another, a step set that needs a git buildout).

This module owns the types, the declarations, the parsed values and
:func:`schema_of`; it imports nothing from Buildbot, so the parsing layer
can use it. What the loader knows of each step set (its schema, where it
comes from) is :class:`.steploading.StepSetInfo`.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import Location, did_you_mean
from .rules import RuleError, boolean, split_arguments, split_list, whole_number

#: ``Option.default`` of an option left out of the values when not given
#: (step sets that declare names only get the options as written, as before
#: schemas existed).
OMIT: Any = type("Omit", (), {"__repr__": lambda self: "OMIT"})()


@dataclass(frozen=True, slots=True)
class OptionKey:
    """Which option a value belongs to, for types that word their hints."""

    stepset: str
    option: Option

    def __str__(self) -> str:
        return f"{self.stepset}.{self.option.name}"


class OptionType(Protocol):
    """Parses the text of one option; raises ``RuleError`` if it is wrong."""

    def parse(self, text: str, key: OptionKey) -> Any: ...


# --------------------------------------------------------------------------- #
# types
# --------------------------------------------------------------------------- #

@dataclass(frozen=True)
class Raw:
    """The text as written, continuation lines joined by newlines."""

    def parse(self, text: str, key: OptionKey) -> str:
        return text


@dataclass(frozen=True)
class Text:
    """One non-empty line."""

    def parse(self, text: str, key: OptionKey) -> str:
        value = text.strip()
        if not value:
            raise RuleError("empty value", hint=f"remove {key} or give a value")
        if "\n" in value:
            raise RuleError("expected a single line", hint="this option takes one value")
        return value


@dataclass(frozen=True)
class Arguments:
    """Words split like a POSIX shell would (all lines together): a tuple."""

    def parse(self, text: str, key: OptionKey) -> tuple[str, ...]:
        return split_arguments(text)


@dataclass(frozen=True)
class Command(Arguments):
    """A program and its first arguments; never empty. ``example`` is shown
    when it is (else the default)."""

    example: str | None = None

    def parse(self, text: str, key: OptionKey) -> tuple[str, ...]:
        words = super().parse(text, key)
        if not words:
            example = self.example or shlex.join(key.option.default or ("PROGRAM",))
            raise RuleError("empty command", hint=f"e.g. {key} = {example}")
        return words


@dataclass(frozen=True)
class Commands:
    """One command per line, each split on its own: a tuple of tuples."""

    def parse(self, text: str, key: OptionKey) -> tuple[tuple[str, ...], ...]:
        result = []
        for line in text.splitlines():
            try:
                words = split_arguments(line.strip())
            except RuleError as exc:
                raise RuleError(exc.problem, "balance the quotes; one command per line",
                                text=line.strip()) from None
            if words:
                result.append(words)
        if not result:
            raise RuleError("no command given", hint=f"one command per line, e.g. {key} = "
                            "bin/test-functional -v")
        return tuple(result)


def _not_option_like(word: str) -> str:
    """Paths go to programs after their options: one starting with ``-``
    would be read as an option (``--config=...``)."""
    if word.startswith("-"):
        raise RuleError("a path may not start with '-'", text=word,
                        hint=f"write ./{word} for a file of that name")
    return word


@dataclass(frozen=True)
class Paths(Arguments):
    """Paths given to a program after its options: a tuple."""

    def parse(self, text: str, key: OptionKey) -> tuple[str, ...]:
        return tuple(_not_option_like(word) for word in super().parse(text, key))


@dataclass(frozen=True)
class SinglePath(Text):
    """One path given to a program after its options."""

    def parse(self, text: str, key: OptionKey) -> str:
        return _not_option_like(super().parse(text, key))


@dataclass(frozen=True)
class Folder(Text):
    """A folder inside the buildout's folder (we empty or replace it): not
    absolute, no ``..``; given back normalised."""

    def parse(self, text: str, key: OptionKey) -> str:
        value = super().parse(text, key)
        normalized = posixpath.normpath(value)
        if value.startswith(("/", "-")) or ".." in value.split("/") or normalized == ".":
            raise RuleError("expected a folder inside the buildout's folder",
                            hint=f"a relative path without '..', e.g. {key.option.default}")
        return normalized


@dataclass(frozen=True)
class Boolean(Text):
    """``true/yes/on/1`` or ``false/no/off/0``."""

    def parse(self, text: str, key: OptionKey) -> bool:
        return boolean(super().parse(text, key))


@dataclass(frozen=True)
class Number(Text):
    """A whole number (ASCII digits) between ``minimum`` and ``maximum``."""

    minimum: int = 0
    maximum: int | None = None
    what: str = "a whole number"

    def parse(self, text: str, key: OptionKey) -> int:
        return whole_number(super().parse(text, key), what=self.what, minimum=self.minimum,
                            maximum=self.maximum)


@dataclass(frozen=True, init=False)
class Choice(Text):
    """One of the given words."""

    choices: tuple[str, ...]

    def __init__(self, *choices: str) -> None:
        object.__setattr__(self, "choices", choices)

    def parse(self, text: str, key: OptionKey) -> str:
        value = super().parse(text, key)
        if value not in self.choices:
            raise RuleError(f"unknown {key.option.name}", hint=did_you_mean(value, self.choices))
        return value


@dataclass(frozen=True)
class Names:
    """Names separated by commas and/or white space, each matching
    ``pattern``: a tuple without repeats, never empty."""

    pattern: re.Pattern[str]
    what: str            # 'buildout part name'
    hint: str            # 'e.g. functional.parts = selenium-driver'

    def parse(self, text: str, key: OptionKey) -> tuple[str, ...]:
        names = tuple(dict.fromkeys(split_list(text)))
        if not names:
            raise RuleError(f"no {self.what}", hint=self.hint)
        for name in names:
            if not self.pattern.fullmatch(name):
                raise RuleError(f"invalid {self.what}", text=name, hint=self.hint)
        return names


# --------------------------------------------------------------------------- #
# declarations
# --------------------------------------------------------------------------- #

@dataclass(frozen=True)
class Option:
    """One ``NAME.OPTION`` a step set takes.

    ``type`` parses the text; ``default`` is the value when the option is
    not given (``OMIT``: then it is left out); ``required`` makes its
    absence an error; ``check(value)`` returns a problem (a str) or None;
    ``hint`` is an example shown with the errors of this option.
    """

    name: str
    type: OptionType = Text()
    default: Any = None
    required: bool = False
    check: Callable[[Any], str | None] | None = None
    hint: str | None = None
    doc: str = ""


@dataclass(frozen=True)
class Problem:
    """What a schema-level check found: at ``option``'s line (None: the
    line naming the step set, or ``location`` when given)."""

    problem: str
    option: str | None = None
    text: str | None = None
    hint: str | None = None
    location: Location | None = None


#: ``check(values, buildout)`` of a schema: the buildout is the parsed
#: ``BuildoutSpec`` (without its step-set options).
SchemaCheck = Callable[["StepOptions", Any], Iterable[Problem]]


@dataclass(frozen=True, init=False)
class Schema:
    """The options of one step set, and an optional check of them together.

    ``open=True``: any option is accepted, as written (a step set that
    declares nothing).
    """

    options: tuple[Option, ...]
    check: SchemaCheck | None
    open: bool

    def __init__(self, *options: Option, check: SchemaCheck | None = None,
                 open: bool = False) -> None:  # noqa: A002 - the natural word
        for option in options:
            if not isinstance(option, Option):
                raise TypeError(f"Schema takes Option values, not {type(option).__name__}")
        object.__setattr__(self, "options", options)
        object.__setattr__(self, "check", check)
        object.__setattr__(self, "open", open)

    @classmethod
    def of_names(cls, names: Collection[str]) -> Schema:
        """Names only (the older ``options = frozenset(...)`` attribute):
        values as written, and only those given."""
        return cls(*(Option(name, Raw(), default=OMIT) for name in sorted(names)))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(option.name for option in self.options)

    def get(self, name: str) -> Option | None:
        return next((option for option in self.options if option.name == name), None)

    def defaults(self) -> StepOptions:
        """The values when no option is given (required ones aside)."""
        return StepOptions({o.name: o.default for o in self.options if o.default is not OMIT})


OPEN = Schema(open=True)


def schema_of(step_set: object) -> Schema:
    """The schema a step-set callable declares.

    Its ``schema`` attribute; else its ``options`` attribute (a set of
    names, values kept as written); else none: any option, as written.
    Raises ``TypeError`` for an attribute of another type.
    """
    schema = getattr(step_set, "schema", None)
    if schema is not None:
        if not isinstance(schema, Schema):
            raise TypeError(f"its 'schema' attribute is a {type(schema).__name__}, "
                            "not an anybox_buildbot.stepoptions.Schema")
        return schema
    names = getattr(step_set, "options", None)
    if names is None:
        return OPEN
    if isinstance(names, str | bytes) or not isinstance(names, Collection) \
            or not all(isinstance(n, str) for n in names):
        raise TypeError(f"its 'options' attribute is a {type(names).__name__}, not a set "
                        "of option names")
    return Schema.of_names(names)


class StepOptions(Mapping[str, Any]):
    """The parsed ``NAME.OPTION`` values of one step set for one buildout.

    Read-only. ``checked`` is False for values a loader kept as written
    without any schema (``load_manifests`` without step sets).
    """

    __slots__ = ("_values", "checked")

    def __init__(self, values: Mapping[str, Any] | None = None, checked: bool = True) -> None:
        self._values = dict(values or {})
        self.checked = checked

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"StepOptions({self._values!r})"


__all__ = ["OMIT", "OPEN", "Arguments", "Boolean", "Choice", "Command", "Commands", "Folder",
           "Names", "Number", "Option", "OptionKey", "OptionType", "Paths", "Problem", "Raw",
           "Schema", "SinglePath", "StepOptions", "Text", "schema_of"]
