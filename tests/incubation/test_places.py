"""Programmes, cohorts, offers to winners, applications, admission and capacity, over HTTP."""

from __future__ import annotations

import httpx

from service.audit.models import AuditEvent
from service.config import Settings
from service.incubation.models import Place, Project
from tests import factories
from tests.challenges.helpers import make_city
from tests.incubation import helpers
from tests.incubation.helpers import run_offers


class TestProgrammes:
    async def test_only_a_city_runs_a_programme_and_bad_cohorts_name_the_field(
        self, client: httpx.AsyncClient
    ) -> None:
        city = await make_city(client)
        person, startup_id = await helpers.startup(client)
        refused = await client.post(
            "/api/v1/programmes",
            json={"organization_id": startup_id, "name": "Our own incubator"},
            headers=person.headers,
        )
        assert refused.status_code == 422
        assert "organization_id" in refused.json()["fields"]
        programme_id = await helpers.programme(client, city)
        bad = await client.post(
            f"/api/v1/programmes/{programme_id}/cohorts",
            json=helpers.cohort_body(ends_at="2020-01-01T00:00:00+00:00"),
            headers=city.manager.headers,
        )
        assert bad.status_code == 422
        assert "ends_at" in bad.json()["fields"]
        no_space = await client.post(
            f"/api/v1/programmes/{programme_id}/cohorts",
            json=helpers.cohort_body(space_name=""),
            headers=city.manager.headers,
        )
        assert no_space.status_code == 422
        assert "space_name" in no_space.json()["fields"]
        remote = await client.post(
            f"/api/v1/programmes/{programme_id}/cohorts",
            json=helpers.cohort_body(space_name="", remote=True),
            headers=city.manager.headers,
        )
        assert remote.status_code == 201, remote.text
        # A finance member is not programme staff; a citizen neither.
        citizen = await factories.person(client)
        for who in (city.finance, citizen):
            response = await client.post(
                f"/api/v1/programmes/{programme_id}/cohorts",
                json=helpers.cohort_body(),
                headers=who.headers,
            )
            assert response.status_code == 404
        listed = await client.get("/api/v1/programmes")
        assert [p["id"] for p in listed.json()["items"]] == [programme_id]
        assert listed.json()["items"][0]["cohorts"][0]["remote"] is True

    async def test_partner_incubator_members_are_staff(self, client: httpx.AsyncClient) -> None:
        city = await make_city(client)
        partner = await factories.person(client)
        uni = await factories.make_org(
            kind=factories.OrganizationKind.university, members={partner.user: factories.Role.owner}
        )
        programme_id = await helpers.programme(client, city, partner_organization_id=uni.id)
        response = await client.post(
            f"/api/v1/programmes/{programme_id}/cohorts",
            json=helpers.cohort_body(),
            headers=partner.headers,
        )
        assert response.status_code == 201, response.text


