"""``notify`` lines -> Buildbot reporters: parsing, errors, deduplication.

Reporters are checked the way Buildbot sees them: master.cfg is loaded in
process with Buildbot's own FileLoader, so every reporter also went
through its ``checkConfig``.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from buildbot.config.errors import ConfigErrors
from buildbot.config.master import FileLoader
from buildbot.process.properties import Interpolate
from buildbot.process.results import CANCELLED, EXCEPTION, FAILURE, SUCCESS, WARNINGS
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

from anybox_buildbot import ConfigError
from anybox_buildbot.errors import Errors, Location
from anybox_buildbot.notify import (
    BUILDBOT_MODES,
    BUILDBOT_VALID_EMAIL,
    MODES,
    NotifyTarget,
    is_mail_address,
    parse_notify_line,
    parse_notify_option,
)
from anybox_buildbot.reporters import (
    WORKER_MISSING_NAME,
    ProgressHttpPush,
    ResultGenerator,
    StepEventsGenerator,
    build_finished_json,
    build_started_json,
    mail_notifier_class,
    service_name,
)

LOC = Location("MANIFEST.cfg", 7)
MailNotifier = mail_notifier_class()


def errors_of(*lines: str) -> list[str]:
    errors = Errors()
    parse_notify_option([(line, Location("MANIFEST.cfg", n)) for n, line in
                         enumerate(lines, start=7)], errors, "buildout [app] notify")
    return errors.messages


# --------------------------------------------------------------------------- #
# parsing
# --------------------------------------------------------------------------- #

@pytest.mark.parametrize("line, kind, address, modes, api_url, secret", [
    ("mail ops@example.com on=failing,fixed", "mail", "ops@example.com",
     ("failing", "fixed"), None, None),
    ("mail ops@example.com", "mail", "ops@example.com", ("failing",), None, None),
    ("mail ops@example.com on=fixed,failing,fixed", "mail", "ops@example.com",
     ("failing", "fixed"), None, None),
    ("http https://hooks.example.com/ci on=all", "http", "https://hooks.example.com/ci",
     ("all",), None, None),
    ("http http://127.0.0.1:8010/hook?x=1", "http", "http://127.0.0.1:8010/hook?x=1",
     ("all",), None, None),
    ("http https://h.example.com/ on=failing,all", "http", "https://h.example.com/",
     ("all",), None, None),
    ("http https://h.example.com/ on=problem,fixed", "http", "https://h.example.com/",
     ("problem", "fixed"), None, None),
    ("github acme/app token=%(secret:gh_token)s", "github", "acme/app", (),
     "https://api.github.com", "gh_token"),
    ("github https://github.com/acme/app token=%(secret:gh)s", "github",
     "https://github.com/acme/app", (), "https://api.github.com", "gh"),
    ("github https://git.example.com/acme/app token=%(secret:gh)s", "github",
     "https://git.example.com/acme/app", (), "https://git.example.com/api/v3", "gh"),
    ("gitlab group/sub/project token=%(secret:gl)s", "gitlab", "group/sub/project", (),
     "https://gitlab.com", "gl"),
    ("gitlab https://user:pw@gitlab.example.com:8443/g/p token=%(secret:gl)s", "gitlab",
     "https://user:pw@gitlab.example.com:8443/g/p", (), "https://gitlab.example.com:8443",
     "gl"),
    ("gitea https://gitea.example.com/owner/repo token=%(secret:gt)s", "gitea",
     "https://gitea.example.com/owner/repo", (), "https://gitea.example.com/api/v1", "gt"),
])
def test_valid_lines(line, kind, address, modes, api_url, secret) -> None:
    target = parse_notify_line(line, LOC)
    assert (target.kind, target.address, target.modes) == (kind, address, modes)
    assert (target.api_url, target.token_secret) == (api_url, secret)
    assert target.location == LOC


def test_every_buildbot_mode_is_accepted_plus_all_and_fixed() -> None:
    buildbot_modes = set(BuildStatusGeneratorMixin.possible_modes)
    assert set(MODES) == buildbot_modes | {"all", "fixed"}
    for mode in MODES:
        assert parse_notify_line(f"mail a@example.com on={mode}").modes == (mode,)


def test_destination_ignores_modes_and_repository() -> None:
    one = parse_notify_line("mail a@example.com on=failing")
    two = parse_notify_line("mail a@example.com on=all")
    assert one.destination == two.destination == ("mail", "a@example.com")
    gh1 = parse_notify_line("github acme/one token=%(secret:t)s")
    gh2 = parse_notify_line("github acme/two token=%(secret:t)s")
    gh3 = parse_notify_line("github acme/two token=%(secret:other)s")
    assert gh1.destination == gh2.destination != gh3.destination


@pytest.mark.parametrize("line, expected", [
    ("slack #ci", "MANIFEST.cfg:7: buildout [app] notify: unknown destination kind 'slack' "
     "at column 1: 'slack #ci' (valid: gitea, github, gitlab, http, mail; forms: mail "
     "ADDRESS [on=MODES]; http URL [on=MODES]; github OWNER/REPO|URL "
     "token=%(secret:NAME)s; gitlab GROUP/PROJECT|URL token=%(secret:NAME)s; gitea URL "
     "token=%(secret:NAME)s)"),
    ("mails ops@example.com", "unknown destination kind 'mails' at column 1: "
     "'mails ops@example.com' (did you mean 'mail'? Forms: mail ADDRESS"),
    ("mail on=failing", "MANIFEST.cfg:7: buildout [app] notify: missing ADDRESS: "
     "'mail on=failing' (form: mail ADDRESS [on=MODES])"),
    ("mail", "missing ADDRESS: 'mail' (form: mail ADDRESS [on=MODES])"),
    ("mail ops.example.com", "not an e-mail address at column 6: 'mail ops.example.com' "
     "(form: mail ADDRESS [on=MODES])"),
    ("mail ops@example.com on=failing,fixd", "unknown mode 'fixd' at column 33: "
     "'mail ops@example.com on=failing,fixd' (did you mean 'fixed'? "
     "Form: mail ADDRESS [on=MODES])"),
    ("mail ops@example.com on=bogus", "unknown mode 'bogus' at column 25: 'mail "
     "ops@example.com on=bogus' (valid: all, cancelled, change, exception, failing, fixed, "
     "passing, problem, warnings; form: mail ADDRESS [on=MODES])"),
    ("mail ops@example.com on=", "empty 'on=' at column 22"),
    ("mail ops@example.com dev@example.com", "unexpected extra words 'dev@example.com' at "
     "column 22: 'mail ops@example.com dev@example.com' (one destination per line; "),
    ("mail ops@example.com to=x", "unknown keyword 'to=' for mail at column 22"),
    ("mail ops@example.com on=all on=failing", "on= given twice at column 29"),
    ("http hooks.example.com/ci", "the URL must start with http:// or https:// at column 6: "
     "'http hooks.example.com/ci' (form: http URL [on=MODES])"),
    ("http ftp://hooks.example.com/", "the URL must start with http:// or https://"),
    ("http https:///path", "the URL has no host at column 6"),
    ("http http://h:99999/", "malformed URL (Port out of range 0-65535) at column 6"),
    ("http http://[::1/", "malformed URL"),
    ("http https://h.example.com/ on=sometimes", "unknown mode 'sometimes'"),
    ("github acme/app", "missing token=%(secret:NAME)s: 'github acme/app' (commit statuses "
     "need an API token kept in a secrets provider; form: github OWNER/REPO|URL "
     "token=%(secret:NAME)s)"),
    ("github acme/app token=%(secret:gh", "malformed secret reference at column 17: "
     "'github acme/app token=***'"),
    ("github acme/app token=%(secret:gh)s on=all", "commit statuses follow every build: on= "
     "does not apply at column 27: 'github acme/app token=*** on=all'"),
    ("github acme token=%(secret:gh)s", "expected OWNER/REPO or a URL at column 8"),
    ("gitlab project token=%(secret:gl)s", "expected GROUP/PROJECT or a URL"),
    ("gitea owner/repo token=%(secret:gt)s", "gitea needs the server URL at column 7"),
    ("github token=%(secret:gh)s", "missing URL or repository"),
    # link-local addresses (cloud metadata services), however written
    ("http http://169.254.169.254/latest/meta-data/", "link-local address refused (cloud "
     "metadata services answer there) at column 6"),
    ("http http://2852039166/", "link-local address refused"),
    ("http http://0xa9.0xfe.43518/", "link-local address refused"),
    ("http http://[fe80::1]/x", "link-local address refused"),
    ("http http://[::ffff:169.254.169.254]/", "link-local address refused"),
    ("gitea http://169.254.0.1:3000/ token=%(secret:gt)s", "link-local address refused"),
])
def test_bad_lines(line: str, expected: str) -> None:
    (message,) = errors_of(line)
    assert expected in message
    assert message.startswith("MANIFEST.cfg:7: buildout [app] notify: ")


@pytest.mark.parametrize("url", ["http://127.0.0.1:8010/hook", "http://localhost/x",
                                 "https://10.1.2.3/ci", "http://[::1]:9000/",
                                 "https://hooks.example.com/"])
def test_loopback_and_private_receivers_are_accepted(url: str) -> None:
    assert parse_notify_line(f"http {url}").address == url


def test_literal_token_is_refused_and_never_echoed() -> None:
    (message,) = errors_of("github acme/app token=ghp_s3cr3tValue context=x")
    assert "ghp_s3cr3tValue" not in message
    (message,) = errors_of("gitlab g/p token=glpat-s3cr3t")
    assert "glpat-s3cr3t" not in message
    assert message == (
        "MANIFEST.cfg:7: buildout [app] notify: the token must be a secret reference, never "
        "the token itself at column 12: 'gitlab g/p token=***' (store it with a secrets "
        "provider (c['secretsProviders']) and write token=%(secret:NAME)s; form: gitlab "
        "GROUP/PROJECT|URL token=%(secret:NAME)s)\n"
        "    gitlab g/p token=***\n"
        "               ^")


def test_same_destination_twice_in_one_option() -> None:
    messages = errors_of("mail ops@example.com on=failing", "http https://h.example.com/",
                         "mail ops@example.com on=fixed")
    assert messages == [
        "MANIFEST.cfg:9: buildout [app] notify: destination already given at line 7: "
        "'mail ops@example.com on=fixed' (one line per destination; list every mode in one "
        "on=, e.g. on=failing,fixed)"]


def test_manifest_option_default_inherit_and_override(load_manifest_text) -> None:
    specs = load_manifest_text("""\
        [DEFAULT]
        notify = mail ops@example.com on=failing,fixed
                 http https://hooks.example.com/ci

        [app]
        buildout = standalone app.cfg

        [quiet]
        buildout = standalone app.cfg
        notify =

        [own]
        buildout = standalone app.cfg
        notify = mail dev@example.com on=all

        [child]
        inherit = own
        """.replace("standalone app.cfg", "git https://example.com/a.git main buildout.cfg"))
    app = specs["app"].notify
    assert [(t.kind, t.address, t.modes) for t in app] == [
        ("mail", "ops@example.com", ("failing", "fixed")),
        ("http", "https://hooks.example.com/ci", ("all",))]
    assert app[1].location == Location(app[1].location.file, 3)
    assert specs["quiet"].notify == ()
    assert [t.address for t in specs["own"].notify] == ["dev@example.com"]
    assert specs["child"].notify == specs["own"].notify


def test_all_bad_lines_in_one_config_error(load_manifest_text) -> None:
    with pytest.raises(ConfigError) as info:
        load_manifest_text("""\
            [app]
            buildout = git https://example.com/a.git main buildout.cfg
            notify = mail ops@example.com on=bogus
                     pigeon loft
                     github acme/app token=plain
            [other]
            buildout = git https://example.com/a.git main buildout.cfg
            notify = http not-a-url
            """)
    errors = info.value.errors
    assert len(errors) == 4
    assert "MANIFEST0.cfg:3: buildout [app] notify: unknown mode 'bogus'" in errors[0]
    assert "MANIFEST0.cfg:4: buildout [app] notify: unknown destination" in errors[1]
    assert "MANIFEST0.cfg:5: buildout [app] notify: the token must be" in errors[2]
    assert "plain" not in errors[2]
    assert "MANIFEST0.cfg:8: buildout [other] notify: the URL must start" in errors[3]


# --------------------------------------------------------------------------- #
# reporters, as Buildbot loads them
# --------------------------------------------------------------------------- #

MASTER_CFG = """\
from anybox_buildbot import configure_from_buildouts
c = BuildmasterConfig = {{
    'buildbotNetUsageData': None,
    'protocols': {{'pb': {{'port': 'tcp:0:interface=127.0.0.1'}}}},
    'db': {{'db_url': 'sqlite://'}},
}}
configure_from_buildouts(basedir, c{kwargs})
"""
WORKERS = """\
[w1]
password = one
capability = postgresql 9.6
             postgresql 13
