"""The capability registry: how a capability shows up in a build.

For each capability name: the build property holding its version
(``version_prop``), the short name used in builder names (``abbrev``) and
environment templates (``environ``). CI admins extend it from master.cfg;
here the plain dicts they write are checked and turned into frozen values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .confine import MAX_ABBREV, SAFE_NAME_RULE, name_problem
from .errors import Errors, ParseError, did_you_mean
from .template import Template, parse_template

PREPENDED_VARS = ("PATH", "LD_LIBRARY_PATH")
_KEYS = ("version_prop", "abbrev", "environ")


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
        },
        "python": {
            "version_prop": "py_version",
            "abbrev": "py",
            "environ": {"PATH": "%(cap(bin):-)s"},
        },
    }


@dataclass(frozen=True, slots=True)
class CapabilitySpec:
    name: str
    version_prop: str
    abbrev: str
    environ: tuple[tuple[str, Template], ...] = ()


def compile_registry(registry: Mapping[str, Mapping], errors: Errors) -> dict[str, CapabilitySpec]:
    """Check the admin's registry dicts; problems go to ``errors``."""
    result = {}
    for name, entry in registry.items():
        subject = f"capabilities[{name!r}]"
        if not isinstance(entry, Mapping):
            errors.add(None, "expected a dict with version_prop, abbrev, environ",
                       repr(entry), subject=subject)
            continue
        unknown = [k for k in entry if k not in _KEYS]
        for key in unknown:
            errors.add(None, f"unknown key {key!r}", hint=did_you_mean(key, _KEYS),
                       subject=subject)
        environ = []
        for var, text in dict(entry.get("environ") or {}).items():
            try:
                environ.append((var, parse_template(str(text))))
            except ParseError as exc:
                errors.add_parse_error(exc, None, f"{subject} environ {var}")
        abbrev = entry.get("abbrev")
        problem = None if not abbrev else name_problem(str(abbrev), MAX_ABBREV)
        if problem is not None:
            errors.add(None, "invalid abbrev", str(abbrev), subject=subject,
                       hint=f"{problem}; abbrevs become part of builder names: "
                       f"{SAFE_NAME_RULE}, at most {MAX_ABBREV} characters")
        if unknown or problem is not None:
            continue
        result[name] = CapabilitySpec(
            name=name,
            version_prop=str(entry.get("version_prop") or f"{property_safe(name)}_version"),
            abbrev=str(entry.get("abbrev") or name),
            environ=tuple(environ),
        )
    return result


def spec_for(registry: Mapping[str, CapabilitySpec], name: str) -> CapabilitySpec:
    """Registry entry, or the fallback the spec promises for unknown names."""
    spec = registry.get(name)
    if spec is None:
        spec = CapabilitySpec(name, f"{property_safe(name)}_version", name, ())
    return spec


def property_safe(text: str) -> str:
    """Property-name form of a capability or option name (``-``/``.`` -> ``_``)."""
    return re.sub(r"[^A-Za-z0-9]", "_", text)
