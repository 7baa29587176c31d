"""Funding, payout accounts, milestones and payouts on the manual bank-transfer rail, through
the API; the public ledger and refunds on cancelling."""

from __future__ import annotations

import csv
import io

import httpx

from service.rewards import ledger
from service.rewards.models import (
    Funding,
    LedgerTransaction,
    Milestone,
    Payout,
    PayoutStatus,
    Refund,
    RefundStatus,
)
from tests import factories
from tests.challenges.helpers import treasurer
from tests.challenges.test_applications import open_challenge
from tests.rewards.helpers import Awarded, approved, awarded, bank_account


async def money(client: httpx.AsyncClient, challenge_id: int) -> dict[str, int]:
    return (await client.get(f"/api/v1/challenges/{challenge_id}/money")).json()


class TestFunding:
    async def test_finance_records_a_bank_transfer_and_escrow_shows_it(
        self, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id = await open_challenge(client)
        reward = (await money(client, challenge_id))["committed_minor"]
        body = {"amount_minor": 2_000_000, "method": "bank_transfer", "reference": "TR-1"}
        # An editor of the city, another organization and a visitor may not.
        assert (
            await client.post(
                f"/api/v1/challenges/{challenge_id}/funding", json=body, headers=city.editor.headers
            )
        ).status_code == 403
        stranger = await factories.person(client)
        assert (
            await client.post(
                f"/api/v1/challenges/{challenge_id}/funding", json=body, headers=stranger.headers
            )
        ).status_code == 404
        assert (
            await client.post(f"/api/v1/challenges/{challenge_id}/funding", json=body)
        ).status_code == 401
        # Finance signed in without two-factor may not record it: the award page's rule for
        # recording bank transfers holds for the escrow too.
        unsafe = await client.post(
            f"/api/v1/challenges/{challenge_id}/funding", json=body, headers=city.finance.headers
        )
        assert unsafe.status_code == 403 and unsafe.json()["error"] == "TwoFactorRequired"
        assert await Funding.all().count() == 0
        funded = await client.post(
            f"/api/v1/challenges/{challenge_id}/funding",
            json=body,
            headers=(await treasurer(client, city)).headers,
        )
        assert funded.status_code == 201, funded.text
        assert funded.json()["status"] == "succeeded"
        totals = await money(client, challenge_id)
        assert (totals["escrowed_minor"], totals["remaining_minor"], totals["funded"]) == (
            2_000_000,
            2_000_000,
            False,
        )
        # More than the reward still to fund: refused, nothing recorded.
        over = await client.post(
            f"/api/v1/challenges/{challenge_id}/funding",
            json={**body, "amount_minor": reward - 2_000_000 + 1},
            headers=city.finance.headers,
        )
        assert over.status_code == 422 and "amount_minor" in over.json()["fields"]
        no_reference = await client.post(
            f"/api/v1/challenges/{challenge_id}/funding",
            json={**body, "reference": "  "},
            headers=city.finance.headers,
        )
        assert no_reference.status_code == 422 and "reference" in no_reference.json()["fields"]
        # Without Stripe keys, card payments are refused with a clear message.
        card = await client.post(
            f"/api/v1/challenges/{challenge_id}/funding",
            json={"amount_minor": 1000, "method": "stripe"},
            headers=city.finance.headers,
        )
        assert card.status_code == 422 and "method" in card.json()["fields"]
        assert (await money(client, challenge_id))["escrowed_minor"] == 2_000_000
        assert await LedgerTransaction.all().count() == 1

    async def test_awards_are_capped_by_the_escrowed_money(self, client: httpx.AsyncClient) -> None:
        from tests.rewards import helpers

        try:
            await helpers.awarded(client, amounts=(2_000_000,), funded=1_999_999)
        except AssertionError as exc:
            assert "ExceedsFunds" in str(exc)
        else:
            raise AssertionError("an award beyond the escrow was accepted")


class TestPayoutAccounts:
    async def test_bank_details_are_checked_and_masked(self, client: httpx.AsyncClient) -> None:
        person = await factories.person(client)
        org = await factories.make_org(members={person.user: factories.Role.owner})
        bad = await client.post(
            f"/api/v1/organizations/{org.id}/payout-account",
            json={"rail": "bank_transfer", "holder": "", "iban": "ES00 1234", "bic": "nope"},
            headers=person.headers,
        )
        assert bad.status_code == 422
        assert set(bad.json()["fields"]) == {"holder", "iban", "bic"}
        await bank_account(client, person, org.id)
        shown = (
            await client.get(
                f"/api/v1/organizations/{org.id}/payout-account", headers=person.headers
            )
        ).json()
        assert shown["payouts_enabled"] is True and shown["bank_iban_last4"] == "1332"
        assert "ES91" not in str(shown)
        other = await factories.person(client)
        assert (
            await client.get(
                f"/api/v1/organizations/{org.id}/payout-account", headers=other.headers
            )
        ).status_code == 404


class TestMilestones:
    async def test_submit_approve_release_and_record_the_transfer(
        self, client: httpx.AsyncClient
    ) -> None:
        a = await awarded(client)
        first = a.milestone_ids[0]
        await bank_account(client, a.winner, a.winner_org)
        # Only the winner submits, only a city manager approves.
        assert (
            await client.post(
                f"/api/v1/milestones/{first}/submit",
                json={"evidence": "Done."},
                headers=a.city.manager.headers,
            )
        ).status_code == 403
        await approved(client, a, first)
        # The approver cannot release, even as finance; release needs two-factor.
        city = a.city
        assert (
            await client.post(f"/api/v1/milestones/{first}/release", headers=city.finance.headers)
        ).json()["error"] == "TwoFactorRequired"
        released = await client.post(
            f"/api/v1/milestones/{first}/release", headers=a.treasurer.headers
        )
        assert released.status_code == 200, released.text
        payouts = released.json()["payouts"]
        assert [(p["status"], p["amount_minor"]) for p in payouts] == [
            ("awaiting_transfer", 1_000_000)
        ]
        again = await client.post(
            f"/api/v1/milestones/{first}/release", headers=a.treasurer.headers
        )
        assert again.status_code == 409
        assert await Payout.all().count() == 1
        payout_id = payouts[0]["id"]
        # The winner can see its payout; finance with two-factor records the transfer.
        assert (
            await client.get(f"/api/v1/payouts/{payout_id}", headers=a.winner.headers)
        ).status_code == 200
        assert (
            await client.post(
                f"/api/v1/payouts/{payout_id}/bank-transfer",
                json={"reference": "SEPA-42"},
                headers=a.winner.headers,
            )
        ).status_code == 403
        recorded = await client.post(
            f"/api/v1/payouts/{payout_id}/bank-transfer",
            json={"reference": "SEPA-42"},
            headers=a.treasurer.headers,
        )
        assert recorded.status_code == 200, recorded.text
        assert recorded.json()["status"] == "paid"
        assert (await Milestone.get(id=first)).status.value == "paid"
        totals = await money(client, a.challenge_id)
        assert (totals["allocated_minor"], totals["paid_minor"]) == (3_000_000, 1_000_000)
        assert await ledger.check_invariants() == []

    async def test_approver_cannot_release(self, client: httpx.AsyncClient) -> None:
        a = await awarded(client)
        await bank_account(client, a.winner, a.winner_org)
        first = a.milestone_ids[0]
        await client.post(
            f"/api/v1/milestones/{first}/submit",
            json={"evidence": "Report attached."},
            headers=a.winner.headers,
        )
        # The treasurer is also made a manager, approves, and then tries to release.
        from service import db
        from service.accounts.models import Membership, Role

        async with db.transaction(None):
            await Membership.filter(user=a.treasurer.user, organization=a.city.org).update(
                role=Role.owner
            )
        assert (
            await client.post(f"/api/v1/milestones/{first}/approve", headers=a.treasurer.headers)
        ).status_code == 200
        refused = await client.post(
            f"/api/v1/milestones/{first}/release", headers=a.treasurer.headers
        )
        assert refused.status_code == 403 and refused.json()["error"] == "SameApprover"
        assert await Payout.all().count() == 0

    async def test_sent_back_with_a_reason_then_resubmitted(
        self, client: httpx.AsyncClient
    ) -> None:
        a = await awarded(client)
        first = a.milestone_ids[0]
        await client.post(
            f"/api/v1/milestones/{first}/submit",
            json={"evidence": "Draft only."},
            headers=a.winner.headers,
        )
        no_reason = await client.post(
            f"/api/v1/milestones/{first}/send-back",
            json={"reason": ""},
            headers=a.city.manager.headers,
        )
        assert no_reason.status_code == 422
        back = await client.post(
            f"/api/v1/milestones/{first}/send-back",
            json={"reason": "The report has no figures."},
            headers=a.city.manager.headers,
        )
        assert back.json()["status"] == "returned"
        seen = (await client.get(f"/api/v1/milestones/{first}", headers=a.winner.headers)).json()
        assert seen["return_reason"] == "The report has no figures."
        again = await client.post(
            f"/api/v1/milestones/{first}/submit",
            json={"evidence": "Report with figures."},
            headers=a.winner.headers,
        )
        assert again.json()["status"] == "submitted"

    async def test_release_needs_every_recipient_to_have_a_payout_account(
        self, client: httpx.AsyncClient
    ) -> None:
        a = await awarded(client, partner_share=30)
        first = a.milestone_ids[0]
        await bank_account(client, a.winner, a.winner_org)
        await approved(client, a, first)
        refused = await client.post(
            f"/api/v1/milestones/{first}/release", headers=a.treasurer.headers
        )
        assert refused.status_code == 409 and refused.json()["error"] == "NoPayoutAccount"
        assert await Payout.all().count() == 0
        assert (await Milestone.get(id=first)).status.value == "approved"

    async def test_consortium_split_loses_no_cent(self, client: httpx.AsyncClient) -> None:
        a = await awarded(client, amounts=(1_000_001, 999_999), partner_share=33)
        assert a.partner is not None and a.partner_org is not None
        await bank_account(client, a.winner, a.winner_org)
        await bank_account(client, a.partner, a.partner_org)
        await approved(client, a, a.milestone_ids[0])
        released = await client.post(
            f"/api/v1/milestones/{a.milestone_ids[0]}/release", headers=a.treasurer.headers
        )
        parts = {p["organization_id"]: p["amount_minor"] for p in released.json()["payouts"]}
        # 67% of 1,000,001 is 670,000.67 and 33% is 330,000.33: the cent goes to the lead.
        assert parts == {a.winner_org: 670_001, a.partner_org: 330_000}
        assert sum(parts.values()) == 1_000_001


class TestPublicLedger:
    async def _paid(self, client: httpx.AsyncClient) -> Awarded:
        a = await awarded(client)
        await bank_account(client, a.winner, a.winner_org)
        await approved(client, a, a.milestone_ids[0])
        payout = (
            await client.post(
                f"/api/v1/milestones/{a.milestone_ids[0]}/release", headers=a.treasurer.headers
            )
        ).json()["payouts"][0]
        await client.post(
            f"/api/v1/payouts/{payout['id']}/bank-transfer",
            json={"reference": "=HYPERLINK(1)"},
            headers=a.treasurer.headers,
        )
        return a

    async def test_every_movement_is_listed_with_totals_and_as_csv(
        self, client: httpx.AsyncClient
    ) -> None:
        a = await self._paid(client)
        body = (await client.get(f"/api/v1/challenges/{a.challenge_id}/ledger")).json()
        assert [i["kind"] for i in body["items"]] == ["fund", "allocate", "release", "payout"]
        assert body["totals"][0]["paid_minor"] == 1_000_000
        # Bank references stay private.
        assert "HYPERLINK" not in str(body)
        first_page = (
            await client.get(f"/api/v1/challenges/{a.challenge_id}/ledger?limit=3")
        ).json()
        rest = (
            await client.get(
                f"/api/v1/challenges/{a.challenge_id}/ledger?cursor={first_page['next_cursor']}"
            )
        ).json()
        assert [i["kind"] for i in first_page["items"] + rest["items"]] == [
            "fund",
            "allocate",
            "release",
            "payout",
        ]
        assert rest["next_cursor"] is None
        response = await client.get(f"/api/v1/challenges/{a.challenge_id}/ledger.csv")
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [r["kind"] for r in rows] == ["fund", "allocate", "release", "payout"]
        assert rows[-1]["amount_minor"] == "1000000"
        city_rows = (await client.get(f"/api/v1/organizations/{a.city.org.id}/ledger")).json()
        assert len(city_rows["items"]) == 4

    async def test_cancelling_returns_the_unallocated_escrow(
        self, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id = await open_challenge(client)
        from tests.rewards.helpers import fund

        await fund(client, city, challenge_id, 3_000_000)
        cancelled = await client.post(
            f"/api/v1/challenges/{challenge_id}/cancel",
            json={"reason": "The budget was moved."},
            headers=city.manager.headers,
        )
        assert cancelled.status_code == 200, cancelled.text
        refund = await Refund.get()
        assert (refund.status, refund.amount_minor) == (RefundStatus.awaiting_transfer, 3_000_000)
        treasurer = await factories.person(client, totp=True)
        from service import db
        from service.accounts.models import Membership, Role

        async with db.transaction(None):
            await Membership.create(user=treasurer.user, organization=city.org, role=Role.finance)
        recorded = await client.post(
            f"/api/v1/refunds/{refund.id}/bank-transfer",
            json={"reference": "BACK-1"},
            headers=treasurer.headers,
        )
        assert recorded.status_code == 200, recorded.text
        totals = await money(client, challenge_id)
        assert (totals["refunded_minor"], totals["remaining_minor"]) == (3_000_000, 0)
        assert (await Payout.filter(status=PayoutStatus.paid).count()) == 0
        assert await ledger.check_invariants() == []


class TestEvidenceFiles:
    async def test_winner_attaches_files_the_city_reads_them_until_approval(
        self, client: httpx.AsyncClient
    ) -> None:
        a = await awarded(client)
        first = a.milestone_ids[0]
        files = {
            "file": ("report.pdf", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n", "application/pdf")
        }
        refused = await client.post(
            f"/api/v1/milestones/{first}/files", files=files, headers=a.city.manager.headers
        )
        assert refused.status_code == 403
        added = await client.post(
            f"/api/v1/milestones/{first}/files", files=files, headers=a.winner.headers
        )
        assert added.status_code == 201, added.text
        file_id = added.json()["id"]
        download = await client.get(
            f"/api/v1/milestones/{first}/files/{file_id}", headers=a.city.manager.headers
        )
        assert download.status_code == 200 and download.content.startswith(b"%PDF")
        assert "attachment" in download.headers["content-disposition"]
        stranger = await factories.person(client)
        assert (
            await client.get(
                f"/api/v1/milestones/{first}/files/{file_id}", headers=stranger.headers
            )
        ).status_code == 404
        await approved(client, a, first)
        late = await client.post(
            f"/api/v1/milestones/{first}/files", files=files, headers=a.winner.headers
        )
        assert late.status_code == 409
        shown = (await client.get(f"/api/v1/milestones/{first}", headers=a.winner.headers)).json()
        assert [f["name"] for f in shown["files"]] == ["report.pdf"]
