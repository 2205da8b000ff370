"""``anybox-buildbot migrate``: a MANIFEST.cfg written for anybox.buildbot.odoo -> ours.

Pure functions from a file's text to the new text, the changes made and
what could not be converted (with why). The rewrite is line by line, so
comments, order and layout stay; the renames are the tables of
``deprecated`` (the same the loaders accept with a warning), plus what a
loader cannot do alone, because the old meaning depends on the whole
section or differs from ours under the same name:

- the original's default build is made explicit in each buildout section
  that relied on it: ``post-buildout-steps = odoo-default`` (database
  created, modules installed and tested, ``all`` by default) where the
  section set neither ``db-steps`` nor ``post-buildout-steps``,
  ``db-steps = simple_create`` or ``post-buildout-steps =
  install-modules-test`` where it set one of them;
- the server script: the original ran ``bin/start_PART`` (or
  ``start-command``), ours runs ``bin/<buildout-part>``, so
  ``buildout-part`` names the script (``start_odoo``) for the sets that
  run the server; ``openerpcommand-initialize-tests`` keeps ``PART``
  (``bin/PART_command``, as before);
- the original's ``functional`` (a server started, the tests given its
  port and database) is our ``functional-odoo``: ``functional.commands``
  (scripts separated by blanks) become one command per line with
  ``port_db_args = true``, ``functional.port-min``/``-max`` the ``ports``
  range (the original's default cut to our largest range);
- ``odoo.use-port`` becomes ``port``, ``port_option`` and ``ports`` of
  each Odoo set of the section (``deprecated.port_options``).

Options that meant nothing else than what ours do by default
(``odoo.http-port-step``: a build takes one port here) are removed, and
said so in the changes.

A workers.cfg is converted by ``migrateworkers``; the result and the line
editor are ``migrateedits``'.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from .deprecated import (
    ADDONS_OPTIONS,
    ADDONS_STEP_SETS,
    DEFAULT_PORTS,
    OLD_PORT_OPTION,
    OPTION_ALIASES,
    PORT_MAX,
    PORT_MIN,
    PORT_STEP,
    STEP_LIST_OPTIONS,
    STEP_OPTION_ALIASES,
    STEP_SET_ALIASES,
    USE_PORT,
    port_options,
    prop_template,
)
from .errors import Errors
from .inifile import IniFile, IniOption, parse_ini
from .migrateedits import LineEditor, Migration
from .ports import MAX_RANGE_SIZE
from .rules import is_part_name

#: Options of the original with no equivalent here, and why.
UNCONVERTIBLE: dict[str, str] = {
    "bootstrap-virtualenv": "the bootstrap always makes a virtualenv here",
    "virtualenv": "the bootstrap always makes a virtualenv here",
    "virtualenv3": "the interpreter is the 'python' capability chosen for the build "
                   "(build-requires = python >= 3)",
    "upgrade.script": "no upgrade step set here",
    "install-as-upgrade": "no upgrade step set here",
}
#: Step sets of the original with no equivalent here, and why.
UNKNOWN_STEP_SETS: dict[str, str] = {
    "autocommit": "no equivalent: commit from a step set of your own (plugin)",
}
#: Option families whose names changed beyond a rename.
UNCONVERTIBLE_PREFIXES: dict[str, str] = {
    "doc.": "no equivalent option of sphinx-doc (options: source, build-dir, command, args)",
    "packaging.": "packaging's options differ here (path, dist-dir, python, builder, "
                  "upload-command): see docs/stepsets.rst",
    "nose.": "nose's options differ here: see docs/stepsets.rst",
    "buildout.": "no such setting here; buildout-options = SECTION:OPTION=VALUE passes "
                 "options to bin/buildout",
}
DEFAULT_PART = "odoo"
#: The original's ``functional`` is our ``functional-odoo``; ``functional``
#: here runs commands without a server (a name only ``migrate`` renames:
#: the loaders read ``functional`` as ours).
OLD_FUNCTIONAL, FUNCTIONAL = "functional", "functional-odoo"
STEP_SET_RENAMES = {**STEP_SET_ALIASES, OLD_FUNCTIONAL: FUNCTIONAL}
#: ``functional.X`` -> ``functional-odoo.X``, same meaning (``wait`` was
#: a fixed sleep, now the most to wait for the server to answer).
FUNCTIONAL_RENAMES = {"functional.parts": "functional-odoo.parts",
                      "functional.wait": "functional-odoo.wait"}
FUNCTIONAL_PORTS = ("functional.port-min", "functional.port-max")
FUNCTIONAL_DEFAULT_PORTS = (9069, 11069)
#: Our sets running ``bin/<buildout-part>``: the original's ``bin/start_PART``.
SERVER_SETS = (*ADDONS_STEP_SETS[:-1], FUNCTIONAL)
COMMAND_SET = ADDONS_STEP_SETS[-1]          # openerpcommand-initialize-tests
START_COMMAND = "start-command"
DEFAULT_WHY = "the original's default"
_START_SCRIPT = re.compile(r"(?:\./)?bin/(?P<name>[^/\s]+)")




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


def _words(option: IniOption | None) -> list[str]:
    return [] if option is None else option.value.replace(",", " ").split()


@dataclass
class _Plan:
    """What one buildout section becomes: the step sets it will run, the
    lines to add at its end, its server script."""

    section: str
    last: int
    sets: set[str] = field(default_factory=set)
    #: (line, why)
    added: list[tuple[str, str]] = field(default_factory=list)
    part: str | None = None


def _plan(section: str, options: dict[str, IniOption], last: int, result: Migration) -> _Plan:
    """The original's defaults for one buildout section, made explicit."""
    plan = _Plan(section, last)
    where = f"{result.name}:{last}: [{section}]"
    for key in STEP_LIST_OPTIONS:
        plan.sets.update(STEP_SET_RENAMES.get(w, w) for w in _words(options.get(key)))
    has_addons = any(k in options for k in ADDONS_OPTIONS) or any(
        f"{s}.addons" in options for s in ADDONS_STEP_SETS)
    if "post-buildout-steps" not in options:
        if "db-steps" not in options:
            plan.added.append(("post-buildout-steps = odoo-default", DEFAULT_WHY))
            plan.sets.add("odoo-default")
        else:
            plan.added.append(("post-buildout-steps = install-modules-test", DEFAULT_WHY))
            plan.sets.add("install-modules-test")
            if not has_addons:
                plan.added.append(("install-modules-test.addons = all", DEFAULT_WHY))
    elif "db-steps" not in options and "odoo-default" not in plan.sets:
        plan.added.append(("db-steps = simple_create", DEFAULT_WHY))
    part = options["buildout-part"].value.strip() if "buildout-part" in options \
        else DEFAULT_PART
    start = options.get(START_COMMAND)
    # a part already named after its script: a file migrated before
    script = part if part.startswith("start_") else f"start_{part}"
    if start is not None:
        match = _START_SCRIPT.fullmatch(start.value.strip())
        if match is None or not is_part_name(match["name"]):
            result.left.append(f"{where}: {START_COMMAND} {start.value.strip()!r}: the "
                               "server script is bin/<buildout-part> here (a name in bin/)")
        else:
            script = match["name"]
    servers = sorted(plan.sets & set(SERVER_SETS))
    if servers and COMMAND_SET in plan.sets:
        result.left.append(f"{where}: {', '.join(servers)} run bin/{script} and {COMMAND_SET} "
                           f"bin/{part}_command: one buildout-part here; make two sections")
    if servers:
        plan.part = script
    elif COMMAND_SET in plan.sets:
        plan.part = part
    if plan.part is not None and "test-command" in options and "test" not in plan.sets:
        result.left.append(f"{where}: test-command was the script of install-modules-test; "
                           f"here it is the command of the test step set, and the Odoo sets "
                           f"run bin/{plan.part} (buildout-part)")
    return plan


