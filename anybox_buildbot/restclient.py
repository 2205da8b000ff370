"""The one client of a Buildbot master's REST API (``force``, ``status``, tests).

Standard library only. When the master's ``www`` has authentication, the
client logs in once through ``/auth/login`` with HTTP basic credentials and
keeps the session cookie Buildbot returns; a token, when given instead, is
sent as ``Authorization: Bearer`` (for masters behind a proxy checking it).

Every failure is a :class:`RestError` whose message is one line saying what
was tried (method and URL) and what happened, meant for a terminal; its
``exit_code`` tells the command line how to end. Credentials given in the
URL (``http://user:password@host/``) are taken out of it at once and used
to log in, so no message can ever show them; :func:`redact` hides them in
a URL that could not even be parsed.
"""

from __future__ import annotations

import base64
import http.client
import http.cookiejar
import json
import re
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

RESULTS = ("success", "warnings", "failure", "skipped", "exception", "retry", "cancelled")

#: Exit codes of the command line for each kind of failure (docs/cli.rst).
EXIT_REFUSED = 1      # the master answered, and said no (auth, unknown builder...)
EXIT_BAD_URL = 2      # the URL itself is wrong: a command-line error
EXIT_NO_ANSWER = 3    # no usable answer: refused connection, timeout, not a Buildbot

_HINT = "is --url the master's web address (its buildbotURL)?"
_USERINFO = re.compile(r"(//[^/?#@]*?:)[^/?#]*@")


class RestError(RuntimeError):
    """A refused or failed request, with a one-line message for a terminal."""

    exit_code = EXIT_REFUSED

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class BadUrlError(RestError):
    """The URL cannot be a master's web address; nothing was sent."""

    exit_code = EXIT_BAD_URL


class NoAnswerError(RestError):
    """Nothing usable came back: no connection, no answer in time, or an
    answer that is not Buildbot's REST API."""

    exit_code = EXIT_NO_ANSWER


def redact(url: str) -> str:
    """``url`` with the password of its user information replaced by ``***``."""
    return _USERINFO.sub(r"\1***@", url)


def _one_line(text: str, limit: int = 80) -> str:
    """Printable, whitespace collapsed, at most ``limit`` characters."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


@dataclass(frozen=True)
class MasterUrl:
    """A master's web address, split from the credentials it may carry."""

    base: str                 # scheme://host[:port][/path], no trailing slash
    user: str | None = None
    password: str | None = None


def parse_master_url(url: str) -> MasterUrl:
    """Check ``url`` and take the user information out of it.

    Accepts the web UI's address or its ``/api/v2`` URL; raises
    :class:`BadUrlError` (naming the URL with its password hidden) for
    anything that is not ``http(s)://HOST[:PORT][/PATH]``.
    """
    shown = repr(redact(url))

    def bad(why: str) -> BadUrlError:
        return BadUrlError(f"malformed URL {shown}: {why} "
                           "(expected http://HOST[:PORT]/ or https://HOST[:PORT]/)")

    if not url or any(c.isspace() or not c.isprintable() for c in url):
        raise bad("empty, or with spaces or control characters")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise bad(str(exc).replace(url, "...")) from None
    if parts.scheme not in ("http", "https"):
        raise bad(f"scheme {parts.scheme!r} is not http or https" if parts.scheme
                  else "no http:// or https:// in front")
    if not parts.hostname:
        raise bad("no host name")
    host = parts.netloc.rpartition("@")[2]
    if port is None and host.endswith(":"):
        raise bad("empty port")
    path = parts.path.rstrip("/")
    if path.endswith("/api/v2"):
        path = path[: -len("/api/v2")]
    user = urllib.parse.unquote(parts.username) if parts.username is not None else None
    password = urllib.parse.unquote(parts.password) if parts.password is not None else None
    return MasterUrl(urllib.parse.urlunsplit((parts.scheme, host, path, "", "")),
                     user or None, password)


def _reason(reason: object, timeout: float) -> str:
    """What went wrong below HTTP, in words."""
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused (is the master running? " + _HINT + ")"
    if isinstance(reason, TimeoutError | socket.timeout):
        return f"no answer within {timeout:g} s"
    if isinstance(reason, socket.gaierror):
        return f"cannot resolve the host name ({reason.strerror or reason})"
    if isinstance(reason, ssl.SSLError):
        return f"TLS error: {_one_line(str(reason.reason or reason))}"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return _one_line(str(reason)) or type(reason).__name__


