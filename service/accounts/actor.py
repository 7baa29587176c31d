"""Who is acting: resolved once per request from the session cookie or the bearer token."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.cookies import SimpleCookie

from starlette.types import ASGIApp, Receive, Scope, Send

from service.accounts import tokens
from service.accounts.models import Membership, OrganizationKind, Role, User, WebSession

SESSION_COOKIE = "civic_session"


@dataclass
class Actor:
    user: User | None = None
    session: WebSession | None = None
    roles: dict[int, Role] = field(default_factory=dict)
    kinds: dict[int, OrganizationKind] = field(default_factory=dict)
    mfa: bool = False
    via: str = ""
    # Set when the request carried credentials that did not check out.
    auth_error: str = ""

    @property
    def signed_in(self) -> bool:
        return self.user is not None

    @property
    def is_operator(self) -> bool:
        return self.user is not None and self.user.is_operator

    def role_in(self, organization_id: int | None) -> Role | None:
        if organization_id is None:
            return None
        return self.roles.get(organization_id)

    def has_role(self, organization_id: int | None, *roles: Role) -> bool:
        """The organization's owner holds every role of that organization."""
        role = self.role_in(organization_id)
        return role is not None and (role is Role.owner or role in roles)

    def organizations_of_kind(self, *kinds: OrganizationKind) -> list[int]:
        return [org for org, kind in self.kinds.items() if kind in kinds]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _load_roles(actor: Actor) -> None:
    assert actor.user is not None
    # Plain values, not model objects: this runs on every signed-in request.
    rows = await Membership.filter(user_id=actor.user.id).values_list(
        "organization_id", "role", "organization__kind"
    )
    for organization_id, role, kind in rows:
        actor.roles[organization_id] = Role(role)
        actor.kinds[organization_id] = OrganizationKind(kind)


async def from_session_token(token: str) -> Actor:
    session = await WebSession.get_or_none(
        token_hash=hash_token(token), ended_at=None, expires_at__gt=datetime.now(UTC)
    ).select_related("user")
    if session is None:
        return Actor(auth_error="session expired")
    changed = session.user.second_factor_changed_at
    if changed is not None and session.created_at < changed:
        # Opened before two-factor sign-in was turned on, changed or off: such a session was
        # ended then, and must never count again (whatever its row says).
        return Actor(auth_error="session expired")
    actor = Actor(user=session.user, session=session, mfa=session.mfa, via="session")
    await _load_roles(actor)
    return actor


async def from_bearer(secret: str, token: str) -> Actor:
    try:
        claims = tokens.verify(secret, token)
    except tokens.InvalidToken:
        return Actor(auth_error="invalid token")
    user = await User.get_or_none(id=claims.user_id)
    if user is None or user.token_version != claims.version:
        return Actor(auth_error="token revoked")
    actor = Actor(user=user, mfa=claims.mfa, via="token")
    await _load_roles(actor)
    return actor


class ActorMiddleware:
    """Puts an `Actor` on `request.state.actor`.

    The API only accepts bearer tokens and the pages only the session cookie: a cookie never
    authorises an API call, so the API needs no CSRF defence.
    """

    def __init__(self, app: ASGIApp, secret: str) -> None:
        self.app = app
        self.secret = secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        path: str = scope["path"]
        actor = Actor()
        if path.startswith("/api/"):
            authorization = headers.get(b"authorization", b"").decode("latin-1")
            scheme, _, credentials = authorization.partition(" ")
            if scheme.lower() == "bearer" and credentials:
                actor = await from_bearer(self.secret, credentials.strip())
            elif authorization:
                actor = Actor(auth_error="unsupported authorization scheme")
        elif not path.startswith(("/static/", "/healthz", "/readyz", "/metrics")):
            cookies = SimpleCookie(headers.get(b"cookie", b"").decode("latin-1"))
            if SESSION_COOKIE in cookies and cookies[SESSION_COOKIE].value:
                actor = await from_session_token(cookies[SESSION_COOKIE].value)
        scope.setdefault("state", {})["actor"] = actor
        await self.app(scope, receive, send)
