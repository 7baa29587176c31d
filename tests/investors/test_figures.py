"""One source for every figure of the deal flow.

A startup's track record is read in one place (`service.matching.track.track_records`): the
deal flow's reasons, its cards, the startup page, the API and the CSV all show the same
figures, even when the city approved a milestone after the last ranking. The thesis page's
"N startups match" is the number of startups the deal flow lists for that thesis. Only a
startup asks for funding: a university shows no funding ask anywhere.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.applications import Starlette

from service import db
from service.accounts.models import Organization, OrganizationKind, Role, User
from service.applications.models import Award
from service.config import Settings
from service.matching.models import InvestorThesis, StartupProfile
from service.rewards.models import Milestone, MilestoneStatus
from tests import factories
from tests.investors import helpers

DEMO_PASSWORD = "civic-demo-2026"
DELIVERED = (MilestoneStatus.approved, MilestoneStatus.released, MilestoneStatus.paid)


@asynccontextmanager
async def browser_of(
    client: httpx.AsyncClient, email: str, password: str = DEMO_PASSWORD
) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=client._transport, base_url="http://testserver"
    ) as browser:
        page = await browser.get("/signin")
        body = {"csrf_token": factories.csrf_of(page.text), "email": email, "password": password}
        assert (await browser.post("/signin", data=body)).status_code == 303
        yield browser


async def token_of(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    issued = await client.post(
        "/api/v1/auth/token", json={"email": email, "password": DEMO_PASSWORD}
    )
    assert issued.status_code == 200, issued.text
    return {"Authorization": f"Bearer {issued.json()['access_token']}"}


@dataclass
class Figures:
    """What one place shows of a startup's track record (None: that place does not say)."""

    won: int | None = None
    delivered: int | None = None
    cities: int | None = None


def said_by_reasons(texts: list[str]) -> Figures:
    """The figures a track reason states ("won 3 city challenges; 4 of 4 milestones
    delivered on time"; "worked with 2 cities")."""
    text = "; ".join(texts)
    figures = Figures()
    if found := re.search(r"won (\d+) city challenges?", text):
        figures.won = int(found.group(1))
    if found := re.search(r"\d+ of (\d+) milestones? delivered", text):
        figures.delivered = int(found.group(1))
    if found := re.search(r"worked with (\d+) cit", text):
        figures.cities = int(found.group(1))
    return figures


def said_by_card(html: str) -> Figures:
    """The figures of a track record block (`investors/_track.html`)."""
    won = re.search(r"(\d+) challenges? won", html)
    delivered = re.search(r"(\d+) milestones? delivered<", html)
    cities = re.search(r"Cities worked with: ([^<]*)</li>", html)
    assert won and delivered, html[:500]
    return Figures(
        won=int(won.group(1)),
        delivered=int(delivered.group(1)),
        cities=len([c for c in cities.group(1).split(",") if c.strip()]) if cities else 0,
    )


def cards_of(html: str) -> dict[str, str]:
    """Each startup card of the deal flow page by the startup's name."""
    cards: dict[str, str] = {}
    for chunk in html.split('<li class="card">')[1:]:
        name = re.search(r'/startups/\d+">([^<]+)</a>', chunk)
        assert name, chunk[:300]
        cards[name.group(1).replace("&amp;", "&").replace("&#43;", "+")] = chunk
    return cards


def reasons_of_card(card: str) -> list[str]:
    found = re.search(r"<p>Why: (.*?)</p>", card, re.S)
    return found.group(1).split("; ") if found else []


async def expected_of(startup_id: int) -> Figures:
    """The definition, restated from the rows: challenges of its awarded applications
    (each once), delivered milestones of those awards, the awarding cities."""
    awards = await Award.filter(application__organization_id=startup_id).values(
        "challenge_id", "challenge__organization_id"
    )
    delivered = await Milestone.filter(
        award__application__organization_id=startup_id, status__in=list(DELIVERED)
    ).count()
    return Figures(
        won=len({a["challenge_id"] for a in awards}),
        delivered=delivered,
        cities=len({a["challenge__organization_id"] for a in awards}),
    )


def agree(expected: Figures, shown: Figures, where: str) -> list[str]:
    """The differences between what a place shows and the definition."""
    problems = []
    for name in ("won", "delivered", "cities"):
        value = getattr(shown, name)
        if value is not None and value != getattr(expected, name):
            problems.append(f"{where}: {name} {value}, expected {getattr(expected, name)}")
    return problems


