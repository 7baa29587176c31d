"""Request bodies are read within a limit per route, counted as they arrive.

A `Content-Length` header is a claim, and a chunked body has none: the only honest count is
the bytes the server actually receives. `BodyLimitMiddleware` wraps `receive` for every HTTP
request and raises `PayloadTooLarge` (rendered as a 413 by the one error handler) as soon as
the body passes the limit of the route that reads it, so neither memory nor the temporary
folder (where multipart parts are spooled) ever holds more than that limit.

The limit is looked up when the body is first read, which is after routing: the endpoint is
known then. Every route takes `DEFAULT_BODY_LIMIT` (JSON and plain forms) unless it is marked
with `@accepts_upload(...)`, which raises its limit to the upload size it allows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.core.errors import PayloadTooLarge
from service.core.i18n import gettext

DEFAULT_BODY_LIMIT = 1024 * 1024
# Multipart framing around a file: boundaries, part headers, the CSRF field.
UPLOAD_OVERHEAD = 64 * 1024
# Plain page forms never carry more than a few fields.
FORM_MAX_FIELDS = 1000

F = TypeVar("F", bound=Callable[..., Any])


def accepts_upload(max_bytes: int | None = None) -> Callable[[F], F]:
    """Mark a handler that receives one file: its body may reach `max_bytes` (default: the
    site's upload limit) plus the multipart framing."""

    def mark(handler: F) -> F:
        handler.__upload_limit__ = max_bytes or 0  # type: ignore[attr-defined]
        return handler

    return mark


def upload_limit_of(endpoint: Any) -> int | None:
    """The file size an endpoint accepts (0: the site's limit), or None for no upload."""
    value = getattr(endpoint, "__upload_limit__", None)
    return int(value) if value is not None else None


def body_limit(scope: Scope, site_upload_bytes: int) -> int:
    upload = upload_limit_of(scope.get("endpoint"))
    if upload is None:
        return DEFAULT_BODY_LIMIT
    return (upload or site_upload_bytes) + UPLOAD_OVERHEAD


def _too_large(limit: int) -> PayloadTooLarge:
    megabytes = max(1, limit // (1024 * 1024))
    return PayloadTooLarge(
        gettext("The request is larger than %(size)s MB, the most this address accepts.")
        % {"size": megabytes}
    )


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_upload_bytes: int) -> None:
        self.app = app
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = 0
        limit: int | None = None

        async def counted() -> Message:
            nonlocal received, limit
            if limit is None:
                # First read: routing has set the endpoint by now.
                limit = body_limit(scope, self.max_upload_bytes)
                declared = _declared_length(scope)
                if declared is not None and declared > limit:
                    # Refused before a byte of the body is read.
                    raise _too_large(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(limit)
            return message

        await self.app(scope, counted, send)


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None
