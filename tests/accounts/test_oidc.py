"""Single sign-on end to end, against a real OpenID provider listening on a local port.

The provider (oidc-provider-mock, a Flask app served by werkzeug in a thread) answers
discovery, authorization, token and JWKS requests over real HTTP. The app reaches it on
its own (authlib) for discovery, the code exchange and the signing keys; the test plays
the browser: it follows the redirect to the provider with a plain HTTP client, answers the
provider's authorization form, and brings the redirect back to the app through the ASGI
transport, with the cookie jar that holds the flow cookie (state, nonce, PKCE verifier).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from authlib.deprecate import AuthlibDeprecationWarning
from itsdangerous import TimestampSigner
from starlette.applications import Starlette

from service.accounts.actor import SESSION_COOKIE
from service.accounts.models import OidcIdentity, User, WebSession
from service.app import create_app
from service.config import Settings
from tests import factories

with warnings.catch_warnings():
    # The provider is built on authlib's older `jose` package, which announces its own
    # deprecation when imported; the app itself uses joserfc.
    warnings.filterwarnings(
        "ignore", "authlib.jose module is deprecated", AuthlibDeprecationWarning
    )
    from oidc_provider_mock import run_server_in_thread

# The provider overrides authlib's older `get_jwt_config` hook to sign its ID tokens; authlib
# warns about it on every token it issues (in the provider's thread, under these filters).
pytestmark = pytest.mark.filterwarnings(
    r"ignore:get_jwt_config\(self, grant\) is deprecated:DeprecationWarning"
)

FLOW_COOKIE = "civic_flow"
CLIENT_ID = "civic"
CALLBACK = "http://testserver/auth/oidc/callback"
NOT_CONFIRMED = "Your identity provider did not confirm your e-mail address."
FAILED = "Single sign-on failed. Try again."


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """The issuer URL of a provider that insists on a nonce in every authorization request."""
    with run_server_in_thread(port=0, require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
async def sso_app(settings: Settings, provider: str, app: Starlette) -> AsyncIterator[Starlette]:
    # `app` keeps the shared database connections open for as long as this app lives.
    application = create_app(
        settings.with_overrides(
            oidc_issuer=provider, oidc_client_id=CLIENT_ID, oidc_client_secret="secret"
        )
    )
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def browser(sso_app: Starlette, app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """The user's browser as the app sees it. Requesting `app` empties the tables afterwards."""
    async with _app_client(sso_app) as http:
        yield http


@pytest.fixture
async def idp(provider: str) -> AsyncIterator[httpx.AsyncClient]:
    """The same browser as the provider sees it: real HTTP to the provider's port."""
    async with httpx.AsyncClient(base_url=provider, timeout=10) as http:
        yield http


def _app_client(application: Starlette) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=application)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def provider_user(idp: httpx.AsyncClient, claims: dict[str, Any]) -> str:
    """Create a person at the provider with these claims; returns the subject."""
    subject = f"staff-{uuid.uuid4().hex[:12]}"
    response = await idp.put(f"/users/{subject}", json=claims)
    assert response.status_code == 204, response.text
    return subject


async def start_login(browser: httpx.AsyncClient) -> httpx.URL:
    """Ask the app to sign in; returns the provider's authorization URL it redirects to."""
    response = await browser.get("/auth/oidc/login")
    assert response.status_code == 302, response.text
    assert FLOW_COOKIE in browser.cookies
    return httpx.URL(response.headers["location"])


async def authorize(idp: httpx.AsyncClient, authorize_url: httpx.URL, subject: str) -> httpx.URL:
    """Answer the provider's authorization form as `subject`; returns the redirect back."""
    page = await idp.get(authorize_url)
    assert page.status_code == 200, page.text
    assert 'name="sub"' in page.text
    assert f"You will be redirected to {CALLBACK}" in page.text
    # The form posts to the page's own address, the request's parameters included.
    answer = await idp.post(authorize_url, data={"sub": subject})
    assert answer.status_code == 302, answer.text
    back = httpx.URL(answer.headers["location"])
    assert str(back.copy_with(query=None)) == CALLBACK
    return back


