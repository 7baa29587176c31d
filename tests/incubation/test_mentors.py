"""Mentors invited by e-mail, pairing by sector overlap or by hand, and who sees what."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

from service.config import Settings
from service.incubation.service import suggest_pairings
from tests import factories
from tests.incubation import helpers
from tests.smtp import Mailbox

SECRET = "Our main customer is about to leave us"


class TestSuggestions:
    def test_most_shared_sectors_first_within_capacity(self) -> None:
        mentors = [(1, ["mobility"], 1), (2, ["mobility", "energy"], 1), (3, ["water"], 5)]
        places = [(10, ["mobility", "energy"]), (11, ["mobility"]), (12, ["health"])]
        found = suggest_pairings(mentors, places, set())
        assert [(s.mentor_id, s.place_id) for s in found] == [(2, 10), (1, 11)]
        assert found[0].shared == ("energy", "mobility")

    def test_startups_already_paired_and_full_mentors_are_left_out(self) -> None:
        mentors = [(1, ["water"], 1), (2, ["water"], 2)]
        places = [(10, ["water"]), (11, ["water"]), (12, ["water"])]
        found = suggest_pairings(mentors, places, {(1, 10)})
        assert [(s.mentor_id, s.place_id) for s in found] == [(2, 11), (2, 12)]


class TestMentors:
    async def test_invitation_by_email_for_an_address_without_account(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        mailbox: Mailbox,
        worker_burst: Callable[[], Awaitable[None]],
    ) -> None:
        world = await helpers.admitted(client, settings)
        invited = await client.post(
            f"/api/v1/cohorts/{world.cohort_id}/mentors",
            json={"email": "Expert@Example.org", "expertise": ["mobility"], "capacity": 2},
            headers=world.city.manager.headers,
        )
        assert invited.status_code == 201, invited.text
        assert invited.json()["status"] == "invited"
        await worker_burst()
        (message,) = mailbox.to("expert@example.org")
        assert "mentor" in str(message["Subject"])
        assert mailbox.last_link("expert@example.org", "/incubation").endswith("/incubation")
        assert mailbox.last_link("expert@example.org", "/register")
        twice = await client.post(
            f"/api/v1/cohorts/{world.cohort_id}/mentors",
            json={"email": "expert@example.org", "expertise": ["mobility"], "capacity": 2},
            headers=world.city.manager.headers,
        )
        assert twice.status_code == 422
        assert "email" in twice.json()["fields"]
        bad = await client.post(
            f"/api/v1/cohorts/{world.cohort_id}/mentors",
            json={"email": "other@example.org", "expertise": ["astrology"], "capacity": 0},
            headers=world.city.manager.headers,
        )
        assert bad.status_code == 422
        assert "capacity" in bad.json()["fields"]
        # Someone else cannot answer it; the person registered with that address can.
        stranger = await factories.person(client)
        mentor_id = invited.json()["id"]
        refused = await client.post(f"/api/v1/mentors/{mentor_id}/accept", headers=stranger.headers)
        assert refused.status_code == 404
        expert = await factories.person(client, email="expert@example.org")
        mine = await client.get("/api/v1/me/mentor-invitations", headers=expert.headers)
        assert [m["id"] for m in mine.json()["items"]] == [mentor_id]
        accepted = await client.post(f"/api/v1/mentors/{mentor_id}/accept", headers=expert.headers)
        assert accepted.status_code == 200
        assert accepted.json()["status"] == "active"

    async def test_pairing_and_what_each_mentor_sees(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        world = await helpers.admitted(client, settings)
        water, _water_org, water_place = await helpers.applied_and_admitted(
            client, world, ["water"]
        )
        m_mobility, mobility_id = await helpers.mentor(client, world, ["mobility", "energy"])
        m_water, water_id = await helpers.mentor(client, world, ["water"])
        suggestions = await client.get(
            f"/api/v1/cohorts/{world.cohort_id}/pairing-suggestions",
            headers=world.city.manager.headers,
        )
        pairs = {(s["mentor_id"], s["place_id"]) for s in suggestions.json()["items"]}
        assert pairs == {(mobility_id, world.place_id), (water_id, water_place)}
        for mentor_id, place_id in pairs:
            made = await client.post(
                f"/api/v1/cohorts/{world.cohort_id}/pairings",
                json={"mentor_id": mentor_id, "place_id": place_id},
                headers=world.city.manager.headers,
            )
            assert made.status_code == 201, made.text
        filed = await client.post(
            f"/api/v1/places/{world.place_id}/check-ins",
            json={"progress": "Routes mapped", "blockers": SECRET, "status": "amber"},
            headers=world.a.winner.headers,
        )
        assert filed.status_code == 201, filed.text
        check_in_id = filed.json()["check_ins"][0]["id"]
        # The paired mentor reads the check-in and adds a note; the other sees nothing of it.
        mine = await client.get(f"/api/v1/places/{world.place_id}", headers=m_mobility.headers)
        assert mine.status_code == 200
        assert SECRET in mine.text
        assert (
            await client.get(f"/api/v1/places/{world.place_id}", headers=m_water.headers)
        ).status_code == 404
        assert (
            await client.get(f"/api/v1/places/{water_place}", headers=m_mobility.headers)
        ).status_code == 404
        denied = await client.post(
            f"/api/v1/check-ins/{check_in_id}/note", json={"note": "Hi"}, headers=m_water.headers
        )
        assert denied.status_code == 404
        noted = await client.post(
            f"/api/v1/check-ins/{check_in_id}/note",
            json={"note": "Call the transport office this week."},
            headers=m_mobility.headers,
        )
        assert noted.status_code == 200
        assert noted.json()["check_ins"][0]["mentor_note"] == "Call the transport office this week."
        # Another startup of the cohort never reads the answers.
        assert (
            await client.get(f"/api/v1/places/{world.place_id}", headers=water.headers)
        ).status_code == 404
        own = await client.get(f"/api/v1/places/{water_place}", headers=water.headers)
        assert SECRET not in own.text
        # Changed by hand: the water mentor takes the winner too, then is removed again.
        by_hand = await client.post(
            f"/api/v1/cohorts/{world.cohort_id}/pairings",
            json={"mentor_id": water_id, "place_id": world.place_id},
            headers=world.city.manager.headers,
        )
        assert by_hand.status_code == 201
        assert (
            await client.get(f"/api/v1/places/{world.place_id}", headers=m_water.headers)
        ).status_code == 200
        removed = await client.delete(
            f"/api/v1/pairings/{by_hand.json()['id']}", headers=world.city.manager.headers
        )
        assert removed.status_code == 200
        assert (
            await client.get(f"/api/v1/places/{world.place_id}", headers=m_water.headers)
        ).status_code == 404
        # The public cohort page and the project's public progress show no answers.
        for url in (
            f"/api/v1/cohorts/{world.cohort_id}",
            f"/cohorts/{world.cohort_id}",
            f"/challenges/{world.a.challenge_id}",
            f"/api/v1/projects/{mine.json()['project_id']}",
        ):
            public = await client.get(url)
            assert public.status_code == 200, url
            assert SECRET not in public.text
            assert "Call the transport office" not in public.text
        board = await client.get(
            f"/api/v1/cohorts/{world.cohort_id}/board", headers=world.city.manager.headers
        )
        rows = {r["place_id"]: r for r in board.json()["items"]}
        assert rows[world.place_id]["latest_status"] == "amber"
        assert rows[water_place]["latest_status"] is None

    async def test_pairing_rules(self, client: httpx.AsyncClient, settings: Settings) -> None:
        world = await helpers.admitted(client, settings)
        _p, _o, second = await helpers.applied_and_admitted(client, world, ["water"])
        _m, mentor_id = await helpers.mentor(client, world, ["water"], capacity=1)
        invited = await client.post(
            f"/api/v1/cohorts/{world.cohort_id}/mentors",
            json={"email": "later@example.org", "expertise": ["water"], "capacity": 1},
            headers=world.city.manager.headers,
        )
        pending = invited.json()["id"]
        not_yet = await client.post(
            f"/api/v1/cohorts/{world.cohort_id}/pairings",
            json={"mentor_id": pending, "place_id": second},
            headers=world.city.manager.headers,
        )
        assert not_yet.status_code == 422
        assert "mentor_id" in not_yet.json()["fields"]
        first = await client.post(
            f"/api/v1/cohorts/{world.cohort_id}/pairings",
            json={"mentor_id": mentor_id, "place_id": second},
            headers=world.city.manager.headers,
        )
        assert first.status_code == 201
        full = await client.post(
            f"/api/v1/cohorts/{world.cohort_id}/pairings",
            json={"mentor_id": mentor_id, "place_id": world.place_id},
            headers=world.city.manager.headers,
        )
        assert full.status_code == 422
        assert "mentor_id" in full.json()["fields"]
