"""Who is acting: resolved once per request from the session cookie or the bearer token."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie

from starlette.types import ASGIApp, Receive, Scope, Send

from service.accounts import tokens
from service.accounts.models import (
    ApiToken,
    Membership,
    OrganizationKind,
    Role,
    User,
    WebSession,
)
from service.config import Settings

SESSION_COOKIE = "civic_session"
# A session unused this long ends (ASVS 7.3.1): short for those who can move money or
# administer the platform, a week for everybody else. The 14-day limit holds for all.
IDLE_STRICT = timedelta(hours=2)
IDLE_DEFAULT = timedelta(days=7)
# `last_seen_at` is written at most this often, so that browsing does not write every request.
SEEN_EVERY = timedelta(minutes=1)


def host_cookie(settings: Settings, name: str) -> str:
    """Over https, `__Host-name`: the browser then demands Secure, path=/ and no Domain, so
    neither a plain-http page nor a sibling subdomain can set or overwrite the cookie."""
    return f"__Host-{name}" if settings.secure_cookies else name


@dataclass
class Actor:
    user: User | None = None
    session: WebSession | None = None
    roles: dict[int, Role] = field(default_factory=dict)
    kinds: dict[int, OrganizationKind] = field(default_factory=dict)
    mfa: bool = False
    via: str = ""
    # The zone of the first organization joined: the user's zone until they choose one.
    organization_zone: str = ""
    # Set when the request carried credentials that did not check out.
    auth_error: str = ""
    # What the person does outside their memberships ("judge"), loaded for pages only.
    duties: frozenset[str] = frozenset()

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

    @property
    def idle_limit(self) -> timedelta:
        """Operators and whoever holds `finance` anywhere (a city's owner holds every role)."""
        strict = self.is_operator or any(
            role is Role.finance
            or (role is Role.owner and self.kinds.get(org) is OrganizationKind.government)
            for org, role in self.roles.items()
        )
        return IDLE_STRICT if strict else IDLE_DEFAULT


# Areas that give people duties outside memberships (judging a challenge) register a loader:
# it takes the user's id and answers the duties it finds, in one query.
DutyLoader = Callable[[int], Awaitable[set[str]]]
DUTY_LOADERS: list[DutyLoader] = []


def register_duties(loader: DutyLoader) -> None:
    if loader not in DUTY_LOADERS:
        DUTY_LOADERS.append(loader)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _load_roles(actor: Actor) -> None:
    assert actor.user is not None
    # Plain values, not model objects: this runs on every signed-in request.
    rows = await (
        Membership.filter(user_id=actor.user.id)
        .order_by("id")
        .values_list("organization_id", "role", "organization__kind", "organization__time_zone")
    )
    for organization_id, role, kind, zone in rows:
        actor.roles[organization_id] = Role(role)
        actor.kinds[organization_id] = OrganizationKind(kind)
        actor.organization_zone = actor.organization_zone or zone


async def from_session_token(token: str) -> Actor:
    actor = await _session_actor(token)
    if actor.session is None:
        return actor
    session = actor.session
    now = datetime.now(UTC)
    seen = session.last_seen_at or session.created_at
    if now - seen > actor.idle_limit:
        # Ended for good (and audited), not only refused: the list of sessions must agree.
        ended = await WebSession.filter(id=session.id, ended_at=None).update(ended_at=now)
        if ended:
            from service.audit.models import AuditEvent

            assert actor.user is not None
            await AuditEvent.create(
                actor_id=actor.user.id,
                actor_email=actor.user.email,
                action="user.session_end",
                object_type="session",
                object_id=str(session.id),
                ip=session.ip,
                details={"reason": "idle", "idle_limit_seconds": actor.idle_limit.total_seconds()},
            )
        return Actor(auth_error="session expired")
    if now - seen >= SEEN_EVERY:
        await WebSession.filter(id=session.id).update(last_seen_at=now)
        session.last_seen_at = now
    return actor


async def _session_actor(token: str) -> Actor:
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
    # Pages show a menu of what the person can do: judging is not a membership.
    duties: set[str] = set()
    for loader in DUTY_LOADERS:
        duties |= await loader(session.user.id)
    actor.duties = frozenset(duties)
    return actor


async def from_bearer(secret: str, token: str) -> Actor:
    try:
        claims = tokens.verify(secret, token)
    except tokens.InvalidToken:
        return Actor(auth_error="invalid token")
    row = None
    if claims.jti:
        row = await ApiToken.get_or_none(jti=claims.jti).select_related("user")
    if row is not None:
        # Issued at sign-in: revocable one by one from the account page.
        if row.revoked_at is not None or row.user_id != claims.user_id:
            return Actor(auth_error="token revoked")
        user: User | None = row.user
        now = datetime.now(UTC)
        if row.last_seen_at is None or now - row.last_seen_at >= SEEN_EVERY:
            await ApiToken.filter(id=row.id).update(last_seen_at=now)
    else:
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

    def __init__(self, app: ASGIApp, secret: str, settings: Settings | None = None) -> None:
        self.app = app
        self.secret = secret
        self.session_cookie = host_cookie(settings, SESSION_COOKIE) if settings else SESSION_COOKIE

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
            name = self.session_cookie
            if name in cookies and cookies[name].value:
                actor = await from_session_token(cookies[name].value)
        scope.setdefault("state", {})["actor"] = actor
        await self.app(scope, receive, send)
