"""The pages, without JavaScript: offers, check-ins, notes, the board's pairing and invitation
forms; errors shown next to their field with what was typed kept, and nothing changed."""

from __future__ import annotations

import httpx

from service.config import Settings
from service.incubation.models import CheckIn, Mentor, Pairing, Place
from tests import factories
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
