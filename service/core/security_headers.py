"""Security headers on every response, as one pure ASGI middleware.

The Content-Security-Policy allows scripts, styles and images from this origin only (and
`data:` images: the layout's empty favicon), no plugins, no framing and no `<base>`. Forms may
post here and end at Stripe's onboarding (the "Connect with Stripe" form redirects there, and
Chromium checks `form-action` on a form's redirects too); the identity provider's origin is
allowed as well, for a sign-in that starts from a button. Pages therefore carry no inline
script, style or event handler: those live in `frontend/static`.

`Cache-Control: no-store` goes on every API answer and on every answer to a signed-in visitor, so
that no browser or proxy cache keeps personal data; anonymous pages and static files keep theirs.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.config import Env, Settings

# Everything a page may need from a browser feature: none of them.
PERMISSIONS = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), encrypted-media=(), "
    "fullscreen=(), geolocation=(), gyroscope=(), hid=(), magnetometer=(), microphone=(), "
    "midi=(), payment=(), publickey-credentials-get=(), screen-wake-lock=(), serial=(), "
    "usb=(), xr-spatial-tracking=()"
)
HSTS = "max-age=31536000; includeSubDomains"
STRIPE_ONBOARDING = "https://connect.stripe.com"
NO_STORE = b"no-store"


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def form_targets(settings: Settings) -> list[str]:
    """Origins besides ours that a form submission may end on, after a redirect."""
    targets: list[str] = []
    if settings.stripe_enabled:
        # A local Stripe stand-in serves its own onboarding page; the real one is on connect.
        fake = _origin(settings.stripe_api_base) if settings.stripe_api_base else None
        targets.append(fake or STRIPE_ONBOARDING)
    if settings.oidc_enabled:
        issuer = _origin(settings.oidc_issuer)
        if issuer:
            targets.append(issuer)
    return [t for i, t in enumerate(targets) if t not in targets[:i]]


def content_security_policy(settings: Settings) -> str:
    form_action = " ".join(["'self'", *form_targets(settings)])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            f"form-action {form_action}",
            "frame-ancestors 'none'",
        ]
    )


def strict_transport(settings: Settings) -> bool:
    return settings.env is Env.production or settings.base_url.startswith("https://")


def header_list(settings: Settings) -> list[tuple[bytes, bytes]]:
    """The headers every response carries, encoded once."""
    headers = [
        ("content-security-policy", content_security_policy(settings)),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "strict-origin-when-cross-origin"),
        ("permissions-policy", PERMISSIONS),
        ("cross-origin-opener-policy", "same-origin"),
    ]
    if strict_transport(settings):
        headers.append(("strict-transport-security", HSTS))
    return [(name.encode(), value.encode()) for name, value in headers]


def private_answer(scope: Scope) -> bool:
    """An API answer, or an answer to a signed-in visitor: never kept by a cache."""
    if scope["path"].startswith("/api/"):
        return True
    actor = scope.get("state", {}).get("actor")
    return bool(getattr(actor, "signed_in", False))


def secure_headers(
    headers: Iterable[tuple[bytes, bytes]], scope: Scope, added: list[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    """The response's headers with ours added. A header the route set itself is kept (a
    download may set a stricter policy), except a cache directive on a private answer."""
    no_store = private_answer(scope)
    out = [
        (name, value)
        for name, value in headers
        if not (no_store and name.lower() == b"cache-control")
    ]
    present = {name.lower() for name, _ in out}
    out.extend((name, value) for name, value in added if name not in present)
    if no_store:
        out.append((b"cache-control", NO_STORE))
    return out


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.headers = header_list(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = secure_headers(message.get("headers", ()), scope, self.headers)
            await send(message)

        await self.app(scope, receive, send_secured)


def secure_error_response(request: Request, response: Response) -> Response:
    """Starlette sends the answer of its 500 handler from outside every middleware: the
    handler passes it through here to carry the same headers."""
    settings: Settings = request.app.state.settings
    secured = secure_headers(response.raw_headers, request.scope, header_list(settings))
    response.raw_headers[:] = secured
    return response
