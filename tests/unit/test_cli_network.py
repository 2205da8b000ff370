"""``force``/``status`` when ``--url`` is not a working master: one line each.

Real servers on loopback, no mocks: a plain ``http.server`` (404 for
everything, or HTML for everything), a JSON server that is not Buildbot, a
closed port, and a socket that accepts connections but never answers
(with ``--timeout`` short so the test stays fast). Every failure must be
one line on stderr saying what was tried and what happened, with the
documented exit status, and never a password given in the URL.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from anybox_buildbot.cli import main
from anybox_buildbot.restclient import parse_master_url, redact

PASSWORD = "Very-Secret-9431"


class _Handler(BaseHTTPRequestHandler):
    status = 404
    content_type = "text/html"
    body = b"<!DOCTYPE html><html><body><h1>Not Found</h1></body></html>\n"

    def _answer(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:  # keep the test output clean
        pass


def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def not_found_server() -> Iterator[str]:
    """A web server that is not a Buildbot: 404 and HTML for every path."""
    yield from _serve(_Handler)


@pytest.fixture
def html_server() -> Iterator[str]:
    """A web site answering 200 with a page for every path."""
    yield from _serve(type("Html", (_Handler,), {"status": 200}))


@pytest.fixture
def json_server() -> Iterator[str]:
    """An HTTP JSON API that is not Buildbot's."""
    yield from _serve(type("Json", (_Handler,), {
        "status": 200, "content_type": "application/json", "body": b'{"hello": "world"}'}))


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections (the kernel does, from the backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def one_line_error(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert lines[0].startswith("error: ") and "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("command", [["status"], ["force", "hello"]])
def test_web_server_that_is_not_a_buildbot(capsys, not_found_server: str,
                                           command: list[str]) -> None:
    code, _out, err = run(capsys, *command, "--url", not_found_server)
    line = one_line_error(err)
    assert code == 3
    assert f"GET {not_found_server}api/v2/builders" in line
    assert "HTTP 404" in line and "no Buildbot REST API there" in line
    assert "--url" in line


def test_html_answer_is_not_json(capsys, html_server: str) -> None:
    code, _out, err = run(capsys, "status", "--url", html_server)
    line = one_line_error(err)
    assert code == 3
    assert f"GET {html_server}api/v2/builders: the answer is not JSON" in line
    assert "'<!DOCTYPE html>" in line and "not a Buildbot REST API" in line


def test_json_api_that_is_not_buildbot(capsys, json_server: str) -> None:
    code, _out, err = run(capsys, "status", "--url", json_server)
    line = one_line_error(err)
    assert code == 3
    assert "the answer has no 'builders' list" in line


def test_closed_port(capsys, closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}/"
    code, _out, err = run(capsys, "status", "--url", url)
    line = one_line_error(err)
    assert code == 3
    assert line == (f"error: GET {url}api/v2/builders: connection refused (is the master "
                    "running? is --url the master's web address (its buildbotURL)?)")


def test_no_answer_within_timeout(capsys, silent_server: str) -> None:
    code, _out, err = run(capsys, "force", "hello", "--url", silent_server,
                          "--timeout", "0.5")
    line = one_line_error(err)
    assert code == 3
    assert line == f"error: GET {silent_server}api/v2/builders: no answer within 0.5 s"


@pytest.mark.parametrize(("url", "why"), [
    ("localhost:8010", "scheme 'localhost' is not http or https"),
    ("127.0.0.1:8010", "no http:// or https:// in front"),
    ("ftp://example.org/", "scheme 'ftp' is not http or https"),
    ("http://", "no host name"),
    ("http://localhost:80x0/", "Port could not be cast to integer value"),
    ("http://localhost:99999/", "Port out of range 0-65535"),
    ("http://local host/", "with spaces or control characters"),
    ("http://[::1/", "Invalid IPv6 URL"),
    ("", "empty"),
])
def test_malformed_url_is_a_usage_error(capsys, url: str, why: str) -> None:
    code, _out, err = run(capsys, "status", "--url", url)
    line = one_line_error(err)
    assert code == 2
    assert line.startswith(f"error: malformed URL {url!r}: ")
    assert why in line


def test_password_in_url_is_never_printed(capsys, closed_port: int,
                                          not_found_server: str) -> None:
    """Credentials in the URL log in; no message shows the password."""
    for url in (f"http://admin:{PASSWORD}@127.0.0.1:{closed_port}/",
                not_found_server.replace("//", f"//admin:{PASSWORD}@"),
                f"http://admin:{PASSWORD}@localhost:80x0/",
                f"http://admin:{PASSWORD}@[::1/",
                f"ftp://admin:{PASSWORD}@example.org/"):
        code, out, err = run(capsys, "status", "--url", url)
        assert code in (2, 3), err
        one_line_error(err)
        assert PASSWORD not in out + err
    code, _out, err = run(capsys, "status", "--url",
                          f"http://admin:{PASSWORD}@127.0.0.1:{closed_port}/")
    assert f"log in as 'admin' at http://127.0.0.1:{closed_port}/auth/login" in err


def test_url_credentials_become_the_login() -> None:
    parsed = parse_master_url("https://ci%40corp:p%3Ass@ci.example.org:8443/bb/api/v2/")
    assert parsed.base == "https://ci.example.org:8443/bb"
    assert (parsed.user, parsed.password) == ("ci@corp", "p:ss")
    assert parse_master_url("http://[::1]:8010").base == "http://[::1]:8010"
    assert redact(f"http://u:{PASSWORD}@h:1/x?y=@") == "http://u:***@h:1/x?y=@"


ESC = "\x1b]0;pwned\x07\x1b[2J"


@pytest.fixture
def hostile_server() -> Iterator[str]:
    """Answers as a Buildbot whose names hold terminal escape sequences."""
    answers = {
        "builders": {"builders": [{"builderid": 4, "name": f"app{ESC}"}]},
        "masters": {"masters": [{"masterid": 1, "name": f"m{ESC}", "active": True,
                                 "last_active": 0}]},
        "workers": {"workers": [{"name": f"w{ESC}", "connected_to": [{"masterid": 1}],
                                 "configured_on": [{"builderid": 4}]}]},
        "builds": {"builds": [{"buildid": 9, "builderid": 4, "number": 3}]},
        "builds/9/steps": {"steps": [{"number": 2, "name": f"test{ESC}",
                                      "started_at": 1, "complete": False}]},
    }

    class Hostile(_Handler):
        status = 200
        content_type = "application/json"

        def _answer(self) -> None:
            path = self.path.split("/api/v2/", 1)[1].split("?", 1)[0]
            self.body = json.dumps(answers[path]).encode()
            super()._answer()

        do_GET = _answer

    yield from _serve(Hostile)


def test_status_prints_what_the_master_says_as_plain_text(capsys, hostile_server: str) -> None:
    code, out, _err = run(capsys, "status", "--url", hostile_server)
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out
    assert "  app?]0;pwned??[2J #3: step 2 test?]0;pwned??[2J" in out
