"""ASVS V3.4 (browser security mechanism headers): every answer carries them.

A sample of every kind of answer (a public page, a signed-in page, an API list and an API
error, a static file, 404, 405, 413, 429, 500 and a redirect) is checked for the
Content-Security-Policy (V3.4.3), X-Content-Type-Options (V3.4.4), Referrer-Policy (V3.4.5),
frame-ancestors (V3.4.6), Cross-Origin-Opener-Policy (V3.4.8) and Permissions-Policy; HSTS
(V3.4.1) where the site is served over https; and `Cache-Control: no-store` on what is
personal (V14.3.2: every API answer and every answer to a signed-in visitor).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.app import create_app
from service.config import ROOT, Env, Settings
from service.core.security_headers import content_security_policy, form_targets
from service.opendata.charts import Bar, Series, bar_chart, line_chart
from service.opendata.ecosystem import Edge, Graph, Node, drawing
from tests.factories import PASSWORD, csrf_of, make_user

TEMPLATES = ROOT / "frontend" / "templates"


def assert_secured(response: httpx.Response, *, no_store: bool, hsts: bool = False) -> None:
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    headers = response.headers
    csp = headers.get("content-security-policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    assert directives.get("default-src") == ["'self'"], where
    assert directives.get("object-src") == ["'none'"], where
    assert directives.get("base-uri") == ["'self'"], where
    assert directives.get("frame-ancestors") == ["'none'"], where
    assert directives.get("form-action", [""])[0] == "'self'", where
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, where
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("referrer-policy") == "strict-origin-when-cross-origin", where
    assert headers.get("cross-origin-opener-policy") == "same-origin", where
    permissions = headers.get("permissions-policy", "")
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in permissions, (where, feature)
    assert ("strict-transport-security" in headers) is hsts, where
    if hsts:
        assert "max-age=31536000" in headers["strict-transport-security"], where
    if no_store:
        assert headers.get("cache-control") == "no-store", where
    else:
        assert "no-store" not in headers.get("cache-control", ""), where
    # One of each, whatever the route set itself.
    for name in ("content-security-policy", "x-content-type-options", "cache-control"):
        assert len(headers.get_list(name)) <= 1, (where, name)


class TestSecurityHeadersASVSV3_4:
    async def test_public_page_static_file_and_errors(self, client: httpx.AsyncClient) -> None:
        home = await client.get("/")
        assert home.status_code == 200
        assert_secured(home, no_store=False)

        css = await client.get("/static/site.css")
        assert css.status_code == 200 and "etag" in css.headers
        assert_secured(css, no_store=False)

        missing = await client.get("/no-such-page")
        assert missing.status_code == 404
        assert_secured(missing, no_store=False)

        wrong_method = await client.delete("/")
        assert wrong_method.status_code == 405
        assert_secured(wrong_method, no_store=False)

    async def test_api_answers_are_never_stored(self, client: httpx.AsyncClient) -> None:
        listing = await client.get("/api/v1/challenges")
        assert listing.status_code == 200
        assert_secured(listing, no_store=True)

        unknown = await client.get("/api/v1/challenges/999999999")
        assert unknown.status_code == 404
        assert_secured(unknown, no_store=True)

        too_large = await client.post(
            "/api/v1/auth/token",
            content=b'{"email": "' + b"a" * (2 * 1024 * 1024) + b'"}',
            headers={"Content-Type": "application/json"},
        )
        assert too_large.status_code == 413
        assert_secured(too_large, no_store=True)

    async def test_signed_in_pages_and_the_signin_redirect(self, client: httpx.AsyncClient) -> None:
        user = await make_user()
        csrf = csrf_of((await client.get("/signin")).text)
        signin = await client.post(
            "/signin", data={"csrf_token": csrf, "email": user.email, "password": PASSWORD}
        )
        assert signin.status_code == 303
        assert_secured(signin, no_store=False)

        account = await client.get("/account")
        assert account.status_code == 200
        assert_secured(account, no_store=True)
        # Even a signed-in visitor's 404 is personal (its page names them).
        missing = await client.get("/no-such-page")
        assert_secured(missing, no_store=True)

    async def test_rate_limited_and_server_errors(self, settings: Settings) -> None:
        async def boom(request: Request) -> Response:
            raise RuntimeError("a bug")

        app = create_app(
            settings.with_overrides(rate_signin_per_ip=1),
            extra_routes=[Route("/boom", boom), Route("/api/v1/boom", boom)],
        )
        # Starlette re-raises after answering 500; the client must see the answer.
        async with served(app, raise_app_exceptions=False) as http:
            for path, no_store in (("/boom", False), ("/api/v1/boom", True)):
                failed = await http.get(path)
                assert failed.status_code == 500
                assert_secured(failed, no_store=no_store)
            body = {"email": "nobody@example.org", "password": "wrong-password-1"}
            limited = [await http.post("/api/v1/auth/token", json=body) for _ in range(2)]
            assert [r.status_code for r in limited] == [401, 429]
            assert_secured(limited[1], no_store=True)

    @pytest.mark.parametrize(
        "overrides",
        [{"base_url": "https://civic.example"}, {"env": Env.production, "secret_key": "s" * 40}],
    )
    async def test_https_sites_send_hsts(
        self, settings: Settings, overrides: dict[str, object]
    ) -> None:
        async with served(create_app(settings.with_overrides(**overrides))) as http:
            assert_secured(await http.get("/"), no_store=False, hsts=True)
            assert_secured(await http.get("/static/site.css"), no_store=False, hsts=True)


@asynccontextmanager
async def served(
    app: Starlette, *, raise_app_exceptions: bool = True
) -> AsyncIterator[httpx.AsyncClient]:
    """An app of the test's own, with its lifespan; its rate-limit counters go with it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                yield c
        finally:
            redis = app.state.deps.redis
            prefix = app.state.settings.redis_prefix
            keys = [key async for key in redis.scan_iter(match=f"{prefix}:rl:*")]
            if keys:
                await redis.delete(*keys)


