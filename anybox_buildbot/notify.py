"""Notifications from the manifests: ``notify`` lines -> Buildbot reporters.

Why this module exists: a CI nobody hears from is not used, and writing
reporter code in master.cfg for every project does not scale. Each
buildout (or ``[DEFAULT]``) lists destinations, one per line::

    notify = mail ops@example.com on=failing,fixed
             http https://hooks.example.com/ci on=all
             github acme/app token=%(secret:github_token)s

Parsing (:func:`parse_notify_option`) is pure and reports every bad line
with its location; :func:`make_reporters` then turns the requests of all
buildouts into Buildbot's own reporters and generators, with these rules:

* one reporter per destination (mail address, URL, or status server and
  token), whatever number of buildouts name it; its generators are filtered
  to the builders of the buildouts that asked, one generator per distinct
  set of modes;
* every reporter gets a stable, unique ``name=`` derived from its
  destination, so a reconfig with unchanged files yields equal services
  (Buildbot then leaves them running) and two HTTP pushes never clash on
  HttpStatusPush's fixed default name;
* secrets stay secrets: a commit-status token must be written
  ``%(secret:NAME)s``; a literal token is refused and never echoed.

Buildbot 4.3 has no stock generator for step events, nor a Gitea reporter:
:class:`StepEventsGenerator` is the small generator the HTTP push needs, and
Gitea statuses go through ``GitHubStatusPush`` against Gitea's
GitHub-compatible ``/api/v1`` status endpoint.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import re
import socket
import urllib.parse
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from buildbot import config as bbconfig
from buildbot import interfaces
from buildbot import util as bbutil
from buildbot.process.properties import Interpolate
from buildbot.process.results import EXCEPTION, FAILURE, SUCCESS, WARNINGS, Results
from buildbot.reporters.generators.build import (
    BuildStartEndStatusGenerator,
    BuildStatusGenerator,
)
from buildbot.reporters.generators.buildrequest import BuildRequestGenerator
from buildbot.reporters.generators.utils import BuildStatusGeneratorMixin
from buildbot.reporters.generators.worker import WorkerMissingGenerator
from buildbot.reporters.github import GitHubStatusPush
from buildbot.reporters.gitlab import GitLabStatusPush
from buildbot.reporters.http import HttpStatusPush
from buildbot.reporters.message import (
    MessageFormatter,
    MessageFormatterFunction,
    MessageFormatterMissingWorker,
    MessageFormatterRenderable,
)
from buildbot.reporters.utils import getURLForBuild
from zope.interface import implementer

from .errors import Errors, Location, ParseError, did_you_mean

if TYPE_CHECKING:
    from buildbot.reporters.base import ReporterBase

    from .workers import WorkerSpec

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
#: Modes of Buildbot's BuildStatusGenerator (validated against its own list),
#: plus its ``all`` shortcut and our ``fixed`` (success after a failure).
BUILDBOT_MODES: tuple[str, ...] = tuple(BuildStatusGeneratorMixin.possible_modes)
ALL_MODES = ("failing", "passing", "warnings", "exception", "cancelled")  # Buildbot's 'all'
MODES: tuple[str, ...] = ("all", *BUILDBOT_MODES, "fixed")
DEFAULT_MODES = {"mail": ("failing",), "http": ("all",)}

GITHUB_API = "https://api.github.com"
GITLAB_COM = "https://gitlab.com"
PREPARATION_STEP = "worker_preparation"  # Buildbot's step 0 of every build
NAME_PREFIX = "anybox-notify"
WORKER_MISSING_NAME = f"{NAME_PREFIX}:worker-missing"
_MAX_NAME = 100  # Buildbot stores service names in a VARCHAR(128)

_SECRET = re.compile(r"%\(secret:(?P<name>[A-Za-z0-9_.-]+)\)s")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")
#: MailNotifier's own check of recipients (buildbot.reporters.mail.VALID_EMAIL,
#: copied: that module warns on import). A recipient must pass it too, or
#: Buildbot would refuse it later without saying which manifest line wrote it.
_BB_ADDR = r"(?:\S+@[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+\.?)"
BUILDBOT_VALID_EMAIL = re.compile(rf"^(?:{_BB_ADDR}|(.+\s+)?<{_BB_ADDR}>\s*)$")
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

def is_mail_address(text: str) -> bool:
    """A plain ``user@host.domain`` recipient, as MailNotifier accepts them.

    (Buildbot wants a dot in the domain of recipients: not ``ops@localhost``;
    the sender, ``mail_from``, may be ``buildbot@localhost``.)
    """
    return bool(_EMAIL.fullmatch(text) and BUILDBOT_VALID_EMAIL.match(text))


def _then(first: str, second: str) -> str:
    """Join two hints ('did you mean ...?' ends a sentence already)."""
    return f"{first} {second[0].upper()}{second[1:]}" if first.endswith("?") \
        else f"{first}; {second}"


def _masked(text: str) -> str:
    """The line with any token value hidden: error messages reach logs."""
    return re.sub(r"(\btoken=)\S*", r"\1***", text)


def _parse_modes(kind: str, value: str, text: str, column: int) -> tuple[str, ...]:
    names = [m for m in value.split(",") if m]
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
        raise ParseError("missing token=%(secret:NAME)s", shown,
                         hint=f"commit statuses need an API token kept in a secrets "
                         f"provider; {form}")
    token, index = keywords["token"]
    match = _SECRET.fullmatch(token)
    if match is None:
        problem = ("malformed secret reference" if "%(" in token
                   else "the token must be a secret reference, never the token itself")
        raise ParseError(problem, shown,
                         hint="store it with a secrets provider (c['secretsProviders']) "
                         f"and write token=%(secret:NAME)s; {form}", column=columns[index])
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


def secret_name(value: str | None) -> str | None:
    """The NAME of a value written ``%(secret:NAME)s``, else None."""
    match = _SECRET.fullmatch(value) if isinstance(value, str) else None
    return match["name"] if match else None


def check_secrets(buildouts: Iterable[_Buildout], reserved: Mapping[str, str],
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


# --------------------------------------------------------------------------- #
# generators and reporters
# --------------------------------------------------------------------------- #

def _result_word(results: int | None) -> str | None:
    return None if results is None else Results[results]


def _payload(event: str, build: Mapping[str, Any], builder: str, url: str) -> dict[str, Any]:
    """The JSON body of every push: small, stable and documented."""
    return {
        "event": event,
        "builder": builder,
        "buildid": build["buildid"],
        "number": build["number"],
        "url": url,
        "state": build.get("state_string"),
        "complete": bool(build.get("complete")),
        "results": build.get("results"),
        "result": _result_word(build.get("results")),
    }


def build_started_json(context: Mapping[str, Any]) -> dict[str, Any]:
    """MessageFormatterFunction body for a build start (module level: stable)."""
    build = context["build"]
    return _payload("build-started", build, build["builder"]["name"], build["url"])


def build_finished_json(context: Mapping[str, Any]) -> dict[str, Any]:
    """MessageFormatterFunction body for a finished build."""
    build = context["build"]
    return _payload("build-finished", build, build["builder"]["name"], build["url"])


class ResultGenerator(BuildStatusGenerator):
    """Buildbot's BuildStatusGenerator plus the ``fixed`` mode.

    ``fixed``: a successful build right after a failed (or crashed) one, the
    mail people wait for after a ``failing`` one; ``change`` would also mail
    every new breakage, which ``failing`` already covers.
    """

    possible_modes = (*BuildStatusGenerator.possible_modes, "fixed")

    def _want_previous_build(self) -> bool:
        return "fixed" in self.mode or super()._want_previous_build()

    def is_message_needed_by_results(self, build: dict) -> bool:
        if "fixed" in self.mode and build["results"] in (SUCCESS, WARNINGS):
            prev = build.get("prev_build")
            if prev and prev["results"] in (FAILURE, EXCEPTION):
                return True
        return super().is_message_needed_by_results(build)


@implementer(interfaces.IReportGenerator)
class StepEventsGenerator(bbutil.ComparableMixin):
    """Reports the start and the end of each step of some builders as JSON.

    Why: no stock Buildbot generator reports steps (BuildStartEndStatusGenerator
    stops at builds), yet a dashboard wants progress. Reports are shaped like
    the stock generators' ones so any reporter can send them.

    Buildbot's own ``worker_preparation`` step (number 0) is left out: it
    starts before the build is announced, so its start would reach the
    receiver before the build's, and it is no step of the buildout.
    """

    wanted_event_keys: ClassVar[list[tuple[str | None, ...]]] = [
        ("steps", None, "started"), ("steps", None, "finished")]
    compare_attrs: ClassVar[Sequence[str]] = ("builders",)

    def __init__(self, builders: list[str] | None = None) -> None:
        self.builders = builders

    def check(self) -> None:
        if self.builders is not None and not isinstance(self.builders, list):
            bbconfig.error("StepEventsGenerator: builders must be a list or None")

    def generate_name(self) -> str:
        name = type(self).__name__
        if self.builders is not None:
            name += "_builders_" + "+".join(self.builders)
        return name

    async def generate(self, master: Any, reporter: Any, key: tuple,
                       step: Mapping[str, Any]) -> dict[str, Any] | None:
        if step["number"] == 0 and step["name"] == PREPARATION_STEP:
            return None
        build = await master.data.get(("builds", step["buildid"]))
        if build is None:
            return None
        builder = await master.data.get(("builders", build["builderid"]))
        name = builder["name"] if builder else str(build["builderid"])
        if self.builders is not None and name not in self.builders:
            return None
        url = getURLForBuild(master, build["builderid"], build["number"])
        body = _payload(f"step-{key[-1]}", build, name, url)
        body["step"] = {
            "number": step["number"],
            "name": step["name"],
            "state": step.get("state_string"),
            "complete": bool(step.get("complete")),
            "results": step.get("results"),
            "result": _result_word(step.get("results")),
        }
        return {"body": body, "type": "json", "subject": None, "results": step.get("results"),
                "builds": [build], "buildset": None, "users": [], "patches": [], "logs": [],
                "extra_info": None}


class ProgressHttpPush(HttpStatusPush):
    """HttpStatusPush that posts the events of one build in their order.

    Buildbot chains only build and build-request events (per request), so a
    step's push could overtake its build's "started" push: every event of a
    build is chained on its build id here, receivers see start, steps, end.
    """

    name = "ProgressHttpPush"

    def _get_chain_key_for_event(self, key: tuple, msg: Mapping[str, Any]) -> Any:
        if key[0] in ("builds", "steps") and "buildid" in msg:
            return ("buildid", msg["buildid"])
        return super()._get_chain_key_for_event(key, msg)


def service_name(kind: str, ident: str) -> str:
    """Stable, unique, bounded service name for a destination."""
    name = f"{NAME_PREFIX}:{kind}:{ident}"
    if len(name) <= _MAX_NAME:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:12]
    return f"{name[:_MAX_NAME - 13]}~{digest}"


@functools.cache
def _shared_formatters() -> tuple[MessageFormatter, MessageFormatterMissingWorker]:
    """Buildbot's default mail formatters, one instance per process.

    They hold Jinja templates, which compare by identity: fresh instances
    would make every reconfig see changed reporters and reconfigure them.
    """
    return MessageFormatter(), MessageFormatterMissingWorker()


def _json_formatters() -> tuple[MessageFormatterFunction, MessageFormatterFunction]:
    return (MessageFormatterFunction(build_started_json, "json"),
            MessageFormatterFunction(build_finished_json, "json"))


def _result_modes(modes: Sequence[str]) -> tuple[str, ...]:
    """Modes for ResultGenerator: ``all`` expanded the way Buildbot does."""
    expanded: list[str] = []
    for mode in modes:
        expanded.extend(ALL_MODES if mode == "all" else (mode,))
    return tuple(dict.fromkeys(expanded))


def _secret_or_value(value: str | None) -> str | Interpolate | None:
    if value is not None and _SECRET.fullmatch(value):
        return Interpolate(value)
    return value


class _Buildout(Protocol):
    name: str
    notify: tuple[NotifyTarget, ...]


@dataclass
class _Destination:
    first: NotifyTarget
    groups: dict[tuple[str, ...], list[str]] = field(default_factory=dict)


def group_destinations(buildouts: Iterable[_Buildout],
                       builders_of: Mapping[str, Sequence[str]]
                       ) -> dict[tuple[str, ...], _Destination]:
    """Destination -> modes -> sorted builder names of the buildouts asking.

    Buildouts without any builder (no capable worker) ask for nothing.
    """
    found: dict[tuple[str, ...], _Destination] = {}
    for spec in sorted(buildouts, key=lambda s: s.name):
        builders = builders_of.get(spec.name, ())
        if not builders:
            continue
        for target in spec.notify:
            dest = found.setdefault(target.destination, _Destination(target))
            dest.groups.setdefault(target.modes, []).extend(builders)
    for dest in found.values():
        for modes in dest.groups:
            dest.groups[modes] = sorted(set(dest.groups[modes]))
    return dict(sorted(found.items()))


def _check_settings(mail: MailSettings, errors: Errors) -> bool:
    subject = "BuildoutsConfigurator"
    ok = True
    if not isinstance(mail.mail_from, str) or not _EMAIL.fullmatch(mail.mail_from):
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


def mail_notifier_class() -> type[ReporterBase]:
    """Buildbot's MailNotifier, imported without its known warning.

    Under Twisted 26.10 importing buildbot.reporters.mail emits a Twisted
    DeprecationWarning (``ProtocolNegotiationSupport``, from
    buildbot.util.ssl) that says nothing to an admin and breaks runs with
    warnings as errors; only that warning is silenced, and only masters
    that send mail import the module.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*ProtocolNegotiationSupport",
                                category=DeprecationWarning)
        from buildbot.reporters.mail import MailNotifier
    return MailNotifier


