"""Time zones: each city's deadlines typed and shown in its zone, each viewer's too, in UTC
underneath, and the scheduler's to-the-second rules across daylight-saving changes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import time_machine
from starlette.applications import Starlette

from service import db
from service.accounts.models import Organization, User
from service.applications.models import Application, ApplicationStatus
from service.challenges.models import Challenge, ChallengeStatus
from service.challenges.tasks import advance_by_dates
from service.core import zones
from tests import factories
from tests.challenges.factories import make_draft_challenge
from tests.challenges.helpers import City, make_city
from tests.challenges.test_applications import applicant, draft

SANTIAGO = "America/Santiago"
MADRID = "Europe/Madrid"


async def city_in(client: httpx.AsyncClient, zone: str) -> City:
    city = await make_city(client)
    async with db.transaction(None):
        city.org.time_zone = zone
        await city.org.save(update_fields=["time_zone"])
    return city


def plain(text: str) -> str:
    """Babel's English times put a narrow no-break space before AM/PM."""
    return re.sub(r"[\u202f\xa0]", " ", text)


def form_body(org: Organization, csrf: str, **dates: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "csrf_token": csrf,
        "organization_id": str(org.id),
        "title": "Cut school-bus delays",
        "summary": "Help school buses arrive on time in the north district.",
        "problem_statement": "Buses are late on two mornings out of five because of traffic.",
        "language": "en",
        "area": "mobility",
        "sdgs": "11",
        "region": "North",
        "eligible_kinds": "startup",
        "reward_amount": "45000000",
        "currency": "CLP",
        "criterion_name_0": "Impact",
        "criterion_weight_0": "100",
        "opens_at": "2027-01-04T09:00",
        "closes_at": "2027-01-29T18:00",
    }
    body.update(dates)
    return body