def migrate_manifest(text: str, name: str = "MANIFEST.cfg") -> Migration:
    """A manifest of anybox.buildbot.odoo in today's format."""
    result = Migration(name, text)
    ini = parse_ini(text, name, Errors())
    edit = LineEditor(text)
    effective = _effective(ini)
    plans = {s.name: _plan(s.name, effective[s.name], _last_line(s.options, s.location.line),
                           result)
             for s in ini.sections if "buildout" in effective[s.name]}
    blocks = [("[DEFAULT]", ini.defaults)] + [(f"[{s.name}]", s.options) for s in ini.sections]
    for label, options in blocks:
        for key, option in options.items():
            where = f"{name}:{option.location.line}: {label} {key}"
            governed = [plans[s] for s in plans if effective[s].get(key) is option]
            targets = set().union(*(p.sets for p in governed)) if governed else set()
            _convert(key, option, targets, governed, effective, edit, result, where)
    _script_parts(ini, effective, plans, edit, result)
    for plan in plans.values():
        _port_ranges(plan, effective[plan.section], edit, result)
    for plan in plans.values():
        inherited = _inherited_lines(plan.section, effective, plans)
        for line, why in plan.added:
            if line in inherited:
                continue
            edit.insert_after(plan.last, line)
            result.changes.append(f"{name}:{plan.last}: [{plan.section}]: added {line} ({why})")
    result.new = edit.text(text.endswith("\n"))
    return result