def _mail_notifier(mail: MailSettings, name: str, generators: list,
                   extra_recipients: list[str] | None = None) -> ReporterBase:
    MailNotifier = mail_notifier_class()  # noqa: N806 - a class
    kwargs: dict[str, Any] = {}
    if mail.smtp_user is not None:
        kwargs["smtpUser"] = _secret_or_value(mail.smtp_user)
    if mail.smtp_password is not None:
        kwargs["smtpPassword"] = _secret_or_value(mail.smtp_password)
    if extra_recipients is not None:
        kwargs["extraRecipients"] = extra_recipients
        kwargs["sendToInterestedUsers"] = False
    return MailNotifier(mail.mail_from, relayhost=mail.smtp_host, smtpPort=mail.smtp_port,
                        generators=generators, name=name, **kwargs)


def _reporter(dest: _Destination, mail: MailSettings) -> ReporterBase:
    target = dest.first
    if target.kind == "mail":
        formatter = _shared_formatters()[0]
        generators: list = [ResultGenerator(mode=_result_modes(modes), builders=builders,
                                            message_formatter=formatter)
                            for modes, builders in dest.groups.items()]
        return _mail_notifier(mail, service_name("mail", target.address), generators,
                              [target.address])
    if target.kind == "http":
        start, end = _json_formatters()
        generators = []
        for modes, builders in dest.groups.items():
            if modes == ("all",):
                generators.append(BuildStartEndStatusGenerator(
                    builders=builders, start_formatter=start, end_formatter=end))
                generators.append(StepEventsGenerator(builders=builders))
            else:
                generators.append(ResultGenerator(mode=_result_modes(modes),
                                                  builders=builders, message_formatter=end))
        return ProgressHttpPush(target.address, generators=generators,
                                name=service_name("http", target.address))
    # Commit statuses: pending when queued, running, then the result, like
    # Buildbot's default generators of these reporters, but only for the
    # builders that asked.
    builders = sorted({b for group in dest.groups.values() for b in group})
    generators = [
        BuildRequestGenerator(builders=builders,
                              formatter=MessageFormatterRenderable("Build pending.")),
        BuildStartEndStatusGenerator(
            builders=builders, start_formatter=MessageFormatterRenderable("Build started."),
            end_formatter=MessageFormatterRenderable("Build done.")),
    ]
    assert target.api_url is not None
    token = Interpolate(f"%(secret:{target.token_secret})s")
    name = service_name(target.kind, f"{target.api_url}#{target.token_secret}")
    if target.kind == "gitlab":
        return GitLabStatusPush(token, baseURL=target.api_url, generators=generators, name=name)
    # github, and gitea through its GitHub-compatible status API.
    return GitHubStatusPush(token, baseURL=target.api_url, generators=generators, name=name)