class TestFormTargets:
    def test_stripe_onboarding_and_identity_provider_may_end_a_form(
        self, settings: Settings
    ) -> None:
        assert form_targets(settings) == []
        stripe = settings.with_overrides(stripe_secret_key="sk_test_x")
        assert form_targets(stripe) == ["https://connect.stripe.com"]
        local = stripe.with_overrides(stripe_api_base="http://127.0.0.1:12111/v1")
        assert form_targets(local) == ["http://127.0.0.1:12111"]
        oidc = settings.with_overrides(
            oidc_issuer="https://id.city.example/realms/staff", oidc_client_id="civic"
        )
        assert form_targets(oidc) == ["https://id.city.example"]
        assert "form-action 'self' https://id.city.example;" in content_security_policy(oidc)


# Markup the policy refuses: inline scripts, style attributes and elements, event handlers,
# `javascript:` links.
INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE
)


def test_templates_carry_no_inline_script_or_style() -> None:
    """ASVS V3.4.3: the pages work under a policy without 'unsafe-inline'."""
    found = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        if "email" not in path.relative_to(TEMPLATES).parts
        for match in INLINE.finditer(path.read_text())
    ]
    assert found == []


def test_server_drawn_charts_carry_no_inline_style() -> None:
    """ASVS V3.4.3: the SVG charts put into pages use presentation attributes, not `style`."""
    bars = bar_chart("b", title="t", desc="d", bars=[Bar("a", 3, "3"), Bar("b", 1, "1")])
    lines = line_chart(
        "l",
        title="t",
        desc="d",
        periods=["2026-01", "2026-02"],
        series=[Series("paid", [1, 2])],
        tick=str,
    )
    graph = Graph(
        [Node(1, "City", "city", "North", "ES"), Node(2, "Startup", "startup", "North", "ES")],
        [Edge(1, 2, "award", [1])],
    )
    map_ = drawing(graph, title="t", desc="d", kind_labels={}, edge_labels={})
    for svg in (bars, lines, map_):
        assert "<text" in svg and INLINE.search(svg) is None