def _inherited_lines(section: str, effective: dict[str, dict[str, IniOption]],
                     plans: dict[str, _Plan]) -> set[str]:
    """The lines added to the sections ``section`` inherits from (this file)."""
    lines: set[str] = set()
    seen = {section}
    parent = effective[section].get("inherit")
    while parent is not None and parent.value.strip() in plans \
            and parent.value.strip() not in seen:
        name = parent.value.strip()
        seen.add(name)
        lines.update(line for line, _why in plans[name].added)
        parent = effective[name].get("inherit") if name in effective else None
    return lines


def _convert(key: str, option: IniOption, targets: set[str], governed: list[_Plan],
             effective: dict[str, dict[str, IniOption]], edit: LineEditor, result: Migration,
             where: str) -> None:
    """One option where it is written, for the sections it reaches."""
    new = OPTION_ALIASES.get(key) or STEP_OPTION_ALIASES.get(key) or FUNCTIONAL_RENAMES.get(key)
    if key in ADDONS_OPTIONS:
        sets = [s for s in ADDONS_STEP_SETS if s in targets]
        if not sets:
            edit.remove(option)
            result.changes.append(f"{where}: removed (no Odoo step set here takes it: the "
                                  "original ignored it too)")
            return
        new = f"{sets[0]}.addons"
        for other in sets[1:]:
            edit.insert_after(_end(option), f"{other}.addons = {', '.join(_words(option))}")
            result.changes.append(f"{where}: copied as {other}.addons")
    if new is not None:
        edit.rename_key(option, new)
        result.changes.append(f"{where}: renamed {new}")
    elif key in STEP_LIST_OPTIONS:
        _step_list(option, edit, result, where)
    elif key == "functional.commands":
        scripts = _words(option)
        edit.replace(option, [f"{FUNCTIONAL}.port_db_args = true",
                              f"{FUNCTIONAL}.port_option = {OLD_PORT_OPTION}",
                              f"{FUNCTIONAL}.commands = {scripts[0] if scripts else ''}",
                              *(f"    {script}" for script in scripts[1:])])
        result.changes.append(f"{where}: {FUNCTIONAL}.commands, one per line, given the port "
                              "and the database (port_db_args), the port as --xmlrpc-port")
    elif key == USE_PORT:
        _use_port(option, targets, governed, effective, edit, result, where)
    elif key in (PORT_MIN, PORT_MAX, *FUNCTIONAL_PORTS):
        edit.remove(option)          # in the ports line written for the sets
        result.changes.append(f"{where}: removed (in the ports range)")
    elif key in (PORT_STEP, "functional.port-step"):
        edit.remove(option)
        result.changes.append(f"{where}: removed (a build takes one port here)")
    elif key == START_COMMAND:
        edit.remove(option)
        result.changes.append(f"{where}: removed (the script is buildout-part)")
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


def _end(option: IniOption) -> int:
    return max([option.location.line, *(loc.line for _, loc in option.lines)])


