"""``OptionReader``: typed getters for step sets that declare no schema.

Kept for plugins written before schemas: such a step set receives its
``NAME.OPTION`` values as written and may read them with these getters,
which apply the same types as a schema (:mod:`..stepoptions`) and report a
bad value at its manifest line through ``StepContext.option_error``,
giving the default back. A step set declaring a ``schema`` gets its values
parsed, and its errors reported, when the manifest is loaded: prefer that.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from ..rules import RuleError
from ..stepoptions import (
    Arguments,
    Boolean,
    Choice,
    Command,
    Commands,
    Folder,
    Names,
    Number,
    Option,
    OptionKey,
    OptionType,
    Paths,
    SinglePath,
    Text,
)
from . import StepContext


class OptionReader:
    """Typed access to one step set's raw ``NAME.OPTION`` values."""

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

    def _read(self, option: str, kind: OptionType, default: Any) -> Any:
        value = self.options.get(option)
        if value is None:
            return default
        try:
            return kind.parse(value, OptionKey(self.stepset, Option(option, kind, default)))
        except RuleError as exc:
            self.error(option, exc.problem, exc.text or value.strip() or None, exc.hint)
            return default

    def text(self, option: str, default: str | None = None) -> str | None:
        return self._read(option, Text(), default)

    def argv(self, option: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        return self._read(option, Arguments(), default)

    def command(self, option: str, default: tuple[str, ...]) -> tuple[str, ...]:
        return self._read(option, Command(), default)

    def commands(self, option: str) -> tuple[tuple[str, ...], ...]:
        return self._read(option, Commands(), ())

    def paths(self, option: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        return self._read(option, Paths(), default)

    def path(self, option: str, default: str) -> str:
        return self._read(option, SinglePath(), default)

    def relative_dir(self, option: str, default: str) -> str:
        return self._read(option, Folder(), default)

    def boolean(self, option: str, default: bool) -> bool:
        return self._read(option, Boolean(), default)

    def integer(self, option: str, default: int | None, minimum: int = 0) -> int | None:
        return self._read(option, Number(minimum=minimum), default)

    def choice(self, option: str, choices: Collection[str], default: str) -> str:
        return self._read(option, Choice(*choices), default)

    def words(self, option: str, pattern: re.Pattern[str], what: str,
              example: str) -> tuple[str, ...]:
        return self._read(option, Names(pattern, what, f"e.g. {example}"), ())
