"""Python values given to the public API by master.cfg, checked before use.

``BuildoutsConfigurator(...)`` and ``configure_from_buildouts(...)`` are
called from master.cfg, a Python file: a wrong type there (one string
where a list of paths is meant, a function as ``poll_interval``) would
otherwise surface much later as a traceback from deep inside the load, or
not at all (a string iterated character by character). Every argument is
checked at the call, and every bad one is reported in one ``ConfigError``
naming the argument, what was expected and what was given; Buildbot shows
it like the errors of the INI files, without a traceback.

Only shapes are checked here (and ranges that nothing checks later); the
contents are the business of their own module, which reports them with
the errors of the files (the registry entries: ``registry.compile_registry``;
the prefixes and rewrite results: ``configurator``/``watching``; mail
addresses and the SMTP port's range: ``notify``, when mail is sent).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence

from .errors import Errors, did_you_mean
from .multimaster import parse_multi_master

SUBJECT = "BuildoutsConfigurator"
_PATH = "a path (str or os.PathLike)"


def describe(value: object, limit: int = 80) -> str:
    """What the message says was given: ``TYPE REPR`` (``int -5``, ``str 'x'``),
    ``a function REPR`` for callables; the repr shortened."""
    if callable(value) and not isinstance(value, type):
        kind = "a function" if inspect.isroutine(value) else "a callable"
    else:
        kind = f"{type(value).__name__}"
    text = repr(value)
    if len(text) > limit:
        text = text[:limit] + "..."
    return f"{kind} {text}"


def _is_path(value: object) -> bool:
    return isinstance(value, (str, os.PathLike)) and bool(os.fspath(value))


def _is_int(value: object) -> bool:
    """An int, not a bool (``True`` would be 1 second, port 1...)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_sequence(value: object) -> bool:
    """A list or tuple (any sequence), never one string or bytes."""
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray))


class _Checker:
    """Collects the problems of one call's arguments."""

    def __init__(self, subject: str) -> None:
        self.subject = subject
        self.errors = Errors()

    def bad(self, name: str, expected: str, value: object, hint: str | None = None) -> None:
        self.errors.add(None, f"expected {expected}, got {describe(value)}", hint=hint,
                        subject=f"{self.subject} argument {name}")

    def check(self, name: str, ok: bool, expected: str, value: object,
              hint: str | None = None) -> None:
        if not ok:
            self.bad(name, expected, value, hint)


def _check_paths(check: _Checker, name: str, value: object, one_allowed: bool) -> None:
    """A list of paths (or, when ``one_allowed``, a single path too)."""
    if one_allowed and _is_path(value):
        return
    if not _is_sequence(value):
        if one_allowed:
            check.bad(name, f"{_PATH} or a list of them", value)
        else:
            hint = (f"a single manifest goes in a list too: {name}=[{value!r}]"
                    if _is_path(value) else None)
            check.bad(name, "a list of paths (str or os.PathLike)", value, hint)
        return
    for index, item in enumerate(value):
        if not _is_path(item):
            check.bad(f"{name}[{index}]", f"{_PATH}, not empty", item)


def _check_rules(check: _Checker, value: object) -> None:
    name = "vcs_master_url_rewrite_rules"
    if _is_sequence(value) and len(value) == 2 and all(isinstance(p, str) for p in value):
        check.bad(name, "a list of (prefix, replacement) pairs of strings", value,
                  hint=f"a single rule goes in a list too: [{tuple(value)!r}]")
        return
    if not _is_sequence(value):
        check.bad(name, "a list of (prefix, replacement) pairs of strings", value,
                  hint="e.g. [('ssh://git@git.example.com/', '/srv/mirrors/')]")
        return
    for index, rule in enumerate(value):
        if not (_is_sequence(rule) and len(rule) == 2
                and all(isinstance(part, str) for part in rule)):
            check.bad(f"{name}[{index}]", "a (prefix, replacement) pair of strings", rule)


#: The VCS kinds a poll interval may be given for (``manifest.WATCH_KINDS``).
POLLED_KINDS = ("bzr", "git", "hg")
_INTERVAL = "a whole number of seconds, at least 1, -1 (no polling)"


def _is_interval(value: object) -> bool:
    """Seconds (at least 1), -1 (no polling: ``pollers.NO_POLLING``) or None."""
    return value is None or (_is_int(value) and (value >= 1 or value == -1))


def _check_poll_interval(check: _Checker, value: object) -> None:
    """``poll_interval``: one interval for every kind, or a dict per kind."""
    name = "poll_interval"
    if isinstance(value, Mapping):
        for kind, item in value.items():
            if kind not in POLLED_KINDS:
                check.errors.add(None, f"unknown VCS kind (known: {', '.join(POLLED_KINDS)})",
                                 repr(kind), subject=f"{SUBJECT} argument {name}[{kind!r}]")
            elif not _is_interval(item):
                check.bad(f"{name}[{kind!r}]", f"{_INTERVAL} or None (600)", item)
        return
    check.check(name, _is_interval(value),
                f"{_INTERVAL}, None (600) or a dict VCS -> one of these", value,
                hint="e.g. poll_interval={'git': 300, 'hg': -1}")