async def approve_one_more_milestone(name: str) -> None:
    """A city approves a milestone after the last ranking (no recompute has run since), as
    happens between two nightly runs."""
    milestone = (
        await Milestone.filter(
            award__application__organization__name=name,
            status__in=[MilestoneStatus.planned, MilestoneStatus.submitted],
        )
        .order_by("due_at", "id")
        .first()
    )
    assert milestone is not None, "the demo leaves milestones to deliver"
    now = datetime.now(UTC)
    async with db.transaction(None):
        await Milestone.filter(id=milestone.id).update(
            status=MilestoneStatus.approved, submitted_at=now, approved_at=now
        )


def thesis_count(html: str) -> int:
    found = re.search(r'id="preview-count"[^>]*>(\d+) startups? in the deal flow', html)
    assert found, html[:2000]
    return int(found.group(1))


async def listed(
    client: httpx.AsyncClient, investor: Organization, headers: dict[str, str]
) -> list[dict[str, Any]]:
    """Every startup the deal flow lists, page after page (three at a time)."""
    items: list[dict[str, Any]] = []
    cursor = ""
    while True:
        response = await client.get(
            f"/api/v1/investors/{investor.id}/dealflow?limit=3{cursor}", headers=headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["items"])
        if body["next_cursor"] is None:
            return items
        cursor = f"&cursor={body['next_cursor']}"


