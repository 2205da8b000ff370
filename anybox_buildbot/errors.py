"""Configuration errors and warnings that point at the user's text.

Every user-input mistake becomes one message naming the file, the line
(and the column when it helps), the offending text and what would be
valid; with a column, two more lines show the text and a caret under the
offending part. Messages are collected, never raised one by one, so that
a single ``checkconfig`` run shows every problem of every file -- up to a
bound: a file of pasted log lines gives one error per line, and hundreds
of thousands of them would flood the master's log and the admin's
terminal. So a load keeps and shows the first ``MAX_ERRORS_SHOWN``
messages and only counts the others, per file, for one closing summary
line.

Warnings (a builder not created, a repository not polled, a bad auto-watch
report...) go through the same kind of collector, ``Warnings``: one channel
with locations, which ``check`` prints and the master logs once per load.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from buildbot.config.errors import ConfigErrors

#: Messages kept and shown per load (``checkconfig``, a failed reconfig in
#: twistd.log, ``anybox-buildbot check``); the rest are counted per file.
MAX_ERRORS_SHOWN = 50
#: Warnings kept, logged and shown per load; the rest are counted per file.
MAX_WARNINGS_SHOWN = 50
#: Files named one by one in the summary line; the others are summed up.
MAX_FILES_SUMMARISED = 10
#: Longest text shown again above a caret; a longer one is only quoted.
MAX_CARET_TEXT = 200
_ELSEWHERE = ""   # file key of the messages that came without a location
_SUMMARY = re.compile(r"\.\.\. and (\d+) more (?:errors?|warnings?): ")
_CARET_INDENT = "    "


@dataclass(frozen=True, slots=True)
class Location:
    """Where a piece of configuration text comes from.

    ``column`` (1-based) counts in the option's value as the message quotes
    it, not in the raw file line.
    """

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


def summary_line(more: Mapping[str, int], noun: str = "error") -> str:
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
    return f"... and {total} more {noun}{'s' if total != 1 else ''}: " + ", ".join(parts)


def count_errors(messages: Sequence[str]) -> int:
    """How many errors (or warnings) a list of shown messages stands for.

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


def _one_cell_each(text: str) -> bool:
    """True when every character takes one terminal cell: a caret placed
    by counting characters then stands under the right one."""
    if not text.isprintable():          # tabs, control characters, line separators
        return False
    return text.isascii() or all(
        not unicodedata.combining(ch) and unicodedata.east_asian_width(ch) not in "WF"
        for ch in text)


def caret_lines(text: str, column: int) -> list[str]:
    """The text and a caret under its ``column`` (1-based), when they fit.

    Nothing when the text is long, spans lines or holds characters that are
    not one cell wide: the column in the first line still says where.
    """
    if len(text) > MAX_CARET_TEXT or not 1 <= column <= len(text) + 1 \
            or not _one_cell_each(text):
        return []
    return [_CARET_INDENT + text, _CARET_INDENT + " " * (column - 1) + "^"]