class TestOffers:
    async def test_winner_is_offered_a_place_once_and_accepts(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        world = await helpers.offered(client, settings)
        assert await run_offers(settings) == 0, "a second run offers nothing more"
        place = await Place.get(id=world.place_id)
        assert place.status.value == "offered"
        assert place.award_id == world.a.award_id
        assert place.organization_id == world.a.winner_org
        # Before accepting, the public cohort page does not list the startup.
        public = await client.get(f"/api/v1/cohorts/{world.cohort_id}")
        assert public.json()["members"] == []
        # Only the startup answers its offer.
        other, _org = await helpers.startup(client)
        stolen = await client.post(f"/api/v1/places/{world.place_id}/accept", headers=other.headers)
        assert stolen.status_code == 404
        accepted = await client.post(
            f"/api/v1/places/{world.place_id}/accept", headers=world.a.winner.headers
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["status"] == "admitted"
        again = await client.post(
            f"/api/v1/places/{world.place_id}/accept", headers=world.a.winner.headers
        )
        assert again.status_code == 409
        public = (await client.get(f"/api/v1/cohorts/{world.cohort_id}")).json()
        (member,) = public["members"]
        assert member["organization_id"] == world.a.winner_org
        assert member["challenge_id"] == world.a.challenge_id
        assert member["project_status"] == "incubating"
        assert public["admitted"] == 1
        project = await Project.get(place_id=world.place_id)
        assert project.award_id == world.a.award_id
        assert await AuditEvent.filter(action="incubation.place.accept").count() == 1

    async def test_winner_may_refuse_with_a_reason(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        world = await helpers.offered(client, settings)
        empty = await client.post(
            f"/api/v1/places/{world.place_id}/refuse",
            json={"reason": ""},
            headers=world.a.winner.headers,
        )
        assert empty.status_code == 422
        assert "reason" in empty.json()["fields"]
        refused = await client.post(
            f"/api/v1/places/{world.place_id}/refuse",
            json={"reason": "We are moving to another city."},
            headers=world.a.winner.headers,
        )
        assert refused.status_code == 200
        assert refused.json()["status"] == "refused"
        assert not await Project.filter(place_id=world.place_id).exists()

    async def test_no_offer_without_a_cohort_then_one_when_it_opens(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        a = await helpers.awarded(client)
        programme_id = await helpers.programme(client, a.city)
        assert await run_offers(settings) == 0
        await helpers.cohort(client, a.city, programme_id)
        assert await run_offers(settings) == 1


class TestAdmission:
    async def test_apply_admit_decline_and_capacity(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        world = await helpers.offered(client, settings, capacity=2)
        # One startup applies and is admitted; the cohort holds two.
        await helpers.applied_and_admitted(client, world, ["water"])
        second, second_org = await helpers.startup(client)
        body = {
            "organization_id": second_org,
            "pitch": "An app that plans the routes of school buses.",
            "sectors": ["mobility", "education"],
        }
        bad = await client.post(
            f"/api/v1/cohorts/{world.cohort_id}/applications",
            json={**body, "sectors": ["not-a-sector"]},
            headers=second.headers,
        )
        assert bad.status_code == 422
        assert any(k.startswith("sectors") for k in bad.json()["fields"])
        for_others = await client.post(
            f"/api/v1/cohorts/{world.cohort_id}/applications",
            json={**body, "organization_id": world.a.winner_org},
            headers=second.headers,
        )
        assert for_others.status_code == 404
        applied = await client.post(
            f"/api/v1/cohorts/{world.cohort_id}/applications", json=body, headers=second.headers
        )
        assert applied.status_code == 201, applied.text
        twice = await client.post(
            f"/api/v1/cohorts/{world.cohort_id}/applications", json=body, headers=second.headers
        )
        assert twice.status_code == 422
        place_id = applied.json()["id"]
        # The applicant cannot admit itself.
        self_admit = await client.post(f"/api/v1/places/{place_id}/admit", headers=second.headers)
        assert self_admit.status_code == 404
        admitted = await client.post(
            f"/api/v1/places/{place_id}/admit", headers=world.city.manager.headers
        )
        assert admitted.status_code == 200
        # The winner's offer now finds the cohort full.
        full = await client.post(
            f"/api/v1/places/{world.place_id}/accept", headers=world.a.winner.headers
        )
        assert full.status_code == 409
        assert (await Place.get(id=world.place_id)).status.value == "offered"

    async def test_declined_with_a_reason(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        world = await helpers.offered(client, settings)
        person, org_id = await helpers.startup(client)
        applied = await client.post(
            f"/api/v1/cohorts/{world.cohort_id}/applications",
            json={
                "organization_id": org_id,
                "pitch": "A marketplace for used furniture.",
                "sectors": ["waste"],
            },
            headers=person.headers,
        )
        place_id = applied.json()["id"]
        no_reason = await client.post(
            f"/api/v1/places/{place_id}/decline", json={}, headers=world.city.manager.headers
        )
        assert no_reason.status_code == 422
        assert "reason" in no_reason.json()["fields"]
        declined = await client.post(
            f"/api/v1/places/{place_id}/decline",
            json={"reason": "Outside the programme's focus this year."},
            headers=world.city.manager.headers,
        )
        assert declined.status_code == 200
        seen = await client.get(f"/api/v1/places/{place_id}", headers=person.headers)
        assert seen.json()["status"] == "declined"
        assert seen.json()["reason"] == "Outside the programme's focus this year."
