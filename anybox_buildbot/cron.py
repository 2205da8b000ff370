"""``nightly = CRON``: a 5-field cron line parsed into a frozen ``Cron`` value.

Parsed once, when the manifest is read (so a typo is a ConfigError with its
line); the scheduler is then made from the value without reading text
again. Cron counts days of week from Sunday = 0 (7 too), Buildbot from
Monday = 0: days are converted while parsing, so ``Cron`` holds Buildbot's
numbering.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from .errors import ParseError

FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("dayOfMonth", 1, 31), ("month", 1, 12),
          ("dayOfWeek", 0, 7))
# ASCII digits only: int() would read '٣' (Arabic-Indic three) as 3.
_PART = re.compile(r"(?P<base>\*|\d+(?:-\d+)?)(?:/(?P<step>\d+))?", re.ASCII)
HINT = "minute hour day-of-month month day-of-week, e.g. '0 3 * * *' or '30 2 * * 1-5'"

#: One field's values, ascending; None for ``*`` (every value).
Values = tuple[int, ...] | None


@dataclass(frozen=True, slots=True)
class Cron:
    """A valid cron line: its canonical text (fields joined by one space)
    and the values of each field.

    Days of week are in Buildbot's numbering (Monday = 0).
    """

    text: str
    minute: Values
    hour: Values
    day_of_month: Values
    month: Values
    day_of_week: Values

    def nightly_kwargs(self) -> dict[str, object]:
        """Keyword arguments of Buildbot's ``schedulers.Nightly``: a plain
        number for one value (days of week: always a list), a list for
        several, ``"*"`` for every value."""
        result: dict[str, object] = {}
        for (name, _low, _high), values in zip(FIELDS, (
                self.minute, self.hour, self.day_of_month, self.month, self.day_of_week),
                strict=True):
            if values is None:
                result[name] = "*"
            elif len(values) == 1 and name != "dayOfWeek":   # days: a list, as ever
                result[name] = values[0]
            else:
                result[name] = list(values)
        return result

    def __str__(self) -> str:
        return self.text


def _expand(text: str, low: int, high: int) -> Values:
    """Values of one field, or None for a plain '*'."""
    if text == "*":
        return None
    values: set[int] = set()
    for part in text.split(","):
        match = _PART.fullmatch(part)
        if not match:
            raise ValueError(part)
        try:   # int() refuses over 4300 digits: then the field is bad, not the load
            step = int(match["step"] or 1)
            base = match["base"]
            if base == "*":
                start, stop = low, high
            else:
                first, _, last = base.partition("-")
                start = int(first)
                stop = int(last) if last else (high if match["step"] else start)
        except ValueError:
            raise ValueError(part) from None
        if not (low <= start <= high and low <= stop <= high) or start > stop or step < 1:
            raise ValueError(part)
        values.update(range(start, stop + 1, step))
    return tuple(sorted(values))


@functools.lru_cache(maxsize=1024)
def parse_cron(text: str) -> Cron:
    """Parse a 5-field cron line; raise ParseError (with a hint) if bad.

    Cached: a fleet's manifests repeat a few schedules, and a ``Cron`` is
    immutable.
    """
    fields = text.split()
    if len(fields) != 5:
        raise ParseError(f"expected a cron line of 5 fields, got {len(fields)}", text, HINT)
    parsed: list[Values] = []
    for index, (field_text, (name, low, high)) in enumerate(zip(fields, FIELDS, strict=True)):
        try:
            parsed.append(_expand(field_text, low, high))
        except ValueError as exc:
            allowed = f"allowed {low}-{high}" + (
                "" if field_text.isascii() else ", digits are ASCII 0-9")
            column = [m.start() for m in re.finditer(r"\S+", text)][index] + 1
            raise ParseError(f"invalid {name} field {str(exc)!r} ({allowed})", text, HINT,
                             column=column) from None
    days = parsed[4]
    if days is not None:   # cron: Sunday = 0 or 7; Buildbot: Monday = 0
        parsed[4] = tuple(sorted({(day - 1) % 7 for day in days}))
    return Cron(" ".join(fields), *parsed)