[w2]
password = two
notify_on_missing = ops@example.com, admin@example.com
[w3]
password = three
notify_on_missing = ops@example.com
"""
MANIFEST = """\
[DEFAULT]
buildout = standalone app.cfg
notify = mail ops@example.com on=failing,fixed
         http https://hooks.example.com/ci

[app]

[matrix]
build-for = postgresql >= 9.6
notify = mail ops@example.com on=failing,fixed
         mail dev@example.com on=all
         http https://hooks.example.com/ci on=failing
         http https://other.example.com/push
         github acme/app token=%(secret:gh_token)s

[lib]
notify = mail ops@example.com on=all
         github https://github.com/acme/lib token=%(secret:gh_token)s
         gitlab https://gitlab.example.com/g/lib token=%(secret:gl_token)s
         gitea https://gitea.example.com/o/lib token=%(secret:gt_token)s

[oracle]
build-requires = oracle
notify = mail dba@example.com
"""


def write_master(root: Path, manifest: str = MANIFEST, workers: str = WORKERS,
                 kwargs: str = "") -> Path:
    (root / "buildouts").mkdir(parents=True, exist_ok=True)
    (root / "buildouts" / "MANIFEST.cfg").write_text(manifest)
    (root / "buildouts" / "app.cfg").write_text("[buildout]\nparts =\n")
    (root / "workers.cfg").write_text(workers)
    (root / "master.cfg").write_text(MASTER_CFG.format(kwargs=kwargs))
    return root


def services(root: Path) -> dict:
    return FileLoader(str(root), "master.cfg").loadConfig().services


def kwargs_of(reporter) -> dict:
    return reporter._config_kwargs


def test_one_reporter_per_destination_filtered_to_the_builders_that_asked(
        tmp_path: Path) -> None:
    found = services(write_master(tmp_path))
    assert list(found) == [
        "anybox-notify:gitea:https://gitea.example.com/api/v1#gt_token",
        "anybox-notify:github:https://api.github.com#gh_token",
        "anybox-notify:gitlab:https://gitlab.example.com#gl_token",
        "anybox-notify:http:https://hooks.example.com/ci",
        "anybox-notify:http:https://other.example.com/push",
        "anybox-notify:mail:dev@example.com",
        "anybox-notify:mail:ops@example.com",
        WORKER_MISSING_NAME,
    ]  # oracle has no builder (no worker has oracle): dba@ gets no reporter
    ops = found["anybox-notify:mail:ops@example.com"]
    assert isinstance(ops, MailNotifier)
    assert kwargs_of(ops)["extraRecipients"] == ["ops@example.com"]
    assert kwargs_of(ops)["sendToInterestedUsers"] is False
    gens = kwargs_of(ops)["generators"]
    assert [(type(g), g.mode, g.builders) for g in gens] == [
        (ResultGenerator, ("failing", "fixed"), ["app", "matrix-pg13", "matrix-pg9.6"]),
        # on=all is Buildbot's own expansion of 'all'
        (ResultGenerator, ("failing", "passing", "warnings", "exception", "cancelled"),
         ["lib"]),
    ]
    dev = found["anybox-notify:mail:dev@example.com"]
    assert [g.builders for g in kwargs_of(dev)["generators"]] == [
        ["matrix-pg13", "matrix-pg9.6"]]


def test_http_push_reports_progress_or_filtered_results(tmp_path: Path) -> None:
    found = services(write_master(tmp_path))
    hooks = found["anybox-notify:http:https://hooks.example.com/ci"]
    assert isinstance(hooks, ProgressHttpPush) and isinstance(hooks, HttpStatusPush)
    assert hooks._config_args == ("https://hooks.example.com/ci",)
    start_end, steps, results = kwargs_of(hooks)["generators"]
    assert isinstance(start_end, BuildStartEndStatusGenerator)
    assert start_end.builders == steps.builders == ["app"]  # lib's own notify has no http
    assert isinstance(steps, StepEventsGenerator)
    assert start_end.start_formatter.template_type == "json"
    assert start_end.end_formatter.template_type == "json"
    assert isinstance(results, ResultGenerator) and isinstance(results, BuildStatusGenerator)
    assert results.mode == ("failing",) and results.builders == ["matrix-pg13", "matrix-pg9.6"]
    assert results.formatter.template_type == "json"


def test_commit_status_reporters_use_secret_tokens(tmp_path: Path) -> None:
    found = services(write_master(tmp_path))
    github = found["anybox-notify:github:https://api.github.com#gh_token"]
    assert isinstance(github, GitHubStatusPush)
    assert github._config_args == (Interpolate("%(secret:gh_token)s"),)
    assert kwargs_of(github)["baseURL"] == "https://api.github.com"
    pending, start_end = kwargs_of(github)["generators"]
    assert isinstance(pending, BuildRequestGenerator)
    assert isinstance(start_end, BuildStartEndStatusGenerator)
    # matrix (acme/app) and lib (acme/lib) share the server and the token
    assert pending.builders == start_end.builders == ["lib", "matrix-pg13", "matrix-pg9.6"]
    gitlab = found["anybox-notify:gitlab:https://gitlab.example.com#gl_token"]
    assert isinstance(gitlab, GitLabStatusPush)
    assert gitlab._config_args == (Interpolate("%(secret:gl_token)s"),)
    gitea = found["anybox-notify:gitea:https://gitea.example.com/api/v1#gt_token"]
    assert type(gitea) is GitHubStatusPush  # Gitea's status API is GitHub's
    assert kwargs_of(gitea)["baseURL"] == "https://gitea.example.com/api/v1"


def test_worker_missing_mail_names_the_workers_that_ask(tmp_path: Path) -> None:
    write_master(tmp_path, kwargs=", mail_from='ci@example.com', smtp_host='smtp.example.com',"
                 " smtp_port=2525, smtp_user='ci', smtp_password='%(secret:smtp)s'")
    found = services(tmp_path)
    missing = found[WORKER_MISSING_NAME]
    assert isinstance(missing, MailNotifier)
    (gen,) = kwargs_of(missing)["generators"]
    assert isinstance(gen, WorkerMissingGenerator) and gen.workers == ["w2", "w3"]
    assert missing._config_args == ("ci@example.com",)
    for reporter in (missing, found["anybox-notify:mail:ops@example.com"]):
        kwargs = kwargs_of(reporter)
        assert kwargs["relayhost"] == "smtp.example.com" and kwargs["smtpPort"] == 2525
        assert kwargs["smtpUser"] == "ci"
        assert kwargs["smtpPassword"] == Interpolate("%(secret:smtp)s")


def test_no_notify_no_reporter(tmp_path: Path) -> None:
    write_master(tmp_path, manifest="[app]\nbuildout = standalone app.cfg\n",
                 workers="[w1]\npassword = x\n")
    assert services(tmp_path) == {}


def test_reconfig_with_the_same_files_gives_equal_services(tmp_path: Path) -> None:
    write_master(tmp_path)
    first, second = services(tmp_path), services(tmp_path)
    assert list(first) == list(second)
    for name, reporter in first.items():
        assert reporter is not second[name]
        assert reporter == second[name], name


def test_changed_builders_give_a_different_service(tmp_path: Path) -> None:
    write_master(tmp_path)
    first = services(tmp_path)
    write_master(tmp_path, manifest=MANIFEST.replace("[app]\n", "[app]\nnotify =\n"))
    second = services(tmp_path)
    name = "anybox-notify:mail:ops@example.com"
    assert first[name] != second[name]


def test_service_names_are_unique_and_bounded() -> None:
    long_url = "https://hooks.example.com/" + "x" * 300
    names = {service_name("http", long_url), service_name("http", long_url + "y"),
             service_name("http", "https://h.example.com/")}
    assert len(names) == 3
    assert all(len(n) <= 100 for n in names)
    assert service_name("http", long_url) == service_name("http", long_url)


def test_bad_mail_settings_are_config_errors(tmp_path: Path) -> None:
    write_master(tmp_path, kwargs=", mail_from='nobody', smtp_port=0")
    with pytest.raises(ConfigErrors) as info:
        services(tmp_path)
    assert info.value.errors == [
        "BuildoutsConfigurator: mail_from is not an e-mail address: 'nobody' "
        "(e.g. mail_from='ci@example.com')",
        "BuildoutsConfigurator: smtp_port must be a TCP port number: '0' (e.g. smtp_port=25)"]


def test_mail_settings_are_not_checked_without_mail(tmp_path: Path) -> None:
    write_master(tmp_path, manifest="[app]\nbuildout = standalone app.cfg\nnotify = "
                 "http https://h.example.com/\n", workers="[w1]\npassword = x\n",
                 kwargs=", mail_from='nobody'")
    assert list(services(tmp_path)) == ["anybox-notify:http:https://h.example.com/"]


def test_notify_errors_join_the_other_errors_of_populate(tmp_path: Path) -> None:
    manifest = MANIFEST + "[bad]\nbuildout = standalone missing.cfg\nnotify = mail nobody\n"
    write_master(tmp_path, manifest=manifest)
    with pytest.raises(ConfigErrors) as info:
        services(tmp_path)
    first, second = info.value.errors
    assert first.startswith("buildouts/MANIFEST.cfg:26: buildout [bad] buildout: standalone")
    assert second == ("buildouts/MANIFEST.cfg:27: buildout [bad] notify: not an e-mail address "
                      "at column 6: 'mail nobody' (form: mail ADDRESS [on=MODES])\n"
                      "    mail nobody\n"
                      "         ^")


# --------------------------------------------------------------------------- #
# generators
# --------------------------------------------------------------------------- #

def build(results: int | None, prev: int | None = None, builder: str = "app") -> dict:
    return {"results": results, "prev_build": None if prev is None else {"results": prev},
            "builder": {"name": builder, "tags": []}, "properties": {}}


@pytest.mark.parametrize("results, prev, wanted", [
    (SUCCESS, FAILURE, True), (SUCCESS, EXCEPTION, True), (WARNINGS, FAILURE, True),
    (SUCCESS, SUCCESS, False), (SUCCESS, None, False), (SUCCESS, CANCELLED, False),
    (FAILURE, SUCCESS, False),
])
def test_fixed_mode(results: int, prev: int | None, wanted: bool) -> None:
    gen = ResultGenerator(mode=("fixed",), builders=["app"])
    gen.check()
    assert gen._want_previous_build()
    assert gen.is_message_needed_by_results(build(results, prev)) is wanted


def test_fixed_keeps_buildbot_modes() -> None:
    gen = ResultGenerator(mode=("failing", "fixed"))
    assert gen.is_message_needed_by_results(build(FAILURE, FAILURE))
    assert not ResultGenerator(mode=("failing",))._want_previous_build()


def test_json_bodies() -> None:
    data = {"buildid": 5, "number": 2, "state_string": "build successful", "complete": True,
            "results": SUCCESS, "builder": {"name": "app"}, "url": "http://m/#/builders/1/builds/2"}
    assert build_finished_json({"build": data}) == {
        "event": "build-finished", "builder": "app", "buildid": 5, "number": 2,
        "url": "http://m/#/builders/1/builds/2", "state": "build successful",
        "complete": True, "results": 0, "result": "success"}
    started = build_started_json({"build": {**data, "results": None, "complete": False}})
    assert started["event"] == "build-started" and started["result"] is None


class FakeData:
    def __init__(self) -> None:
        self.objects = {("builds", 5): {"buildid": 5, "builderid": 1, "number": 2,
                                        "state_string": "building", "complete": False,
                                        "results": None},
                        ("builders", 1): {"builderid": 1, "name": "app"}}

    async def get(self, path: tuple) -> dict | None:
        return self.objects.get(path)


class FakeMaster:
    def __init__(self) -> None:
        self.data = FakeData()

        class Config:
            buildbotURL = "http://127.0.0.1:8010/"
        self.config = Config()


def test_step_events_generator() -> None:
    step = {"buildid": 5, "number": 1, "name": "test", "state_string": "failed",
            "complete": True, "results": FAILURE}
    gen = StepEventsGenerator(builders=["app"])
    gen.check()
    report = asyncio.run(gen.generate(FakeMaster(), None, ("steps", 9, "finished"), step))
    assert report is not None and report["type"] == "json"
    assert report["body"] == {
        "event": "step-finished", "builder": "app", "buildid": 5, "number": 2,
        "url": "http://127.0.0.1:8010/#/builders/1/builds/2", "state": "building",
        "complete": False, "results": None, "result": None,
        "step": {"number": 1, "name": "test", "state": "failed", "complete": True,
                 "results": 2, "result": "failure"}}
    other = StepEventsGenerator(builders=["lib"])
    assert asyncio.run(other.generate(FakeMaster(), None, ("steps", 9, "started"), step)) \
        is None
    assert StepEventsGenerator(["a"]) == StepEventsGenerator(["a"]) != StepEventsGenerator()


def test_step_events_leave_out_buildbots_worker_preparation() -> None:
    """It starts before the build is announced: receivers would see it first."""
    step = {"buildid": 5, "number": 0, "name": "worker_preparation", "results": None}
    gen = StepEventsGenerator()
    assert asyncio.run(gen.generate(FakeMaster(), None, ("steps", 9, "started"), step)) is None
    step = {**step, "number": 3}  # a step of the buildout may have that name
    assert asyncio.run(gen.generate(FakeMaster(), None, ("steps", 9, "started"), step))


def test_progress_push_chains_every_event_of_a_build() -> None:
    push = ProgressHttpPush("http://h.example.com/", name="p", generators=[])
    key = push._get_chain_key_for_event
    assert key(("builds", "5", "new"), {"buildid": 5, "buildrequestid": 3}) == ("buildid", 5)
    assert key(("steps", "9", "started"), {"buildid": 5}) == ("buildid", 5)
    assert key(("buildrequests", "3", "new"), {"buildrequestid": 3}) == ("buildrequestid", 3)


def test_mail_addresses_are_those_mail_notifier_accepts() -> None:
    VALID_EMAIL = sys.modules[MailNotifier.__module__].VALID_EMAIL  # noqa: N806

    assert BUILDBOT_VALID_EMAIL.pattern == VALID_EMAIL.pattern
    for good in ("ops@example.com", "a.b+c@mail.example.org"):
        assert is_mail_address(good)
    for bad in ("ops", "ops@", "@example.com", "ops@localhost", "a@@example.com",
                "<a@example.com>", "a@example.com,b@example.com"):
        assert not is_mail_address(bad)


def test_mail_notifier_import_warns_nothing() -> None:
    """A fresh interpreter with warnings as errors: Buildbot's own import
    fails there under Twisted 26.10, ours does not."""
    code = ("from anybox_buildbot.reporters import mail_notifier_class\n"
            "print(mail_notifier_class().__name__)")
    done = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True,
                          text=True, timeout=120)
    assert (done.returncode, done.stdout) == (0, "MailNotifier\n"), done.stderr


def test_modes_written_in_the_parser_are_buildbots() -> None:
    """notify.py lists Buildbot's modes itself (the parsing layer imports
    nothing from Buildbot): they must stay those of the generators."""
    from buildbot.reporters.generators.utils import BuildStatusGeneratorMixin
    assert BUILDBOT_MODES == tuple(BuildStatusGeneratorMixin.possible_modes)
    assert set(ResultGenerator.possible_modes) == {*BUILDBOT_MODES, "fixed"}


def test_target_equality_ignores_location() -> None:
    assert parse_notify_line("mail a@example.com", LOC) == NotifyTarget(
        "mail", "a@example.com", ("failing",))


# --------------------------------------------------------------------------- #
# docs/notifications.rst says what the code does
# --------------------------------------------------------------------------- #

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "notifications.rst"
EXAMPLE = ROOT / "examples" / "docs" / "notify"


def test_documented_example_gives_the_documented_reporters(tmp_path: Path) -> None:
    copy = tmp_path / "master"
    shutil.copytree(EXAMPLE, copy)
    (copy / "secrets").mkdir(mode=0o700)
    found = services(copy)
    assert list(found) == [
        "anybox-notify:gitea:https://gitea.example.com/api/v1#gitea_token",
        "anybox-notify:github:https://api.github.com#github_token",
        "anybox-notify:gitlab:https://gitlab.example.com#gitlab_token",
        "anybox-notify:http:https://alerts.example.com/ci",
        "anybox-notify:http:https://dashboard.example.com/hooks/buildbot",
        "anybox-notify:mail:ci-team@example.com",
        "anybox-notify:mail:webshop-dev@example.com",
        WORKER_MISSING_NAME,
    ]
    team = kwargs_of(found["anybox-notify:mail:ci-team@example.com"])
    assert [(g.mode, g.builders) for g in team["generators"]] == [
        (("problem", "fixed"), ["intranet"]),
        (("failing", "fixed"), ["reports", "webshop"])]
    assert found["anybox-notify:mail:ci-team@example.com"]._config_args == ("ci@example.com",)
    assert (team["relayhost"], team["smtpPort"]) == ("smtp.example.com", 25)
    dashboard = kwargs_of(found["anybox-notify:http:https://dashboard.example.com/hooks/buildbot"])
    assert [type(g) for g in dashboard["generators"]] == [BuildStartEndStatusGenerator,
                                                          StepEventsGenerator]
    assert dashboard["generators"][0].builders == ["reports", "webshop"]
    (alerts,) = kwargs_of(found["anybox-notify:http:https://alerts.example.com/ci"])["generators"]
    assert (alerts.mode, alerts.builders) == (("failing", "exception"), ["tools"])
    github = kwargs_of(found["anybox-notify:github:https://api.github.com#github_token"])
    assert github["generators"][0].builders == ["webshop"]
    (missing,) = kwargs_of(found[WORKER_MISSING_NAME])["generators"]
    assert missing.workers == ["ci-worker-1"]
    all_builders = {b for r in found.values() for g in kwargs_of(r)["generators"]
                    for b in getattr(g, "builders", None) or ()}
    assert "sandbox" not in all_builders


def test_documented_error_messages_are_the_real_ones() -> None:
    text = PAGE.read_text()
    block = text.split(".. code-block:: text\n\n", 1)[1].split("\n\n", 1)[0]
    messages = [line.strip() for line in block.splitlines()]
    assert len(messages) == 4
    for message in messages:
        match = re.match(r"(?P<file>[^:]+):(?P<line>\d+): (?P<subject>buildout \[\w+\] notify): "
                         r".*?: '(?P<text>.*?)' \(", message)
        assert match, message
        errors = Errors()
        parse_notify_option([(match["text"].replace("token=***", "token=ghp_x"),
                              Location(match["file"], int(match["line"])))],
                            errors, match["subject"])
        # the page shows the first line; the caret lines follow it
        assert [m.split("\n")[0] for m in errors.messages] == [message]


def test_documented_json_bodies_have_the_real_keys() -> None:
    samples = [json.loads(block) for block in
               re.findall(r"::\n\n(    \{\n.*?\n    \})\n", PAGE.read_text(), re.DOTALL)]
    assert [s["event"] for s in samples] == ["build-finished", "step-finished"]
    data = {"buildid": 5, "number": 2, "state_string": "x", "complete": True,
            "results": SUCCESS, "builder": {"name": "app"}, "url": "u"}
    assert samples[0].keys() == build_finished_json({"build": data}).keys()
    step = {"buildid": 5, "number": 1, "name": "test", "results": FAILURE}
    real = asyncio.run(StepEventsGenerator().generate(FakeMaster(), None,
                                                      ("steps", 9, "finished"), step))
    assert real is not None
    assert samples[1].keys() == real["body"].keys()
    assert samples[1]["step"].keys() == real["body"]["step"].keys()
