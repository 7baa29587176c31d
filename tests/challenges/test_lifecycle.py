"""The lifecycle table, who may move a challenge, and the scheduler that follows the dates."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import time_machine
from starlette.applications import Starlette

from service import db
from service.applications.models import JudgeAssignment
from service.challenges import service as challenges
from service.challenges.models import (
    TRANSITIONS,
    Challenge,
    ChallengeStatus,
    StatusChange,
    can_move,
)
from service.challenges.tasks import advance_by_dates
from tests import factories
from tests.challenges.factories import challenge_body
from tests.challenges.helpers import make_city

S = ChallengeStatus
Worker = Callable[[], Awaitable[None]]

FORWARD = [S.draft, S.published, S.open, S.closed, S.judging, S.awarded, S.in_delivery, S.completed]


class TestTransitionTable:
    @pytest.mark.parametrize(("current", "target"), list(itertools.product(S, S)))
    def test_only_the_next_step_or_cancelling_is_allowed(
        self, current: ChallengeStatus, target: ChallengeStatus
    ) -> None:
        expected = False
        if current in FORWARD[:-1] and target is FORWARD[FORWARD.index(current) + 1]:
            expected = True
        if target is S.cancelled and current not in (S.completed, S.cancelled):
            expected = True
        assert can_move(current, target) is expected

    def test_every_state_has_a_row(self) -> None:
        assert set(TRANSITIONS) == set(S)


class TestWhoMovesIt:
    async def test_editor_drafts_manager_publishes(self, client: httpx.AsyncClient) -> None:
        city = await make_city(client)
        created = await client.post(
            "/api/v1/challenges", json=challenge_body(city.org), headers=city.editor.headers
        )
        assert created.status_code == 201, created.text
        challenge_id = created.json()["id"]
        assert created.json()["status"] == "draft"
        for who in (city.editor, city.finance):
            refused = await client.post(
                f"/api/v1/challenges/{challenge_id}/publish", headers=who.headers
            )
            assert refused.status_code == 403
        published = await client.post(
            f"/api/v1/challenges/{challenge_id}/publish", headers=city.manager.headers
        )
        assert published.status_code == 200, published.text
        # Opens tomorrow: shown as upcoming until then.
        assert published.json()["status"] == "upcoming"
        again = await client.post(
            f"/api/v1/challenges/{challenge_id}/publish", headers=city.manager.headers
        )
        assert again.status_code == 409

    async def test_finance_cannot_draft(self, client: httpx.AsyncClient) -> None:
        city = await make_city(client)
        refused = await client.post(
            "/api/v1/challenges", json=challenge_body(city.org), headers=city.finance.headers
        )
        assert refused.status_code == 403
        assert await Challenge.all().count() == 0

    async def test_unverified_government_cannot_publish(self, client: httpx.AsyncClient) -> None:
        city = await make_city(client, verified=False)
        created = await client.post(
            "/api/v1/challenges", json=challenge_body(city.org), headers=city.manager.headers
        )
        refused = await client.post(
            f"/api/v1/challenges/{created.json()['id']}/publish", headers=city.manager.headers
        )
        assert refused.status_code == 403 and refused.json()["error"] == "NotVerified"
        assert (await Challenge.get(id=created.json()["id"])).status is S.draft

    async def test_cancel_by_manager_with_reason_then_nothing_moves_it(
        self, client: httpx.AsyncClient
    ) -> None:
        city = await make_city(client)
        challenge_id = (
            await client.post(
                "/api/v1/challenges", json=challenge_body(city.org), headers=city.editor.headers
            )
        ).json()["id"]
        no_reason = await client.post(
            f"/api/v1/challenges/{challenge_id}/cancel", json={}, headers=city.manager.headers
        )
        assert no_reason.status_code == 422
        by_editor = await client.post(
            f"/api/v1/challenges/{challenge_id}/cancel",
            json={"reason": "Budget moved"},
            headers=city.editor.headers,
        )
        assert by_editor.status_code == 403
        done = await client.post(
            f"/api/v1/challenges/{challenge_id}/cancel",
            json={"reason": "Budget moved"},
            headers=city.manager.headers,
        )
        assert done.status_code == 200 and done.json()["status"] == "cancelled"
        for action in ("publish", "cancel"):
            response = await client.post(
                f"/api/v1/challenges/{challenge_id}/{action}",
                json={"reason": "again please"},
                headers=city.manager.headers,
            )
            assert response.status_code == 409

    async def test_completed_challenge_cannot_be_cancelled(
        self, client: httpx.AsyncClient, app: Starlette
    ) -> None:
        city = await make_city(client)
        challenge_id = (
            await client.post(
                "/api/v1/challenges", json=challenge_body(city.org), headers=city.editor.headers
            )
        ).json()["id"]
        async with db.transaction(None):
            await Challenge.filter(id=challenge_id).update(status=S.completed)
        response = await client.post(
            f"/api/v1/challenges/{challenge_id}/cancel",
            json={"reason": "Too late now"},
            headers=city.manager.headers,
        )
        assert response.status_code == 409


class TestScheduler:
    async def _published(
        self, client: httpx.AsyncClient, opens_in: timedelta, open_for: timedelta
    ) -> int:
        city = await make_city(client)
        now = datetime.now(UTC)
        body = challenge_body(
            city.org,
            opens_at=(now + opens_in).isoformat(),
            closes_at=(now + opens_in + open_for).isoformat(),
        )
        challenge_id = (
            await client.post("/api/v1/challenges", json=body, headers=city.editor.headers)
        ).json()["id"]
        published = await client.post(
            f"/api/v1/challenges/{challenge_id}/publish", headers=city.manager.headers
        )
        assert published.status_code == 200, published.text
        return int(challenge_id)

    async def test_dates_move_it_at_the_right_time_and_twice_changes_nothing(
        self, client: httpx.AsyncClient, app: Starlette
    ) -> None:
        challenge_id = await self._published(client, timedelta(hours=2), timedelta(days=3))
        deps = app.state.deps
        start = datetime.now(UTC)
        with time_machine.travel(start + timedelta(hours=1), tick=False):
            assert await advance_by_dates(deps) == 0
        assert (await Challenge.get(id=challenge_id)).status is S.published
        with time_machine.travel(start + timedelta(hours=2, minutes=1), tick=False):
            assert await advance_by_dates(deps) == 1
            assert await advance_by_dates(deps) == 0
        assert (await Challenge.get(id=challenge_id)).status is S.open
        with time_machine.travel(start + timedelta(days=3, hours=3), tick=False):
            assert await advance_by_dates(deps) == 1
            assert await advance_by_dates(deps) == 0
        assert (await Challenge.get(id=challenge_id)).status is S.closed
        # Judging starts when the deadline has passed and a judge is assigned.
        async with db.transaction(None):
            await JudgeAssignment.create(
                challenge_id=challenge_id, user=await factories.make_user()
            )
        with time_machine.travel(start + timedelta(days=3, hours=4), tick=False):
            assert await advance_by_dates(deps) == 1
            assert await advance_by_dates(deps) == 0
        assert (await Challenge.get(id=challenge_id)).status is S.judging
        history = [c.to_status for c in await StatusChange.filter(challenge_id=challenge_id)]
        assert history == ["published", "open", "closed", "judging"]

    async def test_catches_up_after_downtime_dating_each_step_when_it_was_due(
        self, client: httpx.AsyncClient, app: Starlette
    ) -> None:
        challenge_id = await self._published(client, timedelta(days=1), timedelta(days=2))
        challenge = await Challenge.get(id=challenge_id)
        with time_machine.travel(datetime.now(UTC) + timedelta(days=10), tick=False):
            assert await advance_by_dates(app.state.deps) == 2
        steps = {c.to_status: c.at for c in await StatusChange.filter(challenge_id=challenge_id)}
        assert steps["open"] == challenge.opens_at
        assert steps["closed"] == challenge.closes_at

    async def test_runs_on_a_real_worker(
        self, client: httpx.AsyncClient, app: Starlette, worker_burst: Worker
    ) -> None:
        challenge_id = await self._published(client, timedelta(days=1), timedelta(days=2))
        async with db.transaction(None):
            await Challenge.filter(id=challenge_id).update(
                opens_at=datetime.now(UTC) - timedelta(minutes=5)
            )
        # The cron job runs at worker start-up.
        await worker_burst()
        assert (await Challenge.get(id=challenge_id)).status is S.open

    async def test_publishing_after_the_opening_date_opens_at_once(
        self, client: httpx.AsyncClient
    ) -> None:
        challenge_id = await self._published(client, timedelta(hours=-1), timedelta(days=2))
        assert (await Challenge.get(id=challenge_id)).status is S.open

    async def test_move_refuses_a_skipped_step(self, client: httpx.AsyncClient) -> None:
        challenge_id = await self._published(client, timedelta(days=1), timedelta(days=2))
        challenge = await Challenge.get(id=challenge_id)
        with pytest.raises(challenges.TransitionNotAllowed):
            async with db.transaction(None):
                await challenges.move(None, challenge, S.awarded, datetime.now(UTC))
        assert (await Challenge.get(id=challenge_id)).status is S.published
