"""A small INI reader that remembers where every value came from.

``configparser`` loses line numbers, silently merges duplicate sections of
one file and lowercases option names (we need ``env.PGDATA`` as written).
This reader keeps the syntax admins know (``[section]``, ``key = value``,
indented continuation lines, ``#``/``;`` comments, ``[DEFAULT]``) and gives
each option its value lines with their numbers, so every later error can
point at the exact line.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Errors, Location

_SECTION = re.compile(r"\[(?P<name>[^\]]*)\]\s*(?:[#;].*)?$")
# Linear on any line: the key runs to the first '=' or ':' (a lazy key
# followed by ``\s*`` backtracked quadratically on long runs of spaces).
_OPTION = re.compile(r"(?P<key>[^=:]*)[=:](?P<value>.*)")
# Only these end a line, as editors and the byte-level messages count them;
# str.splitlines() also splits on form feeds, U+2028... inside a line.
_NEWLINE = re.compile(r"\r\n|\r|\n")
_INLINE_COMMENT = re.compile(r"\s[#;]")
# No sane configuration line is this long; refusing longer ones bounds the
# work of every parser after this one (a 10 MB requirement line of 2 million
# clauses took 19 s).
MAX_LINE_LENGTH = 256 * 1024
# A configuration file larger than this is refused before it is read. The
# largest fleet the project targets (10 000 buildouts, 2 000 workers) takes
# 1.2 MB of manifest as bench/populate.py writes it, 11 MB if every section
# were as long as the fully commented [webshop] of the docs (1.1 KB), and
# 0.5 MB of workers.cfg: 32 MiB leaves a wide margin and still refuses a
# 50 MB log pasted by mistake before it becomes 600 000 errors.
MAX_FILE_SIZE = 32 * 1024 * 1024
DEFAULT_SECTION = "DEFAULT"
#: Keys whose value is never shown: messages and diffs quote the key only.
SECRET_KEYS = frozenset({"password", "passwd", "token", "secret", "smtp_password"})


@dataclass(frozen=True, slots=True)
class IniOption:
    """One option with its non-empty value lines, comments removed."""

    name: str
    location: Location
    lines: tuple[tuple[str, Location], ...]

    @property
    def value(self) -> str:
        if len(self.lines) == 1:
            return self.lines[0][0]
        return "\n".join([text for text, _ in self.lines])

    @property
    def first_location(self) -> Location:
        """Location of the first value line, where single-line values live."""
        return self.lines[0][1] if self.lines else self.location


@dataclass(frozen=True, slots=True)
class IniSection:
    name: str
    location: Location
    options: dict[str, IniOption] = field(hash=False)


@dataclass(frozen=True, slots=True)
class IniFile:
    path: str
    sections: tuple[IniSection, ...]
    defaults: dict[str, IniOption] = field(hash=False)

    def merged_options(self, section: IniSection) -> dict[str, IniOption]:
        """A section's options over the file's ``[DEFAULT]`` ones."""
        if not self.defaults:
            return section.options
        merged = dict(self.defaults)
        merged.update(section.options)
        return merged


def _strip_comment(text: str) -> str:
    if "#" not in text and ";" not in text:   # most lines: no regex search
        return text.strip()
    match = _INLINE_COMMENT.search(text)
    if match:
        text = text[: match.start()]
    return text.strip()


def _decode(data: bytes, path: str, errors: Errors) -> str | None:
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        errors.add(Location(path, line), "binary content (NUL byte), not an INI text file",
                   hint="give a UTF-8 text file")
        return None
    data = data.removeprefix(b"\xef\xbb\xbf")  # the UTF-8 BOM some editors write
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        errors.add(Location(path, line), f"not valid UTF-8 (byte {data[exc.start]:#04x})",
                   hint="save the file as UTF-8")
        return None


def _read_bounded(path: str | Path, name: str, errors: Errors) -> bytes | None:
    """The file's bytes, or None after reporting why not.

    A regular file over ``MAX_FILE_SIZE`` is refused on its size alone; for
    anything else (a pipe, a device, a file still growing) the read itself
    stops one byte past the limit: a huge file is never loaded whole.
    """
    hint = "split it into several files, or check that it is the right file"
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if stat.S_ISREG(info.st_mode) and info.st_size > MAX_FILE_SIZE:
                size = f"{info.st_size} bytes"
                data = None
            else:
                data = handle.read(MAX_FILE_SIZE + 1)
                size = f"more than {MAX_FILE_SIZE} bytes"
    except OSError as exc:
        errors.add(Location(name), f"cannot read {Path(path).absolute()}: {exc.strerror or exc}",
                   hint="check the path given to the configurator")
        return None
    if data is not None and len(data) <= MAX_FILE_SIZE:
        return data
    errors.add(Location(name), f"file too large: {size}, the limit is "
               f"{MAX_FILE_SIZE // (1024 * 1024)} MiB ({MAX_FILE_SIZE} bytes) per "
               "configuration file", hint=hint)
    return None


def read_ini(path: str | Path, errors: Errors, display: str | None = None) -> IniFile | None:
    """Read and parse ``path``; problems go to ``errors``, never raised."""
    name = display or str(path)
    data = _read_bounded(path, name, errors)
    if data is None:
        return None
    text = _decode(data, name, errors)
    if text is None:
        return None
    return parse_ini(text, name, errors)


def parse_ini(text: str, path: str, errors: Errors) -> IniFile:
    """Parse INI ``text``; ``path`` is only used in locations."""
    sections: list[IniSection] = []
    seen_sections: dict[str, Location] = {}
    defaults: dict[str, IniOption] = {}
    current: dict[str, IniOption] | None = None
    # The option being read: made into an IniOption once its continuation
    # lines are known (one object per option, not a placeholder then a copy).
    current_key: str | None = None
    current_loc = Location(path)
    pending: list[tuple[str, Location]] = []
    discarding = False  # continuation lines of an option already reported as bad

    def flush() -> None:
        nonlocal current_key
        if current is not None and current_key is not None:
            current[current_key] = IniOption(current_key, current_loc, tuple(pending))
        current_key = None

    for number, raw in enumerate(_NEWLINE.split(text), start=1):
        stripped = raw.strip()
        if not stripped or stripped[0] in "#;":
            continue
        loc = Location(path, number)
        if len(raw) > MAX_LINE_LENGTH:
            # Quote up to the first '=' or ':': the key, never a password.
            shown = stripped if raw[0] in " \t" else re.split("[=:]", stripped, maxsplit=1)[0]
            errors.add(loc, f"line too long ({len(raw)} characters, at most "
                       f"{MAX_LINE_LENGTH})", shown.strip(),
                       hint="split a long value over indented continuation lines")
            if raw[0] not in " \t":
                flush()
                discarding = True  # its continuation lines belong to nothing valid
                if stripped[0] == "[":  # a section: its options are not "outside"
                    seen_sections.setdefault("", loc)
                    current = None
            continue
        if raw[0] in " \t":
            if discarding:
                continue
            if current_key is None:
                errors.add(loc, "indented line outside any option", raw.strip(),
                           hint="continuation lines follow an 'option = value' line")
                continue
            value = _strip_comment(raw)
            if value:
                pending.append((value, loc))
            continue
        flush()
        discarding = False
        match = _SECTION.match(stripped)
        if match:
            name = match["name"].strip()
            if not name:
                errors.add(loc, "empty section name", stripped, hint="write [name]")
                seen_sections.setdefault("", loc)  # its options are not "outside"
                current = None
                continue
            if name in seen_sections:
                errors.add(loc, f"section [{name}] already defined at line "
                           f"{seen_sections[name].line}", stripped,
                           hint="merge the two sections or rename one")
                current = None
                continue
            seen_sections[name] = loc
            if name == DEFAULT_SECTION:
                current = defaults
            else:
                current = {}
                sections.append(IniSection(name, loc, current))
            continue
        match = _OPTION.match(stripped)
        if not match or not match["key"].strip():
            # 'password s3cret' (the '=' forgotten) must not print the secret.
            first = stripped.split(None, 1)[0]
            shown = f"{first} ..." if first.lower() in SECRET_KEYS else stripped
            errors.add(loc, "expected '[section]', 'option = value' or an indented "
                       "continuation line", shown)
            continue
        if current is None:
            if not seen_sections:
                errors.add(loc, "option outside any section", match["key"].strip(),
                           hint="start the file with a [section] line")
            discarding = True
            continue
        key = match["key"].strip()
        if key in current:
            # Quote the key only: the value may be a password.
            errors.add(loc, f"option {key!r} given twice (first at line "
                       f"{current[key].location.line})", key,
                       hint="keep one; put several values on indented lines")
            discarding = True
            continue
        value = _strip_comment(" " + match["value"].lstrip())
        pending = [(value, loc)] if value else []
        current_key, current_loc = key, loc
    flush()
    return IniFile(path, tuple(sections), defaults)
