"""ASVS V2.3.5 / V8.2.2 (5.0): separation of duties on an award's money.

Whoever approves a milestone, releases it or records a bank transfer for it is a member of the
challenge's city who is not a member of an organization the award pays (the lead or a partner)
and did not submit the milestone's evidence; the releaser is not the approver either. A bank
transfer into escrow is recorded by a finance member who is not in an applicant organization.
Each refusal is a 403 with a sentence that says why, through the API and on the pages, and
changes nothing; the pages offer no active button to someone the rule refuses.
"""

from __future__ import annotations

import re

import httpx
from starlette.applications import Starlette

from service import db
from service.accounts.models import Membership, Organization, Role
from service.rewards.models import Funding, LedgerTransaction, Milestone, MilestoneStatus, Payout
from tests import factories
from tests.challenges.test_applications import applicant, draft, open_challenge
from tests.rewards.helpers import Awarded, approved, awarded, bank_account, fund
from tests.rewards.test_pages import browser, error_of_button, notice_after, text_of

M = MilestoneStatus
INTERESTED = (
    "You are a member of an organization this award pays: another member of the city must do this."
)
OWN_EVIDENCE = "You submitted this milestone's evidence: another member of the city must do this."
SAME_APPROVER = (
    "The person who approved a milestone cannot release it: another finance member must."
)


async def join(person: factories.Person, org_id: int, role: Role = Role.member) -> None:
    async with db.transaction(None):
        await Membership.create(user=person.user, organization_id=org_id, role=role)


async def leave(person: factories.Person, org_id: int) -> None:
    async with db.transaction(None):
        await Membership.filter(user_id=person.user.id, organization_id=org_id).delete()


async def submit(client: httpx.AsyncClient, who: factories.Person, milestone_id: int) -> None:
    response = await client.post(
        f"/api/v1/milestones/{milestone_id}/submit",
        json={"evidence": "The route planner runs on every school bus."},
        headers=who.headers,
    )
    assert response.status_code == 200, response.text


async def approve(
    client: httpx.AsyncClient, who: factories.Person, milestone_id: int
) -> httpx.Response:
    return await client.post(f"/api/v1/milestones/{milestone_id}/approve", headers=who.headers)


async def release(
    client: httpx.AsyncClient, who: factories.Person, milestone_id: int
) -> httpx.Response:
    return await client.post(f"/api/v1/milestones/{milestone_id}/release", headers=who.headers)


def refused(response: httpx.Response, detail: str, error: str) -> None:
    assert response.status_code == 403, response.text
    assert response.json()["error"] == error
    assert response.json()["detail"] == detail


async def status_of(milestone_id: int) -> MilestoneStatus:
    return (await Milestone.get(id=milestone_id)).status


async def city_person(client: httpx.AsyncClient, a: Awarded, role: Role) -> factories.Person:
    """A new member of the city with `role`, signed in with two-factor."""
    person = await factories.person(client, totp=True)
    await join(person, a.city.org.id, role)
    return person


class TestApprovalV8_2_2:
    """ASVS V8.2.2: approving a milestone is refused to anyone with a stake in it."""

    async def test_a_manager_who_joined_the_winner_cannot_approve_his_own_evidence(
        self, client: httpx.AsyncClient
    ) -> None:
        # The defect as found: the city manager joined the winning startup, submitted the
        # evidence as its member, and approved it himself.
        a = await awarded(client)
        manager = a.city.manager
        await join(manager, a.winner_org)
        await submit(client, manager, a.milestone_ids[0])
        response = await approve(client, manager, a.milestone_ids[0])
        refused(response, INTERESTED, "InterestedParty")
        assert await status_of(a.milestone_ids[0]) is M.submitted

    async def test_the_submitter_cannot_approve_even_after_leaving_the_winner(
        self, client: httpx.AsyncClient
    ) -> None:
        a = await awarded(client)
        manager = a.city.manager
        await join(manager, a.winner_org)
        await submit(client, manager, a.milestone_ids[0])
        await leave(manager, a.winner_org)
        refused(await approve(client, manager, a.milestone_ids[0]), OWN_EVIDENCE, "OwnEvidence")
        assert await status_of(a.milestone_ids[0]) is M.submitted

    async def test_a_member_of_the_lead_who_did_not_submit_cannot_approve(
        self, client: httpx.AsyncClient
    ) -> None:
        a = await awarded(client)
        await join(a.city.manager, a.winner_org)
        await submit(client, a.winner, a.milestone_ids[0])
        response = await approve(client, a.city.manager, a.milestone_ids[0])
        refused(response, INTERESTED, "InterestedParty")

    async def test_a_member_of_a_partner_cannot_approve(self, client: httpx.AsyncClient) -> None:
        a = await awarded(client, partner_share=30)
        assert a.partner_org is not None
        await join(a.city.manager, a.partner_org)
        await submit(client, a.winner, a.milestone_ids[0])
        response = await approve(client, a.city.manager, a.milestone_ids[0])
        refused(response, INTERESTED, "InterestedParty")
        assert await status_of(a.milestone_ids[0]) is M.submitted

    async def test_a_separate_manager_approves(self, client: httpx.AsyncClient) -> None:
        a = await awarded(client, partner_share=30)
        await submit(client, a.winner, a.milestone_ids[0])
        response = await approve(client, a.city.manager, a.milestone_ids[0])
        assert response.status_code == 200, response.text
        milestone = await Milestone.get(id=a.milestone_ids[0])
        assert (milestone.status, milestone.approved_by_id) == (M.approved, a.city.manager.user.id)


