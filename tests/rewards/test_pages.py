"""The rewards pages through HTTP, each person in a browser session of their own: the money
panel and funding form, the public ledgers, an award's milestones from evidence to recorded
bank transfer, refunds, and payout accounts (bank details, and Stripe against the fake Stripe
server)."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from service import db
from service.accounts.models import Membership, Organization, Role, User
from service.app import create_app
from service.applications.models import Application
from service.challenges.models import Challenge
from service.config import Settings
from service.integrations.fake_stripe import FakeStripe
from service.rewards import ledger
from service.rewards.gateway import StripeGateway
from service.rewards.models import (
    AccountKind,
    Funding,
    FundingStatus,
    LedgerTransaction,
    Milestone,
    MilestoneStatus,
    Payout,
    PayoutAccount,
    PayoutStatus,
    Refund,
    RefundStatus,
    TransactionKind,
)
from tests import factories
from tests.challenges.helpers import treasurer
from tests.challenges.test_applications import open_challenge
from tests.rewards.helpers import Awarded, approved, awarded, bank_account, fund

IBAN = "ES91 2100 0418 4502 0005 1332"


@asynccontextmanager
async def browser(app: Starlette, user: User | None = None) -> AsyncIterator[Browser]:
    """A session of its own (cookies), signed in through the form when a user is given."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        if user is None:
            csrf = factories.csrf_of((await http.get("/signin")).text)
        else:
            csrf = await factories.web_signin(http, user)
        yield Browser(http, csrf)


class Browser:
    def __init__(self, http: httpx.AsyncClient, csrf: str) -> None:
        self.http = http
        self.csrf = csrf

    async def get(self, url: str) -> httpx.Response:
        return await self.http.get(url)

    async def post(self, url: str, **form: str) -> httpx.Response:
        return await self.http.post(url, data={"csrf_token": self.csrf, **form})


