"""Typed, checked access to a step set's ``NAME.OPTION`` values.

Shared by the built-in step sets and offered to plugin authors: every bad
value becomes one message at its manifest line (through
``StepContext.option_error``) while the other options are still checked,
so all errors come in one pass.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Collection, Mapping

from ..errors import did_you_mean
from ..manifest import parse_boolean
from . import StepContext


class OptionReader:
    """Typed access to one step set's ``NAME.OPTION`` values.

    Why a class: every step set needs the same checks (quotes balanced, a
    number is a number, a path does not start with ``-`` where a program
    would take it for an option), and every bad value must become one
    message at its manifest line while the remaining options are still
    checked (all errors in one pass). A bad value is reported through
    ``context.option_error`` and the getter returns the default, so the
    step set can go on building its (discarded) steps.
    """

    def __init__(self, stepset: str, options: Mapping[str, str], context: StepContext) -> None:
        self.stepset = stepset
        self.options = options
        self.context = context

    def error(self, option: str, problem: str, text: str | None = None,
              hint: str | None = None) -> None:
        self.context.option_error(self.stepset, option, problem, text, hint)

    def raw(self, option: str) -> str | None:
        value = self.options.get(option)
        return None if value is None else value.strip()

    def text(self, option: str, default: str | None = None) -> str | None:
        """One non-empty line."""
        value = self.raw(option)
        if value is None:
            return default
        if not value:
            self.error(option, "empty value", hint=f"remove {self.stepset}.{option} or "
                       "give a value")
            return default
        if "\n" in value:
            self.error(option, "expected a single line", value,
                       hint="this option takes one value")
            return default
        return value

    def argv(self, option: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        """Words split like a POSIX shell would (all lines together)."""
        value = self.raw(option)
        if value is None:
            return default
        try:
            return tuple(shlex.split(value))
        except ValueError as exc:
            self.error(option, f"cannot split into arguments: {exc}", value,
                       hint="balance the quotes")
            return default

    def command(self, option: str, default: tuple[str, ...]) -> tuple[str, ...]:
        """A program and its first arguments; never empty."""
        words = self.argv(option, default)
        if not words:
            self.error(option, "empty command", self.raw(option) or None,
                       hint=f"e.g. {self.stepset}.{option} = {shlex.join(default)}")
            return default
        return words

    def commands(self, option: str) -> tuple[tuple[str, ...], ...]:
        """One command per line, each split on its own."""
        value = self.raw(option)
        if value is None:
            return ()
        result = []
        for line in value.splitlines():
            line = line.strip()
            if not line:
                continue
            try:
                words = tuple(shlex.split(line))
            except ValueError as exc:
                self.error(option, f"cannot split into arguments: {exc}", line,
                           hint="balance the quotes; one command per line")
                continue
            if words:
                result.append(words)
        return tuple(result)

    def _is_option_like(self, option: str, path: str) -> bool:
        """Paths go to programs after their options: one starting with ``-``
        would be read as an option (e.g. ``--config=``)."""
        if not path.startswith("-"):
            return False
        self.error(option, "a path may not start with '-'", path,
                   hint="write ./" + path + " for a file of that name")
        return True

    def paths(self, option: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        """Paths given to a program after its options."""
        words = self.argv(option, default)
        return default if any(self._is_option_like(option, w) for w in words) else words

    def path(self, option: str, default: str) -> str:
        """One path (see :meth:`paths`)."""
        value = self.text(option)
        if value is None or self._is_option_like(option, value):
            return default
        return value

    def relative_dir(self, option: str, default: str) -> str:
        """A folder inside the buildout's folder: we empty or replace it,
        so it may not be absolute nor climb out with ``..``."""
        value = self.text(option)
        if value is None:
            return default
        normalized = posixpath.normpath(value)
        if value.startswith(("/", "-")) or ".." in value.split("/") or normalized == ".":
            self.error(option, "expected a folder inside the buildout's folder", value,
                       hint=f"a relative path without '..', e.g. {default}")
            return default
        return normalized

    def boolean(self, option: str, default: bool) -> bool:
        value = self.text(option)
        if value is None:
            return default
        parsed = parse_boolean(value)
        if parsed is not None:
            return parsed
        self.error(option, "expected true or false", value)
        return default

    def integer(self, option: str, default: int | None, minimum: int = 0) -> int | None:
        value = self.text(option)
        if value is None:
            return default
        # ASCII digits only: '²'.isdigit() is true and int() refuses it.
        if not (value.isascii() and value.isdigit()) or int(value) < minimum:
            self.error(option, f"expected a whole number >= {minimum}", value)
            return default
        return int(value)

    def choice(self, option: str, choices: Collection[str], default: str) -> str:
        value = self.text(option)
        if value is None:
            return default
        if value not in choices:
            self.error(option, f"unknown {option}", value, hint=did_you_mean(value, choices))
            return default
        return value

    def words(self, option: str, pattern: re.Pattern[str], what: str,
              example: str) -> tuple[str, ...]:
        """Whitespace-separated names, each matching ``pattern``."""
        value = self.raw(option)
        if value is None:
            return ()
        names = tuple(value.split())
        for name in names:
            if not pattern.fullmatch(name):
                self.error(option, f"invalid {what}", name, hint=f"e.g. {example}")
                return ()
        return names
