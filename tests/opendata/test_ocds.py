"""OCDS release packages: valid against the local OCDS 1.1.5 schemas for a challenge in every
state and for the demo data, stable ids, one new release per change, and amounts equal to the
ledger's."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
import time_machine
from starlette.applications import Starlette

from service import db
from service.challenges import service as challenges_service
from service.challenges.models import Challenge
from service.config import Settings
from service.core.money import minor_units
from service.rewards.models import LedgerTransaction, Payout
from tests.challenges.factories import challenge_body
from tests.challenges.helpers import City, make_city
from tests.challenges.test_applications import applicant, draft, open_challenge
from tests.challenges.test_judging_awards import judge
from tests.opendata.schema import COPIED, HERE, SHARED, assert_valid
from tests.rewards.helpers import Awarded, approved, awarded, bank_account, fund

PREFIX = "ocds-civic"


async def package(client: httpx.AsyncClient, challenge_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/v1/opendata/ocds/{challenge_id}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert_valid(body)
    return body


def ids(body: dict[str, Any]) -> list[str]:
    return [r["id"] for r in body["releases"]]


def suffixes(body: dict[str, Any], challenge_id: int) -> list[str]:
    ocid = f"{PREFIX}-challenge-{challenge_id}-"
    return [r["id"].removeprefix(ocid) for r in body["releases"]]


def release(body: dict[str, Any], suffix: str) -> dict[str, Any]:
    (found,) = [r for r in body["releases"] if r["id"].endswith(f"-{suffix}")]
    return found


def tender(body: dict[str, Any]) -> dict[str, Any]:
    """The tender as the latest release that carries it tells."""
    found: dict[str, Any] = [r for r in body["releases"] if "tender" in r][-1]["tender"]
    return found


def roles(body: dict[str, Any]) -> dict[str, list[str]]:
    """Party id -> roles, as of the latest release."""
    return {p["id"]: p["roles"] for p in body["releases"][-1]["parties"]}


def minor(value: dict[str, Any]) -> int:
    return int(Decimal(str(value["amount"])).scaleb(minor_units(value["currency"])))


def assert_kept(before: dict[str, Any], after: dict[str, Any]) -> None:
    """Every release of the earlier package is in the later one, unchanged."""
    later = {r["id"]: r for r in after["releases"]}
    for item in before["releases"]:
        assert later.get(item["id"]) == item, item["id"]


async def publish(client: httpx.AsyncClient, city: City, challenge_id: int) -> None:
    response = await client.post(
        f"/api/v1/challenges/{challenge_id}/publish", headers=city.manager.headers
    )
    assert response.status_code == 200, response.text


async def pay(client: httpx.AsyncClient, a: Awarded, milestone_id: int) -> list[int]:
    """Approve, release and record the bank transfer of every payout of the milestone."""
    await approved(client, a, milestone_id)
    released = await client.post(
        f"/api/v1/milestones/{milestone_id}/release", headers=a.treasurer.headers
    )
    assert released.status_code == 200, released.text
    payout_ids = [p["id"] for p in released.json()["payouts"]]
    for payout_id in payout_ids:
        recorded = await client.post(
            f"/api/v1/payouts/{payout_id}/bank-transfer",
            json={"reference": f"SEPA-{payout_id}"},
            headers=a.treasurer.headers,
        )
        assert recorded.status_code == 200, recorded.text
    return payout_ids


def test_schema_copies_equal_the_shared_originals() -> None:
    if not SHARED.is_dir():
        pytest.skip("../shared/ocds is not beside this checkout")
    for name in COPIED:
        assert (HERE / name).read_bytes() == (SHARED / name).read_bytes(), name


class TestBeforeTheAward:
    async def test_a_draft_is_not_open_data_even_for_its_city(
        self, client: httpx.AsyncClient
    ) -> None:
        city = await make_city(client)
        created = await client.post(
            "/api/v1/challenges", json=challenge_body(city.org), headers=city.editor.headers
        )
        challenge_id = created.json()["id"]
        for headers in ({}, city.editor.headers, city.owner.headers):
            response = await client.get(f"/api/v1/opendata/ocds/{challenge_id}", headers=headers)
            assert response.status_code == 404
            assert response.json()["error"] == "NotFound"
        assert (await client.get("/api/v1/opendata/ocds/999999")).status_code == 404

    async def test_published_then_open_closed_and_judged(self, client: httpx.AsyncClient) -> None:
        city = await make_city(client)
        created = await client.post(
            "/api/v1/challenges", json=challenge_body(city.org), headers=city.editor.headers
        )
        challenge_id = created.json()["id"]
        await publish(client, city, challenge_id)
        upcoming = await package(client, challenge_id)
        assert suffixes(upcoming, challenge_id) == ["tender-published"]
        first = upcoming["releases"][0]
        assert first["tag"] == ["tender"] and first["ocid"] == f"{PREFIX}-challenge-{challenge_id}"
        t = tender(upcoming)
        assert t["status"] == "planned"
        assert minor(t["value"]) == 5_000_000 and t["value"] == {"amount": 50000, "currency": "EUR"}
        assert t["awardCriteria"] == "qualityOnly"
        assert t["eligibilityCriteria"] == "Open to: Startup, University"
        assert upcoming["license"] == "https://creativecommons.org/licenses/by/4.0/"
        assert upcoming["version"] == "1.1" and upcoming["publishedDate"] == first["date"]
        assert roles(upcoming) == {f"org-{city.org.id}": ["buyer", "procuringEntity"]}

        closes_at = datetime.now(UTC) + timedelta(minutes=2)
        city, challenge_id = await open_challenge(client, closes_at=closes_at.isoformat())
        person, org_id = await applicant(client)
        app_id = (await draft(client, challenge_id, person, org_id)).json()["id"]
        submitted = await client.post(
            f"/api/v1/applications/{app_id}/submit", headers=person.headers
        )
        assert submitted.status_code == 200
        opened = await package(client, challenge_id)
        assert suffixes(opened, challenge_id) == ["tender-published", "tender-open"]
        assert tender(opened)["status"] == "active"
        # Who competes is not published while the challenge is open.
        assert "tenderers" not in tender(opened)
        assert f"org-{org_id}" not in str(opened)

        with time_machine.travel(closes_at + timedelta(minutes=1), tick=True):
            async with db.transaction(None):
                await challenges_service.advance_all(now=datetime.now(UTC))
            closed = await package(client, challenge_id)
            assert suffixes(closed, challenge_id)[-1] == "tender-closed"
            assert [t["id"] for t in tender(closed)["tenderers"]] == [f"org-{org_id}"]
            assert tender(closed)["numberOfTenderers"] == 1
            assert roles(closed)[f"org-{org_id}"] == ["tenderer"]
            assert_kept(opened, closed)

            await judge(client, city, challenge_id)
            judging = await package(client, challenge_id)
        assert suffixes(judging, challenge_id)[-1] == "tender-judging"
        assert tender(judging)["status"] == "active"
        assert_kept(closed, judging)

    async def test_an_amendment_is_a_release_and_earlier_ones_keep_the_old_terms(
        self, client: httpx.AsyncClient
    ) -> None:
        city = await make_city(client)
        created = await client.post(
            "/api/v1/challenges", json=challenge_body(city.org), headers=city.editor.headers
        )
        challenge_id = created.json()["id"]
        await publish(client, city, challenge_id)
        before = await package(client, challenge_id)
        lower = challenge_body(
            city.org,
            reward={"amount_minor": 4_000_000, "currency": "EUR"},
            amendment_reason="Part of the budget went to flood relief.",
        )
        amended = await client.patch(
            f"/api/v1/challenges/{challenge_id}", json=lower, headers=city.editor.headers
        )
        assert amended.status_code == 200, amended.text
        after = await package(client, challenge_id)
        amendment_id = amended.json()["amendments"][0]["id"]
        assert suffixes(after, challenge_id) == [
            "tender-published",
            f"tender-amendment-{amendment_id}",
        ]
        assert_kept(before, after)
        assert minor(release(before, "tender-published")["tender"]["value"]) == 5_000_000
        new = release(after, f"tender-amendment-{amendment_id}")
        assert new["tag"] == ["tenderAmendment"]
        assert minor(new["tender"]["value"]) == 4_000_000
        (item,) = new["tender"]["amendments"]
        assert item["rationale"] == "Part of the budget went to flood relief."
        assert item["releaseID"] == new["id"]
        assert item["amendsReleaseID"] == release(after, "tender-published")["id"]


class TestAwardToCompletion:
    async def test_every_change_adds_a_release_and_keeps_the_others(
        self, client: httpx.AsyncClient
    ) -> None:
        a = await awarded(client, amounts=(1_000_001, 1_999_999), partner_share=30)
        assert a.partner_org is not None
        cid = a.challenge_id
        winner, partner = f"org-{a.winner_org}", f"org-{a.partner_org}"
        city = f"org-{a.city.org.id}"
        won = await package(client, cid)
        assert suffixes(won, cid) == [
            "tender-published",
            "tender-open",
            "tender-closed",
            "tender-judging",
            f"award-{a.award_id}",
            f"contract-{a.award_id}",
            "tender-awarded",
        ]
        # The same data gives the same package, byte for byte.
        assert (await package(client, cid)) == won
        award = release(won, f"award-{a.award_id}")["awards"][0]
        assert award["status"] == "active" and minor(award["value"]) == 3_000_000
        assert [s["id"] for s in award["suppliers"]] == [winner, partner]
        contract = release(won, f"contract-{a.award_id}")["contracts"][0]
        assert contract["awardID"] == award["id"]
        plan = contract["implementation"]["milestones"]
        assert [(m["status"], minor(m["value"])) for m in plan] == [
            ("scheduled", 1_000_001),
            ("scheduled", 1_999_999),
        ]
        assert all(m["dueDate"] for m in plan)
        assert tender(won)["status"] == "complete"
        assert roles(won) == {
            city: ["buyer", "procuringEntity"],
            winner: ["supplier", "tenderer"],
            partner: ["supplier", "tenderer"],
        }

        closed = await client.post(
            f"/api/v1/challenges/{cid}/awards/close", headers=a.city.manager.headers
        )
        assert closed.status_code == 200, closed.text
        delivering = await package(client, cid)
        assert suffixes(delivering, cid)[-1] == "tender-in_delivery"
        assert_kept(won, delivering)

        assert a.partner is not None
        await bank_account(client, a.winner, a.winner_org)
        await bank_account(client, a.partner, a.partner_org)
        first_payouts = await pay(client, a, a.milestone_ids[0])
        paid_once = await package(client, cid)
        assert suffixes(paid_once, cid)[-2:] == [f"implementation-{p}" for p in first_payouts]
        assert_kept(delivering, paid_once)
        assert roles(paid_once)[city] == ["buyer", "procuringEntity", "payer"]
        assert roles(paid_once)[partner] == ["supplier", "tenderer", "payee"]
        implementation = release(paid_once, f"implementation-{first_payouts[0]}")
        assert implementation["tag"] == ["implementation"]
        (milestone,) = implementation["contracts"][0]["implementation"]["milestones"]
        assert milestone["status"] == "met" and milestone["id"] == plan[0]["id"]
        await self._amounts_equal_the_ledger(client, cid, paid_once)

        second_payouts = await pay(client, a, a.milestone_ids[1])
        done = await package(client, cid)
        assert suffixes(done, cid)[-3:] == [
            *(f"implementation-{p}" for p in second_payouts),
            "tender-completed",
        ]
        assert_kept(paid_once, done)
        completed = release(done, "tender-completed")
        assert completed["tag"] == ["tenderUpdate", "contractTermination"]
        assert [(c["id"], c["status"]) for c in completed["contracts"]] == [
            (f"contract-{a.award_id}", "terminated")
        ]
        await self._amounts_equal_the_ledger(client, cid, done)

    async def _amounts_equal_the_ledger(
        self, client: httpx.AsyncClient, challenge_id: int, body: dict[str, Any]
    ) -> None:
        transactions = [
            t
            for r in body["releases"]
            for c in r.get("contracts", [])
            for t in c.get("implementation", {}).get("transactions", [])
        ]
        money = (await client.get(f"/api/v1/challenges/{challenge_id}/money")).json()
        assert sum(minor(t["value"]) for t in transactions) == money["paid_minor"]
        ledger = await LedgerTransaction.filter(challenge_id=challenge_id, kind="payout")
        assert sorted(t["id"] for t in transactions) == sorted(str(r.id) for r in ledger)
        payouts = {p.id: p for p in await Payout.all()}
        for t in transactions:
            row = next(r for r in ledger if str(r.id) == t["id"])
            assert minor(t["value"]) == row.amount_minor
            assert t["payee"]["id"] == f"org-{row.counterpart_id}"
        assert len(payouts) == len(transactions)


class TestCancelled:
    async def test_cancelled_with_a_refund(self, client: httpx.AsyncClient) -> None:
        city, challenge_id = await open_challenge(client)
        await fund(client, city, challenge_id, 3_000_000)
        before = await package(client, challenge_id)
        cancelled = await client.post(
            f"/api/v1/challenges/{challenge_id}/cancel",
            json={"reason": "The budget was moved."},
            headers=city.manager.headers,
        )
        assert cancelled.status_code == 200, cancelled.text
        body = await package(client, challenge_id)
        assert_kept(before, body)
        last = body["releases"][-1]
        assert last["id"].endswith("-tender-cancelled") and last["tag"] == ["tenderCancellation"]
        assert last["tender"]["status"] == "cancelled"
        # The refund is in the ledger, not in OCDS: no contract, no transaction.
        assert not any("contracts" in r for r in body["releases"])
        assert await LedgerTransaction.filter(challenge_id=challenge_id).count() >= 1

    async def test_cancelled_after_the_award_terminates_the_contract(
        self, client: httpx.AsyncClient
    ) -> None:
        a = await awarded(client, amounts=(1_000_000,))
        cancelled = await client.post(
            f"/api/v1/challenges/{a.challenge_id}/cancel",
            json={"reason": "The pilot site was sold."},
            headers=a.city.manager.headers,
        )
        assert cancelled.status_code == 200, cancelled.text
        body = await package(client, a.challenge_id)
        last = body["releases"][-1]
        assert last["id"].endswith("-tender-cancelled")
        assert last["tag"] == ["tenderUpdate", "contractTermination"]
        assert last["tender"]["status"] == "complete"
        assert last["contracts"][0]["status"] == "terminated"


class TestBulk:
    async def test_pages_hold_every_published_challenge_once(
        self, client: httpx.AsyncClient
    ) -> None:
        _, first = await open_challenge(client)
        _, second = await open_challenge(client)
        draft_city = await make_city(client)
        hidden = await client.post(
            "/api/v1/challenges",
            json=challenge_body(draft_city.org),
            headers=draft_city.editor.headers,
        )
        pages, ocids = await walk(client, limit=1)
        assert pages == 2
        assert ocids == [f"{PREFIX}-challenge-{first}", f"{PREFIX}-challenge-{second}"]
        assert f"challenge-{hidden.json()['id']}" not in str(ocids)

    async def test_bad_paging_is_refused(self, client: httpx.AsyncClient) -> None:
        for query in ("limit=0", "limit=201", "cursor=0", "cursor=x"):
            response = await client.get(f"/api/v1/opendata/ocds?{query}")
            assert response.status_code == 422, query

    async def test_queries_do_not_grow_with_the_page(
        self, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        from tests.challenges.test_browse import seed

        await seed(60)
        counts = []
        for limit in (5, 50):
            caplog.clear()
            with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
                response = await client.get(f"/api/v1/opendata/ocds?limit={limit}")
            assert response.status_code == 200
            assert len({r["ocid"] for r in response.json()["releases"]}) == limit
            counts.append(len([r for r in caplog.records if r.name == "tortoise.db_client"]))
        assert counts[0] == counts[1]


async def walk(client: httpx.AsyncClient, *, limit: int) -> tuple[int, list[str]]:
    """Follow links.next from the first page; every page must validate."""
    url: str | None = f"/api/v1/opendata/ocds?limit={limit}"
    pages, ocids = 0, []
    while url:
        response = await client.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        assert_valid(body)
        pages += 1
        for r in body["releases"]:
            if r["ocid"] not in ocids:
                ocids.append(r["ocid"])
        url = body.get("links", {}).get("next")
        if url:
            assert response.headers["link"] == f'<{url}>; rel="next"'
    return pages, ocids


class TestDemoData:
    async def test_the_demo_data_validates(
        self, app: Starlette, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        from service.demo import seed

        await seed(settings)
        public = await Challenge.filter(published_at__isnull=False).order_by("id")
        assert len(public) >= 10
        validated = 0
        for challenge in public:
            body = await package(client, challenge.id)
            assert body["releases"][0]["id"].endswith("-tender-published")
            validated += 1
        pages, ocids = await walk(client, limit=4)
        validated += pages
        assert ocids == [f"{PREFIX}-challenge-{c.id}" for c in public]
        print(f"demo data: {validated} OCDS packages validated")
        drafts = await Challenge.filter(published_at__isnull=True)
        for challenge in drafts:
            missing = await client.get(f"/api/v1/opendata/ocds/{challenge.id}")
            assert missing.status_code == 404
