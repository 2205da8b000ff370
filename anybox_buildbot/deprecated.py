"""Spellings of anybox.buildbot.odoo that still load, and what they became.

Users of the original project have manifests and ``workers.cfg`` files
written for it. Where an old spelling maps one-to-one onto ours, the
loaders accept it and give a ``deprecation`` warning naming the new
spelling (through the warnings channel); ``anybox-buildbot migrate``
(``migrate.py``) rewrites the files with the same tables. What does not map
one-to-one is refused by the loaders as before, and listed by ``migrate``
with the reason.

Pure functions on parsed INI options (``inifile.IniOption``): they return
the options as our loaders expect them and the notes to give. Nothing here
imports Buildbot.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace

from .errors import Diagnostic, Location
from .inifile import IniOption
from .rules import split_list

CATEGORY = "deprecation"

#: Old step-set names -> ours (the original's own deprecated names, and
#: ``doc``). Names of Odoo step sets that ours do not have yet are left out.
STEP_SET_ALIASES: dict[str, str] = {
    "doc": "sphinx-doc",
    "standard": "install-modules-test",
    "test-odoo": "install-modules-test",
    "test-openerp": "install-modules-test",
}
#: Old step-set options -> ours, where the meaning is the same.
STEP_OPTION_ALIASES: dict[str, str] = {
    "doc.sphinx-sourcedir": "sphinx-doc.source",
    "doc.sphinx-builddir": "sphinx-doc.build-dir",
    "doc.sphinx-bin": "sphinx-doc.command",
}
#: Old manifest options -> ours.
OPTION_ALIASES: dict[str, str] = {"bootstrap-version": "buildout-version"}
_ALL_OPTION_ALIASES = {**OPTION_ALIASES, **STEP_OPTION_ALIASES}
#: The original's list of modules, one option for every Odoo step set.
ADDONS_OPTIONS = ("odoo-addons", "openerp-addons")
#: Our Odoo step sets taking an ``addons`` option (and ``port``, ``ports``).
ADDONS_STEP_SETS = ("install-modules-test", "install-modules", "update-odoo", "odoo-default",
                    "openerpcommand-initialize-tests")
#: Of these, those that start the server itself, with ``port_option``.
PORT_OPTION_STEP_SETS = ADDONS_STEP_SETS[:-1]
#: The original's port reservation for its Odoo step sets: ``odoo.use-port
#: = true`` took a port of ``odoo.http-port-min`` to ``-max`` (these
#: defaults), every ``-step`` ports, and passed it as ``--xmlrpc-port``
#: (``--port`` for openerp-command). Here a build takes one port.
USE_PORT = "odoo.use-port"
PORT_MIN, PORT_MAX, PORT_STEP = "odoo.http-port-min", "odoo.http-port-max", "odoo.http-port-step"
DEFAULT_PORTS = ("6069", "7068")
OLD_PORT_OPTION = "--xmlrpc-port"
STEP_LIST_OPTIONS = ("post-dl-steps", "db-steps", "post-buildout-steps")
#: Old worker options -> ours.
WORKER_OPTION_ALIASES: dict[str, str] = {"passwd": "password"}

#: ``%(prop:NAME...)s`` (Buildbot's ``Interpolate``) where our templates
#: write ``%(NAME...)s``.
_PROP_TEMPLATE = re.compile(r"%\(prop:(?=[A-Za-z_])")
#: A decimal ``worker_priority`` (the original parsed it with ``float``).
_DECIMAL = re.compile(r"[0-9]+\.[0-9]+|\.[0-9]+")
#: ``bin=`` naming an interpreter (``python2.6``, ``/usr/bin/python3``):
#: the original's meaning; ours is a directory.
_PYTHON_BIN = re.compile(r"(?P<head>(?:^|\s)bin=)(?P<value>(?:\S*/)?python[0-9.]*)(?=\s|$)")


def _option(name: str, text: str, where: IniOption) -> IniOption:
    """A one-line option written for ``where``'s line (its location)."""
    return IniOption(name, where.location, ((text, where.first_location),))


def port_options(target: str, first: str, last: str) -> dict[str, str]:
    """The options of our step set ``target`` that reserve a port as
    ``odoo.use-port = true`` did: ``port``, ``port_option`` (what the
    original passed), ``ports`` (its range)."""
    result = {f"{target}.port": "true"}
    if target in PORT_OPTION_STEP_SETS:
        result[f"{target}.port_option"] = OLD_PORT_OPTION
    result[f"{target}.ports"] = f"{first.strip()}-{last.strip()}"
    return result


