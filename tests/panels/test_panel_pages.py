"""The citizens' panel pages a city uses instead of the API: a city manager opens a panel from
a form (the same schema, checks and stored quotas as the API), errors keep what was typed and
open nothing, only the city's managers see and use the form; the panel's staff page through
the pool of volunteers, filtered by status, and nobody else sees it.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.applications import Starlette

from service import db
from service.accounts.models import Organization, User
from service.panels.models import Panel, Volunteer, VolunteerStatus
from tests import factories
from tests.challenges.test_applications import open_challenge
from tests.panels.test_panels import panel_body


@asynccontextmanager
async def browser(app: Starlette, user: User | None = None) -> AsyncIterator[BrowserSession]:
    """A client of its own, signed in through the form when a user is given."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        csrf = await factories.web_signin(client, user) if user is not None else ""
        yield BrowserSession(client, csrf)


class BrowserSession:
    def __init__(self, client: httpx.AsyncClient, csrf: str) -> None:
        self.client = client
        self.csrf = csrf

    async def get(self, url: str) -> httpx.Response:
        return await self.client.get(url)

    async def post(self, url: str, form: dict[str, str]) -> httpx.Response:
        return await self.client.post(url, data={"csrf_token": self.csrf, **form})


def text_of(response: httpx.Response) -> str:
    return html.unescape(response.text)


def panel_form(**changes: str) -> dict[str, str]:
    """The form as a city fills it: census shares, seats, and both on one line."""
    form = {
        "size": "10",
        "recruitment_opens_at": "2027-03-01T09:00",
        "recruitment_closes_at": "2027-03-29T18:00",
        "stipend": "150.50",
        "score_share_pct": "25",
        "feature_name_0": "age",
        "feature_values_0": "16-39: 45%\n\n40+: 55%, 6-6\n",
        "feature_name_1": "gender",
        "feature_values_1": "woman: 4-6\nman: 4-6",
        "feature_name_2": "",
        "feature_values_2": "",
        "feature_name_3": "",
        "feature_values_3": "",
    }
    form.update(changes)
    return form


# What the API is sent for the same panel.
SAME_FEATURES: list[dict[str, Any]] = [
    {
        "name": "age",
        "values": [
            {"value": "16-39", "census_pct": 45},
            {"value": "40+", "census_pct": 55, "min": 6, "max": 6},
        ],
    },
    {
        "name": "gender",
        "values": [{"value": "woman", "min": 4, "max": 6}, {"value": "man", "min": 4, "max": 6}],
    },
]
OPEN_LINK = "Open a citizens' panel"