def _use_port(option: IniOption, targets: set[str], governed: list[_Plan],
              effective: dict[str, dict[str, IniOption]], edit: LineEditor, result: Migration,
              where: str) -> None:
    """``odoo.use-port = true`` -> the port options of each Odoo set reached."""
    if option.value.strip().lower() != "true":
        edit.remove(option)
        result.changes.append(f"{where}: removed (no port is the default)")
        return
    sets = [s for s in ADDONS_STEP_SETS if s in targets]
    if not sets:
        result.left.append(f"{where}: no Odoo step set here takes a port")
        return
    options = effective[governed[0].section]
    first, last = (options[key].value if key in options else default
                   for key, default in zip((PORT_MIN, PORT_MAX), DEFAULT_PORTS, strict=True))
    lines = [f"{n} = {v}" for s in sets for n, v in port_options(s, first, last).items()]
    if FUNCTIONAL in targets:       # one port per build: the same range
        lines.append(f"{FUNCTIONAL}.ports = {first.strip()}-{last.strip()}")
    edit.replace(option, lines)
    result.changes.append(f"{where}: {'; '.join(lines)} (the original's range and server "
                          "option; a worker's build-ports in workers.cfg wins over the range)")


def _script_parts(ini: IniFile, effective: dict[str, dict[str, IniOption]],
                  plans: dict[str, _Plan], edit: LineEditor, result: Migration) -> None:
    """``buildout-part`` names the script each section's Odoo sets run.

    A ``buildout-part`` line gets the script of the sections it reaches
    (of its own section, else the most common); a section needing another
    one gets its own line."""
    written: dict[int, str] = {}
    options = [o for o in [ini.defaults.get("buildout-part"),
                           *(s.options.get("buildout-part") for s in ini.sections)]
               if o is not None]
    for option in options:
        reached = [p for p in plans.values()
                   if effective[p.section].get("buildout-part") is option and p.part]
        if not reached:
            continue
        own = next((p.part for p in reached if option in _own_options(ini, p.section)), None)
        value = own or Counter(p.part for p in reached).most_common(1)[0][0]
        old = option.value.strip()
        written[id(option)] = value
        if value != old:
            edit.replace_in(option.location.line, old, value)
            result.changes.append(f"{result.name}:{option.location.line}: buildout-part "
                                  f"{old} -> {value} (the script bin/{value} runs the server)")
    for plan in plans.values():
        if plan.part is None:
            continue
        option = effective[plan.section].get("buildout-part")
        if option is None or written.get(id(option)) != plan.part:
            plan.added.insert(0, (f"buildout-part = {plan.part}",
                                  f"bin/{plan.part}, the script the original ran"))


def _own_options(ini: IniFile, section: str) -> list[IniOption]:
    return [o for s in ini.sections if s.name == section for o in s.options.values()]


def _port_ranges(plan: _Plan, options: dict[str, IniOption], edit: LineEditor,
                 result: Migration) -> None:
    """``functional-odoo.ports`` from the original's ``functional.port-*``."""
    if FUNCTIONAL not in plan.sets or f"{FUNCTIONAL}.ports" in options:
        return
    if options.get(USE_PORT) is not None and options[USE_PORT].value.strip().lower() == "true" \
            and set(ADDONS_STEP_SETS) & plan.sets:
        return          # the range odoo.use-port became is the build's
    bounds = [int(options[k].value) if k in options and options[k].value.strip().isdigit()
              else default for k, default in zip(FUNCTIONAL_PORTS, FUNCTIONAL_DEFAULT_PORTS,
                                                 strict=True)]
    first, last = bounds[0], min(bounds[1], bounds[0] + MAX_RANGE_SIZE - 1)
    why = "the original's range" if last == bounds[1] else (
        f"the original's {bounds[0]}-{bounds[1]} cut to {MAX_RANGE_SIZE} ports, the most here")
    plan.added.append((f"{FUNCTIONAL}.ports = {first}-{last}",
                       f"{why}; a worker's build-ports in workers.cfg wins"))


def _step_list(option: IniOption, edit: LineEditor, result: Migration, where: str) -> None:
    for line_text, loc in option.lines:
        words = line_text.replace(",", " ").split()
        for word in words:
            if word in UNKNOWN_STEP_SETS:
                result.left.append(f"{where}: step set {word!r}: {UNKNOWN_STEP_SETS[word]}")
        if any(w in STEP_SET_RENAMES for w in words):
            new_text = ", ".join(STEP_SET_RENAMES.get(w, w) for w in words) \
                if "," in line_text else " ".join(STEP_SET_RENAMES.get(w, w) for w in words)
            edit.replace_in(loc.line, line_text, new_text)
            result.changes.append(f"{where}: step sets {line_text!r} -> {new_text!r}")
