"""Test data, made through the services (fast) or the HTTP API (when the flow is the point)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pyotp

from service import db
from service.accounts.models import Membership, Organization, OrganizationKind, Role, User
from service.accounts.passwords import hash_password

PASSWORD = "a-long-test-passphrase-42"
_counter = itertools.count(1)
_hash: str | None = None


def _password_hash() -> str:
    # argon2 is deliberately slow: hash the shared test password once.
    global _hash
    if _hash is None:
        _hash = hash_password(PASSWORD)
    return _hash


@dataclass
class Person:
    user: User
    token: str = ""
    totp_secret: str = ""
    orgs: dict[str, Organization] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def make_user(
    *,
    email: str = "",
    name: str = "",
    operator: bool = False,
    verified: bool = True,
    totp: bool = False,
) -> User:
    n = next(_counter)
    secret = pyotp.random_base32() if totp else None
    async with db.transaction(None):
        return await User.create(
            email=email or f"user{n}@example.org",
            name=name or f"User {n}",
            password_hash=_password_hash(),
            is_operator=operator,
            email_verified_at=datetime.now(UTC) if verified else None,
            totp_secret=secret,
            totp_enabled_at=datetime.now(UTC) if totp else None,
        )


async def make_org(
    *,
    kind: OrganizationKind = OrganizationKind.startup,
    verified: bool = True,
    name: str = "",
    members: dict[User, Role] | None = None,
) -> Organization:
    n = next(_counter)
    async with db.transaction(None):
        org = await Organization.create(
            name=name or f"{kind.value.title()} {n}",
            kind=kind,
            country="ES",
            region="Madrid",
            verified_at=datetime.now(UTC) if verified else None,
        )
        for user, role in (members or {}).items():
            await Membership.create(user=user, organization=org, role=role)
    return org


async def totp_code(user: User) -> str:
    """A code the app accepts now, as if its next time step had come.

    A code works once: tests that sign the same person in twice within 30 seconds would
    otherwise replay it. Tests of the replay rule itself do not use this.
    """
    assert user.totp_secret
    await User.filter(id=user.id).update(totp_last_step=None)
    return pyotp.TOTP(user.totp_secret).now()


async def token_for(client: httpx.AsyncClient, user: User) -> str:
    body: dict[str, str] = {"email": user.email, "password": PASSWORD}
    if user.totp_secret and user.totp_enabled_at:
        body["totp"] = await totp_code(user)
    response = await client.post("/api/v1/auth/token", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def person(client: httpx.AsyncClient, **options: bool | str) -> Person:
    user = await make_user(**options)  # type: ignore[arg-type]
    return Person(
        user=user, token=await token_for(client, user), totp_secret=user.totp_secret or ""
    )


async def web_signin(client: httpx.AsyncClient, user: User) -> str:
    """Sign in through the form; returns the session's CSRF token for later forms."""
    page = await client.get("/signin")
    csrf = csrf_of(page.text)
    body = {"csrf_token": csrf, "email": user.email, "password": PASSWORD}
    response = await client.post("/signin", data=body)
    assert response.status_code == 303, response.text
    if user.totp_secret and user.totp_enabled_at:
        # With two-factor on, the password leads to a second page that asks only the code.
        code = {"csrf_token": csrf, "code": await totp_code(user)}
        response = await client.post(response.headers["location"], data=code)
        assert response.status_code == 303, response.text
    return csrf_of((await client.get("/account")).text)


def csrf_of(html: str) -> str:
    import re

    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)