class Client:
    """REST calls to one master; every method raises :class:`RestError`."""

    def __init__(self, url: str, user: str | None = None, password: str | None = None,
                 token: str | None = None, timeout: float = 15.0) -> None:
        parsed = parse_master_url(url)
        self.base = parsed.base
        self.timeout = timeout
        self.headers: dict[str, str] = {}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        if user is None and parsed.user is not None:
            user, password = parsed.user, password or parsed.password
        if user is not None:
            self._login(user, password or "")

    # -- transport --------------------------------------------------------------
    def _login(self, user: str, password: str) -> None:
        creds = base64.b64encode(f"{user}:{password}".encode()).decode()
        url = f"{self.base}/auth/login"
        request = urllib.request.Request(url, headers={"Authorization": f"Basic {creds}"})
        try:
            self._send(request, f"log in as {user!r} at {url}")
        except RestError as exc:
            if exc.status in (401, 403):
                raise RestError(f"log in as {user!r} at {url}: refused by the master "
                                f"(HTTP {exc.status}); check --user/--password",
                                exc.status) from None
            if exc.status is not None and any(True for _ in self.jar):
                return  # Buildbot redirects after login; the cookie is what counts
            raise

    def _send(self, request: urllib.request.Request, what: str) -> bytes:
        """One request; every failure becomes a one-line :class:`RestError`."""
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return response.read()
        except urllib.error.HTTPError as exc:
            raise self._http_error(exc, what) from None
        except urllib.error.URLError as exc:
            raise NoAnswerError(f"{what}: {_reason(exc.reason, self.timeout)}") from None
        except TimeoutError:
            raise NoAnswerError(f"{what}: {_reason(TimeoutError(), self.timeout)}") from None
        except (http.client.HTTPException, ConnectionResetError, ConnectionAbortedError,
                BrokenPipeError) as exc:
            raise NoAnswerError(f"{what}: the connection broke "
                                f"({_one_line(str(exc)) or type(exc).__name__}); "
                                "not a Buildbot, or a proxy in between?") from None
        except OSError as exc:
            raise NoAnswerError(f"{what}: {_reason(exc, self.timeout)}") from None

    def _http_error(self, exc: urllib.error.HTTPError, what: str) -> RestError:
        try:
            body = exc.read().decode("utf-8", "replace")
        except OSError:
            body = ""
        status = f"HTTP {exc.code} {exc.reason}".rstrip()
        if exc.code in (401, 403):
            return RestError(f"{what}: not allowed ({status}); give --user/--password "
                             "or --token", exc.code)
        try:
            detail = json.loads(body).get("error")
        except (ValueError, AttributeError):
            detail = None
        if detail:
            return RestError(f"{what}: {status}: {_one_line(str(detail), 200)}", exc.code)
        if exc.code == 404:
            return NoAnswerError(f"{what}: {status}: no Buildbot REST API there; {_HINT}",
                                 exc.code)
        return NoAnswerError(f"{what}: {status}" + (f": {_one_line(body)}" if body else ""),
                             exc.code)

    def _open(self, path: str, data: bytes | None = None) -> bytes:
        """GET (or POST ``data``) ``/api/v2/<path>``. A read cut short is
        retried for GETs (polling loops must not die of one dropped
        connection), never for the POST."""
        url = f"{self.base}/api/v2/{path.lstrip('/')}"
        headers = dict(self.headers)
        if data is not None:
            headers["Content-Type"] = "application/json"
        what = f"{'POST' if data is not None else 'GET'} {url}"
        attempts = 3 if data is None else 1
        for attempt in range(attempts):
            request = urllib.request.Request(url, data=data, headers=headers)
            try:
                return self._send(request, what)
            except NoAnswerError as exc:
                broke = "connection broke" in str(exc)
                if not broke or attempt == attempts - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")

    def _json(self, raw: bytes, what: str) -> Any:
        try:
            return json.loads(raw)
        except ValueError:
            start = _one_line(raw.decode("utf-8", "replace"), 40)
            raise NoAnswerError(f"{what}: the answer is not JSON ({start!r}): not a "
                                f"Buildbot REST API; {_HINT}") from None

    # -- reading ------------------------------------------------------------------
    def get(self, path: str, **params: Any) -> Any:
        """GET ``/api/v2/<path>`` (query from ``params``), decoded JSON."""
        if params:
            path += ("&" if "?" in path else "?") + urllib.parse.urlencode(params)
        return self._json(self._open(path), f"GET {self.base}/api/v2/{path}")

    def items(self, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
        """The ``key`` list of a collection answer; an answer without it is
        not Buildbot's (a JSON server that is something else)."""
        data = self.get(path, **params)
        found = data.get(key) if isinstance(data, dict) else None
        if not isinstance(found, list):
            raise NoAnswerError(f"GET {self.base}/api/v2/{path}: the answer has no "
                                f"{key!r} list: not a Buildbot REST API; {_HINT}")
        return found

    def get_text(self, path: str) -> str:
        return self._open(path).decode("utf-8", "replace")

    def _one(self, path: str, key: str) -> dict[str, Any] | None:
        found = self.items(path, key)
        return found[0] if found else None

    def builders(self) -> dict[str, dict[str, Any]]:
        """Configured builders by name (ids are database ids, not config order)."""
        return {b["name"]: b for b in self.items("builders", "builders")}

    def masters(self) -> list[dict[str, Any]]:
        """Every master of the database: one, or several (multi-master)."""
        return self.items("masters", "masters")

    def workers(self) -> list[dict[str, Any]]:
        return self.items("workers", "workers")

    def worker(self, name: str) -> dict[str, Any] | None:
        try:
            return self._one(f"workers/{_quote(name)}", "workers")
        except RestError as exc:
            if exc.status == 404:
                return None
            raise

    def buildrequest(self, brid: int) -> dict[str, Any]:
        found = self._one(f"buildrequests/{brid}", "buildrequests")
        if found is None:
            raise RestError(f"GET {self.base}/api/v2/buildrequests/{brid}: no such "
                            "build request", status=404)
        return found

    def builds_for_request(self, brid: int) -> list[dict[str, Any]]:
        return self.items("builds", "builds", buildrequestid=brid)

    def steps(self, buildid: int) -> list[dict[str, Any]]:
        """Steps of a build; number 0 is Buildbot's own ``worker_preparation``."""
        return self.items(f"builds/{buildid}/steps", "steps")

    def step_log(self, buildid: int, step: int | str, log_slug: str = "stdio") -> str:
        """Raw text of a step log; ``step`` is its number or its name."""
        return self.get_text(f"builds/{buildid}/steps/{_quote(step)}/logs/{_quote(log_slug)}/raw")

    def step_logs(self, buildid: int, step: int | str) -> list[dict[str, Any]]:
        """Logs of a step: ``logid``, ``slug``, ``type`` (``s`` stdio, ``t``
        text, ``h`` html) and ``num_lines`` each."""
        return self.items(f"builds/{buildid}/steps/{_quote(step)}/logs", "logs")

    def log_lines(self, logid: int, first: int, count: int) -> str:
        """Lines ``first`` to ``first + count - 1`` of a log, as stored: each
        line of a stdio log starts with its stream (``o``, ``e``, ``h``)."""
        chunks = self.items(f"logs/{int(logid)}/contents", "logchunks",
                            offset=max(0, first), limit=max(1, count))
        return "".join(str(c.get("content", "")) for c in chunks)

    def builder_workers(self, builderid: int) -> list[dict[str, Any]]:
        """The workers configured to run a builder (connected or not)."""
        return self.items(f"builders/{int(builderid)}/workers", "workers")

    def force_fields(self, scheduler: str = "force") -> set[str]:
        """Names of the parameters a force scheduler accepts (nested ones too)."""
        found = self._one(f"forceschedulers/{_quote(scheduler)}", "forceschedulers") or {}
        names: set[str] = set()
        todo = list(found.get("all_fields") or ())
        while todo:
            field = todo.pop()
            if isinstance(field, dict):
                names.add(str(field.get("fullName") or field.get("name") or ""))
                todo.extend(field.get("fields") or ())
        names.discard("")
        return names

    def build_properties(self, buildid: int) -> dict[str, Any]:
        """``{name: value}`` of a build's properties."""
        return {k: v[0] for k, v in self._properties(buildid).items()}

    def build_property_sources(self, buildid: int) -> dict[str, str]:
        """``{name: source}`` (e.g. ``'Worker'``, ``'Builder'``, ``'Force Build Form'``)."""
        return {k: v[1] for k, v in self._properties(buildid).items()}

    def _properties(self, buildid: int) -> dict[str, list[Any]]:
        return self._one(f"builds/{buildid}/properties", "properties") or {}

    # -- forcing ------------------------------------------------------------------
    def force(self, builder_names: list[str] | tuple[str, ...], scheduler: str = "force",
              **params: Any) -> dict[str, int]:
        """Force builds through a ForceScheduler; ``{builder name: request id}``.

        ``params`` go as top-level JSON-RPC parameters: the scheduler's
        parameters by name (properties), or ``reason``.
        """
        payload = {"jsonrpc": "2.0", "method": "force", "id": 1,
                   "params": {"builderNames": list(builder_names), **params}}
        path = f"forceschedulers/{_quote(scheduler)}"
        what = f"POST {self.base}/api/v2/{path}"
        answer = self._json(self._open(path, json.dumps(payload).encode()), what)
        if not isinstance(answer, dict):
            raise NoAnswerError(f"{what}: not a JSON-RPC answer: not a Buildbot; {_HINT}")
        if "error" in answer:
            error = answer["error"]
            message = error.get("message") if isinstance(error, dict) else error
            raise RestError(f"{what}: force refused: {_one_line(str(message), 200)}")
        try:
            _bsid, by_builderid = answer["result"]
            names = {str(b["builderid"]): name for name, b in self.builders().items()}
            return {names[str(bid)]: int(brid) for bid, brid in by_builderid.items()}
        except (KeyError, TypeError, ValueError):
            raise NoAnswerError(f"{what}: unexpected answer "
                                f"{_one_line(str(answer))!r}; {_HINT}") from None

    def force_build(self, builder: str, props: dict[str, str]) -> int:
        """Force one build of a builder that must exist; its request id."""
        builders = self.builders()
        if builder not in builders:
            raise RestError(f"no builder {builder!r} on {self.base}; known: "
                            + ", ".join(sorted(builders)))
        return self.force([builder], **props)[builder]


def _quote(part: str | int) -> str:
    return urllib.parse.quote(str(part), safe="")
