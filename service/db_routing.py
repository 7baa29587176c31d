"""Which database a query reads from, when a read replica is configured (DATABASE_READ_URL).

Public, anonymous GET pages and the open-data API read from the replica; everything else
reads from the primary: signed-in requests, the API with a bearer token, every write, every
query inside a transaction (so `SELECT ... FOR UPDATE` and a read that follows a write in
the same transaction see the primary), the worker and the command line.

A replica lags the primary by a little. So that nobody misses their own change, a request
that may write (any method but GET and HEAD) marks its browser with a short-lived cookie,
and that browser's reads go to the primary until it expires (`read_after_write_seconds`).
The cookie carries no secret: forging it only sends one's own reads to the primary.

The decision is made once per request by `ReadRoutingMiddleware` (pure ASGI) and kept in a
context variable that `ReadReplicaRouter`, a Tortoise database router, consults per query.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from http.cookies import SimpleCookie
from typing import Any

from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.connection import get_connection

from service.config import Settings
from service.core.cookies import SESSION_COOKIE, host_cookie

PRIMARY = "default"
REPLICA = "read"
# The cookie's name; `host_cookie` gives it the `__Host-` prefix over https.
WROTE_COOKIE = "civic_wrote"

_use_replica: ContextVar[bool] = ContextVar("use_read_replica", default=False)

# Public, read-only answers that may come from the replica (the rest of /api/ needs a token
# or takes one optionally; it stays on the primary).
REPLICA_API_PREFIXES = ("/api/v1/opendata/",)
# Never from the replica: health checks must see the primary; static files need no database.
PRIMARY_PREFIXES = ("/static/", "/healthz", "/readyz", "/metrics")


def reading_from_replica() -> bool:
    return _use_replica.get()


@contextmanager
def replica_reads(enabled: bool = True) -> Iterator[None]:
    """Reads in this block go to the replica (outside transactions), as for a public page."""
    token = _use_replica.set(enabled)
    try:
        yield
    finally:
        _use_replica.reset(token)


def _in_transaction() -> bool:
    # Tortoise puts the transaction's client in place of the primary's for the task that
    # opened it: reads there must stay in that transaction.
    return isinstance(get_connection(PRIMARY), TransactionalDBClient)


class ReadReplicaRouter:
    """Tortoise router (`"routers"` in the config): the replica only when the request asked
    for it and no transaction is open; writes always on the primary."""

    def db_for_read(self, model: type[Any]) -> str:
        if _use_replica.get() and not _in_transaction():
            return REPLICA
        return PRIMARY

    def db_for_write(self, model: type[Any]) -> str:
        return PRIMARY


def _cookies(scope: Scope) -> SimpleCookie:
    for name, value in scope["headers"]:
        if name == b"cookie":
            try:
                return SimpleCookie(value.decode("latin-1"))
            except Exception:
                return SimpleCookie()
    return SimpleCookie()


def _has_header(scope: Scope, header: bytes) -> bool:
    return any(name == header for name, _ in scope["headers"])


class ReadRoutingMiddleware:
    """Chooses, per request, whether its reads may come from the replica; marks browsers
    that just wrote so that their next reads come from the primary."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        session_cookie: str,
        wrote_cookie: str,
        window_seconds: int,
        secure: bool,
    ) -> None:
        self.app = app
        self.session_cookie = session_cookie
        self.wrote_cookie = wrote_cookie
        attributes = f"Max-Age={window_seconds}; Path=/; HttpOnly; SameSite=Lax"
        self.mark = f"{wrote_cookie}=1; {attributes}{'; Secure' if secure else ''}".encode()

    def replica_allowed(self, scope: Scope) -> bool:
        path: str = scope["path"]
        if scope["method"] not in ("GET", "HEAD") or path.startswith(PRIMARY_PREFIXES):
            return False
        if path.startswith("/api/"):
            return path.startswith(REPLICA_API_PREFIXES) and not _has_header(
                scope, b"authorization"
            )
        cookies = _cookies(scope)
        signed_in = self.session_cookie in cookies and bool(cookies[self.session_cookie].value)
        return not signed_in and self.wrote_cookie not in cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] in ("GET", "HEAD", "OPTIONS") or scope["path"].startswith("/api/"):
            # API clients read with their token (primary) or anonymously; no cookie for them.
            with replica_reads(self.replica_allowed(scope)):
                await self.app(scope, receive, send)
            return

        async def mark_writer(message: Message) -> None:
            # Every answer to a request that may have written, errors included: a failed
            # form may still have changed something (a counter, a draft).
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"set-cookie", self.mark)]
            await send(message)

        with replica_reads(False):
            await self.app(scope, receive, mark_writer)


def middleware(settings: Settings) -> list[Middleware]:
    """The routing middleware when a replica is configured; none otherwise."""
    if not settings.database_read_url:
        return []
    return [
        Middleware(
            ReadRoutingMiddleware,
            session_cookie=host_cookie(settings, SESSION_COOKIE),
            wrote_cookie=host_cookie(settings, WROTE_COOKIE),
            window_seconds=settings.read_after_write_seconds,
            secure=settings.secure_cookies,
        )
    ]
