"""``anybox-buildbot migrate``: files written for anybox.buildbot.odoo -> ours.

Pure functions from a file's text to the new text, the changes made and
what could not be converted (with why). The rewrite is line by line, so
comments, order and layout stay; the renames are the tables of
``deprecated`` (the same the loaders accept with a warning), plus what a
loader cannot do alone:

- the original's default build is made explicit in each buildout section
  that relied on it: ``buildout-part = odoo``, ``db-steps =
  simple_create`` and, when the section lists modules,
  ``post-buildout-steps = install-modules-test``;
- fractional ``worker_priority`` values are scaled to whole numbers, all
  by the same power of ten, so the workers keep their order.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from decimal import Decimal

from .deprecated import (
    ADDONS_OPTIONS,
    ADDONS_STEP_SETS,
    OPTION_ALIASES,
    STEP_LIST_OPTIONS,
    STEP_OPTION_ALIASES,
    STEP_SET_ALIASES,
    WORKER_OPTION_ALIASES,
    capability_line,
    prop_template,
)
from .errors import Errors
from .inifile import IniFile, IniOption, parse_ini

#: Options of the original with no equivalent here, and why.
UNCONVERTIBLE: dict[str, str] = {
    "bootstrap-virtualenv": "the bootstrap always makes a virtualenv here",
    "virtualenv": "the bootstrap always makes a virtualenv here",
    "virtualenv3": "the interpreter is the 'python' capability chosen for the build "
                   "(build-requires = python >= 3)",
    "upgrade.script": "no upgrade step set here",
    "install-as-upgrade": "no upgrade step set here",
    "odoo.use-port": "no port reservation here yet (issue 15, item 2)",
    "start-command": "no server-starting step set here yet",
}
#: Step sets of the original with no equivalent here, and why.
UNKNOWN_STEP_SETS: dict[str, str] = {
    "openerpcommand-initialize-tests": "not available yet (issue 15, item 2)",
    "autocommit": "no equivalent: commit from a step set of your own (plugin)",
}
#: Option families whose names changed beyond a rename.
UNCONVERTIBLE_PREFIXES: dict[str, str] = {
    "doc.": "no equivalent option of sphinx-doc (options: source, build-dir, command, args)",
    "packaging.": "packaging's options differ here (path, dist-dir, python, builder, "
                  "upload-command): see docs/stepsets.rst",
    "nose.": "nose's options differ here: see docs/stepsets.rst",
    "functional.port-": "no port reservation here yet (issue 15, item 2)",
    "functional.wait": "no server-starting step set here yet",
    "buildout.": "no such setting here; buildout-options = SECTION:OPTION=VALUE passes "
                 "options to bin/buildout",
}
DEFAULT_PART = "odoo"


@dataclass
class Migration:
    """One file's new text, the changes made and what was left, each a line
    ``FILE:LINE: ...``."""

    name: str
    old: str
    new: str = ""
    changes: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)

    def diff(self) -> str:
        return "".join(difflib.unified_diff(
            self.old.splitlines(keepends=True), self.new.splitlines(keepends=True),
            f"{self.name} (anybox.buildbot.odoo)", f"{self.name} (anybox_buildbot)"))


class _Editor:
    """Line edits of one file, applied at the end (1-based line numbers)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.after: dict[int, list[str]] = {}

    def rename_key(self, option: IniOption, new: str) -> None:
        index = option.location.line - 1
        self.lines[index] = re.sub(rf"^{re.escape(option.name)}(?=\s*[=:])", new,
                                   self.lines[index], count=1)

    def replace_in(self, line: int, old: str, new: str) -> None:
        self.lines[line - 1] = self.lines[line - 1].replace(old, new, 1)

    def insert_after(self, line: int, text: str) -> None:
        self.after.setdefault(line, []).append(text)

    def text(self, trailing_newline: bool) -> str:
        out: list[str] = []
        for number, line in enumerate(self.lines, 1):
            out.append(line)
            out.extend(self.after.get(number, ()))
        return "\n".join(out) + ("\n" if trailing_newline else "")