class TestOpenPanelPage:
    async def test_a_manager_opens_the_panel_the_api_would_open(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id = await open_challenge(client)
        other_city, other_id = await open_challenge(client)
        async with db.transaction(None):
            await Organization.filter(id=city.org.id).update(time_zone="America/Santiago")
        challenge_url = f"/challenges/{challenge_id}"

        # Visitors and the city's editors see nothing new; its managers see the way in.
        async with browser(app) as visitor:
            page = await visitor.get(challenge_url)
            assert page.status_code == 200 and OPEN_LINK not in text_of(page)
        async with browser(app, city.editor.user) as editor:
            assert OPEN_LINK not in text_of(await editor.get(challenge_url))
        async with browser(app, city.manager.user) as manager:
            page = await manager.get(challenge_url)
            assert OPEN_LINK in text_of(page) and f"{challenge_url}/panel/new" in page.text

            # The form comes filled with an example of each way of writing quotas.
            form = await manager.get(f"{challenge_url}/panel/new")
            assert form.status_code == 200, form.text
            shown = text_of(form)
            assert "age_band" in shown and "16-29: 22%" in shown and "65+: 20%, 4-6" in shown
            assert "district" in shown and "6-10" in shown
            assert 'for="f-feature_values_3"' in form.text and 'for="f-stipend"' in form.text

            opened = await manager.post(f"{challenge_url}/panel", panel_form())
            assert opened.status_code == 303, opened.text
            panel = await Panel.get(challenge_id=challenge_id)
            assert opened.headers["location"] == f"/panels/{panel.id}"
            landed = await manager.get(opened.headers["location"])
            assert "The citizens' panel is open" in text_of(landed)

            # Nine in the morning in Santiago's summer (UTC-3) is noon UTC; the stipend is
            # typed in euros and kept in cents.
            assert panel.recruitment_opens_at == datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
            assert panel.recruitment_closes_at == datetime(2027, 3, 29, 21, 0, tzinfo=UTC)
            assert (panel.size, panel.stipend_minor, panel.currency) == (10, 15_050, "EUR")
            assert panel.score_share_pct == 25 and panel.created_by_id == city.manager.user.id

            # The challenge page now leads to the panel; the form leads there too.
            page = await manager.get(challenge_url)
            assert OPEN_LINK not in text_of(page) and f"/panels/{panel.id}" in page.text
            again = await manager.get(f"{challenge_url}/panel/new")
            assert again.status_code == 303 and again.headers["location"] == f"/panels/{panel.id}"

        # The API, sent the same panel, stores the very same quotas.
        by_api = await client.post(
            f"/api/v1/challenges/{other_id}/panel",
            json=panel_body(size=10, features=SAME_FEATURES),
            headers=other_city.manager.headers,
        )
        assert by_api.status_code == 201, by_api.text
        assert panel.features == (await Panel.get(id=by_api.json()["id"])).features
        assert panel.features == [
            {
                "name": "age",
                "values": [
                    {"value": "16-39", "census_pct": 45, "min": 4, "max": 5},
                    {"value": "40+", "census_pct": 55, "min": 6, "max": 6},
                ],
            },
            {
                "name": "gender",
                "values": [
                    {"value": "woman", "min": 4, "max": 6},
                    {"value": "man", "min": 4, "max": 6},
                ],
            },
        ]

    async def test_errors_keep_what_was_typed_and_open_nothing(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id = await open_challenge(client)
        url = f"/challenges/{challenge_id}/panel"
        cases: list[tuple[dict[str, str], str, str]] = [
            # (what was changed, the field marked, the message)
            (
                {"feature_values_0": "16-39 about half\n40+: 55%"},
                "feature_values_0",
                "Line 1: write the value, a colon",
            ),
            ({"feature_name_1": "Gender Identity"}, "feature_name_1", "lowercase letters"),
            ({"feature_values_1": "woman: 4-6"}, "feature_values_1", "at least two values"),
            (
                {"feature_values_1": "woman: 4-6\nman: 4-6\nother: 999%"},
                "feature_values_1",
                "other: This number is too large.",
            ),
            ({"stipend": "a lot"}, "stipend", "Enter an amount, such as"),
            ({"stipend": "150.505"}, "stipend", "EUR has 2 decimals"),
            ({"size": "ten"}, "size", "Enter a whole number."),
            ({"score_share_pct": "120"}, "score_share_pct", "This number is too large."),
            ({"recruitment_opens_at": "soon"}, "recruitment_opens_at", "Enter a date and time."),
            (
                {"recruitment_closes_at": "2027-02-01T09:00"},
                "recruitment_closes_at",
                "Recruitment must close after it opens.",
            ),
            # Quotas that cannot add up, and census shares that do not make 100 %: the
            # service's own checks, shown over the features.
            (
                {"feature_values_1": "woman: 0-1\nman: 0-1"},
                "features",
                "gender: the minimums (0) and maximums (2) must allow a panel of 10.",
            ),
            (
                {"feature_values_0": "16-39: 45%\n40+: 45%"},
                "features",
                "age: give the census share of every value, adding up to 100 %.",
            ),
            (
                {name: "" for name in panel_form() if name.startswith("feature_")},
                "features",
                "Give at least one feature to balance",
            ),
        ]
        async with browser(app, city.manager.user) as manager:
            for changes, marked, message in cases:
                typed = panel_form(**changes)
                refused = await manager.post(url, typed)
                assert refused.status_code == 422, (changes, refused.text[:500])
                shown = text_of(refused)
                assert message in shown, (changes, shown[:3000])
                if marked == "features":
                    assert 'id="features-error"' in refused.text
                else:
                    assert f'id="f-{marked}-error"' in refused.text, changes
                # Everything typed is there to correct, not the example.
                for name, value in typed.items():
                    assert value.strip() in shown, (changes, name)
                assert "30-44: 26%" not in shown
            assert not await Panel.exists(challenge_id=challenge_id)

            # A panel already open (here through the API): 409, the form kept, nothing added.
            opened = await client.post(
                f"/api/v1{url}", json=panel_body(), headers=city.manager.headers
            )
            assert opened.status_code == 201, opened.text
            twice = await manager.post(url, panel_form(stipend="99"))
            assert twice.status_code == 409, twice.text[:500]
            assert "This challenge already has a panel." in twice.text
            assert 'value="99"' in twice.text
            assert await Panel.filter(challenge_id=challenge_id).count() == 1

    async def test_only_the_citys_managers_may(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id = await open_challenge(client)
        url = f"/challenges/{challenge_id}/panel"
        stranger = await factories.person(client)
        for user, status in ((city.editor.user, 403), (stranger.user, 404)):
            async with browser(app, user) as someone:
                assert (await someone.get(f"{url}/new")).status_code == status
                assert (await someone.post(url, panel_form())).status_code == status
        assert not await Panel.exists(challenge_id=challenge_id)


async def open_panel(client: httpx.AsyncClient) -> tuple[Any, int]:
    city, challenge_id = await open_challenge(client)
    opened = await client.post(
        f"/api/v1/challenges/{challenge_id}/panel",
        json=panel_body(),
        headers=city.manager.headers,
    )
    assert opened.status_code == 201, opened.text
    return city, int(opened.json()["id"])


class TestPoolPage:
    async def test_staff_page_through_the_pool_and_filter_it(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        city, panel_id = await open_panel(client)
        # One resident volunteers through the API; 59 more are put in the pool directly.
        resident = await factories.person(client)
        joined = await client.post(
            f"/api/v1/panels/{panel_id}/volunteers",
            json={"features": {"age": "40+", "gender": "man"}, "first_name": "Resident"},
            headers=resident.headers,
        )
        assert joined.status_code == 201, joined.text
        async with db.transaction(None):
            for n in range(1, 60):
                member = n <= 4
                await Volunteer.create(
                    panel_id=panel_id,
                    user_id=10_000 + n,
                    features={"age": "16-39" if n % 3 else "40+", "gender": "woman"},
                    first_name=f"Vol{n:03d}",
                    show_name=n == 1,
                    status=(
                        VolunteerStatus.member
                        if member
                        else VolunteerStatus.withdrawn
                        if n >= 57
                        else VolunteerStatus.pool
                    ),
                    seat=n if member else None,
                    pool_number=n + 1,
                    probability=0.125 if member else 0.05,
                )
        url = f"/panels/{panel_id}/pool"

        async with browser(app, city.editor.user) as staff:
            panel_page = await staff.get(f"/panels/{panel_id}")
            assert url in panel_page.text

            first = await staff.get(url)
            assert first.status_code == 200, first.text
            shown = text_of(first)
            # Counts per status and per value at the top (all 60 listed: 3 withdrawn).
            assert "In the pool" in shown and "Withdrawals" in shown
            assert "Resident" in shown and resident.user.email not in shown
            # A member is named as the panel names them: a first name shown, else by seat.
            assert "Vol001" in shown and "Member 2" in shown and "Vol002" not in shown
            assert "Vol045" in shown and "Vol049" in shown and "Vol050" not in shown
            assert "12.5 %" in shown and "5.0 %" in shown
            assert shown.count("<td>woman</td>") == 49
            following = text_of(await staff.get(_next_url(first)))
            assert "Vol050" in following and "Vol059" in following and "Vol045" not in following
            assert "First page" in following and 'rel="next"' not in following

            members = text_of(await staff.get(f"{url}?status=member"))
            assert "Vol001" in members and "Member 4" in members and "Resident" not in members
            assert members.count("<td>woman</td>") == 4 and 'rel="next"' not in members
            withdrawn = text_of(await staff.get(f"{url}?status=withdrawn"))
            assert withdrawn.count("<td>Has withdrawn</td>") == 3 and "Vol056" not in withdrawn

        # The pool is the staff's: a member of the public and a volunteer are not shown it.
        stranger = await factories.person(client)
        for user in (stranger.user, resident.user):
            async with browser(app, user) as someone:
                refused = await someone.get(url)
                assert refused.status_code in (403, 404), refused.status_code
                assert "Vol001" not in refused.text
        async with browser(app) as visitor:
            assert (await visitor.get(url)).status_code in (401, 403, 404)
            # The public page has no way to it.
            assert url not in (await visitor.get(f"/panels/{panel_id}")).text

    async def test_the_api_pages_the_pool_the_same_way(self, client: httpx.AsyncClient) -> None:
        city, panel_id = await open_panel(client)
        async with db.transaction(None):
            for n in range(55):
                await Volunteer.create(
                    panel_id=panel_id,
                    user_id=20_000 + n,
                    features={"age": "40+", "gender": "man"},
                    status=VolunteerStatus.member if n < 2 else VolunteerStatus.pool,
                    seat=n + 1 if n < 2 else None,
                )
        url = f"/api/v1/panels/{panel_id}/volunteers"
        first = (await client.get(url, headers=city.editor.headers)).json()
        assert len(first["items"]) == 50 and first["next_cursor"]
        rest = (
            await client.get(
                url, params={"cursor": first["next_cursor"]}, headers=city.editor.headers
            )
        ).json()
        assert len(rest["items"]) == 5 and rest["next_cursor"] is None
        ids = [v["id"] for v in first["items"] + rest["items"]]
        assert ids == sorted(ids) and len(set(ids)) == 55
        members = (
            await client.get(url, params={"status": "member"}, headers=city.editor.headers)
        ).json()
        assert [v["seat"] for v in members["items"]] == [1, 2]


def _next_url(page: httpx.Response) -> str:
    found = re.search(r'<a href="([^"]+)" rel="next">', page.text)
    assert found, "no next page"
    return html.unescape(found.group(1))
