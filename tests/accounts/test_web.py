"""The sign-in pages: sessions, CSRF, bad input kept on the form."""

from __future__ import annotations

import httpx

from service.accounts.actor import SESSION_COOKIE
from service.accounts.models import Organization, User, WebSession
from tests import factories


async def test_session_cookie_flags_and_rotation(client: httpx.AsyncClient) -> None:
    user = await factories.make_user()
    page = await client.get("/signin")
    csrf = factories.csrf_of(page.text)
    first = await client.post(
        "/signin", data={"csrf_token": csrf, "email": user.email, "password": factories.PASSWORD}
    )
    assert first.status_code == 303
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    first_value = client.cookies[SESSION_COOKIE]
    csrf = factories.csrf_of((await client.get("/account")).text)
    second = await client.post(
        "/signin", data={"csrf_token": csrf, "email": user.email, "password": factories.PASSWORD}
    )
    assert second.status_code == 303
    assert client.cookies[SESSION_COOKIE] != first_value
    # The session replaced by the new sign-in is over on the server side.
    assert await WebSession.filter(ended_at=None).count() == 1


async def test_sign_out_ends_the_session_on_the_server(client: httpx.AsyncClient) -> None:
    user = await factories.make_user()
    csrf = await factories.web_signin(client, user)
    stolen = client.cookies[SESSION_COOKIE]
    response = await client.post("/signout", data={"csrf_token": csrf})
    assert response.status_code == 303
    client.cookies.set(SESSION_COOKIE, stolen)
    account = await client.get("/account")
    assert account.status_code == 401


async def test_form_without_or_with_another_sessions_csrf_changes_nothing(
    client: httpx.AsyncClient, app: object
) -> None:
    alice = await factories.make_user()
    await factories.web_signin(client, alice)
    form = {"name": "Stealth Org", "kind": "startup", "country": "ES", "region": "Madrid"}
    missing = await client.post("/organizations/new", data=form)
    assert missing.status_code == 403
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        bob_csrf = await factories.web_signin(other, await factories.make_user())
    foreign = await client.post("/organizations/new", data={**form, "csrf_token": bob_csrf})
    assert foreign.status_code == 403
    assert not await Organization.filter(name="Stealth Org").exists()


async def test_anonymous_form_needs_the_csrf_token_of_its_own_visit(
    client: httpx.AsyncClient,
) -> None:
    body = {"name": "Eve", "email": "eve@example.org", "password": factories.PASSWORD}
    assert (await client.post("/register", data=body)).status_code == 403
    assert (
        await client.post("/register", data={**body, "csrf_token": "made-up"})
    ).status_code == 403
    assert not await User.filter(email="eve@example.org").exists()


async def test_register_form_shows_errors_and_keeps_values(client: httpx.AsyncClient) -> None:
    csrf = factories.csrf_of((await client.get("/register")).text)
    response = await client.post(
        "/register",
        data={"csrf_token": csrf, "name": "Carla Díaz", "email": "carla@", "password": "123"},
    )
    assert response.status_code == 422
    html = response.text
    assert 'value="Carla Díaz"' in html and 'value="carla@"' in html
    assert 'aria-invalid="true"' in html
    assert "123" not in html.split('name="password"')[1][:80]
    assert not await User.filter(name="Carla Díaz").exists()


async def test_register_page_then_sign_in_and_wrong_password_shows_error(
    client: httpx.AsyncClient,
) -> None:
    csrf = factories.csrf_of((await client.get("/register")).text)
    created = await client.post(
        "/register",
        data={
            "csrf_token": csrf,
            "name": "Dora",
            "email": "dora@example.org",
            "password": factories.PASSWORD,
        },
    )
    assert created.status_code == 303
    assert created.headers["location"] == "/signin"
    await factories.web_signin(client, await User.get(email="dora@example.org"))
    assert "dora@example.org" in (await client.get("/account")).text
    client.cookies.clear()
    csrf = factories.csrf_of((await client.get("/signin")).text)
    wrong = await client.post(
        "/signin", data={"csrf_token": csrf, "email": "dora@example.org", "password": "nope-nope-1"}
    )
    assert wrong.status_code == 401
    assert 'value="dora@example.org"' in wrong.text


async def test_open_redirect_after_sign_in_is_refused(client: httpx.AsyncClient) -> None:
    user = await factories.make_user()
    csrf = factories.csrf_of((await client.get("/signin")).text)
    response = await client.post(
        "/signin?next=//evil.example/steal",
        data={"csrf_token": csrf, "email": user.email, "password": factories.PASSWORD},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"