def make_reporters(buildouts: Iterable[_Buildout], builders_of: Mapping[str, Sequence[str]],
                   workers: Iterable[WorkerSpec], mail: MailSettings,
                   errors: Errors) -> list[ReporterBase]:
    """Every reporter the manifests and workers ask for, sorted by name.

    ``builders_of`` maps a buildout to the builders the plan made for it.
    Problems (the mail settings) go to ``errors``; nothing is raised.
    """
    dests = group_destinations(buildouts, builders_of)
    missing = sorted(w.name for w in workers if w.notify_on_missing)
    needs_mail = bool(missing) or any(k[0] == "mail" for k in dests)
    if needs_mail and not _check_settings(mail, errors):
        return []
    made = [_reporter(dest, mail) for dest in dests.values()]
    if missing:
        made.append(_mail_notifier(mail, WORKER_MISSING_NAME,
                                   [WorkerMissingGenerator(
                                       workers=missing,
                                       message_formatter=_shared_formatters()[1])]))
    return sorted(made, key=lambda r: r.name)


__all__ = ["FORMS", "MODES", "MailSettings", "NotifyTarget", "ProgressHttpPush",
           "ResultGenerator", "StepEventsGenerator", "check_secrets", "literal_address",
           "mail_notifier_class", "make_reporters", "parse_notify_line",
           "parse_notify_option", "secret_name"]
