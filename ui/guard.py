"""What the page's server refuses before Gradio sees a request: logins guessed too fast, files
sent to a read-only page.

Gradio checks a login (``POST /login``) as often as it is asked: a hundred wrong passwords took
1.3 s. :class:`LoginLimiter` keeps, per client address, the failures in a row: the first
:data:`FREE_FAILURES` cost nothing, then each failure closes the door for twice as long as the
one before (2 s, 4 s, 8 s ... up to :data:`LONGEST_WAIT`); while it is closed every login from
that address is answered 429 with ``Retry-After`` and says when to try again, without being
checked. A login that succeeds opens it. Only one login per address is checked at a time, so
guesses sent all at once do not slip through together.

Gradio also accepts files at ``/gradio_api/upload`` from anyone who may see the page, whether or
not the page has an upload box (they land in its temporary folder). A read-only page has none, so
:class:`Guard` refuses uploads there with 403, and calls of the write events by their API names
(``/gradio_api/call/upload`` ...) too: a read-only page has no such event, and Gradio answers a
call of an event it does not have with a bare 500 (and a traceback in the server log).

The client address is the connection's, unless it comes from a proxy the user named
(``trusted_proxies``: :func:`ui.serve.forwarded_allow_ips`), whose ``X-Forwarded-For`` then names
the visitor. Behind an unnamed proxy every visitor has the proxy's address, and so shares one limit.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

FREE_FAILURES = 5
FIRST_WAIT = 2.0
LONGEST_WAIT = 15 * 60.0
FORGET_AFTER = 3600.0  # an address that has not failed for an hour starts afresh
MOST_CLIENTS = 10_000  # addresses remembered at once (the oldest are forgotten first)
#: The routes that take files: Gradio's upload (and its audio recording) under its API prefix.
UPLOAD_ROUTES = ("/gradio_api/upload", "/gradio_api/process_recording")
#: The routes that call an event by its API name (followed by the name).
API_ROUTES = ("/gradio_api/call/", "/gradio_api/run/", "/gradio_api/api/")
LOGIN_ROUTE = "/login"


@dataclass
class _Client:
    failures: int = 0
    closed_until: float = 0.0
    checking: bool = False
    last: float = 0.0


class LoginLimiter:
    """Failed logins per client address, and how long each must wait (thread-safe)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._clients: dict[str, _Client] = {}
        self._lock = threading.Lock()

    def begin(self, address: str) -> float:
        """0 when a login from ``address`` may be checked now (then call :meth:`end`), else the
        seconds until it may."""
        now = self._clock()
        with self._lock:
            client = self._clients.get(address)
            if client is None or now - client.last > FORGET_AFTER:
                client = self._clients[address] = _Client()
                self._forget_oldest()
            if client.closed_until > now:
                return client.closed_until - now
            if client.checking:
                return 1.0
            client.checking, client.last = True, now
            return 0.0

    def end(self, address: str, succeeded: bool) -> None:
        """The login that :meth:`begin` let through from ``address`` succeeded or failed."""
        now = self._clock()
        with self._lock:
            client = self._clients.setdefault(address, _Client())
            client.checking, client.last = False, now
            if succeeded:
                client.failures, client.closed_until = 0, 0.0
                return
            client.failures += 1
            if client.failures >= FREE_FAILURES:
                client.closed_until = now + min(LONGEST_WAIT, FIRST_WAIT * 2 ** (client.failures - FREE_FAILURES))

    def _forget_oldest(self) -> None:
        if len(self._clients) > MOST_CLIENTS:
            for address, _ in sorted(self._clients.items(), key=lambda item: item[1].last)[:len(self._clients) // 10]:
                del self._clients[address]


def retry_text(seconds: float) -> str:
    seconds = max(1, round(seconds))
    return f"{seconds} second{'s' if seconds != 1 else ''}" if seconds < 120 else f"{round(seconds / 60)} minutes"


class Guard:
    """ASGI middleware in front of the Gradio app: the login limit (when ``limiter`` is given) and,
    when ``read_only``, no uploads and no calls of the ``writes`` (the API names of the events that
    change the store)."""

    def __init__(self, app: Any, limiter: LoginLimiter | None = None, read_only: bool = False,
                 writes: tuple[str, ...] = ()):
        self.app = app
        self.limiter = limiter
        self.read_only = read_only
        self.refused = {prefix + name for prefix in API_ROUTES for name in writes} if read_only else set()

    async def __call__(self, scope: dict, receive: Callable[[], Awaitable[dict]],
                       send: Callable[[dict], Awaitable[None]]) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        path, root = scope["path"], scope.get("root_path") or ""
        if root and path.startswith(root):
            path = path[len(root):]
        path = path.rstrip("/") or "/"
        if self.read_only and path in UPLOAD_ROUTES:
            return await _refuse(send, 403, "this page is read-only: it accepts no files (add articles with "
                                            "`rag ingest` on the server)")
        if path in self.refused:
            return await _refuse(send, 403, "this page is read-only: it neither adds nor removes articles (do that "
                                            "with `rag ingest` on the server)")
        if self.limiter is None or path != LOGIN_ROUTE:
            return await self.app(scope, receive, send)
        address = (scope.get("client") or ("unknown",))[0]
        wait = self.limiter.begin(address)
        if wait:
            return await _refuse(send, 429, f"too many failed logins from this address: try again in "
                                            f"{retry_text(wait)}", retry_after=wait)
        status: list[int] = []

        async def watched(message: dict) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            # Gradio answers a wrong user or password with 400, a right one with 200.
            self.limiter.end(address, succeeded=bool(status) and status[0] < 400)


async def _refuse(send: Callable[[dict], Awaitable[None]], status: int, detail: str,
                  retry_after: float | None = None) -> None:
    body = json.dumps({"detail": detail}).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if retry_after is not None:
        headers.append((b"retry-after", str(max(1, round(retry_after))).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
