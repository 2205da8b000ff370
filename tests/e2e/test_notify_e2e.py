"""Notifications for real: a master and a worker, receivers on loopback.

One master and one worker for the module. The manifest's ``notify``
lines (in ``[DEFAULT]``, so both buildouts name the same destinations)
point at:

- an HTTP receiver (``http.server`` in a thread) recording every JSON push,
  which also plays a Gitea server for the commit statuses;
- an SMTP server (aiosmtpd) recording every mail.

A passing and a failing build are forced; the test checks what each
receiver got: start, every step's start and end, and the result over
HTTP; the failure mail with its subject, builder and link; the commit
statuses with the secret token; and the mail about a worker that never
connected (``notify_on_missing``).
"""

from __future__ import annotations

import email
import functools
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from localrun import (
    LOOPBACK,
    Master,
    Rest,
    free_port,
    running_master,
    simple_master_cfg,
    wait_for,
)

BUILD_TIMEOUT = 300
PUSH_TIMEOUT = 30
TOKEN = "tok-e2e-not-in-any-file-but-secrets"
REPOSITORY = "https://gitea.example.com/acme/app.git"
REVISION = "0123456789abcdef0123456789abcdef01234567"


# --------------------------------------------------------------------------- #
# receivers
# --------------------------------------------------------------------------- #

@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: Any


class HttpReceiver:
    """Records every POST (path, headers, decoded JSON body); answers 201."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            # Buildbot's client keeps connections alive; an HTTP/1.0 server
            # closing each one races with its next POST on that connection.
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                with receiver.lock:
                    receiver.requests.append(Request(self.path, dict(self.headers), body))
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)

    def posted(self, path: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def events(self, buildid: int) -> list[dict]:
        return [r.body for r in self.posted("/hook") if r.body.get("buildid") == buildid]


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: email.message.EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain", "html"))
        assert part is not None
        return part.get_content()


class SmtpReceiver:
    """aiosmtpd handler: keeps every message it is given."""

    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"

    def to(self, address: str) -> list[Mail]:
        with self.lock:
            return [m for m in self.mails if address in m.recipients]


# --------------------------------------------------------------------------- #
# master and worker
# --------------------------------------------------------------------------- #

MANIFEST = """\
[DEFAULT]
buildout = standalone app.cfg
notify = http http://127.0.0.1:{http}/hook
         mail dev@example.com on=failing
         gitea http://127.0.0.1:{http}/acme/app token=%(secret:gitea_token)s

[passing]
test-command = true

[failing]
test-command = false
"""
WORKERS = """\
[w1]
password = notify-pass

