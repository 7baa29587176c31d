"""The pilot path: each step by the right role, dated and in the audit log; steps out of turn
refused; the contract recorded by the city; the award's milestones linked to the project."""

from __future__ import annotations

from datetime import date, timedelta

import httpx

from service import db
from service.audit.models import AuditEvent
from service.config import Settings
from service.incubation.models import Project, ProjectStep
from service.rewards.models import Milestone, MilestoneStatus
from tests.incubation import helpers


async def step(
    client: httpx.AsyncClient, project_id: int, headers: dict[str, str], **body: object
) -> httpx.Response:
    return await client.post(f"/api/v1/projects/{project_id}/steps", json=body, headers=headers)


class TestPilotPath:
    async def test_city_managers_move_it_along_and_others_are_refused(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        world = await helpers.admitted(client, settings)
        city, winner = world.city, world.a.winner
        project = await Project.get(place_id=world.place_id)
        _m, _mid = await helpers.mentor(client, world, ["mobility"])
        mentor = _m
        # The startup, a mentor and the city's editor may not agree a pilot.
        assert (
            await step(client, project.id, winner.headers, status="pilot_agreed")
        ).status_code == 403
        assert (
            await step(client, project.id, mentor.headers, status="pilot_agreed")
        ).status_code == 404
        assert (
            await step(client, project.id, city.editor.headers, status="pilot_agreed")
        ).status_code == 403
        # Out of turn: a pilot cannot run before it is agreed.
        skipped = await step(client, project.id, city.manager.headers, status="pilot_running")
        assert skipped.status_code == 409
        assert "status" in skipped.json()["fields"]
        future = await step(
            client,
            project.id,
            city.manager.headers,
            status="pilot_agreed",
            on=(date.today() + timedelta(days=3)).isoformat(),
        )
        assert future.status_code == 422
        assert "on" in future.json()["fields"]
        agreed_on = date.today() - timedelta(days=10)
        agreed = await step(
            client,
            project.id,
            city.manager.headers,
            status="pilot_agreed",
            on=agreed_on.isoformat(),
        )
        assert agreed.status_code == 200, agreed.text
        assert agreed.json()["status"] == "pilot_agreed"
        assert agreed.json()["steps"][-1] == {
            "status": "pilot_agreed",
            "on": agreed_on.isoformat(),
            "reason": "",
        }
        twice = await step(client, project.id, city.manager.headers, status="pilot_agreed")
        assert twice.status_code == 409
        # A contract follows a completed pilot only.
        contract = {
            "amount_minor": 12_000_000,
            "currency": "EUR",
            "supplier": "RouteCo SL",
            "starts_on": date.today().isoformat(),
            "ends_on": (date.today() + timedelta(days=365)).isoformat(),
        }
        early = await client.post(
            f"/api/v1/projects/{project.id}/contract", json=contract, headers=city.manager.headers
        )
        assert early.status_code == 409
        for target in ("pilot_running", "pilot_completed"):
            moved = await step(client, project.id, city.manager.headers, status=target)
            assert moved.status_code == 200, moved.text
        by_editor = await client.post(
            f"/api/v1/projects/{project.id}/contract", json=contract, headers=city.editor.headers
        )
        assert by_editor.status_code == 404
        backwards = await client.post(
            f"/api/v1/projects/{project.id}/contract",
            json={**contract, "ends_on": "2020-01-01"},
            headers=city.manager.headers,
        )
        assert backwards.status_code == 422
        assert "ends_on" in backwards.json()["fields"]
        recorded = await client.post(
            f"/api/v1/projects/{project.id}/contract", json=contract, headers=city.manager.headers
        )
        assert recorded.status_code == 201, recorded.text
        body = recorded.json()
        assert body["status"] == "contract_awarded"
        assert body["contract"]["supplier"] == "RouteCo SL"
        assert [s["status"] for s in body["steps"]] == [
            "incubating",
            "pilot_agreed",
            "pilot_running",
            "pilot_completed",
            "contract_awarded",
        ]
        # The end of the path: nothing more, not even stopping.
        final = await step(client, project.id, city.manager.headers, status="stopped", reason="x")
        assert final.status_code == 409
        logged = await AuditEvent.filter(action="incubation.project.step").order_by("id")
        assert [e.details["to_status"] for e in logged] == [
            "pilot_agreed",
            "pilot_running",
            "pilot_completed",
            "contract_awarded",
        ]
        assert all(e.actor_id == city.manager.user.id for e in logged)
        assert await AuditEvent.filter(action="incubation.contract.record").count() == 1
        # Public: the steps and the contract, on the API and on the challenge page.
        public = await client.get(f"/api/v1/projects/{project.id}")
        assert public.json()["contract"]["amount_minor"] == 12_000_000
        page = await client.get(f"/challenges/{world.a.challenge_id}")
        assert "From prize to pilot" in page.text
        assert "Contract awarded" in page.text
        assert "RouteCo SL" in page.text

    async def test_stopping_needs_a_reason_and_the_startup_may_stop(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        world = await helpers.admitted(client, settings)
        project = await Project.get(place_id=world.place_id)
        silent = await step(client, project.id, world.a.winner.headers, status="stopped")
        assert silent.status_code == 422
        assert "reason" in silent.json()["fields"]
        assert (await Project.get(id=project.id)).status.value == "incubating"
        stopped = await step(
            client,
            project.id,
            world.a.winner.headers,
            status="stopped",
            reason="The team split up.",
        )
        assert stopped.status_code == 200
        assert stopped.json()["stop_reason"] == "The team split up."
        last = await ProjectStep.filter(project_id=project.id).order_by("-id").first()
        assert last is not None and last.actor_id == world.a.winner.user.id

    async def test_milestones_of_its_award_show_on_its_progress(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        world = await helpers.admitted(client, settings)
        project = await Project.get(place_id=world.place_id)
        before = (await client.get(f"/api/v1/projects/{project.id}")).json()
        assert (before["milestones_paid"], before["milestones_total"]) == (0, 3)
        first = await Milestone.get(id=world.a.milestone_ids[0])
        async with db.transaction(None):
            # The rewards area pays it; here only its outcome matters.
            await Milestone.filter(id=first.id).update(status=MilestoneStatus.paid)
        after = (await client.get(f"/api/v1/projects/{project.id}")).json()
        assert (after["milestones_paid"], after["paid_minor"]) == (1, first.amount_minor)
        page = await client.get(f"/challenges/{world.a.challenge_id}")
        assert "Milestones paid: 1 of 3" in page.text
