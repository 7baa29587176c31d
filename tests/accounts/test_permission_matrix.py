"""Every registered route, for every kind of user, against objects of their own and others.

The routes are read from the router, so a new route is covered automatically; a route
without a guard, or without expectations here, fails the test. Expectations
are written from PRODUCT.md's rules, independently of service/accounts/permissions.py.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pyotp
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from service import db
from service.accounts import tokens
from service.accounts.actor import SESSION_COOKIE, hash_token
from service.accounts.models import (
    Invitation,
    Organization,
    OrganizationKind,
    Role,
    User,
    WebSession,
)
from service.app import create_app
from service.applications.models import (
    Application,
    ApplicationAttachment,
    ApplicationPartner,
    ApplicationStatus,
    JudgeAssignment,
    JudgeInvitation,
)
from service.challenges.models import Attachment, Challenge, Question
from service.config import Settings
from service.core import manifest
from tests import factories
from tests.accounts.expected_application_pages import APPLICANTS_OF_X, APPLICATION_PAGES
from tests.accounts.expected_opendata import OPENDATA
from tests.accounts.expected_rewards import REWARDS, RewardsWorld, build_rewards_world
from tests.challenges.factories import make_draft_challenge

ACTORS = [
    "anonymous",
    "citizen",
    "other_org_owner",
    "owner",
    "manager",
    "editor",
    "finance",
    "investor",
    "invitee",
    "operator_without_2fa",
    "operator",
    "applicant",
    "judge",
]
GOV_ROLES = {
    "owner": Role.owner,
    "manager": Role.manager,
    "editor": Role.editor,
    "finance": Role.finance,
}

# Who may, for an object belonging to the organization "A" (owner/manager/editor/finance are
# members of A; other_org_owner owns another one). Written from PRODUCT.md, not read from code.
_EXPLICIT = {"expected_application_pages", "expected_opendata", "expected_rewards"}
ANYONE: Callable[[str], bool] = lambda actor: True  # noqa: E731
SIGNED_IN: Callable[[str], bool] = lambda actor: actor != "anonymous"  # noqa: E731
OPERATOR: Callable[[str], bool] = lambda actor: actor == "operator"  # noqa: E731
MEMBERS_OF_A: Callable[[str], bool] = lambda actor: actor in GOV_ROLES  # noqa: E731
OWNER_OF_A: Callable[[str], bool] = lambda actor: actor == "owner"  # noqa: E731
INVITEE: Callable[[str], bool] = lambda actor: actor == "invitee"  # noqa: E731
EDITORS_OF_A: Callable[[str], bool] = lambda actor: actor in ("owner", "manager", "editor")  # noqa: E731
MANAGERS_OF_A: Callable[[str], bool] = lambda actor: actor in ("owner", "manager")  # noqa: E731
APPLICANT: Callable[[str], bool] = lambda actor: actor == "applicant"  # noqa: E731
JUDGE: Callable[[str], bool] = lambda actor: actor == "judge"  # noqa: E731
NOBODY: Callable[[str], bool] = lambda actor: False  # noqa: E731
# The submitted application X of startup S has A as an invited partner: A's members see it.
SEES_APPLICATION: Callable[[str], bool] = lambda actor: (  # noqa: E731
    actor in ("applicant", "judge") or actor in GOV_ROLES
)

PARTNER = "/api/v1/applications/{application_id:int}/partners/{organization_id:int}"
FILE = "/api/v1/applications/{application_id:int}/attachments/{file_id:int}"
JUDGE_INVITATION = "/api/v1/judge-invitations/{judge_invitation_id:int}"
EXPECTED: dict[str, Callable[[str], bool]] = {
    "GET /healthz": ANYONE,
    "GET /readyz": ANYONE,
    "GET /metrics": ANYONE,
    "GET /api/openapi.json": ANYONE,
    "GET /api/docs": ANYONE,
    "GET /": ANYONE,
    # accounts API
    "POST /api/v1/auth/register": ANYONE,
    "POST /api/v1/auth/token": ANYONE,
    "POST /api/v1/auth/revoke": SIGNED_IN,
    "POST /api/v1/auth/verify-email": ANYONE,
    "POST /api/v1/auth/password-reset": ANYONE,
    "POST /api/v1/auth/password-reset/confirm": ANYONE,
    "GET /api/v1/me": SIGNED_IN,
    "PATCH /api/v1/me": SIGNED_IN,
    "POST /api/v1/me/totp": SIGNED_IN,
    "POST /api/v1/me/totp/confirm": SIGNED_IN,
    "POST /api/v1/me/totp/disable": SIGNED_IN,
    "POST /api/v1/me/recovery-codes": SIGNED_IN,
    "GET /api/v1/me/invitations": SIGNED_IN,
    "GET /api/v1/me/notifications": SIGNED_IN,
    "POST /api/v1/me/notifications/read": SIGNED_IN,
    "POST /api/v1/organizations": SIGNED_IN,
    "GET /api/v1/organizations/{organization_id:int}": ANYONE,
    "PATCH /api/v1/organizations/{organization_id:int}": OWNER_OF_A,
    "GET /api/v1/organizations/{organization_id:int}/members": MEMBERS_OF_A,
    "POST /api/v1/organizations/{organization_id:int}/members": OWNER_OF_A,
    "POST /api/v1/organizations/{organization_id:int}/verify": OPERATOR,
    "POST /api/v1/invitations/{invitation_id:int}/accept": INVITEE,
    "POST /api/v1/invitations/{invitation_id:int}/decline": INVITEE,
    "POST /api/v1/users/{user_id:int}/operator": OPERATOR,
    "GET /api/v1/audit": OPERATOR,
    # accounts pages
    "GET /register": ANYONE,
    "POST /register": ANYONE,
    "GET /signin": ANYONE,
    "POST /signin": ANYONE,
    "POST /signout": SIGNED_IN,
    "GET /verify-email/{token}": ANYONE,
    "POST /verify-email/{token}": ANYONE,
    "POST /account/verify-email": SIGNED_IN,
    "GET /password-reset": ANYONE,
    "POST /password-reset": ANYONE,
    "GET /password-reset/{token}": ANYONE,
    "POST /password-reset/{token}": ANYONE,
    "GET /account": SIGNED_IN,
    "POST /account/time-zone": SIGNED_IN,
    "POST /account/totp": SIGNED_IN,
    "POST /account/totp/confirm": SIGNED_IN,
    "POST /account/totp/disable": SIGNED_IN,
    "POST /account/recovery-codes": SIGNED_IN,
    "POST /account/revoke-tokens": SIGNED_IN,
    "GET /organizations/new": SIGNED_IN,
    "POST /organizations/new": SIGNED_IN,
    "GET /organizations/{organization_id:int}": ANYONE,
    "POST /organizations/{organization_id:int}/invitations": OWNER_OF_A,
    "POST /organizations/{organization_id:int}/time-zone": OWNER_OF_A,
    "GET /invitations": SIGNED_IN,
    "POST /invitations/{invitation_id:int}/accept": INVITEE,
    "POST /invitations/{invitation_id:int}/decline": INVITEE,
    "GET /notifications": SIGNED_IN,
    "POST /notifications/read": SIGNED_IN,
    "GET /admin/audit": OPERATOR,
    "GET /admin/organizations": OPERATOR,
    "POST /admin/organizations/{organization_id:int}/verify": OPERATOR,
    "GET /auth/oidc/login": ANYONE,
    "GET /auth/oidc/callback": ANYONE,
    # challenges API; {challenge_id} is a draft of A (the strictest case)
    "POST /api/v1/challenges": EDITORS_OF_A,
    "GET /api/v1/challenges": ANYONE,
    "GET /api/v1/challenges/{challenge_id:int}": MEMBERS_OF_A,
    "PATCH /api/v1/challenges/{challenge_id:int}": EDITORS_OF_A,
    "POST /api/v1/challenges/{challenge_id:int}/publish": MANAGERS_OF_A,
    "POST /api/v1/challenges/{challenge_id:int}/cancel": MANAGERS_OF_A,
    "GET /api/v1/challenges/{challenge_id:int}/questions": MEMBERS_OF_A,
    "POST /api/v1/challenges/{challenge_id:int}/questions": MEMBERS_OF_A,
    "POST /api/v1/questions/{question_id:int}/answer": EDITORS_OF_A,
    "POST /api/v1/challenges/{challenge_id:int}/follow": MEMBERS_OF_A,
    "DELETE /api/v1/challenges/{challenge_id:int}/follow": MEMBERS_OF_A,
    # challenge pages
    "GET /challenges": ANYONE,
    "GET /challenges/new": SIGNED_IN,
    "POST /challenges/new": SIGNED_IN,
    "GET /challenges/feed.atom": ANYONE,
    "GET /challenges/deadlines.ics": ANYONE,
    "GET /challenges/{challenge_id:int}": MEMBERS_OF_A,
    "GET /challenges/{challenge_id:int}/edit": EDITORS_OF_A,
    "POST /challenges/{challenge_id:int}/edit": EDITORS_OF_A,
    "POST /challenges/{challenge_id:int}/publish": MANAGERS_OF_A,
    "POST /challenges/{challenge_id:int}/cancel": MANAGERS_OF_A,
    "POST /challenges/{challenge_id:int}/questions": MEMBERS_OF_A,
    "POST /challenges/{challenge_id:int}/follow": MEMBERS_OF_A,
    "POST /challenges/{challenge_id:int}/attachments": EDITORS_OF_A,
    "GET /challenges/{challenge_id:int}/attachments/{attachment_id:int}": MEMBERS_OF_A,
    "POST /questions/{question_id:int}/answer": EDITORS_OF_A,
    # applications, judging, awards ({application_id} is X: submitted, by S, A a partner)
    "POST /api/v1/challenges/{challenge_id:int}/applications": APPLICANT,
    "GET /api/v1/applications/{application_id:int}": SEES_APPLICATION,
    "PATCH /api/v1/applications/{application_id:int}": APPLICANT,
    "POST /api/v1/applications/{application_id:int}/submit": APPLICANT,
    "POST /api/v1/applications/{application_id:int}/withdraw": APPLICANT,
    f"POST {PARTNER}/accept": MEMBERS_OF_A,
    f"POST {PARTNER}/decline": MEMBERS_OF_A,
    "POST /api/v1/applications/{application_id:int}/attachments": APPLICANTS_OF_X,
    f"GET {FILE}": SEES_APPLICATION,
    f"DELETE {FILE}": APPLICANTS_OF_X,
    "POST /api/v1/challenges/{challenge_id:int}/judges": MANAGERS_OF_A,
    "GET /api/v1/me/judge-invitations": SIGNED_IN,
    f"POST {JUDGE_INVITATION}/accept": INVITEE,
    f"POST {JUDGE_INVITATION}/decline": INVITEE,
    f"POST {JUDGE_INVITATION}/revoke": MANAGERS_OF_A,
    "GET /api/v1/challenges/{challenge_id:int}/judging": JUDGE,
    "POST /api/v1/applications/{application_id:int}/reviews": JUDGE,
    "GET /api/v1/challenges/{challenge_id:int}/ranking": EDITORS_OF_A,
    "POST /api/v1/challenges/{challenge_id:int}/awards": MANAGERS_OF_A,
    "POST /api/v1/challenges/{challenge_id:int}/awards/close": MANAGERS_OF_A,
    "GET /api/v1/applications/{application_id:int}/feedback": NOBODY,
}
EXPECTED.update(APPLICATION_PAGES)
EXPECTED.update(REWARDS)
EXPECTED.update(OPENDATA)
# Routes whose body names the organization acting: S instead of A.
BODY_ORG_S = {"POST /api/v1/challenges/{challenge_id:int}/applications"}
# Allowed through the guard, then refused by the object's state (a draft challenge): 404.
STATE_404 = {"POST /api/v1/challenges/{challenge_id:int}/applications"}
# Areas added later describe themselves in a module `tests/accounts/expected_<area>.py` holding
# EXPECTED (route -> who), optionally BODY_ORG_S and STATE_404 (sets of routes) and
# `async def path_values(world, settings) -> dict[str, str]` creating the area's objects.
AREA_MODULES = [
    importlib.import_module(f"tests.accounts.{info.name}")
    for info in pkgutil.iter_modules([str(Path(__file__).parent)])
    if info.name.startswith("expected_") and info.name not in _EXPLICIT
]
for _area in AREA_MODULES:
    EXPECTED.update(_area.EXPECTED)
    BODY_ORG_S |= getattr(_area, "BODY_ORG_S", set())
    STATE_404 |= getattr(_area, "STATE_404", set())


def _routes() -> list[tuple[str, str, Route]]:
    app = create_app(Settings())
    found = []
    for route in app.routes:
        if isinstance(route, Route):
            for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
                found.append((method, route.path, route))
    return found


ROUTES = _routes()


@dataclass
class World:
    org: Organization
    users: dict[str, User]
    invitation: Invitation
    challenge: Challenge
    question: Question
    attachment: Attachment
    startup: Organization
    application: Application
    file: ApplicationAttachment
    judge_invitation: JudgeInvitation
    rewards: RewardsWorld | None = None
    # Path values of the areas in AREA_MODULES.
    extra: dict[str, str] = field(default_factory=dict)


async def build_world(settings: Settings) -> World:
    users = {name: await factories.make_user(name=name) for name in ACTORS if name != "anonymous"}
    async with db.transaction(None):
        for name in ("operator_without_2fa", "operator"):
            users[name].is_operator = True
            await users[name].save()
    org = await factories.make_org(
        kind=OrganizationKind.government,
        name="City A",
        members={users[name]: role for name, role in GOV_ROLES.items()},
    )
    await factories.make_org(
        kind=OrganizationKind.government,
        name="City B",
        members={users["other_org_owner"]: Role.owner},
    )
    await factories.make_org(
        kind=OrganizationKind.investor, name="Fund", members={users["investor"]: Role.owner}
    )
    async with db.transaction(None):
        invitation = await Invitation.create(
            organization=org,
            email=users["invitee"].email,
            role=Role.editor,
            invited_by=users["owner"],
        )
        challenge = await make_draft_challenge(org)
        question = await Question.create(
            challenge=challenge, author=users["owner"], text="Is the budget fixed?"
        )
        stored = f"{secrets.token_hex(8)}.txt"
        settings.storage_dir.mkdir(parents=True, exist_ok=True)
        (settings.storage_dir / stored).write_text("terms of reference")
        attachment = await Attachment.create(
            challenge=challenge,
            original_name="terms.txt",
            stored_name=stored,
            content_type="text/plain",
            size=18,
            sha256="0" * 64,
            uploaded_by_id=users["owner"].id,
        )
    startup = await factories.make_org(
        kind=OrganizationKind.startup, name="Startup S", members={users["applicant"]: Role.owner}
    )
    async with db.transaction(None):
        application = await Application.create(
            challenge=challenge,
            organization=startup,
            title="Route planner",
            summary="Plan bus routes around traffic.",
            status=ApplicationStatus.submitted,
            lead_share_pct=100,
        )
        await ApplicationPartner.create(
            application=application, organization=org, role="pilot site", share_pct=0
        )
        await JudgeAssignment.create(challenge=challenge, user=users["judge"])
        stored = f"{secrets.token_hex(8)}.txt"
        (settings.storage_dir / stored).write_text("budget details")
        file = await ApplicationAttachment.create(
            application=application,
            original_name="budget.txt",
            stored_name=stored,
            content_type="text/plain",
            size=14,
            sha256="0" * 64,
            uploaded_by_id=users["applicant"].id,
        )
        judge_invitation = await JudgeInvitation.create(
            challenge=challenge, email=users["invitee"].email, invited_by_id=users["manager"].id
        )
    world = World(
        org=org,
        users=users,
        invitation=invitation,
        challenge=challenge,
        question=question,
        attachment=attachment,
        startup=startup,
        application=application,
        file=file,
        judge_invitation=judge_invitation,
    )
    world.rewards = await build_rewards_world(world, settings)
    for area in AREA_MODULES:
        if hasattr(area, "path_values"):
            world.extra.update(await area.path_values(world, settings))
    return world


def fill_path(path: str, world: World, actor: str) -> str:
    values = {
        "organization_id": str(world.org.id),
        "invitation_id": str(world.invitation.id),
        # user.self routes act on the citizen; operator routes on the citizen too.
        "user_id": str(world.users["citizen"].id),
        "token": "not-a-real-token",
        "challenge_id": str(world.challenge.id),
        "question_id": str(world.question.id),
        "attachment_id": str(world.attachment.id),
        "application_id": str(world.application.id),
        "file_id": str(world.file.id),
        "judge_invitation_id": str(world.judge_invitation.id),
    }
    if world.rewards is not None:
        values.update(world.rewards.path_values())
    values.update(world.extra)
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values[m.group(1)], path)


async def credentials(
    client: httpx.AsyncClient, settings: Settings, world: World, actor: str, *, api: bool
) -> tuple[dict[str, str], str]:
    """Headers for the API or a session cookie (set on the client) plus its CSRF token."""
    if actor == "anonymous":
        if api:
            return {}, ""
        page = await client.get("/signin")
        return {}, factories.csrf_of(page.text)
    user = world.users[actor]
    mfa = actor == "operator"
    if api:
        token = tokens.issue(
            settings.secret_key, user_id=user.id, version=user.token_version, mfa=mfa
        )
        return {"Authorization": f"Bearer {token}"}, ""
    raw, csrf = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    async with db.transaction(None):
        await WebSession.create(
            user=user,
            token_hash=hash_token(raw),
            csrf_token=csrf,
            mfa=mfa,
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        )
    client.cookies.set(SESSION_COOKIE, raw)
    return {}, csrf


def test_every_route_has_a_guard() -> None:
    unguarded = [f"{m} {p}" for m, p, r in ROUTES if not hasattr(r.endpoint, "__permission__")]
    assert unguarded == [], f"routes without a permission: {unguarded}"


def _routes_by_area() -> dict[str, set[str]]:
    """Each area's routes, read from the route modules its manifest lists (as the app does)."""
    by_area: dict[str, set[str]] = {}
    for area in manifest.areas():
        found = by_area.setdefault(area.name, set())
        for module in area.routes:
            for route in importlib.import_module(module).routes:
                if isinstance(route, Route):
                    for method in (route.methods or {"GET"}) - {"HEAD"}:
                        found.add(f"{method} {route.path}")
    return by_area


