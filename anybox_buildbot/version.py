"""Capability versions and their order.

Workers declare versions as their admins spell them (``9.2-devel``,
``13``, ``3.11``, even ``trusty``). The spelling is kept for builder names
and properties; comparisons use a key computed once: numeric release
components with trailing zeros dropped (``9.2 == 9.2.0``), then the
pre-release rank ``devel < a < b < rc < final``. Versions that do not have
this shape only support string (in)equality.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_VERSION = re.compile(
    r"""
    (?P<release>[0-9]+(?:\.[0-9]+)*)      # 9, 9.2, 9.2.1
    (?:
        [-_.]?                            # optional separator: 9.2-devel, 9.2.rc1
        (?P<tag>devel|dev|alpha|a|beta|b|rc|c)
        (?P<tagnum>[0-9]*)                # 9.2a1, 9.2rc
    )?
    """,
    re.VERBOSE | re.IGNORECASE,
)

# Rank of each pre-release tag; a final release ranks above all of them.
_TAG_RANK = {"devel": 0, "dev": 0, "alpha": 1, "a": 1, "beta": 2, "b": 2, "rc": 3, "c": 3}
_FINAL_RANK = 4

SortKey = tuple[tuple[int, ...], int, int]


def _release_key(release: str) -> tuple[int, ...]:
    parts = [int(p) for p in release.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


@dataclass(frozen=True, slots=True)
class Version:
    """A version as written, with its sort key when it has one.

    ``key`` is ``None`` for versions of another shape (``trusty``), which
    can be compared for equality only.
    """

    text: str
    key: SortKey | None = field(compare=False)

    @property
    def is_orderable(self) -> bool:
        return self.key is not None

    @property
    def release(self) -> tuple[int, ...]:
        return self.key[0] if self.key is not None else ()

    @property
    def is_prerelease(self) -> bool:
        return self.key is not None and self.key[1] != _FINAL_RANK

    def same_as(self, other: Version) -> bool:
        """Equality as ``==`` means it: numeric when both are orderable."""
        if self.key is not None and other.key is not None:
            return self.key == other.key
        return self.text == other.text

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.same_as(other)

    def __hash__(self) -> int:
        return hash(self.key if self.key is not None else self.text)

    # The order is written out once, on ``sort_key``; it agrees with ``==``
    # (equal keys, or equal texts for unorderable versions).
    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return sort_key(self) < sort_key(other)

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return sort_key(self) <= sort_key(other)

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return sort_key(self) > sort_key(other)

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return sort_key(self) >= sort_key(other)


def sort_key(version: Version) -> tuple:
    """Total order over all versions: unorderable ones sort first, by text.

    Used only for deterministic output (choosing and listing); constraint
    matching never orders an unorderable version.
    """
    if version.key is None:
        return (0, version.text)
    return (1, version.key)


_cache: dict[str, Version] = {}


def parse_version(text: str) -> Version:
    """Parse a version; never fails (odd shapes simply are unorderable)."""
    cached = _cache.get(text)
    if cached is not None:
        return cached
    match = _VERSION.fullmatch(text)
    key: SortKey | None = None
    # A component of over 4300 digits is beyond int(): not a version shape.
    if match and len(text) <= 4000:
        tag = match["tag"]
        if tag:
            key = (_release_key(match["release"]), _TAG_RANK[tag.lower()],
                   int(match["tagnum"] or 0))
        else:
            key = (_release_key(match["release"]), _FINAL_RANK, 0)
    version = Version(text, key)
    if len(_cache) < 100_000:
        _cache[text] = version
    return version
