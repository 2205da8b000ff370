"""A small client of a Buildbot master's REST API, for ``force`` and ``status``.

Standard library only. When the master's ``www`` has authentication, the
client logs in once through ``/auth/login`` with HTTP basic credentials and
keeps the session cookie Buildbot returns; a token, when given instead, is
sent as ``Authorization: Bearer`` (for masters behind a proxy checking it).
"""

from __future__ import annotations

import base64
import http.client
import http.cookiejar
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

RESULTS = ("success", "warnings", "failure", "skipped", "exception", "retry", "cancelled")


class RestError(RuntimeError):
    """A refused or failed request, with a message meant for a terminal."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Client:
    def __init__(self, url: str, user: str | None = None, password: str | None = None,
                 token: str | None = None, timeout: float = 15.0) -> None:
        base = url.rstrip("/")
        if base.endswith("/api/v2"):
            base = base[: -len("/api/v2")]
        self.base = base
        self.timeout = timeout
        self.headers: dict[str, str] = {}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        if user is not None:
            self._login(user, password or "")

    def _login(self, user: str, password: str) -> None:
        creds = base64.b64encode(f"{user}:{password}".encode()).decode()
        request = urllib.request.Request(f"{self.base}/auth/login",
                                         headers={"Authorization": f"Basic {creds}"})
        try:
            with self.opener.open(request, timeout=self.timeout):
                pass
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403):
                raise RestError(f"login as {user!r} refused by {self.base} "
                                f"(HTTP {exc.code})") from None
            if exc.code >= 400 and not any(True for _ in self.jar):
                raise RestError(f"login failed: HTTP {exc.code}") from None
        except urllib.error.URLError as exc:
            raise RestError(f"cannot reach {self.base}: {exc.reason}") from None

    def _open(self, path: str, data: bytes | None = None) -> bytes:
        """One request; a read cut short is retried for GETs (polling loops
        must not die of one dropped connection), never for the POST."""
        attempts = 3 if data is None else 1
        for attempt in range(attempts):
            try:
                return self._open_once(path, data)
            except (http.client.IncompleteRead, ConnectionResetError) as exc:
                if attempt == attempts - 1:
                    raise RestError(f"connection to {self.base} broke: {exc!r}") from None
                time.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")

    def _open_once(self, path: str, data: bytes | None) -> bytes:
        url = f"{self.base}/api/v2/{path.lstrip('/')}"
        headers = dict(self.headers)
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, headers=headers)
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return response.read()
        except urllib.error.HTTPError as exc:
            body = exc.read().decode("utf-8", "replace")[:500]
            if exc.code in (401, 403):
                raise RestError(f"{exc.code}: not allowed ({body.strip()}); give "
                                "--user/--password or --token", exc.code) from None
            raise RestError(f"HTTP {exc.code} for {url}: {body}", exc.code) from None
        except urllib.error.URLError as exc:
            raise RestError(f"cannot reach {self.base}: {exc.reason}") from None

    def get(self, path: str, **params: Any) -> Any:
        if params:
            path += "?" + urllib.parse.urlencode(params)
        return json.loads(self._open(path))

    def text(self, path: str) -> str:
        return self._open(path).decode("utf-8", "replace")

    def builders(self) -> dict[str, dict]:
        return {b["name"]: b for b in self.get("builders")["builders"]}

    def force(self, builder: str, props: dict[str, str], scheduler: str = "force") -> int:
        """Force one build; returns the build request id."""
        builders = self.builders()
        if builder not in builders:
            raise RestError(f"no builder {builder!r} on {self.base}; known: "
                            + ", ".join(sorted(builders)))
        payload = {"jsonrpc": "2.0", "method": "force", "id": 1,
                   "params": {"builderNames": [builder], **props}}
        answer = json.loads(self._open(f"forceschedulers/{urllib.parse.quote(scheduler)}",
                                       json.dumps(payload).encode()))
        if "error" in answer:
            raise RestError(f"force refused: {answer['error'].get('message')}")
        _bsid, requests = answer["result"]
        return int(next(iter(requests.values())))
