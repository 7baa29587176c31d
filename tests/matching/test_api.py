"""Theses, profiles and recommendations through the API: who may, bad input, what is kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from starlette.applications import Starlette

from service import db
from service.accounts.models import Membership, OrganizationKind, Role
from service.applications.models import Application, ApplicationStatus
from service.audit.models import AuditEvent
from service.challenges.models import ChallengeStatus
from service.config import Settings
from service.matching.models import InvestorThesis, StartupProfile
from tests import factories
from tests.challenges.factories import make_draft_challenge
from tests.matching import helpers

THESIS = {
    "sectors": ["mobility", "energy"],
    "stages": ["seed", "series_a"],
    "ticket_min_minor": 100_000_00,
    "ticket_max_minor": 1_000_000_00,
    "regions": ["Valparaíso", "Madrid"],
    "text": "Electric buses and traffic data for cities",
}
PROFILE = {
    "sectors": ["mobility"],
    "stage": "seed",
    "funding_ask_minor": 300_000_00,
    "region": "Madrid",
    "text": "We plan bus routes around traffic",
    "dealflow_opt_in": True,
    "share_scores": False,
}


class TestThesis:
    async def test_owner_saves_members_read_others_do_not_see_it(
        self, client: httpx.AsyncClient
    ) -> None:
        owner = await factories.person(client)
        member = await factories.person(client)
        outsider = await factories.person(client)
        fund = await factories.make_org(
            kind=OrganizationKind.investor,
            members={owner.user: Role.owner, member.user: Role.member},
        )
        url = f"/api/v1/investors/{fund.id}/thesis"
        saved = await client.put(url, json=THESIS, headers=owner.headers)
        assert saved.status_code == 200, saved.text
        assert saved.json()["sectors"] == ["mobility", "energy"]
        assert saved.json()["ranked"] is True
        read = await client.get(url, headers=member.headers)
        assert read.status_code == 200
        assert read.json()["ticket_max_minor"] == 1_000_000_00
        assert read.json()["regions"] == ["Valparaíso", "Madrid"]
        refused = await client.put(url, json={**THESIS, "text": "x"}, headers=member.headers)
        assert refused.status_code == 403
        assert (await client.get(url, headers=outsider.headers)).status_code == 404
        assert (await client.get(url)).status_code == 401
        thesis = await InvestorThesis.get(organization_id=fund.id)
        assert thesis.text == THESIS["text"]
        assert await AuditEvent.filter(
            action="matching.thesis.saved", organization_id=fund.id
        ).exists()

    async def test_bad_input_names_the_field_and_changes_nothing(
        self, client: httpx.AsyncClient
    ) -> None:
        owner = await factories.person(client)
        fund = await factories.make_org(
            kind=OrganizationKind.investor, members={owner.user: Role.owner}
        )
        url = f"/api/v1/investors/{fund.id}/thesis"
        assert (await client.put(url, json=THESIS, headers=owner.headers)).status_code == 200
        for body, field in [
            ({**THESIS, "sectors": ["space travel"]}, "sectors"),
            ({**THESIS, "stages": ["unicorn"]}, "stages"),
            ({**THESIS, "ticket_min_minor": -5}, "ticket_min_minor"),
            ({**THESIS, "currency": "XYZ"}, "currency"),
            ({**THESIS, "regions": ["  "]}, "regions"),
        ]:
            response = await client.put(url, json=body, headers=owner.headers)
            assert response.status_code == 422, body
            assert any(field in key for key in response.json()["fields"]), response.json()
        backwards = {**THESIS, "ticket_min_minor": 10**9, "ticket_max_minor": 10**6}
        response = await client.put(url, json=backwards, headers=owner.headers)
        assert response.status_code == 422
        assert "ticket_max_minor" in str(response.json())
        thesis = await InvestorThesis.get(organization_id=fund.id)
        assert thesis.sectors == ["mobility", "energy"]
        assert thesis.ticket_min_minor == 100_000_00

    async def test_only_investors_keep_a_thesis(self, client: httpx.AsyncClient) -> None:
        owner = await factories.person(client)
        company = await factories.make_org(members={owner.user: Role.owner})
        url = f"/api/v1/investors/{company.id}/thesis"
        assert (await client.put(url, json=THESIS, headers=owner.headers)).status_code == 404
        assert not await InvestorThesis.exists()

    async def test_an_unverified_investor_is_told_it_is_not_ranked_yet(
        self, client: httpx.AsyncClient
    ) -> None:
        owner = await factories.person(client)
        fund = await factories.make_org(
            kind=OrganizationKind.investor, verified=False, members={owner.user: Role.owner}
        )
        url = f"/api/v1/investors/{fund.id}/thesis"
        response = await client.put(url, json=THESIS, headers=owner.headers)
        assert response.status_code == 200
        assert response.json()["ranked"] is False


class TestProfile:
    async def test_owner_saves_a_profile_and_the_track_record_is_read_not_typed(
        self, client: httpx.AsyncClient
    ) -> None:
        owner = await factories.person(client)
        member = await factories.person(client)
        company = await factories.make_org(
            members={owner.user: Role.owner, member.user: Role.member}
        )
        await helpers.win_challenge(company, on_time=True)
        url = f"/api/v1/startups/{company.id}/profile"
        # A track record in the body is not accepted: it comes from the platform.
        sneaky = await client.put(
            url, json={**PROFILE, "track": {"wins": 9}}, headers=owner.headers
        )
        assert sneaky.status_code == 422
        saved = await client.put(url, json=PROFILE, headers=owner.headers)
        assert saved.status_code == 200, saved.text
        track = saved.json()["track"]
        assert track["wins"] == 1
        assert track["milestones_delivered"] == 1
        assert track["milestones_on_time"] == 1
        assert track["payouts"] == 1
        assert 0 < track["score"] <= 1
        read = await client.get(url, headers=member.headers)
        assert read.json()["stage"] == "seed"
        assert (await client.put(url, json=PROFILE, headers=member.headers)).status_code == 403
        event = await AuditEvent.get(action="matching.profile.saved", organization_id=company.id)
        assert event.details["dealflow_opt_in"] is True

    async def test_universities_and_research_centres_too_but_not_cities_or_investors(
        self, client: httpx.AsyncClient
    ) -> None:
        owner = await factories.person(client)
        # Only a startup asks for funding: the others keep a profile without an ask.
        no_ask = {**PROFILE, "funding_ask_minor": None}
        for kind, status in [
            (OrganizationKind.university, 200),
            (OrganizationKind.research_center, 200),
            (OrganizationKind.investor, 404),
        ]:
            org = await factories.make_org(kind=kind, members={owner.user: Role.owner})
            url = f"/api/v1/startups/{org.id}/profile"
            response = await client.put(url, json=no_ask, headers=owner.headers)
            assert response.status_code == status, (kind, response.text)
            if kind is not OrganizationKind.investor:
                asking = await client.put(url, json=PROFILE, headers=owner.headers)
                assert asking.status_code == 422, (kind, asking.text)
                assert "funding_ask_minor" in asking.json()["fields"]
        assert await StartupProfile.all().count() == 2
        assert not await StartupProfile.filter(funding_ask_minor__isnull=False).exists()

    async def test_bad_input_changes_nothing(self, client: httpx.AsyncClient) -> None:
        owner = await factories.person(client)
        company = await factories.make_org(members={owner.user: Role.owner})
        url = f"/api/v1/startups/{company.id}/profile"
        assert (await client.put(url, json=PROFILE, headers=owner.headers)).status_code == 200
        for body, field in [
            ({**PROFILE, "stage": "unicorn"}, "stage"),
            ({**PROFILE, "funding_ask_minor": 0}, "funding_ask_minor"),
            ({**PROFILE, "sectors": "mobility"}, "sectors"),
            ({**PROFILE, "dealflow_opt_in": "maybe"}, "dealflow_opt_in"),
        ]:
            response = await client.put(url, json=body, headers=owner.headers)
            assert response.status_code == 422, body
            assert any(field in key for key in response.json()["fields"]), response.json()
        profile = await StartupProfile.get(organization_id=company.id)
        assert profile.stage == "seed"
        assert profile.funding_ask_minor == 300_000_00


async def open_challenge(city: object, **fields: object) -> int:
    now = datetime.now(UTC)
    values: dict[str, object] = {
        "status": ChallengeStatus.open,
        "published_at": now - timedelta(days=1),
        "opens_at": now - timedelta(days=1),
    }
    values.update(fields)
    async with db.transaction(None):
        challenge = await make_draft_challenge(city, **values)  # type: ignore[arg-type]
    return challenge.id


class TestRecommendedChallenges:
    async def test_ranked_by_sector_and_eligibility_with_reasons(
        self, client: httpx.AsyncClient
    ) -> None:
        owner = await factories.person(client)
        company, _ = await helpers.startup(
            sectors=["water"], region="Madrid", text="Sensores de calidad del agua en ríos"
        )
        async with db.transaction(None):
            await Membership.create(user=owner.user, organization=company, role=Role.owner)
        city = await factories.make_org(kind=OrganizationKind.government)
        water = await open_challenge(
            city,
            title="Agua limpia en los ríos",
            summary="Medir la calidad del agua",
            problem_statement="Los ríos tienen contaminación; necesitamos sensores de agua.",
            area="water",
            region="Madrid",
        )
        buses = await open_challenge(city, area="mobility", region="Lisboa")
        for_universities = await open_challenge(
            city, area="water", eligible_kinds=["university"], title="Water research"
        )
        already = await open_challenge(city, area="water", title="Water meters")
        closed = await open_challenge(city, area="water", status=ChallengeStatus.closed)
        async with db.transaction(None):
            await Application.create(
                challenge_id=already,
                organization=company,
                title="Meters",
                summary="s",
                status=ApplicationStatus.submitted,
            )
        url = f"/api/v1/organizations/{company.id}/recommended-challenges"
        response = await client.get(url, headers=owner.headers)
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        ids = [item["challenge_id"] for item in items]
        assert ids == [water, buses]
        assert for_universities not in ids and already not in ids and closed not in ids
        best = items[0]
        assert best["components"]["area"] == 1.0
        assert best["components"]["region"] == 1.0
        codes = [r["code"] for r in best["reasons"]]
        assert codes[0] == "area"
        # The reasons are the components that add most (weights from settings), strongest first.
        weights = Settings().recommendation_weights
        component = {"area": "area", "sdg": "sdg", "region": "region", "description": "text"}
        added = [weights[component[c]] * best["components"][component[c]] for c in codes]
        assert added == sorted(added, reverse=True)
        assert len(codes) == 3
        assert best["reasons"][0]["text"] == "in your sector: Water"
        assert response.json()["next_cursor"] is None

    async def test_only_the_organizations_members(self, client: httpx.AsyncClient) -> None:
        outsider = await factories.person(client)
        company, _ = await helpers.startup()
        url = f"/api/v1/organizations/{company.id}/recommended-challenges"
        assert (await client.get(url, headers=outsider.headers)).status_code == 404
        assert (await client.get(url)).status_code == 401


class TestOrganizationPage:
    async def test_members_see_challenges_for_them_with_reasons_visitors_do_not(
        self, client: httpx.AsyncClient, app: Starlette
    ) -> None:
        member = await factories.make_user()
        company, _ = await helpers.startup(sectors=["water"], region="Madrid")
        async with db.transaction(None):
            await Membership.create(user=member, organization=company, role=Role.member)
        city = await factories.make_org(kind=OrganizationKind.government)
        await open_challenge(city, title="Clean rivers", area="water", region="Madrid")
        await open_challenge(city, title="Quiet streets", area="culture", region="Lisboa")
        visitor = await client.get(f"/organizations/{company.id}")
        assert visitor.status_code == 200
        assert "Challenges for you" not in visitor.text
        await factories.web_signin(client, member)
        page = await client.get(f"/organizations/{company.id}")
        assert page.status_code == 200
        assert "Challenges for you" in page.text
        assert page.text.index("Clean rivers") < page.text.index("Quiet streets")
        assert "in your sector: Water" in page.text
        assert "same region: Madrid" in page.text