async def sign_in(
    browser: httpx.AsyncClient, idp: httpx.AsyncClient, subject: str
) -> httpx.Response:
    back = await authorize(idp, await start_login(browser), subject)
    return await browser.get(back)


def flow_data(cookie: str, secret: str) -> dict[str, Any]:
    """What the signed flow cookie carries (Starlette's session format)."""
    payload = TimestampSigner(secret).unsign(cookie.encode())
    data: dict[str, Any] = json.loads(base64.b64decode(payload))
    return data


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def error_detail(page: httpx.Response) -> str:
    found = re.search(r'<h1 id="error-title">.*?</h1>\s*<p>(.*?)</p>', page.text, re.S)
    assert found, page.text
    return found.group(1).strip()


async def nothing_signed_in() -> None:
    assert await OidcIdentity.all().count() == 0
    assert await WebSession.all().count() == 0


# --- 1. the authorization code flow -----------------------------------------------------


async def test_authorization_code_flow_creates_and_signs_in_a_verified_user(
    browser: httpx.AsyncClient, idp: httpx.AsyncClient, provider: str, settings: Settings
) -> None:
    subject = await provider_user(
        idp, {"email": "Ana.Staff@City.example", "email_verified": True, "name": "Ana Staff"}
    )

    authorize_url = await start_login(browser)
    assert str(authorize_url).startswith(f"{provider}/oauth2/authorize?")
    query = authorize_url.params
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == CALLBACK
    assert {"openid", "email"} <= set(query["scope"].split())
    assert query["code_challenge_method"] == "S256"
    assert query["state"] and query["nonce"] and query["code_challenge"]
    # The verifier behind the challenge and the nonce stay in the signed flow cookie.
    flow = flow_data(browser.cookies[FLOW_COOKIE], settings.secret_key)
    pending = flow[f"_state_city_{query['state']}"]["data"]
    assert pending["nonce"] == query["nonce"]
    assert s256(pending["code_verifier"]) == query["code_challenge"]
    assert pending["redirect_uri"] == CALLBACK

    back = await authorize(idp, authorize_url, subject)
    assert back.params["state"] == query["state"]
    assert back.params["code"]

    done = await browser.get(back)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/"
    assert SESSION_COOKIE in browser.cookies
    session_cookie = next(
        value
        for value in done.headers.get_list("set-cookie")
        if value.startswith(f"{SESSION_COOKIE}=")
    )
    assert "HttpOnly" in session_cookie
    # The flow is over: its state is gone from the browser.
    assert FLOW_COOKIE not in browser.cookies

    account = await browser.get("/account")
    assert account.status_code == 200, account.text
    assert "ana.staff@city.example" in account.text
    assert "Ana Staff" in account.text

    user = await User.get(email="ana.staff@city.example")
    assert user.name == "Ana Staff"
    assert user.email_verified_at is not None
    assert user.password_hash is None
    identity = await OidcIdentity.get(user_id=user.id)
    assert (identity.issuer, identity.subject) == (provider, subject)
    session = await WebSession.get(user_id=user.id)
    assert session.ended_at is None and session.mfa is False

    # Signing in again finds the same account through the identity.
    again = await sign_in(browser, idp, subject)
    assert again.status_code == 303, again.text
    assert await User.all().count() == 1
    assert await OidcIdentity.all().count() == 1
    assert await WebSession.filter(user_id=user.id, ended_at=None).count() == 1
    assert await WebSession.filter(user_id=user.id).count() == 2


async def test_sign_in_page_offers_single_sign_on_when_configured(
    browser: httpx.AsyncClient,
) -> None:
    page = await browser.get("/signin")
    assert page.status_code == 200
    assert 'href="/auth/oidc/login"' in page.text


# --- 2. linking to an existing account ------------------------------------------------------


