"""The HTTP guard in front of Gradio (issue 14): uploads, request size, login throttling,
security headers."""

import json
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from assistant.apps.web.assets import LOCALE_SCRIPT, LOGIN_SCRIPT, SECURITY_HEADERS
from assistant.apps.web.limits import (
    LOGIN_FREE_FAILURES,
    LOGIN_LOCKOUT,
    LOGIN_MAX_LOCKOUT,
    MAX_BODY_BYTES,
)

log = logging.getLogger(__name__)


class LoginThrottle:
    """Failed logins per client address: after :data:`LOGIN_FREE_FAILURES` failures in a row
    the client is locked out for :data:`LOGIN_LOCKOUT` seconds, doubling with every further
    failure (at most :data:`LOGIN_MAX_LOCKOUT`); while locked out every attempt — the right
    password included — is refused unread. A success resets the client; failures older than
    an hour are forgotten. Thread-safe; at most *max_clients* addresses are remembered."""

    def __init__(self, free: int = LOGIN_FREE_FAILURES, lockout: float = LOGIN_LOCKOUT,
                 max_lockout: float = LOGIN_MAX_LOCKOUT, *, clock: Callable[[], float] = time.monotonic,
                 forget_after: float = 3600.0, max_clients: int = 10_000):
        self.free, self.lockout, self.max_lockout = free, lockout, max_lockout
        self.clock, self.forget_after, self.max_clients = clock, forget_after, max_clients
        self._clients: dict[str, tuple[int, float, float]] = {}  # → (failures, locked until, last failure)
        self._lock = threading.Lock()

    def _get(self, client: str, now: float) -> tuple[int, float, float]:
        failures, until, last = self._clients.get(client, (0, 0.0, 0.0))
        if failures and now - last > self.forget_after and now >= until:
            self._clients.pop(client, None)
            return 0, 0.0, 0.0
        return failures, until, last

    def retry_after(self, client: str) -> float:
        """Seconds *client* must still wait before its next attempt (0: it may try now)."""
        with self._lock:
            now = self.clock()
            return max(0.0, self._get(client, now)[1] - now)

    def failed(self, client: str) -> float:
        """Record a failed login; returns the lockout it starts (0 while attempts are free)."""
        with self._lock:
            now = self.clock()
            failures = self._get(client, now)[0] + 1
            wait = 0.0
            if failures >= self.free:
                wait = min(self.lockout * 2 ** (failures - self.free), self.max_lockout)
            if client not in self._clients and len(self._clients) >= self.max_clients:
                oldest = min(self._clients, key=lambda c: self._clients[c][2])
                del self._clients[oldest]
            self._clients[client] = (failures, now + wait, now)
            return wait

    def failed_and_logged(self, client: str, logger: logging.Logger, what: str = "login") -> float:
        """:meth:`failed`, and the failure logged on *logger* (a lockout as a warning)."""
        lockout = self.failed(client)
        if lockout:
            logger.warning("failed %s from %s (%d in a row): locked out for %.0f s", what, client,
                           self.failures(client), lockout)
        else:
            logger.info("failed %s from %s", what, client)
        return lockout

    def failures(self, client: str) -> int:
        """Failed logins in a row from *client*."""
        with self._lock:
            return self._get(client, self.clock())[0]

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._clients.pop(client, None)


_UPLOAD_ROUTES = ("/gradio_api/upload", "/gradio_api/upload_progress", "/gradio_api/process_recording")


class _Refuse(Exception):
    """A request refused by the guard before the app saw it (status, Chinese reason)."""

    def __init__(self, status: int, reason: str, headers: dict[str, str] | None = None):
        super().__init__(reason)
        self.status, self.reason, self.headers = status, reason, headers or {}