class TestZonesOfOrganizationsAndUsers:
    async def test_a_new_organization_takes_its_countrys_zone(
        self, client: httpx.AsyncClient
    ) -> None:
        owner = await factories.person(client)
        body = {"name": "City of Valparaíso", "kind": "government", "region": "Valparaíso"}
        created = await client.post(
            "/api/v1/organizations", json={**body, "country": "CL"}, headers=owner.headers
        )
        assert created.status_code == 201, created.text
        assert created.json()["time_zone"] == SANTIAGO
        other = await client.post(
            "/api/v1/organizations",
            json={**body, "name": "City of Sevilla", "country": "ES"},
            headers=owner.headers,
        )
        assert other.json()["time_zone"] == MADRID

    async def test_the_zone_given_stays_through_the_api(self, client: httpx.AsyncClient) -> None:
        owner = await factories.person(client)
        created = await client.post(
            "/api/v1/organizations",
            json={
                "name": "Punta Arenas",
                "kind": "government",
                "country": "CL",
                "region": "Magallanes",
                "time_zone": "America/Punta_Arenas",
            },
            headers=owner.headers,
        )
        org_id = created.json()["id"]
        read = await client.get(f"/api/v1/organizations/{org_id}")
        assert read.json()["time_zone"] == "America/Punta_Arenas"
        changed = await client.patch(
            f"/api/v1/organizations/{org_id}", json={"time_zone": SANTIAGO}, headers=owner.headers
        )
        assert changed.status_code == 200, changed.text
        assert (await Organization.get(id=org_id)).time_zone == SANTIAGO
        assert (await client.get(f"/api/v1/organizations/{org_id}")).json()["time_zone"] == SANTIAGO

    @pytest.mark.parametrize("bad", ["Mars/Olympus", "localtime", "../etc/passwd", "x" * 65, ""])
    async def test_a_zone_that_is_not_one_is_refused_by_its_field(
        self, client: httpx.AsyncClient, bad: str
    ) -> None:
        city = await city_in(client, SANTIAGO)
        answer = await client.patch(
            f"/api/v1/organizations/{city.org.id}",
            json={"time_zone": bad},
            headers=city.owner.headers,
        )
        assert answer.status_code == 422 and "time_zone" in answer.json()["fields"]
        assert (await Organization.get(id=city.org.id)).time_zone == SANTIAGO
        me = await client.patch("/api/v1/me", json={"time_zone": bad}, headers=city.owner.headers)
        assert me.status_code == 422 and "time_zone" in me.json()["fields"]

    async def test_only_the_owner_changes_the_citys_zone(self, client: httpx.AsyncClient) -> None:
        city = await city_in(client, SANTIAGO)
        answer = await client.patch(
            f"/api/v1/organizations/{city.org.id}",
            json={"time_zone": MADRID},
            headers=city.manager.headers,
        )
        assert answer.status_code == 403
        assert (await Organization.get(id=city.org.id)).time_zone == SANTIAGO

    async def test_a_user_chooses_their_zone(self, client: httpx.AsyncClient) -> None:
        person = await factories.person(client)
        assert (await client.get("/api/v1/me", headers=person.headers)).json()["time_zone"] is None
        chosen = await client.patch(
            "/api/v1/me", json={"time_zone": SANTIAGO}, headers=person.headers
        )
        assert chosen.status_code == 200, chosen.text
        me = await client.get("/api/v1/me", headers=person.headers)
        assert me.json()["time_zone"] == SANTIAGO

    async def test_the_owner_sets_the_zone_on_the_organization_page(
        self, client: httpx.AsyncClient
    ) -> None:
        city = await city_in(client, "UTC")
        csrf = await factories.web_signin(client, city.owner.user)
        page = await client.get(f"/organizations/{city.org.id}")
        assert 'name="time_zone"' in page.text
        refused = await client.post(
            f"/organizations/{city.org.id}/time-zone",
            data={"csrf_token": csrf, "time_zone": "Santiago"},
        )
        assert refused.status_code == 422
        assert 'id="f-time_zone-error"' in refused.text
        assert (await Organization.get(id=city.org.id)).time_zone == "UTC"
        saved = await client.post(
            f"/organizations/{city.org.id}/time-zone",
            data={"csrf_token": csrf, "time_zone": SANTIAGO},
        )
        assert saved.status_code == 303
        assert (await Organization.get(id=city.org.id)).time_zone == SANTIAGO

    async def test_the_account_page_sets_and_clears_ones_zone(
        self, client: httpx.AsyncClient
    ) -> None:
        user = await factories.make_user()
        csrf = await factories.web_signin(client, user)
        saved = await client.post(
            "/account/time-zone", data={"csrf_token": csrf, "time_zone": MADRID}
        )
        assert saved.status_code == 303
        assert (await User.get(id=user.id)).time_zone == MADRID
        cleared = await client.post("/account/time-zone", data={"csrf_token": csrf})
        assert cleared.status_code == 303
        assert (await User.get(id=user.id)).time_zone == ""


