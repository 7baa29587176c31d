"""Judges, conflicts, blind mode, the ranking endpoint, awards and their limits."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from service import db
from service.accounts.models import Membership, Role
from service.applications.models import Application, Award
from service.challenges import service as challenges_service
from service.challenges.models import Challenge, ChallengeStatus, Criterion
from service.config import Settings
from service.rewards.models import Milestone
from tests import factories
from tests.challenges.helpers import City, treasurer
from tests.challenges.test_applications import applicant, draft, open_challenge


async def closed_with_applications(
    client: httpx.AsyncClient, count: int = 2, *, fund: bool = True, **changes: Any
) -> tuple[City, int, list[tuple[factories.Person, int, int]]]:
    """An open challenge gets `count` submitted applications, then closes (judging starts)."""
    city, challenge_id = await open_challenge(client, **changes)
    if fund:
        # The whole reward goes into escrow by a recorded bank transfer.
        reward = (await Challenge.get(id=challenge_id)).reward_amount_minor
        funded = await client.post(
            f"/api/v1/challenges/{challenge_id}/funding",
            json={"amount_minor": reward, "method": "bank_transfer", "reference": "TR-1"},
            headers=(await treasurer(client, city)).headers,
        )
        assert funded.status_code == 201, funded.text
    apps = []
    for n in range(count):
        person, org_id = await applicant(client)
        async with db.transaction(None):
            from service.accounts.models import Organization

            await Organization.filter(id=org_id).update(name=f"Secret Startup {n}")
        app_id = (
            await draft(client, challenge_id, person, org_id, title=f"Plan number {n}")
        ).json()["id"]
        submitted = await client.post(
            f"/api/v1/applications/{app_id}/submit", headers=person.headers
        )
        assert submitted.status_code == 200, submitted.text
        apps.append((person, org_id, app_id))
    async with db.transaction(None):
        await Challenge.filter(id=challenge_id).update(
            closes_at=datetime.now(UTC) - timedelta(seconds=1)
        )
        await challenges_service.advance_all(now=datetime.now(UTC))
    assert (await Challenge.get(id=challenge_id)).status is ChallengeStatus.closed
    return city, challenge_id, apps


async def judge(client: httpx.AsyncClient, city: City, challenge_id: int) -> factories.Person:
    person = await factories.person(client)
    response = await client.post(
        f"/api/v1/challenges/{challenge_id}/judges",
        json={"user_id": person.user.id},
        headers=city.manager.headers,
    )
    assert response.status_code == 201, response.text
    return person


async def scores_for(challenge_id: int, values: list[int]) -> dict[str, int]:
    criteria = await Criterion.filter(challenge_id=challenge_id).order_by("position")
    return {str(c.id): v for c, v in zip(criteria, values, strict=True)}


class TestJudging:
    async def test_recused_judge_sees_nothing_and_progress_counts(
        self, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id, apps = await closed_with_applications(client)
        j = await judge(client, city, challenge_id)
        (_, _, first), (_, _, second) = apps
        recuse = await client.post(
            f"/api/v1/applications/{first}/reviews",
            json={"conflict_of_interest": True},
            headers=j.headers,
        )
        assert recuse.status_code == 200
        assert (
            await client.get(f"/api/v1/applications/{first}", headers=j.headers)
        ).status_code == 404
        assert (
            await client.post(
                f"/api/v1/applications/{first}/reviews",
                json={"scores": await scores_for(challenge_id, [5, 5])},
                headers=j.headers,
            )
        ).status_code == 404
        scored = await client.post(
            f"/api/v1/applications/{second}/reviews",
            json={"scores": await scores_for(challenge_id, [8, 6]), "comment": "Solid plan."},
            headers=j.headers,
        )
        assert scored.status_code == 200, scored.text
        progress = (
            await client.get(f"/api/v1/challenges/{challenge_id}/judging", headers=j.headers)
        ).json()
        assert (progress["total"], progress["scored"], progress["recused"]) == (2, 1, 1)
        recused_item = next(i for i in progress["items"] if i["application_id"] == first)
        assert recused_item["title"] == "" and recused_item["organization_name"] is None

    async def test_judge_sees_only_challenges_they_judge(self, client: httpx.AsyncClient) -> None:
        city, challenge_id, _ = await closed_with_applications(client, count=1)
        _, other_id, other_apps = await closed_with_applications(client, count=1)
        j = await judge(client, city, challenge_id)
        assert (
            await client.get(f"/api/v1/challenges/{other_id}/judging", headers=j.headers)
        ).status_code == 404
        assert (
            await client.get(f"/api/v1/applications/{other_apps[0][2]}", headers=j.headers)
        ).status_code == 404
        assert (
            await client.get(f"/api/v1/challenges/{challenge_id}/ranking", headers=j.headers)
        ).status_code == 404

    async def test_incomplete_or_out_of_range_scores_refused(
        self, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id, apps = await closed_with_applications(client, count=1)
        j = await judge(client, city, challenge_id)
        app_id = apps[0][2]
        partial = dict(list((await scores_for(challenge_id, [5, 5])).items())[:1])
        assert (
            await client.post(
                f"/api/v1/applications/{app_id}/reviews",
                json={"scores": partial},
                headers=j.headers,
            )
        ).status_code == 422
        assert (
            await client.post(
                f"/api/v1/applications/{app_id}/reviews",
                json={"scores": await scores_for(challenge_id, [11, 5])},
                headers=j.headers,
            )
        ).status_code == 422

    async def test_blind_mode_leaks_no_name_to_judges(self, client: httpx.AsyncClient) -> None:
        city, challenge_id, apps = await closed_with_applications(client, blind_judging=True)
        j = await judge(client, city, challenge_id)
        bodies = [
            (await client.get(f"/api/v1/challenges/{challenge_id}/judging", headers=j.headers)).text
        ]
        for _, _, app_id in apps:
            bodies.append(
                (await client.get(f"/api/v1/applications/{app_id}", headers=j.headers)).text
            )
            bodies.append(
                (
                    await client.post(
                        f"/api/v1/applications/{app_id}/reviews",
                        json={"scores": await scores_for(challenge_id, [7, 7])},
                        headers=j.headers,
                    )
                ).text
            )
        for body in bodies:
            assert "Secret Startup" not in body, body
        # The city still sees who applied.
        staff = (
            await client.get(f"/api/v1/applications/{apps[0][2]}", headers=city.editor.headers)
        ).json()
        assert staff["organization_name"] == "Secret Startup 0"


class TestRankingAndAwards:
    async def _scored(self, client: httpx.AsyncClient) -> tuple[City, int, list[int]]:
        city, challenge_id, apps = await closed_with_applications(client)
        j1, j2 = await judge(client, city, challenge_id), await judge(client, city, challenge_id)
        ids = [a[2] for a in apps]
        plan = [
            (j1, ids[0], [8, 6]),
            (j1, ids[1], [5, 5]),
            (j2, ids[0], [6, 6]),
            (j2, ids[1], [9, 9]),
        ]
        for who, app_id, values in plan:
            response = await client.post(
                f"/api/v1/applications/{app_id}/reviews",
                json={"scores": await scores_for(challenge_id, values), "comment": "Noted."},
                headers=who.headers,
            )
            assert response.status_code == 200
        return city, challenge_id, ids

    async def test_ranking_endpoint_matches_hand_computation(
        self, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id, ids = await self._scored(client)
        # Weights 60/40: app 0 -> (7.2 + 6.0) / 2 = 6.6; app 1 -> (5 + 9) / 2 = 7.0.
        ranking = (
            await client.get(
                f"/api/v1/challenges/{challenge_id}/ranking", headers=city.editor.headers
            )
        ).json()
        assert [(i["application_id"], i["score"]) for i in ranking["items"]] == [
            (ids[1], 7.0),
            (ids[0], 6.6),
        ]
        assert ranking["items"][0]["disagreement"] is True
        assert all(i["reviews"] == 2 for i in ranking["items"])

    async def test_award_with_milestones_then_feedback_and_public_winners(
        self, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id, ids = await self._scored(client)
        due = (datetime.now(UTC) + timedelta(days=60)).isoformat()
        body = {
            "application_id": ids[1],
            "amount_minor": 3_000_000,
            "rationale": "Best plan for the north district.",
            "milestones": [
                {"title": "Pilot", "amount_minor": 1_000_000, "due_at": due},
                {"title": "Rollout", "amount_minor": 1_500_000, "due_at": due},
                {"title": "Report", "amount_minor": 500_000, "due_at": due},
            ],
        }
        wrong_sum = {**body, "amount_minor": 3_000_001}
        assert (
            await client.post(
                f"/api/v1/challenges/{challenge_id}/awards",
                json=wrong_sum,
                headers=city.manager.headers,
            )
        ).status_code == 422
        assert (
            await client.post(
                f"/api/v1/challenges/{challenge_id}/awards", json=body, headers=city.editor.headers
            )
        ).status_code == 403
        awarded = await client.post(
            f"/api/v1/challenges/{challenge_id}/awards", json=body, headers=city.manager.headers
        )
        assert awarded.status_code == 201, awarded.text
        assert [m["title"] for m in awarded.json()["milestones"]] == ["Pilot", "Rollout", "Report"]
        assert await Milestone.all().count() == 3
        closed = await client.post(
            f"/api/v1/challenges/{challenge_id}/awards/close", headers=city.manager.headers
        )
        assert closed.json()["not_awarded"] == 1
        public = (await client.get(f"/api/v1/challenges/{challenge_id}")).json()
        assert public["status"] == "in_delivery"
        assert public["winners"][0]["rationale"] == "Best plan for the north district."
        loser = await Application.get(id=ids[0]).prefetch_related("organization")
        assert loser.status.value == "not_awarded"

    async def test_awards_never_exceed_the_funds(self, client: httpx.AsyncClient) -> None:
        city, challenge_id, ids = await self._scored(client)
        due = (datetime.now(UTC) + timedelta(days=60)).isoformat()

        def body(app_id: int, amount: int) -> dict[str, Any]:
            return {
                "application_id": app_id,
                "amount_minor": amount,
                "rationale": "Good work.",
                "milestones": [{"title": "All", "amount_minor": amount, "due_at": due}],
            }

        over = await client.post(
            f"/api/v1/challenges/{challenge_id}/awards",
            json=body(ids[0], 5_000_001),
            headers=city.manager.headers,
        )
        assert over.status_code == 409 and over.json()["error"] == "ExceedsFunds"
        assert await Award.all().count() == 0


async def test_two_awards_at_the_same_moment_leave_exactly_one(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """Two managers award 3,000,000 each from a 5,000,000 pool at the same moment.

    A third connection holds the awards table while both requests start, so that both are
    inside their transactions before either can read what is already awarded.
    """
    city, challenge_id, apps = await closed_with_applications(client)
    await judge(client, city, challenge_id)
    second_manager = await factories.person(client)
    async with db.transaction(None):
        await Membership.create(user=second_manager.user, organization=city.org, role=Role.manager)
    due = (datetime.now(UTC) + timedelta(days=60)).isoformat()

    def body(app_id: int) -> dict[str, Any]:
        return {
            "application_id": app_id,
            "amount_minor": 3_000_000,
            "rationale": "Good work.",
            "milestones": [{"title": "All", "amount_minor": 3_000_000, "due_at": due}],
        }

    blocker = await asyncpg.connect(settings.database_url.replace("postgres://", "postgresql://"))
    try:
        transaction = blocker.transaction()
        await transaction.start()
        await blocker.execute("LOCK TABLE awards IN ACCESS EXCLUSIVE MODE")
        requests = [
            asyncio.create_task(
                client.post(
                    f"/api/v1/challenges/{challenge_id}/awards",
                    json=body(apps[0][2]),
                    headers=city.manager.headers,
                )
            ),
            asyncio.create_task(
                client.post(
                    f"/api/v1/challenges/{challenge_id}/awards",
                    json=body(apps[1][2]),
                    headers=second_manager.headers,
                )
            ),
        ]
        for _ in range(100):
            # Statistics are a snapshot per transaction: take a fresh one each time.
            await blocker.execute("SELECT pg_stat_clear_snapshot()")
            waiting = await blocker.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
            if waiting >= 2:
                break
            await asyncio.sleep(0.05)
        assert waiting >= 2, "both requests should be waiting inside their transactions"
        await transaction.commit()
        results = await asyncio.gather(*requests)
    finally:
        await blocker.close()
    assert sorted(r.status_code for r in results) == [201, 409], [r.text for r in results]
    assert await Award.all().count() == 1