def text_of(response: httpx.Response) -> str:
    """The page's text without tags, spaces collapsed, entities decoded."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", response.text, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def field_of(response: httpx.Response, field_id: str) -> str:
    """The HTML of one input or textarea, by id."""
    found = re.search(
        rf'<(input|textarea)[^>]*\bid="{re.escape(field_id)}"[^>]*>(.*?</textarea>)?',
        response.text,
        flags=re.S,
    )
    assert found, f"no field {field_id}"
    return found.group(0)


def error_of(response: httpx.Response, field_id: str) -> str:
    """The error shown next to a field, checked to be tied to it for screen readers."""
    tag = field_of(response, field_id)
    assert 'aria-invalid="true"' in tag, tag
    assert f"{field_id}-error" in tag, tag
    found = re.search(rf'id="{re.escape(field_id)}-error">([^<]*)<', response.text)
    assert found, f"no error for {field_id}"
    return html.unescape(found.group(1))


def value_of(response: httpx.Response, field_id: str) -> str:
    tag = field_of(response, field_id)
    if tag.startswith("<textarea"):
        inner = re.search(r">(.*)</textarea>", tag, flags=re.S)
        return html.unescape(inner.group(1)) if inner else ""
    found = re.search(r'value="([^"]*)"', tag)
    return html.unescape(found.group(1)) if found else ""


async def notice_after(b: Browser, response: httpx.Response) -> str:
    """Follow a redirect-after-POST and read the notice it left."""
    assert response.status_code == 303, response.text[:2000]
    page = await b.get(response.headers["location"])
    found = re.search(r'class="notice ok" role="status">([^<]*)<', page.text)
    assert found, "no notice"
    return html.unescape(found.group(1))


async def with_role(person: factories.Person, org: Organization, role: Role) -> None:
    async with db.transaction(None):
        await Membership.create(user=person.user, organization=org, role=role)


# --- the money panel -----------------------------------------------------------------------


class TestMoneyPanel:
    async def test_everyone_sees_the_totals_and_whether_it_is_funded(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id = await open_challenge(client)
        async with browser(app) as visitor:
            page = await visitor.get(f"/challenges/{challenge_id}")
            text = text_of(page)
            assert "Funded: no" in text
            assert "Committed €50,000.00" in text and "Put in escrow €0.00" in text
            assert f'href="/challenges/{challenge_id}/ledger"' in page.text
            assert "Fund the escrow" not in text
            await fund(client, city, challenge_id, 5_000_000)
            text = text_of(await visitor.get(f"/challenges/{challenge_id}"))
            assert "Funded: yes" in text and "Put in escrow €50,000.00" in text
            assert "Remaining in escrow, not awarded €50,000.00" in text

    async def test_finance_records_a_bank_transfer_typed_in_major_units(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id = await open_challenge(client)
        url = f"/challenges/{challenge_id}/funding"
        # Without two-factor sign-in (the city's owner here, who holds every role): no form,
        # the reason and where to turn it on; forcing the form is refused, nothing recorded.
        async with browser(app, city.owner.user) as owner:
            page = await owner.get(f"/challenges/{challenge_id}")
            assert "Turn on two-factor sign-in to record bank transfers" in text_of(page)
            assert 'href="/account"' in page.text
            assert 'id="f-fund"' not in page.text and 'id="f-amount"' not in page.text
            refused = await owner.post(url, amount="100", reference="TR-9")
            assert refused.status_code == 403
            assert "Turn on two-factor sign-in" in text_of(refused)
        assert await Funding.all().count() == 0
        async with browser(app, (await treasurer(client, city)).user) as finance:
            page = await finance.get(f"/challenges/{challenge_id}")
            assert "Fund the escrow" in text_of(page)
            assert "Turn on two-factor sign-in" not in text_of(page)
            # The amount still to fund is offered, in major units as English writes them.
            assert value_of(page, "f-amount") == "50,000.00"
            bad = await finance.post(url, amount="12,5x", reference="TR-9", method="bank_transfer")
            assert bad.status_code == 422
            assert error_of(bad, "f-amount") == "Enter an amount, such as 40,000.50."
            assert value_of(bad, "f-amount") == "12,5x" and value_of(bad, "f-reference") == "TR-9"
            over = await finance.post(url, amount="50000.01", reference="TR-9")
            assert over.status_code == 422
            assert error_of(over, "f-amount") == (
                "This is more than the reward still to fund: €50,000.00."
            )
            no_reference = await finance.post(url, amount="20,000.50", reference=" ")
            assert no_reference.status_code == 422
            assert error_of(no_reference, "f-reference") == "Enter the bank transfer's reference."
            assert value_of(no_reference, "f-amount") == "20,000.50"
            # Card payments are not offered without Stripe; forcing one is refused.
            assert 'value="stripe"' not in page.text
            card = await finance.post(url, amount="100", method="stripe")
            assert card.status_code == 422
            assert "Card payments are not available" in text_of(card)
            assert await Funding.all().count() == 0
            done = await finance.post(url, amount="20,000.50", reference="TR-9")
            assert await notice_after(finance, done) == (
                "Bank transfer of €20,000.50 recorded: it is in escrow now."
            )
            page = await finance.get(f"/challenges/{challenge_id}")
            assert "Put in escrow €20,000.50" in text_of(page)
            assert value_of(page, "f-amount") == "29,999.50"
        totals = await ledger.totals(challenge_id, 5_000_000, "EUR")
        assert totals.escrowed == 2_000_050
        async with browser(app, city.editor.user) as editor:
            page = await editor.get(f"/challenges/{challenge_id}")
            assert "Fund the escrow" not in text_of(page)
            refused = await editor.post(url, amount="100", reference="X")
            assert refused.status_code == 403
        assert await Funding.all().count() == 1


# --- the public ledgers --------------------------------------------------------------------


async def paid_first_milestone(client: httpx.AsyncClient) -> Awarded:
    a = await awarded(client)
    await bank_account(client, a.winner, a.winner_org)
    await approved(client, a, a.milestone_ids[0])
    payout = (
        await client.post(
            f"/api/v1/milestones/{a.milestone_ids[0]}/release", headers=a.treasurer.headers
        )
    ).json()["payouts"][0]
    recorded = await client.post(
        f"/api/v1/payouts/{payout['id']}/bank-transfer",
        json={"reference": "SEPA-SECRET-42"},
        headers=a.treasurer.headers,
    )
    assert recorded.status_code == 200, recorded.text
    return a


class TestLedgerPages:
    async def test_challenge_ledger_lists_every_movement_for_anyone(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        a = await paid_first_milestone(client)
        winner = await Organization.get(id=a.winner_org)
        async with browser(app) as visitor:
            page = await visitor.get(f"/challenges/{a.challenge_id}/ledger")
            assert page.status_code == 200
            text = text_of(page)
            rows = re.findall(r"<tr>\s*<td><time.*?</tr>", page.text, flags=re.S)
            kinds = [
                "Put in escrow by the city",
                "Awarded to a winner",
                "Released for payment",
                "Paid to the winner",
            ]
            assert [next(k for k in kinds if k in row) for row in rows] == kinds
            assert "€10,000.00" in rows[-1] and f'href="/organizations/{winner.id}"' in rows[-1]
            assert "(UTC)" in rows[-1]
            assert "Committed €50,000.00" in text and "Paid €10,000.00" in text
            assert '<caption id="transactions-caption">' in page.text
            assert f'href="/api/v1/challenges/{a.challenge_id}/ledger.csv"' in page.text
            # Bank references stay private.
            assert "SEPA-SECRET" not in page.text
            assert "Next page" not in text and "First page" not in text
            # Dates in the zone the reader asks for; a wrong zone is named next to its field.
            zoned = await visitor.get(f"/challenges/{a.challenge_id}/ledger?tz=America/Santiago")
            assert "(America/Santiago)" in zoned.text and "(UTC)" not in zoned.text
            bad = await visitor.get(f"/challenges/{a.challenge_id}/ledger?tz=Mars/Olympus")
            assert bad.status_code == 200
            assert error_of(bad, "f-tz").startswith("This is not a time zone name.")
            assert value_of(bad, "f-tz") == "Mars/Olympus"
            city = await visitor.get(f"/organizations/{a.city.org.id}/ledger")
            assert city.status_code == 200
            assert len(re.findall(r"<tr>\s*<td><time", city.text)) == 4
            assert f'href="/challenges/{a.challenge_id}/ledger"' in city.text

    async def test_long_ledgers_are_paginated_in_constant_queries(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id = await open_challenge(client)
        async with db.transaction(None):
            source = await ledger.account(
                AccountKind.funding_source, "EUR", organization_id=city.org.id
            )
            escrow = await ledger.account(AccountKind.escrow, "EUR", challenge_id=challenge_id)
            for n in range(1, 56):
                await ledger.move(
                    f"test:{n}",
                    TransactionKind.fund,
                    source,
                    escrow,
                    n,
                    challenge_id=challenge_id,
                    city_id=city.org.id,
                    counterpart_id=city.org.id,
                )
        ids = await LedgerTransaction.all().order_by("id").values_list("id", flat=True)
        async with browser(app) as visitor:
            first = await visitor.get(f"/challenges/{challenge_id}/ledger?tz=Europe/Madrid")
            assert len(re.findall(r"<tr>\s*<td><time", first.text)) == 50
            found = re.search(r'href="([^"]+)" rel="next"', first.text)
            assert found is not None
            next_url = html.unescape(found.group(1))
            assert (
                next_url == f"/challenges/{challenge_id}/ledger?cursor={ids[49]}&tz=Europe/Madrid"
            )
            rest = await visitor.get(next_url)
            assert len(re.findall(r"<tr>\s*<td><time", rest.text)) == 5
            assert "Transactions, oldest first (continued)" in rest.text
            assert "First page" in text_of(rest) and 'rel="next"' not in rest.text

    async def test_a_draft_challenge_keeps_its_money_private(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        from tests.challenges.factories import make_draft_challenge

        city, _ = await open_challenge(client)
        draft = await make_draft_challenge(city.org)
        async with browser(app) as visitor:
            assert (await visitor.get(f"/challenges/{draft.id}/ledger")).status_code == 404
        async with browser(app, city.editor.user) as editor:
            assert (await editor.get(f"/challenges/{draft.id}/ledger")).status_code == 200


class TestRefunds:
    async def test_finance_with_two_factor_records_the_refund_of_a_cancelled_challenge(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id = await open_challenge(client)
        await fund(client, city, challenge_id, 3_000_000)
        cancelled = await client.post(
            f"/api/v1/challenges/{challenge_id}/cancel",
            json={"reason": "The budget was moved."},
            headers=city.manager.headers,
        )
        assert cancelled.status_code == 200, cancelled.text
        refund = await Refund.get()
        url = f"/refunds/{refund.id}/bank-transfer"
        ledger_url = f"/challenges/{challenge_id}/ledger"
        async with browser(app) as visitor:
            assert "Refunds waiting" not in (await visitor.get(ledger_url)).text
            assert "the money not awarded is being returned to the city." in text_of(
                await visitor.get(f"/challenges/{challenge_id}")
            )
        # Finance signed in without two-factor sees what waits and why it cannot record it,
        # but no form that would be refused; a forced request is refused and changes nothing.
        two_factor = "Turn on two-factor sign-in to record bank transfers, then sign out and in"
        async with browser(app, city.finance.user) as finance:
            page = await finance.get(ledger_url)
            assert "Refunds waiting for a bank transfer" in text_of(page)
            assert "Refund of €30,000.00" in text_of(page) and two_factor in text_of(page)
            assert "Record the refund" not in page.text and url not in page.text
            refused = await finance.post(url, reference="BACK-1")
            assert refused.status_code == 403
            assert two_factor in text_of(refused) and "Record the refund" not in refused.text
            assert (await Refund.get()).status is RefundStatus.awaiting_transfer
        treasurer = await factories.person(client, totp=True)
        await with_role(treasurer, city.org, Role.finance)
        async with browser(app, treasurer.user) as finance:
            empty = await finance.post(url, reference="")
            assert empty.status_code == 422
            assert error_of(empty, f"f-refund-{refund.id}") == (
                "Enter the bank transfer's reference."
            )
            done = await finance.post(url, reference="BACK-1")
            assert await notice_after(finance, done) == (
                "Refund of €30,000.00 recorded: the money is back with the city."
            )
            page = await finance.get(ledger_url)
            assert "Refunds waiting" not in page.text
            assert "Returned to the city" in text_of(page)
        assert (await Refund.get()).status is RefundStatus.paid
        async with browser(app) as visitor:
            text = text_of(await visitor.get(f"/challenges/{challenge_id}"))
            assert "the money not awarded was returned to the city." in text
            assert "Returned to the city €30,000.00" in text and "Funded" not in text
        assert await ledger.check_invariants() == []


# --- the award page ------------------------------------------------------------------------


class TestAwardPage:
    async def test_from_evidence_to_recorded_bank_transfer(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        a = await awarded(client)
        first, second = a.milestone_ids[0], a.milestone_ids[1]
        page_url = f"/awards/{a.award_id}"
        winner = await Organization.get(id=a.winner_org)

        # The public sees the outline: milestones and their status, not the evidence.
        async with browser(app) as visitor:
            page = await visitor.get(page_url)
            assert page.status_code == 200
            text = text_of(page)
            assert f"Award to {winner.name}" in text and "The best plan by far." in text
            assert "Milestone 1 €10,000.00" in text and "Planned" in text
            assert "Submit the evidence" not in text
            # Linked from the challenge's winners.
            challenge = await visitor.get(f"/challenges/{a.challenge_id}")
            assert f'href="/awards/{a.award_id}"' in challenge.text

        # The winner submits evidence (an empty one first).
        async with browser(app, a.winner.user) as winner_web:
            application = await Application.get(organization_id=a.winner_org)
            app_page = await winner_web.get(f"/applications/{application.id}")
            assert f'href="/awards/{a.award_id}"' in app_page.text
            page = await winner_web.get(page_url)
            assert "Submit the evidence" in text_of(page)
            empty = await winner_web.post(f"/milestones/{first}/submit", evidence="   ")
            assert empty.status_code == 422
            assert error_of(empty, f"f-evidence-{first}") == "Describe what was delivered."
            done = await winner_web.post(
                f"/milestones/{first}/submit", evidence="Baseline report: https://x.example/r"
            )
            assert await notice_after(winner_web, done) == (
                "Evidence submitted. The city's managers are told and will review it."
            )
            # Not the city's steps: the winner is not one of its members.
            refused = await winner_web.post(f"/milestones/{first}/approve")
            assert refused.status_code == 404

        # The manager sends it back (a reason is required), the winner resubmits, it is approved.
        async with browser(app, a.city.manager.user) as manager:
            page = await manager.get(page_url)
            assert "Baseline report: https://x.example/r" in text_of(page)
            assert "Approve “Milestone 1”" in text_of(page)
            no_reason = await manager.post(f"/milestones/{first}/send-back", reason="")
            assert no_reason.status_code == 422
            assert error_of(no_reason, f"f-reason-{first}") == "Say what is missing."
            back = await manager.post(
                f"/milestones/{first}/send-back", reason="Add the figures per route."
            )
            assert await notice_after(manager, back) == (
                "Milestone sent back. The winner is told why."
            )
            # Approving a milestone that waits for nothing: the service's reason, on the page.
            early = await manager.post(f"/milestones/{second}/approve")
            assert early.status_code == 409
            assert alert_of(early) == (
                "Nothing was changed: This milestone is planned: that step is not possible now."
            )
        async with browser(app, a.winner.user) as winner_web:
            page = await winner_web.get(page_url)
            assert "Sent back by the city: Add the figures per route." in text_of(page)
            assert value_of(page, f"f-evidence-{first}") == "Baseline report: https://x.example/r"
            again = await winner_web.post(
                f"/milestones/{first}/submit", evidence="Report with figures per route."
            )
            assert again.status_code == 303
        async with browser(app, a.city.manager.user) as manager:
            approved_now = await manager.post(f"/milestones/{first}/approve")
            assert await notice_after(manager, approved_now) == (
                "Milestone approved. The city's finance members are told and can release it."
            )

        # Finance without two-factor, then the approver, are refused with the reason.
        async with browser(app, a.city.finance.user) as finance:
            page = await finance.get(page_url)
            # No button that would answer "Nothing was changed": the reason instead.
            assert "Release €10,000.00" not in text_of(page)
            assert f'action="/milestones/{first}/release"' not in page.text
            assert "Turn on two-factor sign-in to release payments" in text_of(page)
            assert f'id="release-{first}-two-factor"' in page.text
            refused = await finance.post(f"/milestones/{first}/release")
            assert refused.status_code == 403
            assert "Turn on two-factor sign-in and sign in with it to do this." in text_of(refused)
            assert not await Payout.exists()
        owner = await factories.person(client, totp=True)
        await with_role(owner, a.city.org, Role.owner)
        async with browser(app, owner.user) as both:
            third = a.milestone_ids[2]
            await client.post(
                f"/api/v1/milestones/{third}/submit",
                json={"evidence": "Handover."},
                headers=a.winner.headers,
            )
            assert (await both.post(f"/milestones/{third}/approve")).status_code == 303
            refused = await both.post(f"/milestones/{third}/release")
            assert refused.status_code == 403
            assert error_of_button(refused, f"release-{third}") == (
                "The person who approved a milestone cannot release it: another finance member "
                "must."
            )
        # No payout account yet: the release is refused and nothing is paid.
        async with browser(app, a.treasurer.user) as treasurer:
            refused = await treasurer.post(f"/milestones/{first}/release")
            assert refused.status_code == 409
            assert winner.name in error_of_button(refused, f"release-{first}")
            assert await Payout.all().count() == 0
        await bank_account(client, a.winner, a.winner_org)

        # The treasurer releases, sees where to send the money, and records the transfer.
        async with browser(app, a.treasurer.user) as treasurer:
            page = await treasurer.get(page_url)
            assert "Release €10,000.00" in text_of(page)
            assert "Turn on two-factor sign-in to release payments" not in text_of(page)
            released = await treasurer.post(f"/milestones/{first}/release")
            assert await notice_after(treasurer, released) == (
                "Released. Send the bank transfers listed under the milestone and record their "
                "references."
            )
            payout = await Payout.get(milestone_id=first)
            page = await treasurer.get(page_url)
            text = text_of(page)
            assert "Waiting for the bank transfer" in text
            assert "ES91 2100 0418 4502 0005 1332" in text and "Startup SL" in text
            # Finance without two-factor sees only the end of the IBAN, and no form to record
            # the transfer: why instead. Forcing it is refused.
            async with browser(app, a.city.finance.user) as finance:
                page = await finance.get(page_url)
                text = text_of(page)
                assert "To the account ending in 1332." in text
                assert "2100 0418" not in text and "Startup SL" not in text
                assert "Turn on two-factor sign-in to record bank transfers" in text
                assert f'action="/payouts/{payout.id}/bank-transfer"' not in page.text
                refused = await finance.post(
                    f"/payouts/{payout.id}/bank-transfer", reference="SEPA-1"
                )
                assert refused.status_code == 403
                assert "Turn on two-factor sign-in and sign in with it to do this." in text_of(
                    refused
                )
            empty = await treasurer.post(f"/payouts/{payout.id}/bank-transfer", reference="")
            assert empty.status_code == 422
            assert error_of(empty, f"f-payout-{payout.id}") == (
                "Enter the bank transfer's reference."
            )
            done = await treasurer.post(f"/payouts/{payout.id}/bank-transfer", reference="SEPA-1")
            assert await notice_after(treasurer, done) == (
                f"Bank transfer to {winner.name} recorded: the payout is paid."
            )
        assert (await Payout.get(id=payout.id)).status is PayoutStatus.paid
        assert (await Milestone.get(id=first)).status is MilestoneStatus.paid

        # The winner sees its payout, paid.
        async with browser(app, a.winner.user) as winner_web:
            text = text_of(await winner_web.get(page_url))
            assert "Payouts of “Milestone 1”" in text and "Paid" in text
            assert "Record the bank transfer" not in text
        assert await ledger.check_invariants() == []

    async def test_strangers_and_visitors_of_a_draft_see_nothing(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        a = await awarded(client)
        async with db.transaction(None):
            await Challenge.filter(id=a.challenge_id).update(published_at=None)
        stranger = await factories.person(client)
        async with browser(app, stranger.user) as other:
            assert (await other.get(f"/awards/{a.award_id}")).status_code == 404
            submit = await other.post(f"/milestones/{a.milestone_ids[0]}/submit", evidence="x")
            assert submit.status_code == 403
            assert (await Milestone.get(id=a.milestone_ids[0])).evidence == ""
        async with browser(app) as visitor:
            assert (await visitor.get(f"/awards/{a.award_id}")).status_code == 404


def alert_of(response: httpx.Response) -> str:
    found = re.search(r'role="alert">(.*?)</div>', response.text, flags=re.S)
    assert found, "no alert"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def error_of_button(response: httpx.Response, key: str) -> str:
    """The message of a refused button, tied to the button for screen readers."""
    button = re.search(rf'<button[^>]*id="f-{re.escape(key)}"[^>]*>', response.text)
    assert button, f"no button {key}"
    assert f"f-{key}-error" in button.group(0), button.group(0)
    found = re.search(rf'id="f-{re.escape(key)}-error">([^<]*)<', response.text)
    assert found, f"no error for {key}"
    return html.unescape(found.group(1))


# --- payout accounts -----------------------------------------------------------------------


class TestPayoutAccountPage:
    async def test_finance_enters_bank_details_and_only_the_end_of_the_iban_is_shown(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        owner = await factories.person(client)
        member = await factories.person(client)
        org = await factories.make_org(
            members={owner.user: Role.owner, member.user: Role.member}, name="Rutas SL"
        )
        url = f"/organizations/{org.id}/payout-account"
        async with browser(app, member.user) as web:
            page = await web.get(url)
            assert page.status_code == 200
            assert "No payout account yet." in text_of(page)
            assert "Save the bank details" not in page.text
            assert (await web.post(url, holder="X", iban=IBAN)).status_code == 403
            org_page = await web.get(f"/organizations/{org.id}")
            assert f'href="{url}"' not in org_page.text
        async with browser(app, owner.user) as web:
            org_page = await web.get(f"/organizations/{org.id}")
            assert f'href="{url}"' in org_page.text
            bad = await web.post(url, holder=" ", iban="ES00 1234", bic="nope")
            assert bad.status_code == 422
            assert error_of(bad, "f-holder") == "Enter the account holder's name."
            assert error_of(bad, "f-iban") == "This is not a valid IBAN."
            assert error_of(bad, "f-bic") == "This is not a valid BIC."
            assert value_of(bad, "f-iban") == "ES00 1234" and value_of(bad, "f-bic") == "nope"
            assert "Connect with Stripe" not in bad.text
            done = await web.post(url, holder="Rutas SL", iban=IBAN, bic="CAIXESBBXXX")
            assert await notice_after(web, done) == (
                "Bank details saved. Payouts to Rutas SL go to the account ending in 1332."
            )
            page = await web.get(url)
            text = text_of(page)
            assert "Paid by Bank transfer" in text and "Payouts enabled Yes" in text
            assert "IBAN ending in 1332" in text
            assert "2100" not in page.text and value_of(page, "f-iban") == ""
        stranger = await factories.person(client)
        async with browser(app, stranger.user) as web:
            assert (await web.get(url)).status_code == 404
        async with browser(app) as visitor:
            assert (await visitor.get(url)).status_code == 401


# --- Stripe, against the fake Stripe server ------------------------------------------------


@pytest.fixture(scope="module")
def fake_stripe() -> AsyncIterator[FakeStripe]:
    with FakeStripe(seed=11) as server:
        yield server


@pytest.fixture
async def stripe_app(
    app: Starlette, settings: Settings, fake_stripe: FakeStripe
) -> AsyncIterator[Starlette]:
    """The app with Stripe configured: the running app's database and Redis, Stripe's gateway."""
    fake_stripe.reset()
    configured = settings.model_copy(
        update={"stripe_secret_key": "sk_test_pages", "stripe_api_base": fake_stripe.url}
    )
    gateway = StripeGateway(configured, timeout=5)
    with_stripe = create_app(configured, gateway=gateway)
    with_stripe.state.deps = replace(app.state.deps, settings=configured, gateway=gateway)
    try:
        yield with_stripe
    finally:
        http: Any = gateway.client._requestor._client
        await http.close_async()


class TestStripePages:
    async def test_connect_return_and_refresh(
        self, stripe_app: Starlette, client: httpx.AsyncClient, fake_stripe: FakeStripe
    ) -> None:
        owner = await factories.person(client)
        org = await factories.make_org(members={owner.user: Role.owner}, name="Rutas SL")
        url = f"/organizations/{org.id}/payout-account"
        async with browser(stripe_app, owner.user) as web:
            page = await web.get(url)
            assert "Connect with Stripe" in page.text
            # A refresh link before any onboarding does not start one.
            assert (await web.get(f"{url}/refresh")).status_code == 409
            connect = await web.post(f"{url}/stripe")
            assert connect.status_code == 303
            assert connect.headers["location"].startswith(fake_stripe.url)
            account = await PayoutAccount.get(organization_id=org.id)
            assert account.stripe_account_id and not account.payouts_enabled
            back = await web.get(f"{url}/return")
            assert back.status_code == 200
            assert "Stripe cannot send payouts to this account yet" in text_of(back)
            assert "Continue with Stripe" in back.text
            again = await web.get(f"{url}/refresh")
            assert again.status_code == 303
            assert again.headers["location"].startswith(fake_stripe.url)
            fake_stripe.complete_onboarding(account.stripe_account_id)
            done = await web.get(f"{url}/return")
            assert "payouts can be sent to this account" in text_of(done)
            assert "Payouts enabled Yes" in text_of(done)
        assert (await PayoutAccount.get(organization_id=org.id)).payouts_enabled

    async def test_a_card_payment_shows_its_intent_until_stripe_confirms(
        self, stripe_app: Starlette, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id = await open_challenge(client)
        async with browser(stripe_app, city.finance.user) as finance:
            page = await finance.get(f"/challenges/{challenge_id}")
            assert 'value="stripe"' in page.text
            started = await finance.post(
                f"/challenges/{challenge_id}/funding", amount="50000", method="stripe"
            )
            funding = await Funding.get()
            assert funding.status is FundingStatus.pending and funding.payment_intent_id
            notice = await notice_after(finance, started)
            assert funding.payment_intent_id in notice
            assert "The escrow is credited when Stripe confirms the payment." in notice
            page = await finance.get(f"/challenges/{challenge_id}")
            assert "Card payments waiting for Stripe" in text_of(page)
            assert funding.payment_intent_id in page.text
            assert "Put in escrow €0.00" in text_of(page)
