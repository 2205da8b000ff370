"""Ranges of TCP ports builds may reserve: ``8069-8079``.

Two Odoo builds running at the same time on one worker cannot both listen
on 8069. A worker admin declares the ports builds on that worker may take
(``build-ports = 8069-8079`` in ``workers.cfg``), a manifest may give a
range for workers that declare none (``NAME.ports``); each build then takes
a port of the range no other running build holds (:mod:`.steps.ports`).

This module owns the value (:class:`PortRange`) and its one spelling; it
imports nothing from Buildbot: the parsing layer uses it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from .rules import RuleError, whole_number

#: Ports below this one need root to listen on: a build never runs as root.
FIRST_UNPRIVILEGED = 1024
LAST_PORT = 65535
#: More ports than any worker runs builds at once; a typo such as
#: ``8069-80790`` would otherwise hand out ports all over the machine.
MAX_RANGE_SIZE = 1000
RANGE_FORM = "FIRST-LAST, e.g. 8069-8079 (or a single port)"

#: ``FIRST-LAST`` or ``PORT``, blanks allowed around the dash.
_RANGE = re.compile(r"(?P<first>[^\s-]+)(?:\s*-\s*(?P<last>[^\s-]+))?")


@dataclass(frozen=True, slots=True, order=True)
class PortRange:
    """Ports ``first`` to ``last``, both included."""

    first: int
    last: int

    def __post_init__(self) -> None:
        if not FIRST_UNPRIVILEGED <= self.first <= self.last <= LAST_PORT:
            raise ValueError(f"invalid port range {self.first}-{self.last}")

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.first, self.last + 1))

    def __len__(self) -> int:
        return self.last - self.first + 1

    def __contains__(self, port: object) -> bool:
        return isinstance(port, int) and self.first <= port <= self.last

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"

    def as_property(self) -> list[int]:
        """The JSON-able form a Buildbot property holds: ``[first, last]``."""
        return [self.first, self.last]

    @classmethod
    def from_property(cls, value: object) -> PortRange | None:
        """The range back from :meth:`as_property`; None for anything else
        (a property of that name an admin set by hand)."""
        if (isinstance(value, list | tuple) and len(value) == 2
                and all(type(v) is int for v in value)):
            try:
                return cls(value[0], value[1])
            except ValueError:
                return None
        return None


def _port(text: str) -> int:
    try:
        return whole_number(text, what="a port number", minimum=FIRST_UNPRIVILEGED,
                            maximum=LAST_PORT)
    except RuleError as exc:
        raise RuleError(exc.problem, text=text,
                        hint=f"ports {FIRST_UNPRIVILEGED} to {LAST_PORT} "
                        "(lower ones need root); write " + RANGE_FORM) from None


def parse_port_range(text: str) -> PortRange:
    """``8069-8079`` (or ``8069``) as a :class:`PortRange`.

    Refused, with a hint: not two whole numbers, a privileged or too large
    port, a reversed range, more than ``MAX_RANGE_SIZE`` ports.
    """
    value = text.strip()
    match = _RANGE.fullmatch(value)
    if match is None:
        raise RuleError("expected a port range", text=value or None, hint="write " + RANGE_FORM)
    first = _port(match["first"])
    last = _port(match["last"]) if match["last"] is not None else first
    if last < first:
        raise RuleError("reversed port range", text=value,
                        hint=f"the first port comes first: {last}-{first}")
    if last - first + 1 > MAX_RANGE_SIZE:
        raise RuleError(f"port range of {last - first + 1} ports (at most {MAX_RANGE_SIZE})",
                        text=value, hint="a few more ports than builds run at once is enough")
    return PortRange(first, last)


__all__ = ["MAX_RANGE_SIZE", "PortRange", "parse_port_range"]
