"""Single sign-on for city staff through OpenID Connect (authlib's Starlette client).

Discovery from the issuer URL; authorization code flow with PKCE (S256); authlib keeps
`state` and `nonce` in the signed flow cookie and checks both on the way back. An identity
is linked to an existing account only when the provider says its e-mail is verified.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx2
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.starlette_client import OAuth
from joserfc.errors import JoseError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.accounts import service as accounts
from service.accounts import two_factor
from service.accounts.permissions import guard
from service.config import Settings
from service.core.errors import NotAuthenticated, NotFound, ServiceError
from service.core.forms import redirect
from service.core.i18n import N_, gettext
from service.core.web import context, transaction

log = logging.getLogger(__name__)
PROVIDER = "city"


class ProviderUnavailable(ServiceError):
    """The identity provider did not answer, or answered with a server error."""

    status_code = 502
    default_detail = N_("Single sign-on failed. Try again.")


def build_client(settings: Settings) -> OAuth | None:
    if not settings.oidc_enabled:
        return None
    oauth = OAuth()
    oauth.register(
        PROVIDER,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret or None,
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
    )
    return oauth


def _client(request: Request) -> Any:
    oauth: OAuth | None = request.app.state.oauth
    if oauth is None:
        raise NotFound(gettext("Single sign-on is not configured."))
    return oauth.create_client(PROVIDER)


@guard("public")
async def login(request: Request) -> Response:
    client = _client(request)
    redirect_uri = f"{request.app.state.settings.base_url}/auth/oidc/callback"
    try:
        response: Response = await client.authorize_redirect(request, redirect_uri)
    except httpx2.HTTPError as exc:
        log.warning("oidc: provider unavailable", extra={"error": str(exc)})
        raise ProviderUnavailable(gettext("Single sign-on failed. Try again.")) from exc
    return response


@guard("public")
async def callback(request: Request) -> Response:
    client = _client(request)
    try:
        token = await client.authorize_access_token(request)
    except (OAuthError, JoseError) as exc:
        # OAuthError: the state, or an error the provider answers (a used code...);
        # JoseError: the ID token's signature or claims (nonce, audience, issuer, expiry).
        log.warning("oidc: sign-in refused", extra={"error": exc.error})
        raise NotAuthenticated(gettext("Single sign-on failed. Try again.")) from exc
    except httpx2.HTTPError as exc:
        log.warning("oidc: provider unavailable", extra={"error": str(exc)})
        raise ProviderUnavailable(gettext("Single sign-on failed. Try again.")) from exc
    claims = token.get("userinfo") or {}
    issuer = str(claims.get("iss") or request.app.state.settings.oidc_issuer)
    ctx = context(request)
    async with transaction(request):
        user = await accounts.sign_in_with_oidc(
            ctx,
            issuer=issuer,
            subject=str(claims.get("sub", "")),
            email=str(claims.get("email", "")),
            email_verified=claims.get("email_verified") is True,
            name=str(claims.get("name", "")),
        )
        # The session counts as two-factor only when the ID token's `amr` says the
        # provider checked a second factor; without it, one factor is assumed.
        session_token = await accounts.start_session(
            ctx, user, mfa=two_factor.mfa_from_amr(claims.get("amr")), replacing=ctx.actor.session
        )
    from service.accounts.pages import set_session_cookie

    response = redirect(request, "/")
    set_session_cookie(request, response, session_token)
    return response


routes = [
    Route("/auth/oidc/login", login, methods=["GET"]),
    Route("/auth/oidc/callback", callback, methods=["GET"]),
]