def test_every_route_has_expectations() -> None:
    by_area = _routes_by_area()
    routes = {f"{m} {p}" for m, p, _ in ROUTES if not p.startswith("/static")}
    # The app serves exactly the routes the manifests list.
    assert routes == set().union(*by_area.values())
    missing = {
        area: sorted(found - set(EXPECTED))
        for area, found in by_area.items()
        if found - set(EXPECTED)
    }
    assert missing == {}, (
        "routes without an expectation, by the area whose manifest lists them (add them to "
        f"tests/accounts/expected_<area>.py): {missing}"
    )
    assert set(EXPECTED) - routes == set(), "EXPECTED names routes that no longer exist"


@pytest.mark.parametrize(
    ("method", "path", "route"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES]
)
async def test_route_allows_exactly_the_expected_actors(
    app: Starlette, settings: Settings, method: str, path: str, route: Route
) -> None:
    if path.startswith("/static"):
        return
    may = EXPECTED[f"{method} {path}"]
    world = await build_world(settings)
    api = path.startswith("/api/")
    outcomes = {}
    for actor in ACTORS:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            headers, csrf = await credentials(client, settings, world, actor, api=api)
            url = fill_path(path, world, actor)
            if method == "GET":
                response = await client.get(url, headers=headers)
            elif api:
                acting = world.startup if f"{method} {path}" in BODY_ORG_S else world.org
                body = {"organization_id": acting.id}
                response = await client.request(method, url, json=body, headers=headers)
            else:
                form = {"csrf_token": csrf, "organization_id": str(world.org.id)}
                response = await client.request(method, url, data=form, headers=headers)
        outcomes[actor] = response.status_code
        allowed = may(actor)
        if allowed:
            assert response.status_code not in (401, 403), (actor, response.text[:300])
            if f"{method} {path}" not in STATE_404:
                assert response.status_code != 404 or "{" not in path, (actor, response.text[:300])
        elif actor == "anonymous":
            # An object that is not public is hidden from the anonymous, not just refused.
            refused = (401, 404) if "{" in path else (401,)
            assert response.status_code in refused, (actor, response.status_code)
        else:
            assert response.status_code in (403, 404), (
                actor,
                response.status_code,
                response.text[:200],
            )
    # Whoever is refused an organization's object without being part of it sees a 404.
    if "{" in path and may in (MEMBERS_OF_A, OWNER_OF_A, EDITORS_OF_A, MANAGERS_OF_A):
        assert outcomes["other_org_owner"] == 404
        assert outcomes["citizen"] == 404