async def test_verified_email_links_the_identity_to_the_existing_account(
    browser: httpx.AsyncClient, idp: httpx.AsyncClient, provider: str
) -> None:
    existing = await factories.make_user(email="lena.ortiz@city.example", name="Lena Ortiz")
    subject = await provider_user(
        idp, {"email": "lena.ortiz@city.example", "email_verified": True, "name": "L. Ortiz"}
    )

    done = await sign_in(browser, idp, subject)

    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/"
    assert await User.all().count() == 1
    identity = await OidcIdentity.get(subject=subject).select_related("user")
    assert identity.user.id == existing.id
    assert identity.issuer == provider
    user = await User.get(id=existing.id)
    assert user.name == "Lena Ortiz"
    assert user.password_hash == existing.password_hash
    account = await browser.get("/account")
    assert account.status_code == 200
    assert "lena.ortiz@city.example" in account.text


@pytest.mark.parametrize(
    "claims",
    [
        {"email": "lena.ortiz@city.example", "email_verified": False},
        {"email": "lena.ortiz@city.example"},
    ],
    ids=["email-not-verified", "verification-omitted"],
)
async def test_unconfirmed_email_links_nothing_and_refuses_sign_in(
    browser: httpx.AsyncClient, idp: httpx.AsyncClient, claims: dict[str, Any]
) -> None:
    existing = await factories.make_user(email="lena.ortiz@city.example")
    subject = await provider_user(idp, claims)

    refused = await sign_in(browser, idp, subject)

    assert refused.status_code == 401, refused.text
    assert refused.headers["content-type"].startswith("text/html")
    assert error_detail(refused) == NOT_CONFIRMED
    assert SESSION_COOKIE not in browser.cookies
    await nothing_signed_in()
    assert [user.id for user in await User.all()] == [existing.id]
    assert (await browser.get("/account")).status_code == 401


async def test_unconfirmed_email_of_an_unknown_address_creates_no_account(
    browser: httpx.AsyncClient, idp: httpx.AsyncClient
) -> None:
    subject = await provider_user(idp, {"email": "new.hire@city.example", "email_verified": False})

    refused = await sign_in(browser, idp, subject)

    assert refused.status_code == 401, refused.text
    assert error_detail(refused) == NOT_CONFIRMED
    assert SESSION_COOKIE not in browser.cookies
    await nothing_signed_in()
    assert await User.all().count() == 0


# --- 3. state and code ------------------------------------------------------------------------


async def test_tampered_state_is_refused(
    browser: httpx.AsyncClient, idp: httpx.AsyncClient
) -> None:
    subject = await provider_user(
        idp, {"email": "max.mueller@city.example", "email_verified": True}
    )
    back = await authorize(idp, await start_login(browser), subject)
    tampered = back.copy_set_param("state", back.params["state"][:-2] + "xy")

    refused = await browser.get(tampered)

    assert refused.status_code == 401, refused.text
    assert error_detail(refused) == FAILED
    assert SESSION_COOKIE not in browser.cookies
    await nothing_signed_in()
    assert await User.all().count() == 0
    # Only the state was wrong: the genuine redirect still completes the same flow.
    genuine = await browser.get(back)
    assert genuine.status_code == 303, genuine.text
    assert await User.filter(email="max.mueller@city.example").count() == 1


async def test_redirect_of_another_browsers_flow_is_refused(
    browser: httpx.AsyncClient, idp: httpx.AsyncClient, sso_app: Starlette
) -> None:
    """Login CSRF: a victim handed the attacker's redirect must not end up signed in."""
    subject = await provider_user(idp, {"email": "mallory@city.example", "email_verified": True})
    async with _app_client(sso_app) as attacker:
        back = await authorize(idp, await start_login(attacker), subject)
    await start_login(browser)  # the victim has a flow of their own, with another state

    refused = await browser.get(back)

    assert refused.status_code == 401, refused.text
    assert error_detail(refused) == FAILED
    assert SESSION_COOKIE not in browser.cookies
    await nothing_signed_in()
    assert await User.all().count() == 0


