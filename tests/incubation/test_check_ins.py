"""Check-ins per cadence step, and the cron job that reminds the late and flags to the staff a
startup red or late twice in a row, at the right times (time travel), harmless when run twice.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import time_machine
from starlette.applications import Starlette

from service.config import Settings
from service.incubation import tasks
from service.incubation.models import Cadence, CheckIn, CheckInAlert, Cohort, current_step
from service.notifications.models import Notification, OutboxEmail
from tests import factories
from tests.incubation import helpers


async def alerts(app: Starlette) -> tuple[int, int]:
    """The real cron job, as the worker runs it."""
    return await tasks.check_in_alerts(app.state.deps)


async def file(
    client: httpx.AsyncClient, person: factories.Person, place_id: int, status: str
) -> httpx.Response:
    # Bearer tokens last 15 minutes: after travelling in time, sign in again.
    token = await factories.token_for(client, person.user)
    return await client.post(
        f"/api/v1/places/{place_id}/check-ins",
        json={"progress": "Field tests in two districts.", "status": status},
        headers={"Authorization": f"Bearer {token}"},
    )


class TestSteps:
    def test_steps_of_each_cadence(self) -> None:
        start = datetime(2026, 1, 31, 9, tzinfo=UTC)
        assert current_step(start, Cadence.weekly, start - timedelta(seconds=1)) == -1
        assert current_step(start, Cadence.weekly, start + timedelta(days=6, hours=23)) == 0
        assert current_step(start, Cadence.weekly, start + timedelta(days=7)) == 1
        assert current_step(start, Cadence.fortnightly, start + timedelta(days=29)) == 2
        # Monthly steps keep the day of the month (the last day when a month is shorter).
        assert current_step(start, Cadence.monthly, datetime(2026, 2, 27, tzinfo=UTC)) == 0
        assert current_step(start, Cadence.monthly, datetime(2026, 2, 28, 9, tzinfo=UTC)) == 1
        assert current_step(start, Cadence.monthly, datetime(2026, 3, 31, 9, tzinfo=UTC)) == 2


class TestFiling:
    async def test_one_check_in_per_step_and_a_late_one_is_marked(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        world = await helpers.admitted(client, settings)
        winner = world.a.winner
        bad = await client.post(
            f"/api/v1/places/{world.place_id}/check-ins",
            json={"progress": "", "status": "purple"},
            headers=winner.headers,
        )
        assert bad.status_code == 422
        assert {"progress", "status"} <= set(bad.json()["fields"])
        assert await CheckIn.filter(place_id=world.place_id).count() == 0
        first = await file(client, winner, world.place_id, "green")
        assert first.status_code == 201, first.text
        again = await file(client, winner, world.place_id, "green")
        assert again.status_code == 409
        cohort = await Cohort.get(id=world.cohort_id)
        # Step 0 is missed; a week later the startup may still catch up on it (late).
        with time_machine.travel(cohort.starts_at + timedelta(days=15), tick=True):
            late = await file(client, winner, world.place_id, "amber")
            assert late.status_code == 201, late.text
            steps = {c["step"]: c for c in late.json()["check_ins"]}
            assert steps[1]["late"] is True
            current = await file(client, winner, world.place_id, "green")
            assert current.status_code == 201
            assert {c["step"] for c in current.json()["check_ins"]} == {0, 1, 2}


class TestCron:
    async def test_reminds_the_late_and_flags_twice_late_once(
        self, app: Starlette, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        world = await helpers.admitted(client, settings)
        cohort = await Cohort.get(id=world.cohort_id)
        manager = world.city.manager.user
        winner = world.a.winner.user
        assert await alerts(app) == (0, 0), "nothing is late during the first step"
        with time_machine.travel(cohort.starts_at + timedelta(days=8), tick=True):
            assert await alerts(app) == (1, 0)
            assert await alerts(app) == (0, 0), "a second run sends nothing more"
        assert (
            await Notification.filter(user_id=winner.id, title="Your check-in is late").count() == 1
        )
        with time_machine.travel(cohort.starts_at + timedelta(days=15), tick=True):
            assert await alerts(app) == (1, 1)
            assert await alerts(app) == (0, 0)
        flags = await Notification.filter(user_id=manager.id, title__contains="twice in a row")
        assert len(flags) == 1
        assert flags[0].link == f"/cohorts/{world.cohort_id}/board"
        # The e-mails wait in the outbox (jobs queued while travelling in time are due then).
        late_mail = await OutboxEmail.filter(to=winner.email).order_by("id")
        assert [m.subject for m in late_mail] == ["Your check-in is late"] * 2
        assert f"/places/{world.place_id}" in late_mail[0].body
        (flag_mail,) = await OutboxEmail.filter(to=manager.email)
        assert "twice in a row" in flag_mail.subject
        assert await CheckInAlert.filter(place_id=world.place_id).count() == 3
        board = await client.get(
            f"/api/v1/cohorts/{world.cohort_id}/board", headers=world.city.manager.headers
        )
        (row,) = board.json()["items"]
        assert row["flagged"] is True

    async def test_red_twice_is_flagged_and_on_time_green_is_not(
        self, app: Starlette, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        world = await helpers.admitted(client, settings)
        cohort = await Cohort.get(id=world.cohort_id)
        winner = world.a.winner
        green, _org, green_place = await helpers.applied_and_admitted(client, world, ["water"])
        assert (await file(client, winner, world.place_id, "red")).status_code == 201
        assert (await file(client, green, green_place, "green")).status_code == 201
        with time_machine.travel(cohort.starts_at + timedelta(days=9), tick=True):
            assert (await file(client, winner, world.place_id, "red")).status_code == 201
            assert (await file(client, green, green_place, "green")).status_code == 201
            assert await alerts(app) == (0, 1)
            assert await alerts(app) == (0, 0)
        assert not await CheckInAlert.filter(place_id=green_place).exists()
        (flag,) = await CheckInAlert.filter(place_id=world.place_id)
        assert (flag.kind.value, flag.step) == ("flag", 1)
