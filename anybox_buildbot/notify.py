"""Notifications from the manifests: ``notify`` lines -> ``NotifyTarget`` values.

Why this module exists: a CI nobody hears from is not used, and writing
reporter code in master.cfg for every project does not scale. Each
buildout (or ``[DEFAULT]``) lists destinations, one per line::

    notify = mail ops@example.com on=failing,fixed
             http https://hooks.example.com/ci on=all
             github acme/app token=%(secret:github_token)s

Parsing (:func:`parse_notify_option`) is pure and reports every bad line
with its location; it belongs to the parsing layer and imports nothing
from Buildbot. :mod:`.reporters` turns the targets of all buildouts into
Buildbot's reporters. Secrets stay secrets: a commit-status token must be
written ``%(secret:NAME)s``; a literal token is refused and never echoed.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from .errors import Errors, Location, ParseError, did_you_mean
from .rules import (
    BUILDBOT_VALID_EMAIL,
    SECRET_FORM,
    SECRET_REFERENCE,
    is_mail_address,
    is_mail_sender,
    secret_name,
    split_list,
)

#: One line per destination kind: shown in every error message.
FORMS: dict[str, str] = {
    "mail": "mail ADDRESS [on=MODES]",
    "http": "http URL [on=MODES]",
    "github": "github OWNER/REPO|URL token=%(secret:NAME)s",
    "gitlab": "gitlab GROUP/PROJECT|URL token=%(secret:NAME)s",
    "gitea": "gitea URL token=%(secret:NAME)s",
}
STATUS_KINDS = ("github", "gitlab", "gitea")
KEYWORDS: dict[str, tuple[str, ...]] = {
    "mail": ("on",), "http": ("on",),
    "github": ("token",), "gitlab": ("token",), "gitea": ("token",),
}
#: Modes of Buildbot's BuildStatusGenerator (``possible_modes`` of its
#: ``BuildStatusGeneratorMixin``, written here so that parsing needs no
#: Buildbot; tests/unit/test_notify.py checks they are the same), plus its
#: ``all`` shortcut and our ``fixed`` (success after a failure).
BUILDBOT_MODES: tuple[str, ...] = ("change", "failing", "passing", "problem", "warnings",
                                   "exception", "cancelled")
ALL_MODES = ("failing", "passing", "warnings", "exception", "cancelled")  # Buildbot's 'all'
MODES: tuple[str, ...] = ("all", *BUILDBOT_MODES, "fixed")
DEFAULT_MODES = {"mail": ("failing",), "http": ("all",)}

GITHUB_API = "https://api.github.com"
GITLAB_COM = "https://gitlab.com"
_SLUG_PART = r"[A-Za-z0-9_.-]+"
_REPO = {"github": re.compile(rf"{_SLUG_PART}/{_SLUG_PART}"),
         "gitlab": re.compile(rf"{_SLUG_PART}(/{_SLUG_PART})+")}


@dataclass(frozen=True, slots=True)
class NotifyTarget:
    """One ``notify`` line: where to report, and which builds.

    ``address`` is the mail address, the URL, or the repository as written.
    ``api_url`` is the commit-status server's API (None for mail/http).
    ``modes`` is empty for commit statuses (they follow every build).
    """

    kind: str
    address: str
    modes: tuple[str, ...] = ()
    api_url: str | None = None
    token_secret: str | None = None
    location: Location | None = field(default=None, compare=False)

    @property
    def destination(self) -> tuple[str, ...]:
        """What makes two lines the same receiver (one reporter each).

        Commit statuses are per server and credentials: the repository a
        status lands on is the one each build's source stamp names.
        """
        if self.kind in STATUS_KINDS:
            assert self.api_url is not None and self.token_secret is not None
            return (self.kind, self.api_url, self.token_secret)
        return (self.kind, self.address)

    @property
    def form(self) -> str:
        return FORMS[self.kind]


@dataclass(frozen=True, slots=True)
class MailSettings:
    """How the master sends mail (BuildoutsConfigurator keyword arguments).

    ``smtp_password`` may be ``%(secret:NAME)s``: it is then rendered from
    the master's secrets providers, never stored in the config.
    """

    mail_from: str = "buildbot@localhost"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)


# --------------------------------------------------------------------------- #
# parsing
# --------------------------------------------------------------------------- #

def _then(first: str, second: str) -> str:
    """Join two hints ('did you mean ...?' ends a sentence already)."""
    return f"{first} {second[0].upper()}{second[1:]}" if first.endswith("?") \
        else f"{first}; {second}"


def _masked(text: str) -> str:
    """The line with any token value hidden: error messages reach logs."""
    return re.sub(r"(\btoken=)\S*", r"\1***", text)


def _parse_modes(kind: str, value: str, text: str, column: int) -> tuple[str, ...]:
    names = split_list(value)
    if not names:
        raise ParseError("empty 'on='", text, hint="valid modes: " + ", ".join(MODES),
                         column=column)
    offset = 0
    for name in value.split(","):
        if name and name not in MODES:
            raise ParseError(f"unknown mode {name!r}", text,
                             hint=_then(did_you_mean(name, MODES), f"form: {FORMS[kind]}"),
                             column=column + len("on=") + offset)
        offset += len(name) + 1
    if "all" in names and kind == "http":
        return ("all",)
    return tuple(m for m in MODES if m in names)


def _parse_http_url(url: str, text: str, kind: str,
                    column: int | None = None) -> urllib.parse.SplitResult:
    problem = None
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        problem = f"malformed URL ({exc})"
    else:
        if parts.scheme not in ("http", "https"):
            problem = "the URL must start with http:// or https://"
        elif not parts.hostname:
            problem = "the URL has no host"
    if problem is not None:
        raise ParseError(problem, text, hint=f"form: {FORMS[kind]}", column=column)
    address = literal_address(parts.hostname or "")
    if address is not None and address.is_link_local:
        raise ParseError("link-local address refused (cloud metadata services answer "
                         "there)", text, hint="give the receiver's own host name or "
                         "address; loopback and private addresses are accepted",
                         column=column)
    return parts


def literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address a host name is written as, in any form the master's
    resolver reads (``169.254.169.254``, ``2852039166``, ``0xa9.0xfe.43518``,
    ``[::ffff:169.254.169.254]``); None for a name to resolve."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except (OSError, ValueError):
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _status_server(kind: str, where: str, text: str, column: int) -> str:
    """API base URL of a commit-status server from ``OWNER/REPO`` or a URL."""
    if "://" in where:
        parts = _parse_http_url(where, text, kind, column)
        base = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"  # no user:password@
        if kind == "github":
            if parts.hostname in ("github.com", "www.github.com", "api.github.com"):
                return GITHUB_API
            return f"{base}/api/v3"
        if kind == "gitea":
            return f"{base}/api/v1"
        return base
    if kind == "gitea":
        raise ParseError("gitea needs the server URL", text,
                         hint=f"form: {FORMS[kind]}, e.g. gitea https://gitea.example.com/"
                         "owner/repo token=%(secret:gitea_token)s",
                         column=column)
    if not _REPO[kind].fullmatch(where):
        what = "OWNER/REPO" if kind == "github" else "GROUP/PROJECT"
        raise ParseError(f"expected {what} or a URL", text, hint=f"form: {FORMS[kind]}",
                         column=column)
    return GITHUB_API if kind == "github" else GITLAB_COM


def parse_notify_line(text: str, location: Location | None = None) -> NotifyTarget:
    """Parse one destination line; raise :class:`ParseError` if it is wrong.

    Messages quote the line with any token value masked (they reach logs);
    columns are those of the quoted line.
    """
    shown = _masked(text)
    # Masking keeps every word a word: word i starts at columns[i] in both.
    columns = [m.start() + 1 for m in re.finditer(r"\S+", shown)]
    words = text.split()
    forms = "; ".join(FORMS.values())
    if not words:
        raise ParseError("empty destination", shown, hint=f"forms: {forms}")
    kind = words[0]
    if kind not in FORMS:
        raise ParseError(f"unknown destination kind {kind!r}", shown,
                         hint=_then(did_you_mean(kind, FORMS), f"forms: {forms}"), column=1)
    form = f"form: {FORMS[kind]}"
    positional: list[int] = []  # indexes in words
    keywords: dict[str, tuple[str, int]] = {}
    for index, word in enumerate(words[1:], start=1):
        key, eq, value = word.partition("=")
        if not eq or "://" in key or "@" in key:
            positional.append(index)
            continue
        if key == "on" and kind in STATUS_KINDS:
            raise ParseError("commit statuses follow every build: on= does not apply",
                             shown, hint=form, column=columns[index])
        if key not in KEYWORDS[kind]:
            allowed = ", ".join(f"{k}=" for k in KEYWORDS[kind])
            raise ParseError(f"unknown keyword {key + '='!r} for {kind}", shown,
                             hint=f"accepted: {allowed}; {form}", column=columns[index])
        if key in keywords:
            raise ParseError(f"{key}= given twice", shown, hint=form, column=columns[index])
        keywords[key] = (value, index)
    if not positional:
        what = {"mail": "ADDRESS", "http": "URL"}.get(kind, "URL or repository")
        raise ParseError(f"missing {what}", shown, hint=form)
    if len(positional) > 1:
        extra = " ".join(words[i] for i in positional[1:])
        raise ParseError(f"unexpected extra words {extra!r}", shown,
                         hint=f"one destination per line; {form}",
                         column=columns[positional[1]])
    where, where_column = words[positional[0]], columns[positional[0]]
    if kind in ("mail", "http"):
        modes = DEFAULT_MODES[kind]
        if "on" in keywords:
            value, index = keywords["on"]
            modes = _parse_modes(kind, value, shown, columns[index])
        if kind == "mail" and not is_mail_address(where):
            raise ParseError("not an e-mail address", shown, hint=form, column=where_column)
        if kind == "http":
            _parse_http_url(where, shown, kind, where_column)
        return NotifyTarget(kind, where, modes=modes, location=location)
    if "token" not in keywords:
        raise ParseError(f"missing token={SECRET_FORM}", shown,
                         hint=f"commit statuses need an API token kept in a secrets "
                         f"provider; {form}")
    token, index = keywords["token"]
    match = SECRET_REFERENCE.fullmatch(token)
    if match is None:
        problem = ("malformed secret reference" if "%(" in token
                   else "the token must be a secret reference, never the token itself")
        raise ParseError(problem, shown,
                         hint="store it with a secrets provider (c['secretsProviders']) "
                         f"and write token={SECRET_FORM}; {form}", column=columns[index])
    api_url = _status_server(kind, where, shown, where_column)
    return NotifyTarget(kind, where, api_url=api_url, token_secret=match["name"],
                        location=location)


def parse_notify_option(lines: Iterable[tuple[str, Location]], errors: Errors,
                        subject: str | None = None) -> tuple[NotifyTarget, ...]:
    """Targets of one ``notify`` option; every bad line goes to ``errors``.

    The same destination twice in one option is an error rather than a
    silent merge: the admin meant one set of modes, so ask which.
    """
    targets: list[NotifyTarget] = []
    seen: dict[tuple[str, ...], Location] = {}
    for text, loc in lines:
        try:
            target = parse_notify_line(text, loc)
        except ParseError as exc:
            errors.add_parse_error(exc, loc, subject)
            continue
        first = seen.get(target.destination)
        if first is not None:
            errors.add(loc, f"destination already given at line {first.line}",
                       _masked(text), hint="one line per destination; list every mode "
                       "in one on=, e.g. on=failing,fixed", subject=subject)
            continue
        seen[target.destination] = loc
        targets.append(target)
    return tuple(targets)


class Notifying(Protocol):
    """What the notify checks and the reporters read of a buildout."""

    name: str
    notify: tuple[NotifyTarget, ...]


def check_secrets(buildouts: Iterable[Notifying], reserved: Mapping[str, str],
                  allowed: frozenset[str] | None, errors: Errors) -> None:
    """Refuse the ``token=%(secret:NAME)s`` a manifest may not use.

    A manifest names the server a token is sent to, so a secret it may
    name is a secret its author may read. ``reserved`` maps the secrets the
    master uses itself (worker passwords, the SMTP credentials) to what
    uses them: never reachable from a manifest. ``allowed`` (the master's
    ``manifest_secrets``), when given, is the whole list of names
    manifests may use. Each refused line is one error at its location,
    once even when ``[DEFAULT]`` gives it to many buildouts.
    """
    seen: set[tuple[Location | None, str]] = set()
    for spec in sorted(buildouts, key=lambda s: s.name):
        for target in spec.notify:
            name = target.token_secret
            if name is None or (target.location, name) in seen:
                continue
            seen.add((target.location, name))
            text = f"{target.kind} {target.address} token=%(secret:{name})s"
            if name in reserved:
                errors.add(target.location, f"secret {name!r} is {reserved[name]}: a "
                           "manifest cannot send it anywhere", text,
                           hint="give the status server its own token, in a secret of its "
                           "own", subject=f"buildout [{spec.name}] notify")
            elif allowed is not None and name not in allowed:
                listed = ", ".join(sorted(allowed)) or "none"
                errors.add(target.location, f"secret {name!r} is not one manifests may "
                           "use", text, hint=f"the master admin lists them in "
                           f"manifest_secrets= (now: {listed})",
                           subject=f"buildout [{spec.name}] notify")


def check_mail_settings(mail: MailSettings, errors: Errors) -> bool:
    """The master's mail settings are usable; each problem goes to ``errors``."""
    subject = "BuildoutsConfigurator"
    ok = True
    if not isinstance(mail.mail_from, str) or not is_mail_sender(mail.mail_from):
        errors.add(None, "mail_from is not an e-mail address", str(mail.mail_from),
                   hint="e.g. mail_from='ci@example.com'", subject=subject)
        ok = False
    if not isinstance(mail.smtp_port, int) or not 0 < mail.smtp_port < 65536:
        errors.add(None, "smtp_port must be a TCP port number", str(mail.smtp_port),
                   hint="e.g. smtp_port=25", subject=subject)
        ok = False
    if not mail.smtp_host or any(c.isspace() for c in str(mail.smtp_host)):
        errors.add(None, "smtp_host must be a host name", str(mail.smtp_host),
                   hint="e.g. smtp_host='localhost'", subject=subject)
        ok = False
    return ok


__all__ = ["BUILDBOT_MODES", "BUILDBOT_VALID_EMAIL", "FORMS", "MODES", "MailSettings",
           "NotifyTarget", "Notifying", "check_mail_settings", "check_secrets",
           "is_mail_address", "literal_address", "parse_notify_line", "parse_notify_option",
           "secret_name"]
