"""ASVS V8.2.2 / V2.3.5 (5.0): conflicts of interest do not rest on the judge's word.

A judge who is a member of an applicant organization (the lead or a partner) is recused from
that application without declaring it, and from every application of the challenge when the
manager chose so at assignment. Memberships are read as they are now: a judge who joins an
applicant later is recused from then on, and the scores they gave it before are set aside in
the ranking, said there, and kept in the database.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from starlette.applications import Starlette

from service import db
from service.accounts.models import Membership, OrganizationKind, Role
from service.applications.models import JudgeAssignment, Review
from tests import factories
from tests.challenges.helpers import City
from tests.challenges.test_applications import applicant, draft, open_challenge
from tests.challenges.test_judging_awards import closed_with_applications, judge, scores_for
from tests.rewards.test_pages import browser, notice_after, text_of

ONE_SET_ASIDE = "1 score set aside: the judge is a member of the applicant"


async def assign(
    client: httpx.AsyncClient,
    city: City,
    challenge_id: int,
    person: factories.Person,
    **options: bool,
) -> httpx.Response:
    return await client.post(
        f"/api/v1/challenges/{challenge_id}/judges",
        json={"user_id": person.user.id, **options},
        headers=city.manager.headers,
    )


async def score(
    client: httpx.AsyncClient, who: factories.Person, challenge_id: int, app_id: int, value: int
) -> httpx.Response:
    return await client.post(
        f"/api/v1/applications/{app_id}/reviews",
        json={"scores": await scores_for(challenge_id, [value, value])},
        headers=who.headers,
    )


async def ranking(client: httpx.AsyncClient, city: City, challenge_id: int) -> dict[int, dict]:
    response = await client.get(
        f"/api/v1/challenges/{challenge_id}/ranking", headers=city.editor.headers
    )
    assert response.status_code == 200, response.text
    return {item["application_id"]: item for item in response.json()["items"]}


async def judging(client: httpx.AsyncClient, who: factories.Person, challenge_id: int) -> dict:
    response = await client.get(f"/api/v1/challenges/{challenge_id}/judging", headers=who.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def join(person: factories.Person, org_id: int) -> None:
    async with db.transaction(None):
        await Membership.create(user=person.user, organization_id=org_id, role=Role.member)


class TestAssignedApplicantV8_2_2:
    """ASVS V8.2.2: a judge who applied is recused by the platform, not by themselves."""

    async def test_a_startup_owner_cannot_score_his_own_application(
        self, client: httpx.AsyncClient
    ) -> None:
        # The defect as found: the owner of a startup, assigned as judge, gave his own
        # application 10 and the rival 0, and ranked first.
        city, challenge_id, apps = await closed_with_applications(client)
        (owner, _, own), (_, _, rival) = apps
        assert (await assign(client, city, challenge_id, owner)).status_code == 201
        refused = await score(client, owner, challenge_id, own, 10)
        assert refused.status_code == 404, refused.text
        assert not await Review.filter(application_id=own).exists()
        # Recused from his own application only, unless the manager said otherwise.
        assert (await score(client, owner, challenge_id, rival, 0)).status_code == 200
        other = await judge(client, city, challenge_id)
        assert (await score(client, other, challenge_id, own, 6)).status_code == 200
        assert (await score(client, other, challenge_id, rival, 7)).status_code == 200
        rows = await ranking(client, city, challenge_id)
        assert rows[own]["reviews"] == 1 and rows[own]["score"] == 6.0
        progress = await judging(client, owner, challenge_id)
        item = next(i for i in progress["items"] if i["application_id"] == own)
        assert item["recused"] and item["title"] == ""
        assert (progress["total"], progress["recused"], progress["scored"]) == (2, 1, 1)

    async def test_a_member_of_a_partner_is_recused_too(self, client: httpx.AsyncClient) -> None:
        city, challenge_id = await open_challenge(client)
        lead, lead_org = await applicant(client)
        partner, partner_org = await applicant(client, kind=OrganizationKind.university)
        body = {"organization_id": partner_org, "role": "research", "share_pct": 20}
        app_id = (await draft(client, challenge_id, lead, lead_org, partners=[body])).json()["id"]
        accepted = await client.post(
            f"/api/v1/applications/{app_id}/partners/{partner_org}/accept",
            headers=partner.headers,
        )
        assert accepted.status_code == 200, accepted.text
        submitted = await client.post(f"/api/v1/applications/{app_id}/submit", headers=lead.headers)
        assert submitted.status_code == 200, submitted.text
        assert (await assign(client, city, challenge_id, partner)).status_code == 201
        # While the challenge is open a judge may declare; a partner's member may not.
        response = await client.post(
            f"/api/v1/applications/{app_id}/reviews",
            json={"conflict_of_interest": False},
            headers=partner.headers,
        )
        assert response.status_code == 404, response.text

    async def test_the_manager_may_recuse_the_judge_from_every_application(
        self, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id, apps = await closed_with_applications(client, count=3)
        owner, _, own = apps[0]
        response = await assign(client, city, challenge_id, owner, recuse_from_all=True)
        assert response.status_code == 201, response.text
        assert response.json()["recuse_from_all"] is True
        assert await JudgeAssignment.get(user_id=owner.user.id).values_list(
            "recuse_from_all", flat=True
        )
        for _, _, app_id in apps:
            assert (await score(client, owner, challenge_id, app_id, 0)).status_code == 404
        rival = apps[1][2]
        assert (
            await client.get(f"/api/v1/applications/{rival}", headers=owner.headers)
        ).status_code == 404
        progress = await judging(client, owner, challenge_id)
        assert progress["recused"] == 3
        assert all(i["title"] == "" and i["recused"] for i in progress["items"])
        assert not await Review.exists()
        assert own in {i["application_id"] for i in progress["items"]}


class TestJoinedLaterV8_2_2:
    """ASVS V8.2.2: joining an applicant after scoring it sets the scores aside."""

    async def test_earlier_scores_are_set_aside_visibly_and_kept(
        self, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id, apps = await closed_with_applications(client)
        (_, org_a, app_a), (_, _, app_b) = apps
        j = await judge(client, city, challenge_id)
        fair = await judge(client, city, challenge_id)
        assert (await score(client, j, challenge_id, app_a, 10)).status_code == 200
        assert (await score(client, j, challenge_id, app_b, 2)).status_code == 200
        assert (await score(client, fair, challenge_id, app_a, 4)).status_code == 200
        assert (await score(client, fair, challenge_id, app_b, 8)).status_code == 200
        before = await ranking(client, city, challenge_id)
        assert before[app_a]["rank"] == 1 and before[app_a]["set_aside"] == 0
        await join(j, org_a)
        after = await ranking(client, city, challenge_id)
        assert after[app_b]["rank"] == 1
        assert (after[app_a]["reviews"], after[app_a]["score"]) == (1, 4.0)
        assert after[app_a]["set_aside"] == 1
        assert after[app_a]["set_aside_note"] == ONE_SET_ASIDE
        # The judge's score of the rival still counts: only the manager's choice removes it.
        assert (after[app_b]["reviews"], after[app_b]["set_aside"]) == (2, 0)
        # Kept, not deleted.
        assert await Review.filter(application_id=app_a).count() == 2
        # Recused from then on: no new score, and the judging list says nothing of it.
        assert (await score(client, j, challenge_id, app_a, 9)).status_code == 404
        item = next(
            i
            for i in (await judging(client, j, challenge_id))["items"]
            if i["application_id"] == app_a
        )
        assert item["recused"] and item["title"] == "" and item["organization_name"] is None

    async def test_the_feedback_leaves_set_aside_scores_out(
        self, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id, apps = await closed_with_applications(client)
        (person, org_a, app_a), (_, _, app_b) = apps
        j = await judge(client, city, challenge_id)
        fair = await judge(client, city, challenge_id)
        assert (await score(client, j, challenge_id, app_a, 10)).status_code == 200
        assert (await score(client, fair, challenge_id, app_a, 2)).status_code == 200
        assert (await score(client, fair, challenge_id, app_b, 8)).status_code == 200
        await join(j, org_a)
        due = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        awarded = await client.post(
            f"/api/v1/challenges/{challenge_id}/awards",
            json={
                "application_id": app_b,
                "amount_minor": 100_000,
                "rationale": "The better plan.",
                "milestones": [{"title": "Pilot", "amount_minor": 100_000, "due_at": due}],
            },
            headers=city.manager.headers,
        )
        assert awarded.status_code == 201, awarded.text
        closed = await client.post(
            f"/api/v1/challenges/{challenge_id}/awards/close", headers=city.manager.headers
        )
        assert closed.status_code == 200, closed.text
        feedback = await client.get(
            f"/api/v1/applications/{app_a}/feedback", headers=person.headers
        )
        assert feedback.status_code == 200, feedback.text
        assert [c["average"] for c in feedback.json()["criteria"]] == [2.0, 2.0]


class TestPagesV8_2_2:
    """ASVS V8.2.2 on the pages: the option at assignment, and the ranking's note."""

    async def test_assign_with_the_option_and_read_the_set_aside_note(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id, apps = await closed_with_applications(client)
        (owner, org_a, app_a), (_, _, app_b) = apps
        async with browser(app, city.manager.user) as web:
            page = await web.get(f"/challenges/{challenge_id}/judges")
            assert re.search(r'<input[^>]*name="recuse_from_all"', page.text)
            done = await web.post(
                f"/challenges/{challenge_id}/judges",
                email=owner.user.email,
                recuse_from_all="1",
            )
            notice = await notice_after(web, done)
            assert "recused from every application of this challenge" in notice
        assignment = await JudgeAssignment.get(user_id=owner.user.id)
        assert assignment.recuse_from_all
        j = await judge(client, city, challenge_id)
        assert (await score(client, j, challenge_id, app_a, 9)).status_code == 200
        await join(j, org_a)
        async with browser(app, city.editor.user) as web:
            text = text_of(await web.get(f"/challenges/{challenge_id}/ranking"))
            assert ONE_SET_ASIDE in text
        async with browser(app, owner.user) as web:
            judging_page = await web.get(f"/judging/{challenge_id}")
            assert judging_page.status_code == 200
            assert "you are recused from every application" in text_of(judging_page)
            review_page = await web.get(f"/applications/{app_b}/review")
            assert review_page.status_code == 404