class TestTheFormReadsTheCitysLocalTime:
    async def test_a_deadline_typed_in_santiago_is_stored_in_utc_and_shown_back_as_typed(
        self, client: httpx.AsyncClient
    ) -> None:
        city = await city_in(client, SANTIAGO)
        csrf = await factories.web_signin(client, city.editor.user)
        form = await client.get("/challenges/new")
        assert SANTIAGO in form.text
        saved = await client.post(
            "/challenges/new",
            data=form_body(
                city.org, csrf, opens_at="2026-12-14T09:00", closes_at="2026-12-27T18:00"
            ),
        )
        assert saved.status_code == 303, saved.text
        challenge = await Challenge.get(organization_id=city.org.id)
        # Summer in Chile: UTC-3.
        assert challenge.closes_at == datetime(2026, 12, 27, 21, 0, tzinfo=UTC)
        edit = await client.get(f"/challenges/{challenge.id}/edit")
        assert 'value="2026-12-27T18:00"' in edit.text
        assert 'value="2026-12-14T09:00"' in edit.text
        api = await client.get(f"/api/v1/challenges/{challenge.id}", headers=city.editor.headers)
        assert api.json()["time_zone"] == SANTIAGO
        assert datetime.fromisoformat(api.json()["closes_at"]) == challenge.closes_at

    async def test_a_time_the_clocks_skip_is_refused_by_its_field(
        self, client: httpx.AsyncClient
    ) -> None:
        city = await city_in(client, SANTIAGO)
        csrf = await factories.web_signin(client, city.editor.user)
        # Chile moves its clocks from 24:00 to 01:00 on 5 September 2027.
        refused = await client.post(
            "/challenges/new",
            data=form_body(
                city.org, csrf, opens_at="2027-08-02T09:00", closes_at="2027-09-05T00:30"
            ),
        )
        assert refused.status_code == 422
        error = re.search(r'id="f-closes_at-error">([^<]*)<', refused.text)
        assert error and "does not exist" in error.group(1), refused.text
        assert 'value="2027-09-05T00:30"' in refused.text
        assert await Challenge.filter(organization_id=city.org.id).count() == 0

    async def test_a_time_that_happens_twice_is_refused_by_its_field(
        self, client: httpx.AsyncClient
    ) -> None:
        city = await city_in(client, MADRID)
        csrf = await factories.web_signin(client, city.editor.user)
        # Spain turns 03:00 back to 02:00 on 31 October 2027: 02:30 happens twice.
        refused = await client.post(
            "/challenges/new",
            data=form_body(
                city.org, csrf, opens_at="2027-10-01T09:00", closes_at="2027-10-31T02:30"
            ),
        )
        assert refused.status_code == 422
        error = re.search(r'id="f-closes_at-error">([^<]*)<', refused.text)
        assert error and "happens twice" in error.group(1), refused.text
        assert await Challenge.filter(organization_id=city.org.id).count() == 0


class TestPagesShowTheZone:
    async def _open(self, city: City, closes_at: datetime) -> Challenge:
        async with db.transaction(None):
            return await make_draft_challenge(
                city.org,
                status=ChallengeStatus.open,
                opens_at=closes_at - timedelta(days=30),
                closes_at=closes_at,
                judging_ends_at=closes_at + timedelta(days=30),
                published_at=closes_at - timedelta(days=31),
            )

    async def test_the_citys_zone_and_the_viewers_zone(self, client: httpx.AsyncClient) -> None:
        city = await city_in(client, SANTIAGO)
        challenge = await self._open(city, datetime(2026, 12, 27, 21, 0, tzinfo=UTC))
        viewer = await factories.make_user()
        async with db.transaction(None):
            viewer.time_zone = MADRID
            await viewer.save(update_fields=["time_zone"])
        await factories.web_signin(client, viewer)
        page = plain((await client.get(f"/challenges/{challenge.id}")).text)
        assert (
            "Dec 27, 2026, 6:00 PM Santiago time (UTC\u22123)"
            " \u2014 10:00 PM your time (Madrid, UTC+1)"
        ) in page
        listed = plain((await client.get("/challenges")).text)
        assert "6:00 PM Santiago time (UTC\u22123) \u2014 10:00 PM your time" in listed

    async def test_a_viewer_in_the_citys_zone_reads_it_once(
        self, client: httpx.AsyncClient
    ) -> None:
        city = await city_in(client, SANTIAGO)
        challenge = await self._open(city, datetime(2026, 12, 27, 21, 0, tzinfo=UTC))
        # A city member's default zone is their organization's.
        await factories.web_signin(client, city.editor.user)
        page = plain((await client.get(f"/challenges/{challenge.id}")).text)
        assert "6:00 PM Santiago time (UTC\u22123)" in page
        assert "your time" not in page

    async def test_a_visitor_reads_the_browsers_zone_or_utc(
        self, client: httpx.AsyncClient
    ) -> None:
        city = await city_in(client, MADRID)
        challenge = await self._open(city, datetime(2027, 7, 1, 16, 0, tzinfo=UTC))
        without = plain((await client.get(f"/challenges/{challenge.id}")).text)
        assert "6:00 PM Madrid time (UTC+2) \u2014 4:00 PM your time (UTC)" in without
        client.cookies.set("tz", SANTIAGO)
        spanish = plain((await client.get(f"/challenges/{challenge.id}?lang=es")).text)
        assert "1 jul 2027, 18:00" in spanish and "(UTC+2)" in spanish
        assert "12:00" in spanish and "UTC\u22124)" in spanish


