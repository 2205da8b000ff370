"""``anybox-buildbot migrate`` for a workers.cfg (or slaves.cfg) written for
anybox.buildbot.odoo: the renames of ``deprecated`` (the same the loader
accepts with a warning), ``bin=`` capability options made directories,
and fractional ``worker_priority`` values scaled to whole numbers, all by
the same power of ten, so the workers keep their order.

A pure function from the file's text to a ``migrateedits.Migration``;
the manifest's conversion is ``migrate``'s.
"""

from __future__ import annotations

import re
from decimal import Decimal

from .deprecated import WORKER_OPTION_ALIASES, capability_line
from .errors import Errors
from .inifile import IniOption, parse_ini
from .migrateedits import LineEditor, Migration

_PRIORITY = re.compile(r"^(?P<key>worker_priority\s*[=:]\s*)(?P<value>\S+)")


def migrate_workers(text: str, name: str = "workers.cfg") -> Migration:
    """A workers.cfg of anybox.buildbot.odoo in today's format."""
    result = Migration(name, text)
    ini = parse_ini(text, name, Errors())
    edit = LineEditor(text)
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


def _whole_priorities(priorities: list[tuple[IniOption, Decimal]], edit: LineEditor,
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