def _effective(ini: IniFile) -> dict[str, dict[str, IniOption]]:
    """Each section's options with ``[DEFAULT]`` and ``inherit`` (in this file)."""
    own = {s.name: s.options for s in ini.sections}
    result: dict[str, dict[str, IniOption]] = {}

    def resolve(name: str, seen: tuple[str, ...]) -> dict[str, IniOption]:
        options = dict(own.get(name, {}))
        parent = options.get("inherit")
        if parent is not None and parent.value.strip() in own \
                and parent.value.strip() not in seen:
            inherited = resolve(parent.value.strip(), (*seen, name))
            options = {**inherited, **options}
        return options

    for name in own:
        result[name] = {**ini.defaults, **resolve(name, ())}
    return result


def _last_line(options: dict[str, IniOption], header: int) -> int:
    lines = [header] + [loc.line for opt in options.values() for _, loc in opt.lines]
    lines += [opt.location.line for opt in options.values()]
    return max(lines)


def migrate_manifest(text: str, name: str = "MANIFEST.cfg") -> Migration:
    """A manifest of anybox.buildbot.odoo in today's format."""
    result = Migration(name, text)
    ini = parse_ini(text, name, Errors())
    edit = _Editor(text)
    effective = _effective(ini)
    blocks = [("[DEFAULT]", ini.defaults, 0)] + [
        (f"[{s.name}]", s.options, s.location.line) for s in ini.sections]
    for label, options, _header in blocks:
        named = _step_sets_named(effective.get(label[1:-1], options))
        for key, option in options.items():
            where = f"{name}:{option.location.line}: {label} {key}"
            new = OPTION_ALIASES.get(key) or STEP_OPTION_ALIASES.get(key)
            if key in ADDONS_OPTIONS:
                new = next((s for s in ADDONS_STEP_SETS if s in named),
                           ADDONS_STEP_SETS[0]) + ".addons"
            if new is not None:
                edit.rename_key(option, new)
                result.changes.append(f"{where}: renamed {new}")
                continue
            if key in STEP_LIST_OPTIONS:
                _step_list(option, edit, result, where)
            elif key.startswith("env.") and "%(prop:" in option.value:
                for line_text, loc in option.lines:
                    edit.replace_in(loc.line, line_text, prop_template(line_text))
                result.changes.append(f"{where}: %(prop:NAME)s -> %(NAME)s")
            elif key in UNCONVERTIBLE:
                result.left.append(f"{where}: {UNCONVERTIBLE[key]}")
            else:
                prefix = next((p for p in UNCONVERTIBLE_PREFIXES if key.startswith(p)), None)
                if prefix is not None:
                    result.left.append(f"{where}: {UNCONVERTIBLE_PREFIXES[prefix]}")
    for section in ini.sections:
        _explicit_defaults(section.name, effective[section.name],
                           _last_line(section.options, section.location.line), edit, result)
    result.new = edit.text(text.endswith("\n"))
    return result


def _step_sets_named(options: dict[str, IniOption]) -> set[str]:
    return {STEP_SET_ALIASES.get(w, w) for key in STEP_LIST_OPTIONS if key in options
            for w in options[key].value.replace(",", " ").split()}


def _step_list(option: IniOption, edit: _Editor, result: Migration, where: str) -> None:
    for line_text, loc in option.lines:
        words = line_text.replace(",", " ").split()
        for word in words:
            if word in UNKNOWN_STEP_SETS:
                result.left.append(f"{where}: step set {word!r}: {UNKNOWN_STEP_SETS[word]}")
        if any(w in STEP_SET_ALIASES for w in words):
            new_text = ", ".join(STEP_SET_ALIASES.get(w, w) for w in words) \
                if "," in line_text else " ".join(STEP_SET_ALIASES.get(w, w) for w in words)
            edit.replace_in(loc.line, line_text, new_text)
            result.changes.append(f"{where}: step sets {line_text!r} -> {new_text!r}")