[ghost]
# never started: its missing timer fires {missing}s after the master starts
password = ghost-pass
notify_on_missing = ops@example.com
missing_timeout = {missing}
"""


@dataclass
class Setup:
    master: Master
    rest: Rest
    http: HttpReceiver
    smtp: SmtpReceiver

    def force(self, builder: str) -> dict:
        brid = self.rest.force([builder], repository=REPOSITORY, revision=REVISION)[builder]
        return self.rest.wait_build(brid, timeout=BUILD_TIMEOUT)

    def wait_events(self, build: dict) -> list[dict]:
        """Pushes of one build, once its result arrived (pushes are async)."""
        def finished() -> list[dict] | None:
            events = self.http.events(build["buildid"])
            return events if any(e["event"] == "build-finished" for e in events) else None
        return wait_for(finished, PUSH_TIMEOUT, what=f"the result push of build "
                        f"{build['buildid']}", diagnostics=lambda: repr(self.http.requests))


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("notify")
    http = HttpReceiver()
    smtp = SmtpReceiver()
    controller = Controller(smtp, hostname=LOOPBACK, port=free_port())
    master_dir = root / "master"
    (master_dir / "buildouts").mkdir(parents=True)
    (master_dir / "buildouts" / "MANIFEST.cfg").write_text(MANIFEST.format(http=http.port))
    (master_dir / "buildouts" / "app.cfg").write_text("[buildout]\nparts =\n")
    (master_dir / "workers.cfg").write_text(WORKERS.format(missing=3))
    secrets = master_dir / "secrets"
    secrets.mkdir(mode=0o700)
    (secrets / "gitea_token").write_text(TOKEN + "\n")
    os.chmod(secrets / "gitea_token", 0o600)
    config = functools.partial(
        simple_master_cfg, imports="import os\nfrom buildbot.plugins import secrets",
        setup="c['secretsProviders'] = [secrets.SecretInAFile("
              "dirname=os.path.join(basedir, 'secrets'))]\n",
        kwargs=f", mail_from='ci@example.com', smtp_host='127.0.0.1', "
               f"smtp_port={controller.port}")
    http.start()
    controller.start()
    try:
        with running_master(master_dir, {"w1": "notify-pass"}, config) as master:
            yield Setup(master, master.rest, http, smtp)
    finally:
        controller.stop()
        http.stop()


@pytest.fixture(scope="module")
def passing(setup: Setup) -> dict:
    build = setup.force("passing")
    assert build["results"] == 0, build["state_string"]
    return build


@pytest.fixture(scope="module")
def failing(setup: Setup) -> dict:
    build = setup.force("failing")
    assert build["results"] == 2, build["state_string"]
    return build


def check_progress(setup: Setup, build: dict, builder: str, result: str) -> list[dict]:
    events = setup.wait_events(build)
    url = f"{setup.master.url}#/builders/{build['builderid']}/builds/{build['number']}"
    for event in events:
        assert (event["builder"], event["number"], event["url"]) == (builder, build["number"],
                                                                     url)
    first, *steps, last = events
    # one reporter for the destination both buildouts name: no duplicates
    assert [e["event"] for e in events].count("build-started") == 1
    assert [e["event"] for e in events].count("build-finished") == 1
    assert first["event"] == "build-started" and first["results"] is None
    assert not first["complete"]
    assert last["event"] == "build-finished" and last["complete"]
    assert (last["results"], last["result"]) == (build["results"], result)
    # every step of the build, started then finished, in order (but
    # Buildbot's own worker_preparation, step 0)
    rest_steps = setup.rest.steps(build["buildid"])
    assert rest_steps[0]["name"] == "worker_preparation"
    expected = []
    for step in rest_steps[1:]:
        expected += [("step-started", step["number"], step["name"], None),
                     ("step-finished", step["number"], step["name"], step["results"])]
    got = [(e["event"], e["step"]["number"], e["step"]["name"], e["step"]["results"])
           for e in steps]
    assert got == expected
    return steps


def test_passing_build_pushes_start_steps_and_result(setup: Setup, passing: dict) -> None:
    steps = check_progress(setup, passing, "passing", "success")
    names = [e["step"]["name"] for e in steps if e["event"] == "step-finished"]
    assert "buildout" in names and "test" in names
    assert all(e["step"]["result"] in ("success", "skipped") for e in steps
               if e["event"] == "step-finished")


def test_failing_build_pushes_start_steps_and_result(setup: Setup, failing: dict) -> None:
    steps = check_progress(setup, failing, "failing", "failure")
    test = next(e for e in steps if e["event"] == "step-finished"
                and e["step"]["name"] == "test")
    assert test["step"]["result"] == "failure"


def test_failure_mail(setup: Setup, passing: dict, failing: dict) -> None:
    mails = wait_for(lambda: setup.smtp.to("dev@example.com"), PUSH_TIMEOUT,
                     what="the failure mail to dev@example.com")
    setup.wait_events(passing)  # the passing build was reported too: no mail for it
    assert len(mails) == 1
    (mail,) = mails
    assert mail.sender == "ci@example.com"
    assert mail.recipients == ["dev@example.com"]
    assert "Buildbot (anybox local): failing" in mail.subject
    assert "failed test" in mail.subject, mail.subject
    url = f"{setup.master.url}#/builders/{failing['builderid']}/builds/{failing['number']}"
    assert url in mail.text
    assert "failed build has been detected on builder failing" in mail.text
    test = next(s for s in setup.rest.steps(failing["buildid"]) if s["name"] == "test")
    assert f"- {test['number']}: test ( failure )" in mail.text


def test_commit_statuses_with_the_secret_token(setup: Setup, passing: dict,
                                               failing: dict) -> None:
    path = f"/api/v1/repos/acme/app/statuses/{REVISION}"

    def final_states() -> dict[str, str] | None:
        done = {r.body["context"]: r.body["state"] for r in setup.http.posted(path)
                if r.body["state"] != "pending"}
        return done if len(done) == 2 else None

    assert wait_for(final_states, PUSH_TIMEOUT, what="final commit statuses") == {
        "buildbot/passing": "success", "buildbot/failing": "failure"}
    posts = setup.http.posted(path)
    assert {r.headers["Authorization"] for r in posts} == {f"token {TOKEN}"}
    assert {r.body["state"] for r in posts} == {"pending", "success", "failure"}
    urls = {r.body["target_url"] for r in posts if r.body["state"] != "pending"}
    assert all(u.startswith(setup.master.url) for u in urls)
    # the token reached the server, never the master's log
    assert TOKEN not in setup.master.log_text()


def test_missing_worker_mail(setup: Setup) -> None:
    (mail,) = wait_for(lambda: setup.smtp.to("ops@example.com"), PUSH_TIMEOUT,
                       what="the missing-worker mail to ops@example.com")
    assert mail.sender == "ci@example.com"
    assert "ghost" in mail.subject
    assert "ghost" in mail.text