class TestCalendar:
    async def test_deadlines_carry_the_citys_zone(self, client: httpx.AsyncClient) -> None:
        city = await city_in(client, SANTIAGO)
        async with db.transaction(None):
            await make_draft_challenge(
                city.org,
                status=ChallengeStatus.open,
                opens_at=datetime.now(UTC) - timedelta(days=1),
                closes_at=datetime(2030, 1, 10, 21, 0, tzinfo=UTC),
                judging_ends_at=datetime(2030, 2, 10, tzinfo=UTC),
                published_at=datetime.now(UTC) - timedelta(days=2),
            )
        ics = (await client.get("/challenges/deadlines.ics")).text.replace("\r\n ", "")
        assert "DTSTART;TZID=America/Santiago:20300110T180000" in ics
        assert "BEGIN:VTIMEZONE" in ics and "TZID:America/Santiago" in ics


# The deadline typed on the wall clock of the city's day of a clock change, and the moment
# it is in UTC, worked out by hand.
DST_CASES = [
    # Chile leaves summer time: 24:00 on 3 April 2027 becomes 23:00 (UTC-3 to UTC-4).
    (SANTIAGO, datetime(2027, 4, 4, 9, 0), datetime(2027, 4, 4, 13, 0, tzinfo=UTC)),
    # Chile enters summer time: 24:00 on 6 September 2026 becomes 01:00 (UTC-4 to UTC-3).
    (SANTIAGO, datetime(2026, 9, 6, 1, 0), datetime(2026, 9, 6, 4, 0, tzinfo=UTC)),
    # Spain enters summer time: 02:00 on 28 March 2027 becomes 03:00 (UTC+1 to UTC+2).
    (MADRID, datetime(2027, 3, 28, 3, 30), datetime(2027, 3, 28, 1, 30, tzinfo=UTC)),
    # Spain leaves summer time: 03:00 on 25 October 2026 becomes 02:00 (UTC+2 to UTC+1).
    (MADRID, datetime(2026, 10, 25, 9, 0), datetime(2026, 10, 25, 8, 0, tzinfo=UTC)),
]


