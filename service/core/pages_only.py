"""Run a middleware for pages only: the JSON API, probes and static files skip it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

SKIP_PREFIXES = ("/api/", "/healthz", "/readyz", "/metrics", "/static/")


class PagesOnly:
    def __init__(self, app: ASGIApp, middleware: Callable[..., ASGIApp], **options: Any) -> None:
        self.plain = app
        self.wrapped: ASGIApp = middleware(app, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(SKIP_PREFIXES):
            await self.plain(scope, receive, send)
        else:
            await self.wrapped(scope, receive, send)
