"""Buildbot reporters for the manifests' ``notify`` lines (parsed by
:mod:`.notify`) and the workers' ``notify_on_missing``.

:func:`make_reporters` turns the requests of all buildouts into Buildbot's
own reporters and generators, with these rules:

* one reporter per destination (mail address, URL, or status server and
  token), whatever number of buildouts name it; its generators are filtered
  to the builders of the buildouts that asked, one generator per distinct
  set of modes;
* every reporter gets a stable, unique ``name=`` derived from its
  destination, so a reconfig with unchanged files yields equal services
  (Buildbot then leaves them running) and two HTTP pushes never clash on
  HttpStatusPush's fixed default name;
* tokens and SMTP credentials written ``%(secret:NAME)s`` are rendered by
  the master's secrets providers, never stored in the config.

Buildbot 4.3 has no stock generator for step events, nor a Gitea reporter:
:class:`StepEventsGenerator` is the small generator the HTTP push needs, and
Gitea statuses go through ``GitHubStatusPush`` against Gitea's
GitHub-compatible ``/api/v1`` status endpoint.
"""

from __future__ import annotations

import functools
import hashlib
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

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

from .errors import Errors
from .notify import ALL_MODES, MailSettings, Notifying, NotifyTarget, check_mail_settings
from .rules import SECRET_REFERENCE

if TYPE_CHECKING:
    from buildbot.reporters.base import ReporterBase

    from .workers import WorkerSpec

PREPARATION_STEP = "worker_preparation"  # Buildbot's step 0 of every build
NAME_PREFIX = "anybox-notify"
WORKER_MISSING_NAME = f"{NAME_PREFIX}:worker-missing"
_MAX_NAME = 100  # Buildbot stores service names in a VARCHAR(128)


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
    if value is not None and SECRET_REFERENCE.fullmatch(value):
        return Interpolate(value)
    return value


@dataclass
class _Destination:
    first: NotifyTarget
    groups: dict[tuple[str, ...], list[str]] = field(default_factory=dict)


def group_destinations(buildouts: Iterable[Notifying],
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


def make_reporters(buildouts: Iterable[Notifying], builders_of: Mapping[str, Sequence[str]],
                   workers: Iterable[WorkerSpec], mail: MailSettings,
                   errors: Errors) -> list[ReporterBase]:
    """Every reporter the manifests and workers ask for, sorted by name.

    ``builders_of`` maps a buildout to the builders the plan made for it.
    Problems (the mail settings) go to ``errors``; nothing is raised.
    """
    dests = group_destinations(buildouts, builders_of)
    missing = sorted(w.name for w in workers if w.notify_on_missing)
    needs_mail = bool(missing) or any(k[0] == "mail" for k in dests)
    if needs_mail and not check_mail_settings(mail, errors):
        return []
    made = [_reporter(dest, mail) for dest in dests.values()]
    if missing:
        made.append(_mail_notifier(mail, WORKER_MISSING_NAME,
                                   [WorkerMissingGenerator(
                                       workers=missing,
                                       message_formatter=_shared_formatters()[1])]))
    return sorted(made, key=lambda r: r.name)


__all__ = ["NAME_PREFIX", "WORKER_MISSING_NAME", "ProgressHttpPush", "ResultGenerator",
           "StepEventsGenerator", "build_finished_json", "build_started_json",
           "group_destinations", "mail_notifier_class", "make_reporters", "service_name"]