async def test_replayed_redirect_is_refused(
    browser: httpx.AsyncClient, idp: httpx.AsyncClient, sso_app: Starlette
) -> None:
    subject = await provider_user(idp, {"email": "ines.faria@city.example", "email_verified": True})
    back = await authorize(idp, await start_login(browser), subject)
    flow_before = browser.cookies[FLOW_COOKIE]
    done = await browser.get(back)
    assert done.status_code == 303, done.text
    user = await User.get(email="ines.faria@city.example")

    # The same browser: its state was used up by the first visit.
    again = await browser.get(back)
    assert again.status_code == 401, again.text
    assert error_detail(again) == FAILED

    # A copy of the flow cookie from before the callback: the provider refuses the used code.
    async with _app_client(sso_app) as copy:
        copy.cookies.set(FLOW_COOKIE, flow_before)
        replayed = await copy.get(back)
        assert replayed.status_code == 401, replayed.text
        assert error_detail(replayed) == FAILED
        assert SESSION_COOKIE not in copy.cookies

    assert await WebSession.filter(user_id=user.id).count() == 1
    assert await OidcIdentity.all().count() == 1
    assert await User.all().count() == 1


async def _inject_stolen_code(
    browser: httpx.AsyncClient, idp: httpx.AsyncClient, sso_app: Starlette
) -> httpx.URL:
    """The redirect of the browser's own flow, carrying a code issued to another flow.

    A stolen code is bound to its own flow's nonce (and PKCE challenge, which this provider
    does not check): the ID token the app receives for it must not match the browser's flow.
    """
    victim = await provider_user(idp, {"email": "victim@city.example", "email_verified": True})
    async with _app_client(sso_app) as victims_browser:
        stolen = await authorize(idp, await start_login(victims_browser), victim)
    attacker = await provider_user(idp, {"email": "eve@city.example", "email_verified": True})
    own = await authorize(idp, await start_login(browser), attacker)
    return own.copy_set_param("code", stolen.params["code"])


async def test_code_of_another_flow_signs_nobody_in(
    idp: httpx.AsyncClient, sso_app: Starlette, app: Starlette
) -> None:
    transport = httpx.ASGITransport(app=sso_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as browser:
        injected = await _inject_stolen_code(browser, idp, sso_app)
        refused = await browser.get(injected)
        assert refused.status_code >= 400, refused.text
        assert SESSION_COOKIE not in browser.cookies
    await nothing_signed_in()
    assert await User.all().count() == 0


async def test_code_of_another_flow_is_refused_with_an_explanation(
    browser: httpx.AsyncClient, idp: httpx.AsyncClient, sso_app: Starlette
) -> None:
    injected = await _inject_stolen_code(browser, idp, sso_app)

    refused = await browser.get(injected)

    assert refused.status_code == 401, refused.text
    assert error_detail(refused) == FAILED


# --- 4. single sign-on off ---------------------------------------------------------------------


async def test_without_configuration_single_sign_on_answers_404(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    login = await client.get("/auth/oidc/login")
    assert login.status_code == 404
    assert error_detail(login) == "Single sign-on is not configured."
    assert (await client.get("/auth/oidc/callback?code=x&state=y")).status_code == 404
    # Pages may carry an anonymous CSRF token in the flow cookie, but no flow was started.
    cookie = client.cookies.get(FLOW_COOKIE)
    flow = flow_data(cookie, settings.secret_key) if cookie else {}
    assert not [key for key in flow if key.startswith("_state_")]
    assert "/auth/oidc/login" not in (await client.get("/signin")).text


# --- 5. the second factor a provider asserts ----------------------------------------------------


@pytest.mark.parametrize(
    ("amr", "mfa"),
    [
        (None, False),
        (["pwd"], False),
        (["otp"], False),
        (["pwd", "otp"], True),
        (["hwk", "fpt"], True),
        (["mfa"], True),
    ],
)
async def test_sessions_count_as_two_factor_only_when_the_id_token_says_so(
    browser: httpx.AsyncClient, idp: httpx.AsyncClient, amr: list[str] | None, mfa: bool
) -> None:
    """ASVS V6.8.4: the strength of a sign-in at the provider is read from the ID token's
    `amr` (RFC 8176); without it, a single factor is assumed."""
    claims: dict[str, Any] = {"email": f"amr-{uuid.uuid4().hex[:8]}@city.example"}
    claims["email_verified"] = True
    if amr is not None:
        claims["amr"] = amr
    subject = await provider_user(idp, claims)

    done = await sign_in(browser, idp, subject)

    assert done.status_code == 303, done.text
    session = await WebSession.get(ended_at=None)
    assert session.mfa is mfa