def _explicit_defaults(section: str, options: dict[str, IniOption], last: int,
                       edit: _Editor, result: Migration) -> None:
    """The original's default Odoo build, written out where it applied."""
    if "buildout" not in options:
        return
    where = f"{result.name}:{last}: [{section}]"
    named = _step_sets_named(options)
    if "post-buildout-steps" in options and not named & set(ADDONS_STEP_SETS) and any(
            k in options for k in ADDONS_OPTIONS):
        result.left.append(f"{where}: gets a module list (odoo-addons) but runs no Odoo "
                           "step set: an unused step-set option is an error here; do not "
                           "inherit it")
    added = []
    if "buildout-part" not in options:
        added.append(f"buildout-part = {DEFAULT_PART}")
    has_addons = any(k in options for k in ADDONS_OPTIONS) or any(
        f"{s}.addons" in options for s in ADDONS_STEP_SETS)
    if "db-steps" not in options:
        added.append("db-steps = simple_create")
    if "post-buildout-steps" not in options:
        if has_addons:
            added.append("post-buildout-steps = install-modules-test")
        else:
            result.left.append(f"{where}: the original's default install-modules-test "
                               "needs a module list here (odoo-addons): the section keeps "
                               "our default, post-buildout-steps = test")
    for line in added:
        edit.insert_after(last, line)
        result.changes.append(f"{where}: added {line} (the original's default)")


_PRIORITY = re.compile(r"^(?P<key>worker_priority\s*[=:]\s*)(?P<value>\S+)")


def migrate_workers(text: str, name: str = "workers.cfg") -> Migration:
    """A workers.cfg of anybox.buildbot.odoo in today's format."""
    result = Migration(name, text)
    ini = parse_ini(text, name, Errors())
    edit = _Editor(text)
    priorities: list[tuple[IniOption, Decimal]] = []
    for section in ini.sections:
        for key, option in section.options.items():
            where = f"{name}:{option.location.line}: [{section.name}] {key}"
            if key in WORKER_OPTION_ALIASES:
                edit.rename_key(option, WORKER_OPTION_ALIASES[key])
                result.changes.append(f"{where}: renamed {WORKER_OPTION_ALIASES[key]}")
            elif key == "capability":
                for line_text, loc in option.lines:
                    new = capability_line(line_text)
                    if new is not None:
                        edit.replace_in(loc.line, line_text, new)
                        result.changes.append(f"{name}:{loc.line}: [{section.name}] "
                                              f"{line_text!r} -> {new!r} (bin= is now a "
                                              "directory)")
            elif key == "worker_priority":
                try:
                    priorities.append((option, Decimal(option.value.strip())))
                except ArithmeticError:
                    result.left.append(f"{where}: not a number: {option.value.strip()!r}")
    _whole_priorities(priorities, edit, result)
    result.new = edit.text(text.endswith("\n"))
    return result


def _whole_priorities(priorities: list[tuple[IniOption, Decimal]], edit: _Editor,
                      result: Migration) -> None:
    """Scale every priority by one power of ten so that all are whole."""
    places = max((-int(v.as_tuple().exponent) for _, v in priorities
                  if v != v.to_integral_value()), default=0)
    if not places:
        return
    factor = Decimal(10) ** places
    for option, value in priorities:
        whole = int(value * factor)
        index = option.location.line - 1
        edit.lines[index] = _PRIORITY.sub(lambda m, w=whole: f"{m['key']}{w}",
                                          edit.lines[index], count=1)
        result.changes.append(f"{result.name}:{option.location.line}: worker_priority "
                              f"{value} -> {whole} (all priorities times {factor})")


__all__ = ["Migration", "migrate_manifest", "migrate_workers"]
