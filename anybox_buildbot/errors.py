"""Configuration errors that point at the user's text.

Every user-input mistake becomes one message naming the file, the line (and
the column when it helps), the offending text and what would be valid.
Messages are collected, never raised one by one, so that a single
``checkconfig`` run shows every problem of every file.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable
from dataclasses import dataclass

from buildbot.config.errors import ConfigErrors


@dataclass(frozen=True, slots=True)
class Location:
    """Where a piece of configuration text comes from."""

    file: str
    line: int = 0
    column: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def at_column(self, column: int) -> Location:
        return Location(self.file, self.line, column)


class ConfigError(ConfigErrors):
    """All mistakes found in the manifests and worker files, in one exception.

    Subclassing Buildbot's ``ConfigErrors`` makes ``buildbot checkconfig`` and
    a failed reconfig print the list cleanly (and keep the running config).
    ``errors`` is the list of messages.
    """

    def __init__(self, errors: Iterable[str] = ()) -> None:
        super().__init__(list(errors))

    def __str__(self) -> str:
        return "\n".join(self.errors)


def _quote(text: str, limit: int = 200) -> str:
    """Quote user text, shortened so a 10 MB line cannot flood the log."""
    if len(text) > limit:
        text = text[:limit] + f"... ({len(text)} characters)"
    return repr(text)


def _shorten(text: str, limit: int = 1000) -> str:
    """Cap a subject, problem or hint: they may embed user text (a 10 MB name).

    Head and tail are kept: the words after an embedded name still tell
    what is wrong.
    """
    if len(text) > limit:
        text = f"{text[:limit * 2 // 3]}... ({len(text)} characters) ...{text[-limit // 3:]}"
    return text


def format_message(
    location: Location | None,
    problem: str,
    text: str | None = None,
    hint: str | None = None,
    subject: str | None = None,
) -> str:
    """Build the one-line message format used everywhere.

    ``FILE:LINE: SUBJECT: PROBLEM at column C: 'TEXT' (HINT)``
    """
    parts = []
    if location is not None:
        parts.append(str(location))
    if subject:
        parts.append(_shorten(subject))
    head = ": ".join(parts)
    body = _shorten(problem)
    if location is not None and location.column is not None:
        body += f" at column {location.column}"
    if text is not None:
        body += f": {_quote(text)}"
    if hint:
        body += f" ({_shorten(hint)})"
    return f"{head}: {body}" if head else body


class ParseError(Exception):
    """Raised by the pure parsers for one bad piece of text.

    Callers that process many lines catch it and add it to an ``Errors``
    collector with the location they know; it never escapes the public API.
    """

    def __init__(self, problem: str, text: str | None = None, hint: str | None = None,
                 column: int | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.text = text
        self.hint = hint
        self.column = column

    def render(self, location: Location | None, subject: str | None = None) -> str:
        if location is not None and self.column is not None:
            location = location.at_column(self.column)
        return format_message(location, self.problem, self.text, self.hint, subject)


class Errors:
    """Collects messages while parsing; raises them all at once."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, location: Location | None, problem: str, text: str | None = None,
            hint: str | None = None, subject: str | None = None) -> None:
        self.messages.append(format_message(location, problem, text, hint, subject))

    def add_parse_error(self, exc: ParseError, location: Location | None,
                        subject: str | None = None) -> None:
        self.messages.append(exc.render(location, subject))

    def extend(self, other: Errors | ConfigErrors) -> None:
        self.messages.extend(other.messages if isinstance(other, Errors) else other.errors)

    def __bool__(self) -> bool:
        return bool(self.messages)

    def raise_if_any(self) -> None:
        if self.messages:
            raise ConfigError(self.messages)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A hint naming the closest valid choice, or listing them all."""
    choices = tuple(sorted(choices))
    # At cutoff 0.6 a word over 2.33 times the longest choice cannot match;
    # skipping difflib then keeps a 10 MB word from costing seconds.
    if len(word) <= 3 * max(map(len, choices), default=0):
        close = _closest(word, choices)
        if close is not None:
            return f"did you mean {close!r}?"
    return "valid: " + ", ".join(choices)


@functools.lru_cache(maxsize=256)
def _closest(word: str, choices: tuple[str, ...]) -> str | None:
    """Cached: one typo in ``[DEFAULT]`` is reported for every section."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return close[0] if close else None