class TestOneTrackRecord:
    async def test_every_demo_startup_shows_the_same_figures_everywhere(
        self, app: Starlette, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        from service.demo import seed

        await seed(settings)
        await approve_one_more_milestone("RutaViva Mobility")
        problems: list[str] = []
        seen: set[str] = set()
        investors = await Organization.filter(kind=OrganizationKind.investor).order_by("id")
        assert len(investors) == 3
        visible = await StartupProfile.filter(
            dealflow_opt_in=True, organization__verified_at__isnull=False
        ).values_list("organization_id", "organization__name")
        for investor in investors:
            owner = await User.get(memberships__organization_id=investor.id)
            headers = await token_of(client, owner.email)
            items = await listed(client, investor, headers)
            table = (
                await client.get(f"/api/v1/investors/{investor.id}/dealflow.csv", headers=headers)
            ).text
            rows = {row["name"]: row for row in csv.DictReader(io.StringIO(table))}
            async with browser_of(client, owner.email) as browser:
                page = await browser.get(f"/investors/{investor.id}/dealflow?limit=100")
                assert page.status_code == 200
                cards = cards_of(page.text)
                thesis = await browser.get(f"/investors/{investor.id}/thesis")
                # The thesis page counts what the deal flow lists.
                assert thesis_count(thesis.text) == len(items) == len(cards) == len(rows), (
                    investor.name
                )
                for startup_id, name in visible:
                    detail = await browser.get(f"/investors/{investor.id}/startups/{startup_id}")
                    assert detail.status_code == 200
                    expected = await expected_of(startup_id)
                    where = f"{investor.name} / {name}"
                    problems += agree(expected, said_by_card(detail.text), f"{where}, page")
                    why = re.search(r"Why it matches: (.*?)</p>", detail.text, re.S)
                    problems += agree(
                        expected,
                        said_by_reasons(why.group(1).split("; ") if why else []),
                        f"{where}, page reasons",
                    )
            for item in items:
                name = item["name"]
                seen.add(name)
                expected = await expected_of(item["startup_organization_id"])
                where = f"{investor.name} / {name}"
                track = item["track_record"]
                problems += agree(
                    expected,
                    Figures(
                        len(track["challenges_won"]),
                        track["milestones_delivered"],
                        len(track["cities"]),
                    ),
                    f"{where}, API",
                )
                problems += agree(
                    expected,
                    said_by_reasons([r["text"] for r in item["reasons"]]),
                    f"{where}, API reasons",
                )
                problems += agree(expected, said_by_card(cards[name]), f"{where}, card")
                problems += agree(
                    expected, said_by_reasons(reasons_of_card(cards[name])), f"{where}, reasons"
                )
                row = rows[name]
                problems += agree(
                    expected,
                    Figures(
                        int(row["challenges_won"]),
                        int(row["milestones_delivered"]),
                        len([c for c in row["cities"].split(";") if c.strip()]),
                    ),
                    f"{where}, CSV",
                )
                problems += agree(
                    expected, said_by_reasons(row["reasons"].split("; ")), f"{where}, CSV reasons"
                )
        assert not problems, "\n".join(problems)
        # The winner's record is said in its reasons, so the comparison above bit.
        assert "RutaViva Mobility" in seen
        assert (
            await expected_of((await Organization.get(name="RutaViva Mobility")).id)
        ).delivered == 5


class TestThesisCount:
    async def test_the_thesis_count_is_the_length_of_the_deal_flow(
        self, app: Starlette, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        from service.demo import seed

        await seed(settings)
        for investor in await Organization.filter(kind=OrganizationKind.investor).order_by("id"):
            owner = await User.get(memberships__organization_id=investor.id)
            headers = await token_of(client, owner.email)
            items = await listed(client, investor, headers)
            thesis = await InvestorThesis.get(organization_id=investor.id)
            async with browser_of(client, owner.email) as browser:
                page = await browser.get(f"/investors/{investor.id}/thesis")
                query: list[tuple[str, str | int]] = [("sectors", s) for s in thesis.sectors]
                query += [("stages", s) for s in thesis.stages]
                query += [
                    ("ticket_min", (thesis.ticket_min_minor or 0) // 100),
                    ("ticket_max", (thesis.ticket_max_minor or 0) // 100),
                    ("regions", ", ".join(thesis.regions)),
                    ("text", thesis.text),
                ]
                live = await browser.get(f"/investors/{investor.id}/thesis/preview", params=query)
            assert thesis_count(page.text) == len(items), investor.name
            assert live.text.startswith(f"{len(items)} startup"), (investor.name, live.text)
            assert items, investor.name


class TestOnlyStartupsAsk:
    async def test_a_university_shows_no_funding_ask(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        investor, partner = await helpers.make_investor(client)
        startup = await helpers.make_startup(client, name="Ruedas", ask=40_000_000)
        owner = await factories.person(client)
        university = await factories.make_org(
            kind=OrganizationKind.university,
            name="Universidad del Mar",
            members={owner.user: Role.owner},
        )
        # A row saved before universities stopped asking: it is kept, and shown nowhere.
        async with db.transaction(None):
            await StartupProfile.create(
                organization=university,
                sectors=["mobility"],
                stage="seed",
                funding_ask_minor=25_000_000,
                region="Madrid",
                text="Research on buses.",
                dealflow_opt_in=True,
            )
        await helpers.rank(investor, [university, startup.org])
        base = f"/api/v1/investors/{investor.id}"
        flow = (await client.get(f"{base}/dealflow", headers=partner.headers)).json()
        asks = {item["name"]: item["funding_ask"] for item in flow["items"]}
        assert asks == {
            "Universidad del Mar": None,
            "Ruedas": {"amount_minor": 40_000_000, "currency": "EUR"},
        }
        detail = (
            await client.get(f"{base}/startups/{university.id}", headers=partner.headers)
        ).json()
        assert detail["funding_ask"] is None
        table = (await client.get(f"{base}/dealflow.csv", headers=partner.headers)).text
        rows = {row["name"]: row for row in csv.DictReader(io.StringIO(table))}
        assert rows["Universidad del Mar"]["funding_ask_minor"] == ""
        assert rows["Ruedas"]["funding_ask_minor"] == "40000000"
        # Asks filters and sorts leave the university's old ask out too.
        asking = (await client.get(f"{base}/dealflow?ask_min=1", headers=partner.headers)).json()
        assert [i["name"] for i in asking["items"]] == ["Ruedas"]
        async with browser_of(client, partner.user.email, factories.PASSWORD) as browser:
            page = await browser.get(f"/investors/{investor.id}/dealflow")
            cards = cards_of(page.text)
            assert "Asks" not in cards["Universidad del Mar"]
            assert "Asks" in cards["Ruedas"]
            shown = await browser.get(f"/investors/{investor.id}/startups/{university.id}")
            assert "Funding ask" not in shown.text
            assert (
                "Funding ask"
                in (await browser.get(f"/investors/{investor.id}/startups/{startup.org.id}")).text
            )
        async with browser_of(client, owner.user.email, factories.PASSWORD) as browser:
            form = await browser.get(f"/startups/{university.id}/profile")
            assert form.status_code == 200 and 'name="funding_ask"' not in form.text
        # Through the API, a university that sends an ask is told why, and nothing changes.
        url = f"/api/v1/startups/{university.id}/profile"
        sent = await client.put(
            url,
            json={"sectors": ["mobility"], "funding_ask_minor": 1_000_000, "dealflow_opt_in": True},
            headers=owner.headers,
        )
        assert sent.status_code == 422, sent.text
        assert "funding_ask_minor" in sent.json()["fields"]
        assert (
            await StartupProfile.get(organization_id=university.id)
        ).text == "Research on buses."