async def _turn_on_two_factor(app: Starlette, settings: Settings, world: World, actor: str) -> None:
    """From a fresh sign-in of its own, the actor turns two-factor on through the pages."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        _, csrf = await credentials(client, settings, world, actor, api=False)
        started = await client.post("/account/totp", data={"csrf_token": csrf})
        assert started.status_code == 200, started.text[:300]
        user = await User.get(id=world.users[actor].id)
        assert user.totp_pending_secret
        code = pyotp.TOTP(user.totp_pending_secret).now()
        done = await client.post("/account/totp/confirm", data={"csrf_token": csrf, "code": code})
        assert done.status_code == 200, done.text[:300]


async def test_sessions_older_than_the_last_two_factor_change_are_refused(
    app: Starlette, settings: Settings
) -> None:
    """ASVS V7.4.3 and V7.5.1: every state-changing route, called by someone allowed to, from a
    session (or with a token) that existed when two-factor sign-in was turned on, and without
    signing in again, is refused; even if the session's row were left open."""
    world = await build_world(settings)
    # Public routes (sign-in, the Stripe webhook with its own signature...) use no session.
    changing = [
        (method, path)
        for method, path, route in ROUTES
        if method != "GET"
        and not path.startswith("/static")
        and getattr(route.endpoint, "__permission__", "public") != "public"
    ]
    # For each route, the first actor the table allows (routes nobody may call are left out,
    # and so are routes still missing from the table: the test above names them).
    chosen = {
        (method, path): next(
            (a for a in ACTORS if a != "anonymous" and EXPECTED.get(f"{method} {path}", NOBODY)(a)),
            None,
        )
        for method, path in changing
    }
    actors = sorted({actor for actor in chosen.values() if actor is not None})
    old: dict[tuple[str, bool], tuple[dict[str, str], str, str]] = {}
    for actor in actors:
        for api in (False, True):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                headers, csrf = await credentials(client, settings, world, actor, api=api)
                old[(actor, api)] = (headers, csrf, client.cookies.get(SESSION_COOKIE) or "")
    for actor in actors:
        await _turn_on_two_factor(app, settings, world, actor)
    # The rule, not only the row: reopen the sessions that turning two-factor on ended.
    old_hashes = [hash_token(cookie) for _, _, cookie in old.values() if cookie]
    await WebSession.filter(token_hash__in=old_hashes).update(ended_at=None)
    accepted = []
    for (method, path), actor in chosen.items():
        if actor is None:
            continue
        api = path.startswith("/api/")
        headers, csrf, cookie = old[(actor, api)]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            if cookie:
                client.cookies.set(SESSION_COOKIE, cookie)
            url = fill_path(path, world, actor)
            if api:
                acting = world.startup if f"{method} {path}" in BODY_ORG_S else world.org
                body = {"organization_id": acting.id}
                response = await client.request(method, url, json=body, headers=headers)
            else:
                form = {"csrf_token": csrf, "organization_id": str(world.org.id)}
                response = await client.request(method, url, data=form, headers=headers)
        refused = {401, 403}
        if "{" in path and f"{method} {path}" not in STATE_404:
            # An object not public yet is hidden from whoever is not signed in (see above).
            refused.add(404)
        if response.status_code not in refused:
            accepted.append((f"{method} {path}", actor, response.status_code))
    assert accepted == [], accepted
