"""The demo's incubation: what `make run` shows on an empty database."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from starlette.applications import Starlette

from service import db
from service.accounts.actor import Actor
from service.config import Settings
from service.core.context import Context
from service.demo import SetAside, seed_organizations, seed_people
from service.incubation import service as incubation
from service.incubation.demo import seed_incubation
from service.incubation.models import CheckIn, Cohort, Light, Mentor, MentorStatus, Project


async def seed_until_incubation(settings: Settings) -> None:
    from service.applications.demo import seed_applications
    from service.challenges.demo import seed_challenges
    from service.rewards.demo import seed_escrow, seed_rewards

    for step in (
        seed_organizations,
        seed_people,
        seed_challenges,
        seed_escrow,
        seed_applications,
        seed_rewards,
        seed_incubation,
    ):
        async with db.transaction(SetAside()):
            await step(settings)


class TestDemoIncubation:
    async def test_running_cohort_with_mentors_late_and_red_check_ins_and_a_pilot(
        self, app: Starlette, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        await seed_until_incubation(settings)
        (cohort,) = await Cohort.all()
        now = datetime.now(UTC)
        assert incubation.cohort_state(cohort, now) == "running"
        rows = await incubation.board(cohort, now=now)
        assert len(rows) == 3
        assert all(r.mentors for r in rows), "every startup has a mentor"
        assert any(r.late for r in rows)
        assert sum(r.flagged for r in rows) == 1
        assert await CheckIn.filter(light=Light.red).exists()
        assert await CheckIn.exclude(mentor_note="").exists()
        assert await Mentor.filter(status=MentorStatus.invited).count() == 1
        (running,) = await Project.filter(status="pilot_running")
        assert running.award_id is not None
        page = await client.get(f"/cohorts/{cohort.id}")
        assert page.status_code == 200
        assert "RutaViva Mobility" in page.text
        assert "Pilot running" in page.text
        challenge = await client.get(f"/challenges/{running.challenge_id}")
        assert "From prize to pilot" in challenge.text
        # A second run of the cron job finds nothing new to tell.
        async with db.transaction(None):
            again = await incubation.check_in_alerts(
                Context(actor=Actor(), settings=settings), now=now
            )
        assert again == (0, 0)
