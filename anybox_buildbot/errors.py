"""Configuration errors that point at the user's text.

Every user-input mistake becomes one message naming the file, the line (and
the column when it helps), the offending text and what would be valid.
Messages are collected, never raised one by one, so that a single
``checkconfig`` run shows every problem of every file -- up to a bound: a
file of pasted log lines gives one error per line, and hundreds of
thousands of them would flood the master's log and the admin's terminal.
So a load keeps and shows the first ``MAX_ERRORS_SHOWN`` messages and only
counts the others, per file, for one closing summary line.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from buildbot.config.errors import ConfigErrors

#: Messages kept and shown per load (``checkconfig``, a failed reconfig in
#: twistd.log, ``anybox-buildbot check``); the rest are counted per file.
MAX_ERRORS_SHOWN = 50
#: Files named one by one in the summary line; the others are summed up.
MAX_FILES_SUMMARISED = 10
_ELSEWHERE = ""   # file key of the messages that came without a location
_SUMMARY = re.compile(r"\.\.\. and (\d+) more errors?: ")


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
    ``errors`` is the list of messages shown: at most ``MAX_ERRORS_SHOWN``,
    then, when there were more, one line ``... and N more errors: X in
    FILE, ...``. ``total`` is the number of errors found; ``more`` counts
    those not shown, per file (``""``: without a file).
    """

    def __init__(self, errors: Iterable[str] = (), total: int | None = None,
                 more: Mapping[str, int] | None = None) -> None:
        shown: list[str] = []
        counted: Counter[str] = Counter(more or {})
        for message in errors:     # bounded even when built from a long list
            if len(shown) < MAX_ERRORS_SHOWN:
                shown.append(message)
            else:
                counted[_ELSEWHERE] += 1
        self.more: dict[str, int] = {k: n for k, n in counted.items() if n}
        self.total = max(total or 0, len(shown) + sum(self.more.values()))
        super().__init__(shown + ([summary_line(self.more)] if self.more else []))

    def __str__(self) -> str:
        return "\n".join(self.errors)


def summary_line(more: Mapping[str, int]) -> str:
    """``... and N more errors: X in FILE1, Y in FILE2`` (biggest first)."""
    ranked = sorted(((n, file) for file, n in more.items() if file != _ELSEWHERE and n),
                    key=lambda item: -item[0])   # stable: ties keep first-seen order
    parts = [f"{n} in {file}" for n, file in ranked[:MAX_FILES_SUMMARISED]]
    rest = ranked[MAX_FILES_SUMMARISED:]
    if rest:
        parts.append(f"{sum(n for n, _ in rest)} in {len(rest)} other files")
    if more.get(_ELSEWHERE):
        parts.append(f"{more[_ELSEWHERE]} elsewhere")
    total = sum(more.values())
    return f"... and {total} more error{'s' if total != 1 else ''}: " + ", ".join(parts)


def count_errors(messages: Sequence[str]) -> int:
    """How many errors a list of shown messages stands for.

    Buildbot copies our messages into a plain ``ConfigErrors`` (losing
    ``total``); the closing summary line still tells how many were not shown.
    """
    if messages:
        match = _SUMMARY.match(messages[-1])
        if match:
            return len(messages) - 1 + int(match[1])
    return len(messages)


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
    """Collects messages while parsing; raises them all at once.

    Only the first ``MAX_ERRORS_SHOWN`` are formatted and kept; later ones
    are counted per file. ``count`` is the number of errors added: parsers
    compare it before and after a piece of input to know whether that piece
    was valid (the number of kept messages stops growing at the bound).
    """

    def __init__(self) -> None:
        self._kept: list[tuple[str, str]] = []    # (file, message)
        self._more: Counter[str] = Counter()      # file -> errors not kept
        self.count = 0

    @property
    def messages(self) -> list[str]:
        """The messages kept, in the order found (at most MAX_ERRORS_SHOWN)."""
        return [message for _, message in self._kept]

    def _keeps(self, file: str) -> bool:
        """Count one more error; True when its message is to be kept."""
        self.count += 1
        if len(self._kept) < MAX_ERRORS_SHOWN:
            return True
        self._more[file] += 1
        return False

    def add(self, location: Location | None, problem: str, text: str | None = None,
            hint: str | None = None, subject: str | None = None) -> None:
        file = location.file if location is not None else _ELSEWHERE
        if self._keeps(file):
            self._kept.append((file, format_message(location, problem, text, hint, subject)))

    def add_parse_error(self, exc: ParseError, location: Location | None,
                        subject: str | None = None) -> None:
        file = location.file if location is not None else _ELSEWHERE
        if self._keeps(file):
            self._kept.append((file, exc.render(location, subject)))

    def extend(self, other: Errors | ConfigErrors) -> None:
        """Add the errors of another collector or of a raised ``ConfigErrors``."""
        if isinstance(other, Errors):
            kept, more = other._kept, other._more
        else:
            shown = other.errors
            more = getattr(other, "more", None) or {}
            if more:
                shown = shown[:-1]     # its summary line: counted from ``more``
            kept = [(_ELSEWHERE, message) for message in shown]
        for file, message in kept:
            if self._keeps(file):
                self._kept.append((file, message))
        for file, n in more.items():
            self.count += n
            self._more[file] += n

    def __bool__(self) -> bool:
        return self.count > 0

    def report(self) -> list[str]:
        """The kept messages, then the summary line of the others if any."""
        lines = self.messages
        if self._more:
            lines.append(summary_line(self._more))
        return lines

    def raise_if_any(self) -> None:
        if self.count:
            raise ConfigError(self.messages, total=self.count, more=self._more)


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