class TestSchedulerAcrossClockChanges:
    @pytest.mark.parametrize(
        ("zone", "local", "expected"), DST_CASES, ids=[f"{z}-{w:%Y-%m-%d}" for z, w, _ in DST_CASES]
    )
    async def test_it_closes_to_the_second_on_the_day_the_clocks_change(
        self,
        client: httpx.AsyncClient,
        app: Starlette,
        zone: str,
        local: datetime,
        expected: datetime,
    ) -> None:
        closes_at = zones.to_utc(local, zones.zone(zone))
        assert closes_at == expected
        city = await city_in(client, zone)
        # Opened before the clocks changed, closing after.
        async with db.transaction(None):
            challenge = await make_draft_challenge(
                city.org,
                status=ChallengeStatus.open,
                opens_at=closes_at - timedelta(days=10),
                closes_at=closes_at,
                judging_ends_at=closes_at + timedelta(days=30),
                published_at=closes_at - timedelta(days=11),
                eligible_kinds=["startup", "university"],
            )
        person, org_id = await applicant(client)
        deps = app.state.deps
        with time_machine.travel(closes_at - timedelta(days=2), tick=False):
            person.token = await factories.token_for(client, person.user)
            created = await draft(client, challenge.id, person, org_id)
            assert created.status_code == 201, created.text
        app_id = created.json()["id"]
        with time_machine.travel(closes_at - timedelta(seconds=1), tick=False):
            assert await advance_by_dates(deps) == 0
            person.token = await factories.token_for(client, person.user)
            edited = await client.patch(
                f"/api/v1/applications/{app_id}", json={"team": "A"}, headers=person.headers
            )
            assert edited.status_code == 200, edited.text
        assert (await Challenge.get(id=challenge.id)).status is ChallengeStatus.open
        with time_machine.travel(closes_at, tick=False):
            person.token = await factories.token_for(client, person.user)
            late = await client.post(
                f"/api/v1/applications/{app_id}/submit", headers=person.headers
            )
            assert late.status_code == 409 and late.json()["error"] == "DeadlinePassed"
            assert await advance_by_dates(deps) == 1
        assert (await Challenge.get(id=challenge.id)).status is ChallengeStatus.closed
        assert (await Application.get(id=app_id)).status is ApplicationStatus.draft

    async def test_an_hour_before_the_deadline_on_the_day_chile_turns_back_is_still_open(
        self, client: httpx.AsyncClient, app: Starlette
    ) -> None:
        # 09:00 on 4 April 2027 in Santiago is 13:00 UTC: read with the summer offset the
        # day before (UTC-3) it would be 12:00, and the challenge would close an hour early.
        closes_at = datetime(2027, 4, 4, 13, 0, tzinfo=UTC)
        city = await city_in(client, SANTIAGO)
        async with db.transaction(None):
            challenge = await make_draft_challenge(
                city.org,
                status=ChallengeStatus.open,
                opens_at=closes_at - timedelta(days=10),
                closes_at=closes_at,
                judging_ends_at=closes_at + timedelta(days=30),
                published_at=closes_at - timedelta(days=11),
            )
        with time_machine.travel(datetime(2027, 4, 4, 12, 30, tzinfo=UTC), tick=False):
            assert await advance_by_dates(app.state.deps) == 0
        assert (await Challenge.get(id=challenge.id)).status is ChallengeStatus.open


class TestTheDateFilter:
    def _render(self, source: str, **values: Any) -> str:
        from service.core.templates import create_templates

        return plain(create_templates().env.from_string(source).render(**values))

    def test_a_day_alone_stays_the_stored_day_for_a_viewer_west_of_utc(self) -> None:
        # Milestones are due on a day stored as its first moment in UTC: in Santiago that
        # moment is still the evening before.
        due = datetime(2027, 3, 1, tzinfo=UTC)
        shown = self._render("{{ d|datetime('date') }}", d=due, viewer_zone=SANTIAGO)
        assert shown == "Mar 1, 2027"

    def test_a_moment_without_a_city_reads_in_the_viewers_zone_with_its_offset(self) -> None:
        moment = datetime(2026, 12, 27, 21, 0, tzinfo=UTC)
        shown = self._render("{{ d|datetime }}", d=moment, viewer_zone=MADRID)
        assert shown == "Dec 27, 2026, 10:00 PM Madrid time (UTC+1)"

    @pytest.mark.parametrize(
        ("zone", "text"),
        [
            ("Etc/UTC", "Dec 27, 2026, 9:00 PM UTC"),
            ("Etc/GMT+3", "Dec 27, 2026, 6:00 PM UTC\u22123"),
        ],
    )
    def test_a_zone_that_names_no_place_reads_as_its_offset(self, zone: str, text: str) -> None:
        # Headless browsers often report Etc/UTC: "UTC time (UTC)" would say it twice.
        moment = datetime(2026, 12, 27, 21, 0, tzinfo=UTC)
        assert self._render("{{ d|datetime }}", d=moment, viewer_zone=zone) == text

    def test_a_calendar_date_is_shown_as_it_is(self) -> None:
        # Incubation steps are dated by day, with no time of day.
        from datetime import date

        shown = self._render("{{ d|datetime('date') }}", d=date(2027, 3, 1), viewer_zone=SANTIAGO)
        assert shown == "Mar 1, 2027"