class HTTPGuard:
    """ASGI middleware in front of the Gradio app (:func:`launch` installs it):

    * adds :data:`SECURITY_HEADERS` to every response;
    * refuses every upload route (and any multipart body but the login form) where the app has
      no upload component (*uploads* False: the app without the 管理 tab) — Gradio would store
      what anyone posts in its cache and serve it back from the app's address;
    * refuses bodies over *max_body* bytes (*max_upload* for an upload), by Content-Length
      before reading, or by counting a body sent without one;
    * throttles failed logins per client (:class:`LoginThrottle`): HTTP 429 with Retry-After,
      each lockout logged, and puts :data:`LOGIN_SCRIPT` into the page so the login form says so;
    * puts :data:`LOCALE_SCRIPT` into the page, so Gradio's own words are Chinese in any browser.
    Behind a reverse proxy every client has the proxy's address: the throttle then holds for all."""

    def __init__(self, app: Any, *, uploads: bool, throttle: LoginThrottle, max_body: int = MAX_BODY_BYTES,
                 max_upload: int = 0):
        self.app, self.uploads, self.throttle = app, uploads, throttle
        self.max_body, self.max_upload = max_body, max_upload

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k.lower().encode("latin-1"), v.encode("latin-1"))
                         for k, v in SECURITY_HEADERS.items() if k.lower().encode("latin-1") not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        respond = send_with_headers
        if scope.get("method") == "GET" and scope.get("path", "").rstrip("/") == "":
            respond = self._with_page_scripts(send_with_headers)
        try:
            await self._guarded(scope, receive, respond)
        except _Refuse as refused:
            if started:  # the app already answered: nothing more can be said
                return
            body = json.dumps({"error": refused.reason}, ensure_ascii=False).encode("utf-8")
            await send_with_headers({
                "type": "http.response.start", "status": refused.status,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()),
                            *((k.lower().encode(), v.encode()) for k, v in refused.headers.items())],
            })
            await send_with_headers({"type": "http.response.body", "body": body})

    async def _guarded(self, scope: dict, receive: Callable, send: Callable) -> None:
        path = scope.get("path", "").rstrip("/")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        multipart = headers.get("content-type", "").lower().startswith("multipart/")
        upload = any(path.endswith(route) for route in _UPLOAD_ROUTES)
        login = scope.get("method") == "POST" and path.endswith("/login")
        if (upload or (multipart and not login)) and not self.uploads:  # the login page posts a form
            raise _Refuse(403, "此服務不接受上傳檔案。")
        limit = self.max_upload if upload else self.max_body
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            raise _Refuse(413, f"請求內容太大(上限 {limit // 2**20} MB)。")
        if scope.get("method") in ("POST", "PUT", "PATCH") and not length.isdigit():
            receive = self._counting(receive, limit)
        if login:
            await self._login(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _with_page_scripts(send: Callable) -> Callable:
        """*send* for the app's page (the login form too): :data:`LOCALE_SCRIPT` and
        :data:`LOGIN_SCRIPT` go in before ``</head>``, ahead of Gradio's deferred module script."""
        start: dict | None = None
        chunks: list[bytes] = []

        async def inject(message: dict) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                kind = dict(message.get("headers", [])).get(b"content-type", b"")
                if not kind.startswith(b"text/html"):
                    await send(message)
                    return
                start = message
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            scripts = (LOCALE_SCRIPT + LOGIN_SCRIPT).encode("utf-8")
            page = b"".join(chunks).replace(b"</head>", scripts + b"</head>", 1)
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            await send({**start, "headers": [*headers, (b"content-length", str(len(page)).encode())]})
            await send({"type": "http.response.body", "body": page})

        return inject

    @staticmethod
    def _counting(receive: Callable, limit: int) -> Callable:
        seen = 0

        async def counted() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _Refuse(413, f"請求內容太大(上限 {limit // 2**20} MB)。")
            return message

        return counted

    async def _login(self, scope: dict, receive: Callable, send: Callable) -> None:
        client = (scope.get("client") or ("unknown",))[0]
        wait = self.throttle.retry_after(client)
        if wait > 0:  # logged when the lockout starts; not per attempt (a flood would flood the log)
            log.debug("login from %s refused unread: locked out for another %.0f s", client, wait)
            raise _Refuse(429, f"登入失敗次數過多,請於 {math.ceil(wait)} 秒後再試。",
                          {"Retry-After": str(math.ceil(wait))})

        async def watch(message: dict) -> None:
            if message["type"] == "http.response.start":
                status = message["status"]
                if status == 200:
                    self.throttle.succeeded(client)
                elif 400 <= status < 500:
                    self.throttle.failed_and_logged(client, log)
            await send(message)

        await self.app(scope, receive, watch)

