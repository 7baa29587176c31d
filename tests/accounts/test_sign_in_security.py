"""Sign-up and sign-in against an attacker, through HTTP (ASVS 5.0 V6.2, V6.3, V16.3).

The defects these tests reproduce: a password over 72 characters crashed registration
(500); registering a used address answered 409 (anyone could tell who has an account);
the product's and the organization's names made acceptable passwords; eleven wrong
passwords locked the owner out for 15 minutes, renewable by the attacker.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

from service.accounts.models import Role, User
from service.audit.models import AuditEvent
from tests import factories
from tests.smtp import Mailbox

Worker = Callable[[], Awaitable[None]]
STRONG = "Gx7#pq-velvet-harbor-"


async def register(client: httpx.AsyncClient, **body: str) -> httpx.Response:
    payload = {"email": "ana@example.org", "password": factories.PASSWORD, "name": "Ana"}
    payload.update(body)
    return await client.post("/api/v1/auth/register", json=payload)


class TestASVS_V6_2_9_LongPasswordsArePermitted:
    """ASVS V6.2.9: passwords of at least 64 characters are permitted (and never a 500)."""

    async def test_passwords_up_to_256_characters_register(self, client: httpx.AsyncClient) -> None:
        for length in (73, 100, 256):
            password = (STRONG * 20)[:length]
            response = await register(client, email=f"long{length}@example.org", password=password)
            assert response.status_code == 202, (length, response.text)
            user = await User.get(email=f"long{length}@example.org")
            token = await client.post(
                "/api/v1/auth/token", json={"email": user.email, "password": password}
            )
            assert token.status_code == 200, token.text

    async def test_over_256_is_a_field_error_and_creates_nothing(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await register(client, password=(STRONG * 20)[:257])
        assert response.status_code == 422, response.text
        assert "password" in response.json()["fields"]
        assert await User.all().count() == 0

    async def test_only_the_first_72_characters_are_scored(self, client: httpx.AsyncClient) -> None:
        # Strong characters after 72 weak ones do not make the password acceptable.
        response = await register(client, password="a" * 72 + STRONG)
        assert response.status_code == 422, response.text
        assert "password" in response.json()["fields"]

    async def test_the_register_page_takes_a_long_password(self, client: httpx.AsyncClient) -> None:
        csrf = factories.csrf_of((await client.get("/register")).text)
        response = await client.post(
            "/register",
            data={
                "csrf_token": csrf,
                "name": "Long",
                "email": "long@example.org",
                "password": (STRONG * 10)[:120],
            },
        )
        assert response.status_code == 303, response.text
        assert await User.filter(email="long@example.org").exists()


class TestASVS_V6_3_8_RegistrationDoesNotRevealAccounts:
    """ASVS V6.3.8: valid users cannot be deduced, registration included."""

    async def test_api_answers_the_same_and_mails_the_owner(
        self, client: httpx.AsyncClient, mailbox: Mailbox, worker_burst: Worker
    ) -> None:
        owner = await factories.make_user(email="owner@example.org")
        taken = await register(client, email="Owner@Example.org", name="Mallory")
        new = await register(client, email="newcomer@example.org", name="Mallory")
        assert taken.status_code == new.status_code == 202, (taken.text, new.text)
        assert taken.json() == new.json()
        assert set(taken.headers) == set(new.headers)
        # The existing account did not change; nobody was signed in.
        assert (await User.get(id=owner.id)).name == owner.name
        assert await User.filter(email="owner@example.org").count() == 1
        await worker_burst()
        [alert] = mailbox.to("owner@example.org")
        assert alert["Subject"] == "Someone tried to register with your address"
        assert mailbox.last_link("owner@example.org", "/password-reset")
        assert mailbox.last_link("newcomer@example.org", "/verify-email/")
        assert await AuditEvent.filter(
            action="user.register_existing", object_id=str(owner.id)
        ).exists()

    async def test_owner_is_mailed_once_an_hour_however_often_it_is_tried(
        self, client: httpx.AsyncClient, mailbox: Mailbox, worker_burst: Worker
    ) -> None:
        await factories.make_user(email="owner@example.org")
        for _ in range(3):
            assert (await register(client, email="owner@example.org")).status_code == 202
        await worker_burst()
        assert len(mailbox.to("owner@example.org")) == 1

    async def test_page_answers_the_same(self, client: httpx.AsyncClient) -> None:
        await factories.make_user(email="owner@example.org")

        async def submit(email: str) -> httpx.Response:
            client.cookies.clear()
            csrf = factories.csrf_of((await client.get("/register")).text)
            return await client.post(
                "/register",
                data={"csrf_token": csrf, "name": "Eve", "email": email, "password": STRONG},
            )

        taken = await submit("owner@example.org")
        taken_cookies = set(client.cookies.keys())
        new = await submit("fresh@example.org")
        assert taken.status_code == new.status_code == 303
        assert taken.headers["location"] == new.headers["location"] == "/signin"
        assert taken_cookies == set(client.cookies.keys())
        shown = [(await client.get("/signin")).text for _ in range(1)]
        assert "fresh@example.org" in shown[0]
        assert (await client.get("/account")).status_code == 401


class TestASVS_V6_2_11_ContextSpecificWords:
    """ASVS V6.2.11: the product's and the user's organizations' names make no password."""

    async def test_the_products_name_is_refused_at_registration(
        self, client: httpx.AsyncClient
    ) -> None:
        for weak in ("CivicChallenges2024!", "civic-challenges-2025", "Civic.Civic.Civic.1"):
            response = await register(client, password=weak)
            assert response.status_code == 422, weak
            assert "password" in response.json()["fields"]
        assert await User.all().count() == 0

    async def test_an_organizations_name_is_refused_at_password_reset(
        self, client: httpx.AsyncClient, mailbox: Mailbox, worker_burst: Worker
    ) -> None:
        user = await factories.make_user(email="member@example.org")
        await factories.make_org(name="Agua Limpia Cooperativa", members={user: Role.owner})
        await client.post("/api/v1/auth/password-reset", json={"email": user.email})
        await worker_burst()
        token = mailbox.last_link(user.email, "/password-reset/").rsplit("/", 1)[-1]
        for weak in ("AguaLimpia2024!", "agualimpiacooperativa"):
            refused = await client.post(
                "/api/v1/auth/password-reset/confirm", json={"token": token, "password": weak}
            )
            assert refused.status_code == 422, weak
            assert "password" in refused.json()["fields"]
        done = await client.post(
            "/api/v1/auth/password-reset/confirm", json={"token": token, "password": STRONG}
        )
        assert done.status_code == 200, done.text
