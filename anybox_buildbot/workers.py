"""workers.cfg fragments -> validated ``WorkerSpec`` values.

Worker admins send fragments; the CI admin lists them. Each section is a
worker. Everything is checked here, because Buildbot's own ``Worker``
accepts ``max_builds = 'two'`` silently. The password is kept out of every
``repr`` and never copied into properties.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .capability import Capability, parse_capability
from .confine import WORKER_NAME_RULE, worker_name_problem
from .constraint import Requirement, parse_requirement
from .deprecated import worker_options
from .errors import Diagnostic, Errors, Location, ParseError
from .inifile import IniFile, IniOption, read_ini
from .ports import PortRange, parse_port_range
from .registry import BUILTIN_REGISTRY, CapabilitySpec
from .rules import SECRET_FORM, RuleError, is_mail_address, secret_name, split_list, whole_number

PASSWORD = "password"
CAPABILITY = "capability"
ONLY_IF = "build-only-if-requires"
INT_OPTIONS = ("max_builds", "keepalive_interval", "missing_timeout")
NOTIFY = "notify_on_missing"
#: Ports builds on this worker reserve from (``steps/ports.py``).
PORTS = "build-ports"
#: The worker property carrying the parsed range to the builds.
PORTS_PROPERTY = "build_ports"
RESERVED = frozenset({PASSWORD, CAPABILITY, ONLY_IF, NOTIFY, PORTS, *INT_OPTIONS})
PRIORITY = "worker_priority"


def _normal(key: str) -> str:
    return key.lower().replace("_", "-")


_NORMAL_RESERVED = {_normal(k): k for k in RESERVED | {PRIORITY}}
_LONGEST_RESERVED = max(map(len, _NORMAL_RESERVED))
_ALIASES = {"capabilities": CAPABILITY, "passwd": PASSWORD, "priority": PRIORITY,
            "odoo-ports": PORTS, "ports": PORTS}


def _looks_like_reserved(key: str) -> str | None:
    """The reserved option a key is a near-miss of, if any.

    Unknown keys become worker properties, so ``max_build = 2`` would be
    silently ignored; keys this close to a reserved one are refused instead.
    """
    if key in RESERVED or key == PRIORITY:
        return None
    normal = _normal(key)
    if normal in _ALIASES:
        return _ALIASES[normal]
    if normal in _NORMAL_RESERVED:
        return _NORMAL_RESERVED[normal]
    if len(normal) > 2 * _LONGEST_RESERVED:
        return None  # cannot be that close; difflib on a 10 MB key takes seconds
    return _close_reserved(normal)


@functools.lru_cache(maxsize=1024)
def _close_reserved(normal: str) -> str | None:
    """Cached: a fleet repeats the same property names (``arch``) per worker."""
    close = difflib.get_close_matches(normal, _NORMAL_RESERVED, n=1, cutoff=0.85)
    return _NORMAL_RESERVED[close[0]] if close else None


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    """One worker as declared by its admin."""

    name: str
    location: Location
    password: str = field(repr=False, compare=False)
    capabilities: tuple[Capability, ...] = ()
    only_if_requires: tuple[Requirement, ...] = ()
    max_builds: int | None = None
    keepalive_interval: int | None = None
    missing_timeout: int | None = None
    notify_on_missing: tuple[str, ...] = ()
    properties: dict[str, str | int | float] = field(default_factory=dict, hash=False)
    # old spellings of anybox.buildbot.odoo read as ours (deprecated.py)
    deprecations: tuple[Diagnostic, ...] = field(default=(), hash=False, compare=False,
                                                  repr=False)
    ports: PortRange | None = None

    @property
    def build_properties(self) -> dict:
        """The Buildbot worker's properties: the admin's, plus the parsed
        port range (``[first, last]``) the port reservation step reads."""
        if self.ports is None:
            return dict(self.properties)
        return {**self.properties, PORTS_PROPERTY: self.ports.as_property()}

    @property
    def priority(self) -> int | float:
        """``worker_priority``: whole, or a decimal from an old file."""
        value = self.properties.get(PRIORITY, 0)
        return value if isinstance(value, (int, float)) else 0

    @property
    def secret_name(self) -> str | None:
        """Name of the secret holding the password, when given as one."""
        return secret_name(self.password)

    def instances(self, name: str) -> tuple[Capability, ...]:
        return tuple(cap for cap in self.capabilities if cap.name == name)

    def has(self, name: str) -> bool:
        return any(cap.name == name for cap in self.capabilities)


def _parse_int(option: IniOption, errors: Errors, subject: str) -> int | None:
    text = option.value.strip()
    try:
        return whole_number(text)
    except RuleError as exc:
        hint = None if exc.problem == "must not be negative" else f"e.g. {option.name} = 2"
        errors.add(option.first_location, exc.problem, text, hint=hint, subject=subject)
        return None


def _parse_ports(option: IniOption, errors: Errors, subject: str) -> PortRange | None:
    text = option.value.strip()
    try:
        return parse_port_range(text)
    except RuleError as exc:
        errors.add(option.first_location, exc.problem, exc.text or text or None,
                   hint=exc.hint, subject=f"{subject} {PORTS}")
        return None


def _option_column(line: str, option: str) -> int | None:
    """1-based column of the ``OPTION=`` word of a capability line."""
    for match in re.finditer(r"\S+", line):
        if match.group().partition("=")[0] == option and "=" in match.group():
            return match.start() + 1
    return None


def _parse_capabilities(option: IniOption, errors: Errors, subject: str,
                        registry: Mapping[str, CapabilitySpec]) -> tuple[Capability, ...]:
    caps: list[Capability] = []
    seen: dict[tuple, Location] = {}
    for text, loc in option.lines:
        try:
            cap = parse_capability(text)
        except ParseError as exc:
            errors.add_parse_error(exc, loc, subject)
            continue
        spec = registry.get(cap.name)
        refused = list(spec.option_problems(cap)) if spec is not None else []
        for name, in_value, problem, hint in refused:
            column = _option_column(text, name)
            if column is not None and in_value:
                column += len(name) + 1       # the caret under the value
            errors.add(loc if column is None else loc.at_column(column), problem, text,
                       hint, subject)
        if refused:
            continue
        key = (cap.name, cap.version)
        if key in seen:
            label = cap.name + (f" {cap.version.text}" if cap.version else " (no version)")
            errors.add(loc, f"capability {label} declared twice (first at line "
                       f"{seen[key].line})", text,
                       hint="give each instance its own version, or merge the lines",
                       subject=subject)
            continue
        seen[key] = loc
        caps.append(cap)
    return tuple(caps)


def _parse_section(ini: IniFile, section, errors: Errors,
                   registry: Mapping[str, CapabilitySpec]) -> WorkerSpec | None:
    name = section.name
    subject = f"worker [{name}]"
    ok = True
    problem = worker_name_problem(name)
    if problem is not None:
        errors.add(section.location, "invalid worker name", name,
                   hint=f"{problem}; use {WORKER_NAME_RULE}")
        ok = False
    options, fractional, deprecations = worker_options(subject, ini.merged_options(section))
    password_opt = options.get(PASSWORD)
    password = password_opt.value.strip() if password_opt else ""
    if not password:
        errors.add(section.location, "missing password", f"[{name}]",
                   hint="add 'password = ...' or 'password = %(secret:NAME)s'",
                   subject=subject)
        ok = False
    elif "%(" in password and secret_name(password) is None:
        errors.add(password_opt.first_location, "malformed secret reference",
                   hint=f"write exactly {SECRET_FORM}", subject=subject)
        ok = False
    n_errors = errors.count
    kwargs: dict = {}
    for key in INT_OPTIONS:
        if key in options:
            kwargs[key] = _parse_int(options[key], errors, subject)
    caps = _parse_capabilities(options[CAPABILITY], errors, subject, registry) \
        if CAPABILITY in options else ()
    only_if: list[Requirement] = []
    if ONLY_IF in options:
        for text, loc in options[ONLY_IF].lines:
            try:
                only_if.append(parse_requirement(text))
            except ParseError as exc:
                errors.add_parse_error(exc, loc, f"{subject} {ONLY_IF}")
    notify: list[str] = []
    if NOTIFY in options:
        for text, loc in options[NOTIFY].lines:
            for address in split_list(text):
                if is_mail_address(address):
                    notify.append(address)
                else:
                    errors.add(loc, "not an e-mail address", address,
                               hint="user@host.domain, as mail is sent to, e.g. "
                               "notify_on_missing = ops@example.com", subject=subject)
    ports = _parse_ports(options[PORTS], errors, subject) if PORTS in options else None
    properties: dict[str, str | int | float] = dict(fractional)
    for key, option in options.items():
        if key in RESERVED:
            continue
        if any(ch.isspace() for ch in key):
            # Most likely a continuation line that lost its indentation
            # (``postgresql 13 port=5434``): never a silent property.
            errors.add(option.location, "invalid option name", key,
                       hint="indent continuation lines; property names have no spaces",
                       subject=subject)
            continue
        typo = _looks_like_reserved(key)
        if typo:
            errors.add(option.location, f"unknown option {key!r}", key,
                       hint=f"did you mean {typo!r}? other keys become worker properties",
                       subject=subject)
            continue
        if key == PRIORITY:
            value = _parse_int(option, errors, subject)
            if value is not None:
                properties[key] = value
            continue
        properties[key] = option.value
    if not ok or errors.count != n_errors:
        return None
    return WorkerSpec(name=name, location=section.location, password=password,
                      capabilities=caps, only_if_requires=tuple(only_if),
                      notify_on_missing=tuple(notify), properties=properties, ports=ports,
                      deprecations=deprecations, **kwargs)


def load_workers(paths: Iterable[str | Path], errors: Errors,
                 display: dict[str, str] | None = None,
                 registry: Mapping[str, CapabilitySpec] | None = None
                 ) -> tuple[WorkerSpec, ...]:
    """Load every fragment; a worker defined in two fragments is an error.

    ``display`` maps a path to the name used in messages (relative to the
    master directory, as the admin wrote it). Capability options are
    checked against ``registry`` (default: the built-in entries).
    """
    workers: list[WorkerSpec] = []
    seen: dict[str, Location] = {}
    for path in paths:
        ini = read_ini(path, errors, (display or {}).get(str(path), str(path)))
        if ini is None:
            continue
        workers.extend(parse_workers(ini, errors, seen, registry))
    return tuple(workers)


def parse_workers(ini: IniFile, errors: Errors, seen: dict[str, Location] | None = None,
                  registry: Mapping[str, CapabilitySpec] | None = None) -> list[WorkerSpec]:
    """Workers of one parsed fragment; ``seen`` tracks names across fragments."""
    seen = {} if seen is None else seen
    registry = BUILTIN_REGISTRY if registry is None else registry
    result = []
    for section in ini.sections:
        if section.name in seen:
            first = seen[section.name]
            errors.add(section.location, f"worker {section.name!r} is already defined in "
                       f"{first}", f"[{section.name}]",
                       hint="worker names must be unique over all fragments; rename one")
            continue
        seen[section.name] = section.location
        spec = _parse_section(ini, section, errors, registry)
        if spec is not None:
            result.append(spec)
    return result