def _use_port(result: dict[str, IniOption], named: set[str], subject: str,
              notes: list[Diagnostic]) -> None:
    """``odoo.use-port`` and ``odoo.http-port-*`` -> ``NAME.port``,
    ``NAME.port_option``, ``NAME.ports`` of each Odoo set named."""
    use = result.pop(USE_PORT, None)
    bounds = {key: result.pop(key, None) for key in (PORT_MIN, PORT_MAX, PORT_STEP)}
    if bounds[PORT_STEP] is not None:
        notes.append(Diagnostic(
            bounds[PORT_STEP].location, f"{PORT_STEP} ignored: a build takes one port here",
            PORT_STEP, f"remove {PORT_STEP}", f"{subject} {PORT_STEP}", CATEGORY))
    if use is None or use.value.strip().lower() != "true":
        for key in (USE_PORT, PORT_MIN, PORT_MAX):
            option = use if key == USE_PORT else bounds[key]
            if option is not None:
                notes.append(Diagnostic(option.location, f"{key} ignored: no port is "
                                        f"reserved without {USE_PORT} = true", key,
                                        f"remove {key}", f"{subject} {key}", CATEGORY))
        return
    targets = [s for s in ADDONS_STEP_SETS if s in named]
    if not targets:
        notes.append(Diagnostic(
            use.location, f"{USE_PORT} ignored: no Odoo step set here takes a port", USE_PORT,
            "name the step set, e.g. post-buildout-steps = odoo-default, and write "
            "odoo-default.port = true", f"{subject} {USE_PORT}", CATEGORY))
        return
    first, last = (bounds[key].value if bounds[key] is not None else default
                   for key, default in zip((PORT_MIN, PORT_MAX), DEFAULT_PORTS, strict=True))
    written = []
    for target in targets:
        for name, text in port_options(target, first, last).items():
            if name not in result:
                where = (bounds[PORT_MIN] or bounds[PORT_MAX]) if name.endswith(".ports") \
                    else None
                result[name] = _option(name, text, where or use)
                written.append(f"{name} = {text}")
    notes.append(_note(use.location, USE_PORT, ", ".join(written) or "nothing new",
                       f"{subject} {USE_PORT}", use.value,
                       hint="write the new spelling ('anybox-buildbot migrate' rewrites the "
                       "file); build-ports in workers.cfg gives a worker's own range"))


def _note(location: Location, old: str, new: str, subject: str, text: str | None = None,
          hint: str | None = None) -> Diagnostic:
    return Diagnostic(location, f"{old} is the spelling of anybox.buildbot.odoo, read as "
                      f"{new}", text, hint or "write the new spelling ('anybox-buildbot "
                      "migrate' rewrites the file)", subject, CATEGORY)


def _with_lines(option: IniOption, name: str, texts: Iterable[str]) -> IniOption:
    lines = tuple(zip(texts, (loc for _, loc in option.lines), strict=True))
    return replace(option, name=name, lines=lines)


def step_set_name(name: str) -> str:
    """Our name of a step set (itself when not an old alias)."""
    return STEP_SET_ALIASES.get(name, name)


def prop_template(text: str) -> str:
    """``%(prop:X)s`` -> ``%(X)s`` (also with ``:-DEFAULT`` and the like)."""
    return _PROP_TEMPLATE.sub("%(", text)


def _step_lists(options: dict[str, IniOption], subject: str,
                notes: list[Diagnostic]) -> set[str]:
    """Rename old step-set names in the step lists; the sets named."""
    named: set[str] = set()
    for key in STEP_LIST_OPTIONS:
        option = options.get(key)
        if option is None:
            continue
        texts = []
        renamed = False
        for text, loc in option.lines:
            words = split_list(text)
            old = [w for w in words if w in STEP_SET_ALIASES]
            for word in old:
                notes.append(_note(loc, f"step set {word!r}", repr(STEP_SET_ALIASES[word]),
                                   f"{subject} {key}", text))
            new = [step_set_name(w) for w in words]
            named.update(new)
            texts.append(", ".join(new) if old else text)
            renamed = renamed or bool(old)
        if renamed:   # most sections use our names: the option is kept as it is
            options[key] = _with_lines(option, key, texts)
    return named