class TestReleaseV8_2_2:
    """ASVS V8.2.2: the releaser is a third person: not paid, not the submitter, not the
    approver."""

    async def test_the_approver_cannot_release(self, client: httpx.AsyncClient) -> None:
        a = await awarded(client)
        await bank_account(client, a.winner, a.winner_org)
        # An owner of the city holds every role: manager to approve, finance to release.
        owner = await city_person(client, a, Role.owner)
        await submit(client, a.winner, a.milestone_ids[0])
        assert (await approve(client, owner, a.milestone_ids[0])).status_code == 200
        refused(await release(client, owner, a.milestone_ids[0]), SAME_APPROVER, "SameApprover")
        assert await status_of(a.milestone_ids[0]) is M.approved
        assert not await Payout.exists()

    async def test_a_member_of_the_lead_cannot_release(self, client: httpx.AsyncClient) -> None:
        a = await awarded(client)
        await bank_account(client, a.winner, a.winner_org)
        await approved(client, a, a.milestone_ids[0])
        await join(a.treasurer, a.winner_org)
        response = await release(client, a.treasurer, a.milestone_ids[0])
        refused(response, INTERESTED, "InterestedParty")
        assert not await Payout.exists()

    async def test_a_member_of_a_partner_cannot_release(self, client: httpx.AsyncClient) -> None:
        a = await awarded(client, partner_share=30)
        assert a.partner is not None and a.partner_org is not None
        await bank_account(client, a.winner, a.winner_org)
        await bank_account(client, a.partner, a.partner_org)
        await approved(client, a, a.milestone_ids[0])
        await join(a.treasurer, a.partner_org)
        response = await release(client, a.treasurer, a.milestone_ids[0])
        refused(response, INTERESTED, "InterestedParty")
        assert not await Payout.exists()

    async def test_the_submitter_cannot_release(self, client: httpx.AsyncClient) -> None:
        a = await awarded(client)
        await bank_account(client, a.winner, a.winner_org)
        await join(a.treasurer, a.winner_org)
        await submit(client, a.treasurer, a.milestone_ids[0])
        await leave(a.treasurer, a.winner_org)
        assert (await approve(client, a.city.manager, a.milestone_ids[0])).status_code == 200
        response = await release(client, a.treasurer, a.milestone_ids[0])
        refused(response, OWN_EVIDENCE, "OwnEvidence")
        assert not await Payout.exists()

    async def test_a_separate_finance_member_releases(self, client: httpx.AsyncClient) -> None:
        a = await awarded(client)
        await bank_account(client, a.winner, a.winner_org)
        await approved(client, a, a.milestone_ids[0])
        response = await release(client, a.treasurer, a.milestone_ids[0])
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "released"


