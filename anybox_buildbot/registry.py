"""The capability registry: how a capability shows up in a build.

For each capability name: the build property holding its version
(``version_prop``), the short name used in builder names (``abbrev``),
environment templates (``environ``) and the options a worker may give an
instance of it (``options``, name -> kind of value). CI admins extend it
from master.cfg; here the plain dicts they write are checked and turned
into frozen values.

Options are what turns a silent typo into a diagnostic: ``postgresql 15
prot=5432`` would otherwise give builds the default port. A capability
that declares its options gets every other option refused with a "did you
mean"; one that declares none (an admin's entry without ``options``, a name
with no entry) accepts any option, as workers.cfg always did.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from .capability import OPTION_NAME, Capability
from .confine import MAX_ABBREV, SAFE_NAME_RULE, name_problem
from .errors import Errors, ParseError, closest, did_you_mean
from .rules import RuleError, whole_number
from .template import Template, parse_template

PREPENDED_VARS = ("PATH", "LD_LIBRARY_PATH")
_KEYS = ("version_prop", "abbrev", "environ", "options")
MAX_PORT = 65535


def _port_problem(value: str) -> str | None:
    """What a port should be, or None (the number rule of rules.py)."""
    try:
        whole_number(value, minimum=1, maximum=MAX_PORT)
    except RuleError:
        return f"a port number (1 to {MAX_PORT})"
    return None


def _integer_problem(value: str) -> str | None:
    try:
        whole_number(value)
    except RuleError:
        return "a whole number"
    return None


#: Kinds of option value: kind -> (check giving what the value should be, or
#: None when it is fine; an example value).
OPTION_KINDS = {
    "text": (lambda value: None, "VALUE"),
    "integer": (_integer_problem, "2"),
    "port": (_port_problem, "5432"),
}


def default_capabilities() -> dict[str, dict]:
    """A fresh copy of the built-in registry (callers may mutate it)."""
    return {
        "postgresql": {
            "version_prop": "pg_version",
            "abbrev": "pg",
            "environ": {
                "PGPORT": "%(cap(port):-5432)s",
                "PGHOST": "%(cap(host):-)s",
                "PATH": "%(cap(bin):-)s",
                "LD_LIBRARY_PATH": "%(cap(lib):-)s",
            },
            # source_*: where pg_remote_copy reads from, unless the manifest says
            "options": {"port": "port", "host": "text", "bin": "text", "lib": "text",
                        "source_host": "text", "source_port": "port",
                        "source_user": "text"},
        },
        "python": {
            "version_prop": "py_version",
            "abbrev": "py",
            "environ": {"PATH": "%(cap(bin):-)s"},
            "options": {"bin": "text", "executable": "text"},
        },
    }


@dataclass(frozen=True, slots=True)
class CapabilitySpec:
    name: str
    version_prop: str
    abbrev: str
    environ: tuple[tuple[str, Template], ...] = ()
    #: (option, kind) pairs a worker may give; None: any option, unchecked.
    options: tuple[tuple[str, str], ...] | None = None

    def option_problems(self, cap: Capability) -> Iterator[tuple[str, bool, str, str]]:
        """(option, whether its value is at fault, problem, hint) for each
        option of ``cap`` this entry refuses."""
        if self.options is None:
            return
        kinds = dict(self.options)
        for option, value in cap.options.items():
            kind = kinds.get(option)
            if kind is None:
                close = closest(option, kinds)
                hint = (f"did you mean {close!r}?" if close is not None else
                        "declared: " + (", ".join(sorted(kinds)) or "none"))
                yield (option, False,
                       f"unknown option {option!r} of capability {self.name!r}", hint)
                continue
            check, example = OPTION_KINDS[kind]
            problem = check(value)
            if problem is not None:
                yield (option, True, f"option {option!r} of capability {self.name!r} "
                       f"is not {problem}", f"e.g. {option}={example}")


def _declared_options(value: object, errors: Errors, subject: str
                      ) -> tuple[tuple[str, str], ...] | None:
    """The ``options`` of an entry: a dict name -> kind, or names (kind text)."""
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        pairs = [(name, "text") for name in value]
    else:
        errors.add(None, "options: expected a dict of option name -> kind "
                   f"({', '.join(OPTION_KINDS)}) or a list of names", repr(value)[:200],
                   subject=subject)
        return None
    result = []
    ok = True
    for name, kind in pairs:
        if not isinstance(name, str) or not OPTION_NAME.fullmatch(name):
            errors.add(None, "options: invalid option name", repr(name)[:200],
                       hint="letters, digits, '_', '.', '-', starting with a letter or '_'",
                       subject=subject)
            ok = False
        elif kind not in OPTION_KINDS:
            errors.add(None, f"options: unknown kind for {name!r}", repr(kind)[:200],
                       hint=did_you_mean(str(kind), OPTION_KINDS), subject=subject)
            ok = False
        else:
            result.append((name, kind))
    return tuple(result) if ok else None


def compile_registry(registry: Mapping[str, Mapping], errors: Errors) -> dict[str, CapabilitySpec]:
    """Check the admin's registry dicts; problems go to ``errors``."""
    result = {}
    for name, entry in registry.items():
        subject = f"capabilities[{name!r}]"
        if not isinstance(entry, Mapping):
            errors.add(None, "expected a dict with version_prop, abbrev, environ, options",
                       repr(entry), subject=subject)
            continue
        unknown = [k for k in entry if k not in _KEYS]
        for key in unknown:
            errors.add(None, f"unknown key {key!r}", hint=did_you_mean(key, _KEYS),
                       subject=subject)
        before = errors.count
        options = (_declared_options(entry["options"], errors, subject)
                   if entry.get("options") is not None else None)
        environ = []
        for var, text in dict(entry.get("environ") or {}).items():
            try:
                template = parse_template(str(text))
            except ParseError as exc:
                errors.add_parse_error(exc, None, f"{subject} environ {var}")
                continue
            environ.append((var, template))
            if options is not None:
                _check_cap_refs(template, var, dict(options), errors, subject)
        abbrev = entry.get("abbrev")
        problem = None if not abbrev else name_problem(str(abbrev), MAX_ABBREV)
        if problem is not None:
            errors.add(None, "invalid abbrev", str(abbrev), subject=subject,
                       hint=f"{problem}; abbrevs become part of builder names: "
                       f"{SAFE_NAME_RULE}, at most {MAX_ABBREV} characters")
        if unknown or problem is not None or errors.count != before:
            continue
        result[name] = CapabilitySpec(
            name=name,
            version_prop=str(entry.get("version_prop") or f"{property_safe(name)}_version"),
            abbrev=str(entry.get("abbrev") or name),
            environ=tuple(environ),
            options=options,
        )
    return result


def _check_cap_refs(template: Template, var: str, options: Mapping[str, str], errors: Errors,
                    subject: str) -> None:
    """An environ template may only read declared options: a worker cannot
    give any other, so the variable would always take its default."""
    for option in template.cap_options:
        if option not in options:
            errors.add(None, f"cap({option}) is not a declared option", template.text,
                       hint=(did_you_mean(option, options) if options
                             else "this capability declares no options")
                       + "; add it to 'options'", subject=f"{subject} environ {var}")


def spec_for(registry: Mapping[str, CapabilitySpec], name: str) -> CapabilitySpec:
    """Registry entry, or the fallback the spec promises for unknown names."""
    spec = registry.get(name)
    if spec is None:
        spec = CapabilitySpec(name, f"{property_safe(name)}_version", name, ())
    return spec


def property_safe(text: str) -> str:
    """Property-name form of a capability or option name (``-``/``.`` -> ``_``)."""
    return re.sub(r"[^A-Za-z0-9]", "_", text)


#: The built-in entries, compiled once: what a worker file is checked
#: against when no configurator gives its own registry (``worker-check``
#: without ``--master``, tests).
BUILTIN_REGISTRY: dict[str, CapabilitySpec] = compile_registry(default_capabilities(),
                                                                Errors())
