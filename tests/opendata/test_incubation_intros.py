"""Incubated startups, pilots reached and accepted introductions on the dashboards and the map:
figures counted straight from the tables, and nothing that is not public (offers not taken,
open or declined intros, mentors, check-ins, messages)."""

from __future__ import annotations

import httpx

from service.accounts.models import Organization
from service.config import Settings
from service.incubation.models import Place, PlaceStatus, Project, ProjectStep
from service.investors.models import IntroRequest, IntroStatus
from tests.incubation import helpers as incubation
from tests.investors import helpers as investors
from tests.investors.test_intros_watchlist import ask

V1 = "/api/v1/opendata"


async def test_incubation_and_pilots_on_the_dashboards_and_the_map(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await incubation.admitted(client, settings)
    city = world.city
    _, other_org, _ = await incubation.applied_and_admitted(client, world, ["water"])
    mentor, _ = await incubation.mentor(client, world, ["water"])
    project = await Project.get(place_id=world.place_id)
    moved = await client.post(
        f"/api/v1/projects/{project.id}/steps",
        json={"status": "pilot_agreed"},
        headers=city.manager.headers,
    )
    assert moved.status_code == 200, moved.text
    # Another city's winner is offered a place and has not taken it: not incubated.
    offered = await incubation.offered(client, settings)

    admitted = {p.organization_id for p in await Place.filter(status=PlaceStatus.admitted)}
    pilots = {
        s.project_id
        for s in await ProjectStep.filter(
            to_status__in=["pilot_agreed", "pilot_running", "pilot_completed", "contract_awarded"]
        )
    }
    assert admitted == {world.a.winner_org, other_org} and pilots == {project.id}
    platform = (await client.get(f"{V1}/dashboard")).json()
    assert (platform["incubated_startups"], platform["pilots_reached"]) == (2, 1)
    mine = (await client.get(f"{V1}/cities/{city.org.id}/dashboard")).json()
    assert (mine["incubated_startups"], mine["pilots_reached"]) == (2, 1)
    theirs = (await client.get(f"{V1}/cities/{offered.city.org.id}/dashboard")).json()
    assert (theirs["incubated_startups"], theirs["pilots_reached"]) == (0, 0)
    page = await client.get(f"/opendata/cities/{city.org.id}")
    assert "<dt>Startups incubated</dt><dd>2</dd>" in page.text
    assert "<dt>Pilots reached</dt><dd>1</dd>" in page.text

    graph = (await client.get(f"{V1}/ecosystem?kind=government")).json()
    ties = {(e["source"], e["target"], e["kind"]) for e in graph["edges"]}
    assert (city.org.id, world.a.winner_org, "incubation") in ties
    assert (city.org.id, other_org, "incubation") in ties
    assert not any(offered.a.winner_org in t[:2] and t[2] == "incubation" for t in ties)
    everything = graph.__repr__() + (await client.get("/opendata/ecosystem")).text
    assert mentor.user.email not in everything and mentor.user.name not in everything
    assert "Sensors that find leaks" not in everything


async def test_only_accepted_intros_are_ties(client: httpx.AsyncClient) -> None:
    world = await investors.deal(client, startups=3)
    accepted_startup, declined_startup, open_startup = world.startups
    ids = []
    for s in world.startups:
        response = await ask(client, world, s.org.id, message="Private pitch words")
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    accepted = await client.post(
        f"/api/v1/intro-requests/{ids[0]}/accept",
        json={"message": "Happy to talk"},
        headers=accepted_startup.owner.headers,
    )
    assert accepted.status_code == 200, accepted.text
    declined = await client.post(
        f"/api/v1/intro-requests/{ids[1]}/decline", json={}, headers=declined_startup.owner.headers
    )
    assert declined.status_code == 200, declined.text
    statuses = {i.startup_id: i.status for i in await IntroRequest.all()}
    assert statuses[declined_startup.org.id] is IntroStatus.declined

    graph = (await client.get(f"{V1}/ecosystem")).json()
    intros = [e for e in graph["edges"] if e["kind"] == "intro"]
    assert [(e["source"], e["target"]) for e in intros] == [
        (world.investor.id, accepted_startup.org.id)
    ]
    assert intros[0]["challenge_ids"] == []
    shown = {n["id"] for n in graph["nodes"]}
    assert declined_startup.org.id not in shown and open_startup.org.id not in shown
    page = await client.get("/opendata/ecosystem?kind=investor")
    investor = await Organization.get(id=world.investor.id)
    assert investor.name in page.text
    assert "Introduction accepted (investor and startup)" in page.text
    everything = str(graph) + page.text
    for private in ("Private pitch words", "Happy to talk", world.partner.user.email):
        assert private not in everything
