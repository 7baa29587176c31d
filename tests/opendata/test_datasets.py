"""The CSV datasets and the open data page: documented columns, the same figures as the API
and the ledger, nothing private, no cell a spreadsheet would run."""

from __future__ import annotations

import csv
import io

import httpx

from service import db
from service.accounts.models import Organization
from service.opendata.datasets import DATASETS, LEDGER
from service.rewards.models import LedgerTransaction, Payout, PayoutStatus
from service.rewards.routes import CSV_COLUMNS
from tests.challenges.factories import challenge_body
from tests.challenges.helpers import make_city
from tests.challenges.test_applications import applicant, draft, open_challenge
from tests.opendata.test_ocds import pay
from tests.rewards.helpers import Awarded, awarded, bank_account

FORMULA = '=HYPERLINK("http://evil.example")'


async def rows(client: httpx.AsyncClient, name: str) -> list[dict[str, str]]:
    response = await client.get(f"/api/v1/opendata/{name}.csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert f'filename="{name}.csv"' in response.headers["content-disposition"]
    dataset = next(d for d in DATASETS if d.slug == name)
    reader = csv.DictReader(io.StringIO(response.text))
    assert reader.fieldnames == dataset.names
    return list(reader)


async def world(client: httpx.AsyncClient) -> tuple[Awarded, int, int]:
    """A consortium award with its first milestone paid (the bank reference looks like a
    formula, and so does the winner's name), a draft challenge, and an open challenge with
    a draft application."""
    a = await awarded(client, amounts=(1_000_000, 2_000_000), partner_share=30)
    assert a.partner is not None and a.partner_org is not None
    async with db.transaction(None):
        await Organization.filter(id=a.winner_org).update(name=FORMULA)
    await bank_account(client, a.winner, a.winner_org)
    await bank_account(client, a.partner, a.partner_org)
    await pay(client, a, a.milestone_ids[0])
    async with db.transaction(None):
        await Payout.filter(status=PayoutStatus.paid).update(bank_reference="SECRET-REF-1")
    city = await make_city(client)
    hidden = await client.post(
        "/api/v1/challenges",
        json=challenge_body(city.org, title="Unpublished plan"),
        headers=city.editor.headers,
    )
    _, open_id = await open_challenge(client)
    person, org_id = await applicant(client)
    created = await draft(client, open_id, person, org_id)
    assert created.status_code == 201
    return a, int(hidden.json()["id"]), org_id


async def test_datasets_match_the_api_and_keep_private_data_out(
    client: httpx.AsyncClient,
) -> None:
    a, hidden_id, drafting_org = await world(client)
    assert a.partner_org is not None
    challenges = await rows(client, "challenges")
    assert str(hidden_id) not in [r["id"] for r in challenges]
    for row in challenges:
        money = (await client.get(f"/api/v1/challenges/{row['id']}/money")).json()
        assert int(row["paid_minor"]) == money["paid_minor"]
        assert int(row["awarded_minor"]) == money["allocated_minor"]
        assert int(row["escrowed_minor"]) == money["escrowed_minor"]
        assert int(row["refunded_minor"]) == money["refunded_minor"]
        assert int(row["reward_amount_minor"]) == money["committed_minor"]
        public = (await client.get(f"/api/v1/challenges/{row['id']}")).json()
        assert row["title"] == public["title"] and row["status"] == public["status"]
    won = next(r for r in challenges if r["id"] == str(a.challenge_id))
    assert (won["applications"], won["awards"], won["paid_minor"]) == ("1", "1", "1000000")

    (award,) = await rows(client, "awards")
    assert award["id"] == str(a.award_id)
    # A name that starts like a formula is written so that a spreadsheet shows it as text.
    assert award["lead_organization_name"] == "'" + FORMULA
    assert (award["partner_organization_ids"], award["partner_share_pcts"]) == (
        str(a.partner_org),
        "30",
    )
    assert (award["amount_minor"], award["paid_minor"], award["milestones"]) == (
        "3000000",
        "1000000",
        "2",
    )

    milestones = await rows(client, "milestones")
    assert [(m["id"], m["position"], m["status"]) for m in milestones] == [
        (str(a.milestone_ids[0]), "1", "paid"),
        (str(a.milestone_ids[1]), "2", "planned"),
    ]

    payouts = await rows(client, "payouts")
    ledger = {
        r.id: r for r in await LedgerTransaction.filter(challenge_id=a.challenge_id, kind="payout")
    }
    assert sorted(int(p["ledger_id"]) for p in payouts) == sorted(ledger)
    for p in payouts:
        posted = ledger[int(p["ledger_id"])]
        assert int(p["amount_minor"]) == posted.amount_minor
        assert int(p["organization_id"]) == posted.counterpart_id
    assert sum(int(p["amount_minor"]) for p in payouts) == 1_000_000

    platform = await rows(client, "ledger")
    per_challenge = []
    for row in challenges:
        response = await client.get(f"/api/v1/challenges/{row['id']}/ledger.csv")
        per_challenge += list(csv.DictReader(io.StringIO(response.text)))
    assert sorted(platform, key=lambda r: int(r["id"])) == sorted(
        per_challenge, key=lambda r: int(r["id"])
    )

    everything = ""
    for dataset in DATASETS:
        everything += (await client.get(dataset.url)).text
    everything += (await client.get("/api/v1/opendata/ocds")).text
    for private in ("SECRET-REF", "SEPA-", "TR-77", "@example.org", "ES91", "Unpublished plan"):
        assert private not in everything, private
    assert f"org-{drafting_org}" not in everything


def test_the_ledger_dataset_documents_the_ledger_csv_columns() -> None:
    assert LEDGER.names == CSV_COLUMNS


async def test_the_page_describes_every_dataset_and_is_linked(client: httpx.AsyncClient) -> None:
    _, challenge_id = await open_challenge(client)
    page = await client.get("/opendata")
    assert page.status_code == 200
    for dataset in DATASETS:
        assert f'href="{dataset.url}"' in page.text
        for name in dataset.names:
            assert f"<code>{name}</code>" in page.text
    assert "https://creativecommons.org/licenses/by/4.0/" in page.text
    assert f'href="/api/v1/opendata/ocds/{challenge_id}"' in page.text
    assert 'href="/opendata"' in (await client.get("/")).text
    for language in ("es", "pt"):
        assert (await client.get(f"/opendata?lang={language}")).status_code == 200