class TestBankTransfersV8_2_2:
    """ASVS V8.2.2: a bank transfer is recorded by a finance member without a stake in it."""

    async def _awaiting(self, client: httpx.AsyncClient) -> tuple[Awarded, str]:
        a = await awarded(client)
        await bank_account(client, a.winner, a.winner_org)
        await approved(client, a, a.milestone_ids[0])
        released = await release(client, a.treasurer, a.milestone_ids[0])
        assert released.status_code == 200, released.text
        return a, f"/api/v1/payouts/{released.json()['payouts'][0]['id']}/bank-transfer"

    async def test_a_member_of_the_recipient_cannot_record_its_payout(
        self, client: httpx.AsyncClient
    ) -> None:
        a, url = await self._awaiting(client)
        await join(a.treasurer, a.winner_org)
        response = await client.post(url, json={"reference": "SEPA-1"}, headers=a.treasurer.headers)
        refused(response, INTERESTED, "InterestedParty")
        assert not await LedgerTransaction.filter(kind="payout").exists()

    async def test_the_submitter_cannot_record_its_payout(self, client: httpx.AsyncClient) -> None:
        a = await awarded(client)
        await bank_account(client, a.winner, a.winner_org)
        clerk = await city_person(client, a, Role.finance)
        await join(clerk, a.winner_org)
        await submit(client, clerk, a.milestone_ids[0])
        await leave(clerk, a.winner_org)
        assert (await approve(client, a.city.manager, a.milestone_ids[0])).status_code == 200
        released = await release(client, a.treasurer, a.milestone_ids[0])
        url = f"/api/v1/payouts/{released.json()['payouts'][0]['id']}/bank-transfer"
        response = await client.post(url, json={"reference": "SEPA-1"}, headers=clerk.headers)
        refused(response, OWN_EVIDENCE, "OwnEvidence")

    async def test_a_separate_finance_member_records_it(self, client: httpx.AsyncClient) -> None:
        a, url = await self._awaiting(client)
        response = await client.post(url, json={"reference": "SEPA-1"}, headers=a.treasurer.headers)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "paid"

    async def test_an_applicant_cannot_record_money_into_the_escrow(
        self, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id = await open_challenge(client)
        person, org_id = await applicant(client)
        assert (await draft(client, challenge_id, person, org_id)).status_code == 201
        await join(city.finance, org_id)
        response = await client.post(
            f"/api/v1/challenges/{challenge_id}/funding",
            json={"amount_minor": 100_000, "method": "bank_transfer", "reference": "TR-9"},
            headers=city.finance.headers,
        )
        assert response.status_code == 403, response.text
        assert response.json()["error"] == "InterestedFunder"
        assert response.json()["detail"] == (
            "You are a member of an organization that applied to this challenge: another "
            "finance member must record money into its escrow."
        )
        assert not await Funding.exists()
        await leave(city.finance, org_id)
        await fund(client, city, challenge_id, 100_000)


def button_of(response: httpx.Response, key: str) -> str:
    found = re.search(rf'<button[^>]*id="f-{re.escape(key)}"[^>]*>', response.text)
    assert found, f"no button {key}"
    return found.group(0)


class TestPagesV8_2_2:
    """ASVS V8.2.2 on the pages: the refused see a disabled button and the reason, and a
    forced post is refused with the reason next to the button."""

    async def test_a_manager_of_the_winner_sees_no_active_approve_button(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        a = await awarded(client)
        milestone_id = a.milestone_ids[0]
        await join(a.city.manager, a.winner_org)
        await submit(client, a.winner, milestone_id)
        key = f"approve-{milestone_id}"
        async with browser(app, a.city.manager.user) as web:
            page = await web.get(f"/awards/{a.award_id}")
            assert "disabled" in button_of(page, key)
            assert INTERESTED in text_of(page)
            forced = await web.post(f"/milestones/{milestone_id}/approve")
            assert forced.status_code == 403
            assert error_of_button(forced, key) == INTERESTED
        assert await status_of(milestone_id) is M.submitted
        async with browser(app, a.city.owner.user) as web:
            page = await web.get(f"/awards/{a.award_id}")
            assert "disabled" not in button_of(page, key)
            done = await web.post(f"/milestones/{milestone_id}/approve")
            assert "Milestone approved" in await notice_after(web, done)
        assert await status_of(milestone_id) is M.approved

    async def test_the_approver_sees_no_active_release_button(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        a = await awarded(client)
        milestone_id = a.milestone_ids[0]
        await bank_account(client, a.winner, a.winner_org)
        owner = await city_person(client, a, Role.owner)
        await submit(client, a.winner, milestone_id)
        assert (await approve(client, owner, milestone_id)).status_code == 200
        key = f"release-{milestone_id}"
        async with browser(app, owner.user) as web:
            page = await web.get(f"/awards/{a.award_id}")
            assert "disabled" in button_of(page, key)
            assert SAME_APPROVER in text_of(page)
            forced = await web.post(f"/milestones/{milestone_id}/release")
            assert forced.status_code == 403
            assert error_of_button(forced, key) == SAME_APPROVER
        assert not await Payout.exists()
        async with browser(app, a.treasurer.user) as web:
            page = await web.get(f"/awards/{a.award_id}")
            assert "disabled" not in button_of(page, key)
            done = await web.post(f"/milestones/{milestone_id}/release")
            assert "Released" in await notice_after(web, done)
            payout = await Payout.get(milestone_id=milestone_id)
            # The treasurer joins the winner: recording its transfer is refused from then on.
            await join(a.treasurer, a.winner_org)
            page = await web.get(f"/awards/{a.award_id}")
            assert "disabled" in button_of(page, f"payout-{payout.id}-record")
            forced = await web.post(f"/payouts/{payout.id}/bank-transfer", reference="SEPA-4")
            assert forced.status_code == 403
            assert INTERESTED in text_of(forced)
        assert (await Payout.get(id=payout.id)).status.value == "awaiting_transfer"

    async def test_an_applicant_in_finance_is_told_on_the_money_panel(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id = await open_challenge(client)
        person, org_id = await applicant(client)
        assert (await draft(client, challenge_id, person, org_id)).status_code == 201
        await join(city.finance, org_id)
        async with browser(app, city.finance.user) as web:
            page = await web.get(f"/challenges/{challenge_id}")
            assert "another finance member must record money into its escrow" in text_of(page)
            assert "disabled" in button_of(page, "fund")
            forced = await web.post(
                f"/challenges/{challenge_id}/funding", amount="1000", reference="TR-3"
            )
            assert forced.status_code == 403
        assert not await Funding.exists()
        assert await Organization.exists(id=org_id)
