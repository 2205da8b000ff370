"""``nightly = CRON``: check a 5-field cron line and map it to ``Nightly``.

Checked when the manifest is read (so a typo is a ConfigError with its
line), converted when the scheduler is made. Cron counts days of week from
Sunday = 0 (7 too), Buildbot from Monday = 0: days are converted here.
"""

from __future__ import annotations

import re

from .errors import ParseError

FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("dayOfMonth", 1, 31), ("month", 1, 12),
          ("dayOfWeek", 0, 7))
_PART = re.compile(r"(?P<base>\*|\d+(?:-\d+)?)(?:/(?P<step>\d+))?")
HINT = "minute hour day-of-month month day-of-week, e.g. '0 3 * * *' or '30 2 * * 1-5'"


def _expand(text: str, low: int, high: int) -> list[int] | None:
    """Values of one field, or None for a plain '*'."""
    if text == "*":
        return None
    values: set[int] = set()
    for part in text.split(","):
        match = _PART.fullmatch(part)
        if not match:
            raise ValueError(part)
        base, step = match["base"], int(match["step"] or 1)
        if base == "*":
            start, stop = low, high
        else:
            first, _, last = base.partition("-")
            start = int(first)
            stop = int(last) if last else (high if match["step"] else start)
        if not (low <= start <= high and low <= stop <= high) or start > stop or step < 1:
            raise ValueError(part)
        values.update(range(start, stop + 1, step))
    return sorted(values)


def nightly_kwargs(cron: str) -> dict[str, object]:
    """Keyword arguments of ``schedulers.Nightly``; raise ParseError if bad."""
    fields = cron.split()
    if len(fields) != 5:
        raise ParseError(f"expected a cron line of 5 fields, got {len(fields)}", cron, HINT)
    result: dict[str, object] = {}
    for text, (name, low, high) in zip(fields, FIELDS, strict=True):
        try:
            values = _expand(text, low, high)
        except ValueError as exc:
            raise ParseError(f"invalid {name} field {str(exc)!r} (allowed {low}-{high})",
                             cron, HINT) from None
        if values is None:
            result[name] = "*"
        elif name == "dayOfWeek":
            result[name] = sorted({(day - 1) % 7 for day in values})
        else:
            result[name] = values[0] if len(values) == 1 else values
    return result