def _check_names(check: _Checker, name: str, value: object, what: str) -> None:
    """One str, a list (or set) of them, or None. Only the outer shape: the
    configurator checks each entry (``watchreports.auto_watch_prefixes``,
    ``secretchecks.manifest_secret_names``)."""
    if value is None or isinstance(value, str):
        return
    if not _is_sequence(value) and not isinstance(value, (set, frozenset)):
        check.bad(name, f"{what} (str), a list of them, or None", value)


def _check_capabilities(check: _Checker, value: object) -> None:
    """A mapping of mappings; the entries' keys are ``compile_registry``'s."""
    if value is None:
        return
    if not isinstance(value, Mapping):
        check.bad("capabilities", "a dict NAME -> dict(version_prop=, abbrev=, environ=), "
                  "or None for the built-in registry", value)
        return
    for key, entry in value.items():
        if not isinstance(key, str) or not key:
            check.bad("capabilities", "capability names (str) as keys", key)
        elif not isinstance(entry, Mapping):
            check.bad(f"capabilities[{key!r}]", "a dict with version_prop, abbrev, environ",
                      entry, hint="e.g. dict(version_prop='rabbitmq_version', abbrev='rmq')")
        elif "environ" in entry and entry["environ"] is not None \
                and not isinstance(entry["environ"], Mapping):
            check.bad(f"capabilities[{key!r}]['environ']", "a dict VARIABLE -> template",
                      entry["environ"], hint="e.g. {'PGPORT': '%(cap(port))s'}")


def check_configurator_arguments(args: Mapping[str, object]) -> None:
    """Raise one ``ConfigError`` naming every badly typed argument of
    ``BuildoutsConfigurator(...)``; ``args`` maps names to given values."""
    check = _Checker(SUBJECT)
    value = args["buildmaster_dir"]
    check.check("buildmaster_dir", _is_path(value), _PATH, value,
                hint="master.cfg has it as 'basedir'")
    value = args["buildmaster_config"]
    check.check("buildmaster_config", isinstance(value, MutableMapping),
                "the BuildmasterConfig dict", value, hint="master.cfg calls it 'c'")
    _check_paths(check, "manifest_paths", args["manifest_paths"], one_allowed=False)
    _check_paths(check, "workers_path", args["workers_path"], one_allowed=True)
    _check_poll_interval(check, args["poll_interval"])
    value = args["tree_stable_timer"]
    check.check("tree_stable_timer", _is_int(value) and value >= 0,
                "a whole number of seconds (0: no timer)", value,
                hint="the default of buildouts without tree-stable-timer; 600 if not given")
    _check_capabilities(check, args["capabilities"])
    for name in ("strict", "fleet_page"):
        value = args[name]
        check.check(name, isinstance(value, bool), "True or False", value)
    _check_rules(check, args["vcs_master_url_rewrite_rules"])
    _check_names(check, "auto_watch_allowed", args["auto_watch_allowed"], "a URL prefix")
    _check_names(check, "manifest_secrets", args["manifest_secrets"], "a secret name")
    for name in ("mail_from", "smtp_host"):
        value = args[name]
        check.check(name, isinstance(value, str) and bool(value), "a non-empty str", value)
    value = args["smtp_port"]
    # its range is checked with the other mail settings, when mail is sent
    check.check("smtp_port", _is_int(value), "a TCP port number (int)", value)
    for name in ("smtp_user", "smtp_password"):
        value = args[name]
        check.check(name, value is None or isinstance(value, str),
                    "a str (a password may be '%(secret:NAME)s') or None", value)
    # the database URL may hold a password: its messages mask it (multimaster.py)
    parse_multi_master(args.get("multi_master"), check.errors)
    check.errors.raise_if_any()


def check_capability_entry(name: object, spec: object) -> None:
    """``add_capability_environ(name, spec)``: a name and a dict entry."""
    check = _Checker("add_capability_environ")
    check.check("name", isinstance(name, str) and bool(name), "a capability name (str)", name)
    if not isinstance(spec, Mapping):
        check.bad("spec", "a dict with version_prop, abbrev, environ", spec,
                  hint="e.g. dict(version_prop='rabbitmq_version', abbrev='rmq')")
    elif spec.get("environ") is not None and not isinstance(spec["environ"], Mapping):
        check.bad("spec['environ']", "a dict VARIABLE -> template", spec["environ"])
    check.errors.raise_if_any()


def check_keywords(subject: str, function: Callable, given: Iterable[str],
                   skip: int = 0) -> None:
    """Unknown keyword arguments of ``function`` (its parameters after the
    first ``skip``): one ``ConfigError`` with a "did you mean" each, instead
    of Python's bare TypeError."""
    names = list(inspect.signature(function).parameters)[skip:]
    errors = Errors()
    for name in given:
        if name not in names:
            errors.add(None, f"unknown argument {name!r}", hint=did_you_mean(name, names),
                       subject=subject)
    errors.raise_if_any()


__all__ = ["check_capability_entry", "check_configurator_arguments", "check_keywords",
           "describe"]