def format_message(
    location: Location | None,
    problem: str,
    text: str | None = None,
    hint: str | None = None,
    subject: str | None = None,
    carets: bool = True,
) -> str:
    """Build the message format used everywhere.

    ``FILE:LINE: SUBJECT: PROBLEM at column C: 'TEXT' (HINT)``, then, when
    the column is known (and ``carets``), the text again and a caret line.
    """
    parts = []
    if location is not None:
        parts.append(str(location))
    if subject:
        parts.append(_shorten(subject))
    head = ": ".join(parts)
    body = _shorten(problem)
    column = location.column if location is not None else None
    if column is not None:
        body += f" at column {column}"
    if text is not None:
        body += f": {_quote(text)}"
    if hint:
        body += f" ({_shorten(hint)})"
    message = f"{head}: {body}" if head else body
    if carets and column is not None and text is not None:
        message = "\n".join([message, *caret_lines(text, column)])
    return message


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One error or warning: where, what, the offending text and a hint.

    Kept as values until shown, so a collector can regroup them (one
    report for a line several sections inherit) and a warning can become
    an error (``check --strict``). ``category`` sorts warnings
    (``not-created``, ``fan-out``, ``capability``, ``polling``,
    ``auto-watch``, ``plugin``, ``deprecation``); errors leave it empty.
    """

    location: Location | None
    problem: str
    text: str | None = None
    hint: str | None = None
    subject: str | None = None
    category: str = ""

    @property
    def file(self) -> str:
        return self.location.file if self.location is not None else _ELSEWHERE

    def render(self, carets: bool = True) -> str:
        return format_message(self.location, self.problem, self.text, self.hint,
                              self.subject, carets)


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

    def diagnostic(self, location: Location | None, subject: str | None = None) -> Diagnostic:
        if location is not None and self.column is not None:
            location = location.at_column(self.column)
        return Diagnostic(location, self.problem, self.text, self.hint, subject)

    def render(self, location: Location | None, subject: str | None = None) -> str:
        return self.diagnostic(location, subject).render()


class _Collector:
    """Bounded list of diagnostics: the first ``limit`` kept, the rest counted.

    ``count`` is the number of diagnostics added: parsers compare it before
    and after a piece of input to know whether that piece was valid (the
    number kept stops growing at the bound).
    """

    noun = "error"

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._kept: list[Diagnostic | str] = []   # a str: a message made elsewhere
        self._more: Counter[str] = Counter()      # file -> diagnostics not kept
        self.count = 0

    def put(self, diagnostic: Diagnostic) -> None:
        """Add one diagnostic (every ``add`` comes here)."""
        self._keep(diagnostic.file, diagnostic)

    def _keep(self, file: str, item: Diagnostic | str) -> None:
        self.count += 1
        if len(self._kept) < self._limit:
            self._kept.append(item)
        else:
            self._more[file] += 1

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """The diagnostics kept, in the order found (not the preformatted ones)."""
        return [item for item in self._kept if isinstance(item, Diagnostic)]

    @property
    def messages(self) -> list[str]:
        """The messages kept, in the order found (at most the bound)."""
        return [item.render() if isinstance(item, Diagnostic) else item
                for item in self._kept]

    def __bool__(self) -> bool:
        return self.count > 0

    def report(self) -> list[str]:
        """The kept messages, then the summary line of the others if any."""
        lines = self.messages
        if self._more:
            lines.append(summary_line(self._more, self.noun))
        return lines


class Errors(_Collector):
    """Collects error messages while parsing; raises them all at once.

    Only the first ``MAX_ERRORS_SHOWN`` are kept (as ``Diagnostic`` values,
    formatted when shown); later ones are counted per file.
    """

    def __init__(self) -> None:
        super().__init__(MAX_ERRORS_SHOWN)

    def add(self, location: Location | None, problem: str, text: str | None = None,
            hint: str | None = None, subject: str | None = None) -> None:
        self.put(Diagnostic(location, problem, text, hint, subject))

    def add_parse_error(self, exc: ParseError, location: Location | None,
                        subject: str | None = None) -> None:
        self.put(exc.diagnostic(location, subject))

    def extend(self, other: Errors | ConfigErrors) -> None:
        """Add the errors of another collector or of a raised ``ConfigErrors``."""
        if isinstance(other, Errors):
            for item in other._kept:
                if isinstance(item, Diagnostic):
                    self.put(item)
                else:
                    self._keep(_ELSEWHERE, item)
            more: Mapping[str, int] = other._more
        else:
            shown = other.errors
            more = getattr(other, "more", None) or {}
            if more:
                shown = shown[:-1]     # its summary line: counted from ``more``
            for message in shown:
                self._keep(_ELSEWHERE, message)
        for file, n in more.items():
            self.count += n
            self._more[file] += n

    def raise_if_any(self) -> None:
        if self.count:
            raise ConfigError(self.messages, total=self.count, more=self._more)


class Warnings(_Collector):
    """The one warnings channel of a load, with locations.

    The same warning added twice (two stages computing it, several
    sections inheriting one line) counts once. ``pending()`` gives the
    lines not yet logged, so the master logs each warning once per load
    however many public ``make_*`` methods ran.
    """

    noun = "warning"

    def __init__(self) -> None:
        super().__init__(MAX_WARNINGS_SHOWN)
        self._seen: set[Diagnostic] = set()
        self._logged = 0
        self._more_logged = 0

    def add(self, location: Location | None, problem: str, text: str | None = None,
            hint: str | None = None, subject: str | None = None,
            category: str = "") -> None:
        self.put(Diagnostic(location, problem, text, hint, subject, category))

    def put(self, diagnostic: Diagnostic) -> None:
        if diagnostic in self._seen:
            return
        self._seen.add(diagnostic)
        super().put(diagnostic)

    def pending(self) -> list[str]:
        """Lines not yet given by an earlier call: new warnings, then how
        many new ones were only counted."""
        lines = [item.render() if isinstance(item, Diagnostic) else item
                 for item in self._kept[self._logged:]]
        self._logged = len(self._kept)
        more = sum(self._more.values())
        if more > self._more_logged:
            lines.append(f"... and {more - self._more_logged} more warning"
                         f"{'s' if more - self._more_logged != 1 else ''}")
            self._more_logged = more
        return lines

    def log(self, emit: Callable[[str], None]) -> None:
        """Give each pending warning to ``emit`` (``twisted.python.log.msg``)."""
        for line in self.pending():
            emit(f"anybox_buildbot: WARNING: {line}")


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A hint naming the closest valid choice, or listing them all."""
    choices = tuple(sorted(choices))
    close = closest(word, choices)
    if close is not None:
        return f"did you mean {close!r}?"
    return "valid: " + ", ".join(choices)


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The valid choice closest to ``word``, if one is close enough."""
    choices = tuple(sorted(choices))
    # At cutoff 0.6 a word over 2.33 times the longest choice cannot match;
    # skipping difflib then keeps a 10 MB word from costing seconds.
    if len(word) > 3 * max(map(len, choices), default=0):
        return None
    return _closest(word, choices)


@functools.lru_cache(maxsize=256)
def _closest(word: str, choices: tuple[str, ...]) -> str | None:
    """Cached: one typo in ``[DEFAULT]`` is checked for every section."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return close[0] if close else None