def manifest_options(subject: str, options: Mapping[str, IniOption]
                     ) -> tuple[dict[str, IniOption], tuple[Diagnostic, ...]]:
    """A section's options with the original's spellings replaced by ours.

    ``subject`` names the section in the notes (``buildout [NAME]``). A
    new spelling written next to its old one wins (the old one is noted
    as ignored). ``odoo-addons``/``openerp-addons`` become the ``addons``
    option of each of our Odoo step sets the section names.
    """
    result = dict(options)
    notes: list[Diagnostic] = []
    for old, new in _ALL_OPTION_ALIASES.items():
        if old not in result:
            continue
        option = result.pop(old)
        if new in result:
            notes.append(Diagnostic(option.location, f"{old} ignored: {new} is set too", old,
                                    f"remove {old}", f"{subject} {old}", CATEGORY))
            continue
        result[new] = replace(option, name=new)
        notes.append(_note(option.location, old, new, f"{subject} {old}", old))
    for key in [k for k in result if "." in k and k.split(".", 1)[0] in STEP_SET_ALIASES]:
        head, tail = key.split(".", 1)
        new = f"{STEP_SET_ALIASES[head]}.{tail}"
        if new not in result:
            result[new] = replace(result.pop(key), name=new)
    named = _step_lists(result, subject, notes)
    for old in ADDONS_OPTIONS:
        if old not in result:
            continue
        option = result.pop(old)
        targets = [s for s in ADDONS_STEP_SETS if s in named and f"{s}.addons" not in result]
        for target in targets:
            result[f"{target}.addons"] = replace(option, name=f"{target}.addons")
        if targets:
            notes.append(_note(option.location, old, " and ".join(f"{t}.addons" for t in targets),
                               f"{subject} {old}", old))
        else:
            notes.append(Diagnostic(
                option.location, f"{old} ignored: no Odoo step set here takes it", old,
                "the original's default build is the step set odoo-default here: write "
                "post-buildout-steps = odoo-default and odoo-default.addons ('anybox-buildbot "
                "migrate' does)", f"{subject} {old}", CATEGORY))
    _use_port(result, named, subject, notes)
    for key, option in list(result.items()):
        if key.startswith("env.") and "%(prop:" in option.value:
            texts = [prop_template(text) for text, _ in option.lines]
            result[key] = _with_lines(option, key, texts)
            notes.append(_note(option.first_location, "%(prop:NAME)s", "%(NAME)s",
                               f"{subject} {key}", option.value))
    return result, tuple(notes)


def capability_line(text: str) -> str | None:
    """``python 2.6 bin=python2.6`` -> ``python 2.6 executable=python2.6``;
    None when the line is not of that old shape."""
    if not text.split()[:1] == ["python"]:
        return None
    match = _PYTHON_BIN.search(text)
    if match is None or "executable=" in text:
        return None
    return text[:match.start("head")] + match["head"].replace("bin=", "executable=") \
        + text[match.start("value"):]


def worker_options(subject: str, options: Mapping[str, IniOption]
                   ) -> tuple[dict[str, IniOption], dict[str, float], tuple[Diagnostic, ...]]:
    """A worker section's options with the original's spellings replaced.

    Returns the options, the fractional ``worker_priority`` (if any: a
    property kept as a float, which orders workers as the original did)
    and the notes.
    """
    result = dict(options)
    notes: list[Diagnostic] = []
    fractional: dict[str, float] = {}
    for old, new in WORKER_OPTION_ALIASES.items():
        if old in result and new not in result:
            option = result.pop(old)
            result[new] = replace(option, name=new)
            notes.append(_note(option.location, old, new, f"{subject} {old}", old))
    priority = result.get("worker_priority")
    if priority is not None and _DECIMAL.fullmatch(priority.value.strip()):
        text = priority.value.strip()
        fractional["worker_priority"] = float(text)
        del result["worker_priority"]
        notes.append(Diagnostic(
            priority.first_location, "a fractional worker_priority is the spelling of "
            "anybox.buildbot.odoo, kept as a decimal", text,
            "write whole numbers (multiply every worker's priority by the same power of "
            "ten; 'anybox-buildbot migrate' does)", f"{subject} worker_priority", CATEGORY))
    capability = result.get("capability")
    if capability is not None:
        texts = []
        changed = False
        for text, loc in capability.lines:
            new_text = capability_line(text)
            if new_text is not None:
                changed = True
                notes.append(Diagnostic(
                    loc, "bin=INTERPRETER is the spelling of anybox.buildbot.odoo, read as "
                    "executable=INTERPRETER (bin= is now a directory)", text,
                    f"write: {new_text.strip()}", f"{subject} capability", CATEGORY))
            texts.append(new_text if new_text is not None else text)
        if changed:
            result["capability"] = _with_lines(capability, "capability", texts)
    return result, fractional, tuple(notes)


__all__ = ["ADDONS_OPTIONS", "ADDONS_STEP_SETS", "CATEGORY", "DEFAULT_PORTS", "OLD_PORT_OPTION",
           "OPTION_ALIASES",
           "PORT_MAX", "PORT_MIN", "PORT_OPTION_STEP_SETS", "PORT_STEP", "USE_PORT",
           "STEP_OPTION_ALIASES", "STEP_SET_ALIASES", "WORKER_OPTION_ALIASES",
           "capability_line", "manifest_options", "port_options", "prop_template", "step_set_name",
           "worker_options"]
