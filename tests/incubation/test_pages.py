"""The pages, without JavaScript: offers, check-ins, notes, the board's pairing and invitation
forms; errors shown next to their field with what was typed kept, and nothing changed."""

from __future__ import annotations

import logging

import httpx
import pytest

from service.config import Settings
from service.incubation.models import CheckIn, Cohort, Mentor, Pairing, Place, Programme
from tests import factories
from tests.challenges.helpers import make_city
from tests.incubation import helpers


async def signed_in(app_client: httpx.AsyncClient, person: factories.Person) -> str:
    return await factories.web_signin(app_client, person.user)


class TestPages:
    async def test_winner_accepts_files_a_check_in_and_errors_keep_the_text(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        world = await helpers.offered(client, settings)
        csrf = await signed_in(client, world.a.winner)
        hub = await client.get("/incubation")
        assert "Accept the place" in hub.text
        accepted = await client.post(f"/places/{world.place_id}/accept", data={"csrf_token": csrf})
        assert accepted.status_code == 303
        assert accepted.headers["location"] == f"/places/{world.place_id}"
        page = await client.get(f"/places/{world.place_id}")
        assert "Check-in for step 1" in page.text
        missing = await client.post(
            f"/places/{world.place_id}/check-ins",
            data={"csrf_token": csrf, "progress": "", "blockers": "Waiting for bus data"},
        )
        assert missing.status_code == 422
        assert 'aria-invalid="true"' in missing.text
        assert "Waiting for bus data" in missing.text
        assert await CheckIn.filter(place_id=world.place_id).count() == 0
        filed = await client.post(
            f"/places/{world.place_id}/check-ins",
            data={
                "csrf_token": csrf,
                "progress": "Routes mapped in the north district.",
                "blockers": "Waiting for bus data",
                "status": "amber",
            },
        )
        assert filed.status_code == 303
        page = await client.get(f"/places/{world.place_id}")
        assert "Routes mapped in the north district." in page.text
        assert "Amber: some trouble" in page.text

    async def test_staff_pair_on_the_board_and_the_mentor_adds_a_note(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        world = await helpers.admitted(client, settings)
        await client.post(
            f"/api/v1/places/{world.place_id}/check-ins",
            json={"progress": "Started the pilot design.", "status": "green"},
            headers=world.a.winner.headers,
        )
        mentor, mentor_id = await helpers.mentor(client, world, ["mobility"])
        staff = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
        async with staff:
            csrf = await signed_in(staff, world.city.manager)
            board = await staff.get(f"/cohorts/{world.cohort_id}/board")
            assert board.status_code == 200
            assert "Suggested by shared sectors" in board.text
            bad = await staff.post(
                f"/cohorts/{world.cohort_id}/mentors",
                data={"csrf_token": csrf, "email": "not-an-address", "capacity": "2"},
            )
            assert bad.status_code == 422
            assert "not-an-address" in bad.text
            assert await Mentor.filter(cohort_id=world.cohort_id).count() == 1
            paired = await staff.post(
                f"/cohorts/{world.cohort_id}/pairings",
                data={
                    "csrf_token": csrf,
                    "mentor_id": str(mentor_id),
                    "place_id": str(world.place_id),
                },
            )
            assert paired.status_code == 303
            assert await Pairing.filter(mentor_id=mentor_id, ended_at__isnull=True).count() == 1
        csrf = await signed_in(client, mentor)
        hub = await client.get("/incubation")
        assert f"/places/{world.place_id}" in hub.text
        check_in = await CheckIn.get(place_id=world.place_id)
        empty = await client.post(
            f"/check-ins/{check_in.id}/note", data={"csrf_token": csrf, "note": ""}
        )
        assert empty.status_code == 422
        noted = await client.post(
            f"/check-ins/{check_in.id}/note",
            data={"csrf_token": csrf, "note": "Talk to the depot managers first."},
        )
        assert noted.status_code == 303
        page = await client.get(f"/places/{world.place_id}")
        assert "Talk to the depot managers first." in page.text
        assert "File the check-in" not in page.text

    async def test_apply_page_and_decline_on_the_board(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        world = await helpers.admitted(client, settings)
        person, org_id = await helpers.startup(client)
        csrf = await signed_in(client, person)
        cohort_page = await client.get(f"/cohorts/{world.cohort_id}")
        assert "Apply for a place" in cohort_page.text
        short = await client.post(
            f"/cohorts/{world.cohort_id}/apply",
            data={"csrf_token": csrf, "organization_id": str(org_id), "pitch": "Too short"},
        )
        assert short.status_code == 422
        assert "Too short" in short.text
        applied = await client.post(
            f"/cohorts/{world.cohort_id}/apply",
            data={
                "csrf_token": csrf,
                "organization_id": str(org_id),
                "pitch": "Solar benches that charge phones in public squares.",
                "sectors": ["energy", "environment"],
            },
        )
        assert applied.status_code == 303
        place = await Place.get(cohort_id=world.cohort_id, organization_id=org_id)
        assert place.sectors == ["energy", "environment"]
        staff = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
        async with staff:
            staff_csrf = await signed_in(staff, world.city.manager)
            no_reason = await staff.post(
                f"/places/{place.id}/decline", data={"csrf_token": staff_csrf, "reason": ""}
            )
            assert no_reason.status_code == 422
            assert (await Place.get(id=place.id)).status.value == "applied"
            declined = await staff.post(
                f"/places/{place.id}/decline",
                data={"csrf_token": staff_csrf, "reason": "Full this spring, apply in autumn."},
            )
            assert declined.status_code == 303
        hub = await client.get("/incubation")
        assert "Full this spring, apply in autumn." in hub.text


class TestProgrammePages:
    async def test_a_manager_starts_a_programme_and_opens_a_cohort(
        self, client: httpx.AsyncClient
    ) -> None:
        city = await make_city(client)
        csrf = await signed_in(client, city.manager)
        hub = await client.get("/incubation")
        assert 'href="/programmes/new"' in hub.text
        nameless = await client.post(
            "/programmes/new",
            data={"csrf_token": csrf, "organization_id": str(city.org.id), "name": ""},
        )
        assert nameless.status_code == 422
        assert not await Programme.exists()
        created = await client.post(
            "/programmes/new",
            data={
                "csrf_token": csrf,
                "organization_id": str(city.org.id),
                "name": "North Lab",
                "description": "Six months from prize to pilot.",
                "partner_organization_id": "",
            },
        )
        assert created.status_code == 303
        programme = await Programme.get(name="North Lab")
        assert created.headers["location"] == f"/programmes/{programme.id}"
        cohort = {
            "csrf_token": csrf,
            "name": "Autumn",
            "starts_on": "2026-09-01",
            "ends_on": "2026-08-01",
            "capacity": "6",
            "cadence": "monthly",
            "space_name": "Old Market Hall",
        }
        backwards = await client.post(f"/programmes/{programme.id}/cohorts", data=cohort)
        assert backwards.status_code == 422
        assert "Old Market Hall" in backwards.text
        assert 'id="f-ends_on-error"' in backwards.text
        opened = await client.post(
            f"/programmes/{programme.id}/cohorts", data={**cohort, "ends_on": "2027-02-28"}
        )
        assert opened.status_code == 303
        made = await Cohort.get(programme_id=programme.id)
        assert (made.capacity, made.cadence.value, made.remote) == (6, "monthly", False)
        public = await client.get(f"/programmes/{programme.id}")
        assert "Autumn" in public.text

    async def test_an_editor_cannot_start_a_programme(self, client: httpx.AsyncClient) -> None:
        city = await make_city(client)
        csrf = await signed_in(client, city.editor)
        refused = await client.post(
            "/programmes/new",
            data={"csrf_token": csrf, "organization_id": str(city.org.id), "name": "Side lab"},
        )
        assert refused.status_code == 422
        assert "for the manager role" in refused.text
        assert not await Programme.exists()


class TestQueryCount:
    async def _queries(
        self, client: httpx.AsyncClient, url: str, caplog: pytest.LogCaptureFixture
    ) -> int:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
            response = await client.get(url)
        assert response.status_code == 200, url
        return len([r for r in caplog.records if r.name == "tortoise.db_client"])

    async def test_cohort_pages_run_the_same_queries_for_2_and_8_startups(
        self, client: httpx.AsyncClient, settings: Settings, caplog: pytest.LogCaptureFixture
    ) -> None:
        world = await helpers.admitted(client, settings, capacity=10)
        await helpers.applied_and_admitted(client, world, ["water"])
        await signed_in(client, world.city.manager)
        urls = [f"/cohorts/{world.cohort_id}", f"/cohorts/{world.cohort_id}/board"]
        api = [f"/api/v1/cohorts/{world.cohort_id}", f"/api/v1/cohorts/{world.cohort_id}/board"]
        small = [await self._queries(client, url, caplog) for url in urls]
        small_api = [await self._queries_api(client, world, url, caplog) for url in api]
        for _n in range(6):
            await helpers.applied_and_admitted(client, world, ["energy"])
        assert [await self._queries(client, url, caplog) for url in urls] == small
        assert [await self._queries_api(client, world, url, caplog) for url in api] == small_api

    async def _queries_api(
        self,
        client: httpx.AsyncClient,
        world: helpers.World,
        url: str,
        caplog: pytest.LogCaptureFixture,
    ) -> int:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
            response = await client.get(url, headers=world.city.manager.headers)
        assert response.status_code == 200, url
        return len([r for r in caplog.records if r.name == "tortoise.db_client"])


class TestRefusePage:
    async def test_turning_a_place_down_needs_a_reason(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        world = await helpers.offered(client, settings)
        csrf = await signed_in(client, world.a.winner)
        offer = await client.get(f"/places/{world.place_id}")
        assert "Turn the place down" in offer.text
        silent = await client.post(
            f"/places/{world.place_id}/refuse", data={"csrf_token": csrf, "reason": ""}
        )
        assert silent.status_code == 422
        assert 'id="f-reason-error"' in silent.text
        assert (await Place.get(id=world.place_id)).status.value == "offered"
        refused = await client.post(
            f"/places/{world.place_id}/refuse",
            data={"csrf_token": csrf, "reason": "We are moving to Lisbon."},
        )
        assert refused.status_code == 303
        assert (await Place.get(id=world.place_id)).status.value == "refused"
