"""``inherit`` chains and ``[DEFAULT]`` of manifests, and one report per line.

A section gets the options of the section it inherits from, and every
section of a file gets that file's ``[DEFAULT]`` options. The options are
merged on the raw ``IniOption`` values, so every later check sees what the
section really ends up with and reports it at the line where it was
written -- possibly in the parent section or in ``[DEFAULT]``.

One typo in a parent would then be reported once per section inheriting
it (four sections, four times the same line). ``SharedLines`` gathers the
errors found at such lines and reports each once, at its line, under the
section that wrote it, naming the sections that inherit it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from .errors import Diagnostic, Errors, did_you_mean
from .inifile import DEFAULT_SECTION, IniFile, IniOption, IniSection

#: Distinct inherited errors gathered before the others are passed on as
#: they come (then possibly once per section): bounds the memory a file of
#: junk in a parent section can take.
MAX_GROUPS = 10_000
#: Inheriting sections named in one message; the others are counted.
MAX_NAMED = 10


def resolve_inherit(sections: Mapping[str, tuple[IniFile, IniSection]],
                    errors: Errors) -> dict[str, dict[str, IniOption]]:
    """Each section's options after ``inherit`` chains and ``[DEFAULT]``.

    Chains are walked with a loop, not recursion: a chain of thousands of
    sections must not hit Python's recursion limit.
    """
    resolved: dict[str, dict[str, IniOption]] = {}
    failed: set[str] = set()
    hints: dict[str, str] = {}  # unknown parent -> hint, computed once

    def resolve(name: str) -> None:
        path: list[str] = []  # sections waiting for their parent, child first
        on_path: set[str] = set()
        base: dict[str, IniOption] | None = None
        while True:
            if name in resolved:
                base = resolved[name]
                break
            if name in failed:
                break
            ini, section = sections[name]
            parent_opt = section.options.get("inherit")
            if parent_opt is None:
                base = resolved[name] = ini.merged_options(section)
                break
            parent = parent_opt.value.strip()
            loc = parent_opt.first_location
            if parent in on_path or parent == name:
                cycle = " -> ".join((*path, name, parent))
                errors.add(loc, "inherit cycle", cycle,
                           hint="remove one 'inherit' of the cycle",
                           subject=f"buildout [{name}]")
                failed.add(name)
                break
            if parent not in sections:
                if parent not in hints:
                    hints[parent] = did_you_mean(parent, sections)
                errors.add(loc, f"inherits from unknown buildout {parent!r}", parent,
                           hint=hints[parent], subject=f"buildout [{name}]")
                failed.add(name)
                break
            path.append(name)
            on_path.add(name)
            name = parent
        for child in reversed(path):
            if base is None:
                failed.add(child)
                continue
            ini, section = sections[child]
            merged = {k: v for k, v in base.items() if k != "inherit"}
            merged.update(section.options)
            for key, value in ini.defaults.items():
                merged.setdefault(key, value)
            resolved[child] = base = merged

    for name in sections:
        resolve(name)
    return resolved


def _lines(option: IniOption) -> Iterable[tuple[str, int]]:
    yield option.location.file, option.location.line
    for _text, loc in option.lines:
        yield loc.file, loc.line


def shared_line_owners(inis: Iterable[IniFile],
                       sections: Mapping[str, tuple[IniFile, IniSection]]
                       ) -> dict[tuple[str, int], str]:
    """(file, line) -> the section that wrote it, for the lines other
    sections may get: those of ``[DEFAULT]`` and of inherited sections."""
    owners: dict[tuple[str, int], str] = {}
    for ini in inis:
        for option in ini.defaults.values():
            owners.update(dict.fromkeys(_lines(option), DEFAULT_SECTION))
    parents = {section.options["inherit"].value.strip()
               for _ini, section in sections.values() if "inherit" in section.options}
    for name in parents & sections.keys():
        for option in sections[name][1].options.values():
            owners.update(dict.fromkeys(_lines(option), name))
    return owners


class _SectionErrors(Errors):
    """What one section's parser reports into: errors at its own lines go
    straight through, those at shared lines are gathered."""

    def __init__(self, shared: SharedLines, section: str) -> None:
        super().__init__()
        self._shared = shared
        self._section = section

    def put(self, diagnostic: Diagnostic) -> None:
        self.count += 1
        self._shared.route(diagnostic, self._section)

    def _keep(self, file: str, item: Diagnostic | str) -> None:
        self.count += 1
        self._shared.errors._keep(file, item)


class SharedLines:
    """Reports an error found at a shared line once for all its sections.

    ``for_section(name)`` gives the collector a section's parser uses;
    ``flush()`` adds the gathered errors to ``errors``, each under its
    writer, naming the sections that get it: ``buildout [base] nightly,
    inherited by [a], [b]: ...``, ``[DEFAULT] nightly, used by [a]: ...``.
    """

    def __init__(self, errors: Errors, owners: Mapping[tuple[str, int], str]) -> None:
        self.errors = errors
        self.owners = owners
        self._groups: dict[Diagnostic, tuple[str, list[str]]] = {}

    def for_section(self, name: str) -> Errors:
        return _SectionErrors(self, name) if self.owners else self.errors

    def route(self, diagnostic: Diagnostic, section: str) -> None:
        loc = diagnostic.location
        owner = self.owners.get((loc.file, loc.line)) if loc is not None else None
        if owner is None:
            self.errors.put(diagnostic)
            return
        key = replace(diagnostic, subject=_writer_subject(diagnostic.subject, section, owner))
        group = self._groups.get(key)
        if group is not None:
            group[1].append(section)
        elif len(self._groups) < MAX_GROUPS:
            self._groups[key] = (owner, [section])
        else:
            self.errors.put(diagnostic)

    def flush(self) -> None:
        for key, (owner, users) in self._groups.items():
            others = [name for name in dict.fromkeys(users) if name != owner]
            if not others:
                self.errors.put(key)
                continue
            names = ", ".join(f"[{name}]" for name in others[:MAX_NAMED])
            if len(others) > MAX_NAMED:
                names += f" and {len(others) - MAX_NAMED} more"
            said = (f"used by {names}" if owner == DEFAULT_SECTION
                    else f"inherited by {names}")
            subject = f"{key.subject}, {said}" if key.subject else said
            self.errors.put(replace(key, subject=subject))
        self._groups.clear()


def _writer_subject(subject: str | None, section: str, owner: str) -> str | None:
    """``buildout [child] nightly`` -> ``buildout [base] nightly`` (or
    ``[DEFAULT] nightly``): the message names the section that wrote it."""
    prefix = f"buildout [{section}]"
    if subject is None or not subject.startswith(prefix):
        return subject
    writer = f"[{owner}]" if owner == DEFAULT_SECTION else f"buildout [{owner}]"
    return writer + subject[len(prefix):]
