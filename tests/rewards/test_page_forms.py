"""What the rewards pages and API say when a form is wrong, a step comes at the wrong time or
an address names nothing: the message next to the field, what was typed kept, nothing saved."""

from __future__ import annotations

import re

import httpx
from starlette.applications import Starlette

from service.integrations.fake_stripe import FakeStripe
from service.rewards.models import (
    Funding,
    Milestone,
    MilestoneFile,
    MilestoneStatus,
    Payout,
    PayoutAccount,
    PayoutStatus,
)
from tests import factories
from tests.challenges.helpers import treasurer
from tests.challenges.test_applications import open_challenge
from tests.rewards import test_stripe_rail as stripe_rail
from tests.rewards.helpers import approved, awarded
from tests.rewards.test_pages import browser, error_of, notice_after, text_of, value_of
from tests.rewards.test_stripe_rail import Burst, connected, deliver

fake = stripe_rail.fake
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
FAR = 2**31 - 2  # an id no row has


class TestFundingForm:
    async def test_an_amount_above_zero_and_a_reference_that_fits(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id = await open_challenge(client)
        url = f"/challenges/{challenge_id}/funding"
        async with browser(app, (await treasurer(client, city)).user) as finance:
            missing = await finance.post(url, amount=" ", reference="TR-1")
            assert missing.status_code == 422
            assert error_of(missing, "f-amount") == "Enter the amount."
            assert value_of(missing, "f-reference") == "TR-1"
            zero = await finance.post(url, amount="0", reference="TR-1")
            assert zero.status_code == 422
            assert error_of(zero, "f-amount") == "Enter an amount above zero."
            reference = "SEPA " + "0123456789" * 12
            long = await finance.post(url, amount="100", reference=reference)
            assert long.status_code == 422
            assert error_of(long, "f-reference") == "This is too long."
            assert value_of(long, "f-reference") == reference
        assert not await Funding.exists()

    async def test_with_stripe_the_method_is_checked_and_an_outage_said_on_top(
        self, app: Starlette, client: httpx.AsyncClient, fake: FakeStripe
    ) -> None:
        city, challenge_id = await open_challenge(client)
        url = f"/challenges/{challenge_id}/funding"
        async with browser(app, (await treasurer(client, city)).user) as finance:
            odd = await finance.post(url, amount="100", method="cash")
            assert odd.status_code == 422
            found = re.search(r'id="f-method-error">([^<]*)<', odd.text)
            assert found and found.group(1) == "Choose one of the options."
            assert 'aria-describedby="f-method-error"' in odd.text
            fake.inject("POST /v1/payment_intents", "error_500")
            down = await finance.post(url, amount="100", method="stripe")
            assert down.status_code == 502
            assert (
                "The payment provider could not be reached. Nothing was charged: try again."
                in text_of(down)
            )
            assert value_of(down, "f-amount") == "100"
        assert not await Funding.exists()


class TestLedgerPage:
    async def test_a_time_zone_name_too_long_to_be_one_is_refused(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        _, challenge_id = await open_challenge(client)
        name = "Europe/" + "X" * 80
        async with browser(app) as visitor:
            page = await visitor.get(f"/challenges/{challenge_id}/ledger?tz={name}")
            assert page.status_code == 200
            assert error_of(page, "f-tz").startswith("This is not a time zone name.")
            # Shown back cut to the longest name a zone could have.
            assert value_of(page, "f-tz") == name[:64]


class TestAwardPageForms:
    async def test_texts_too_long_are_refused_and_kept(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        a = await awarded(client)
        first = a.milestone_ids[0]
        evidence = "Measured. " * 2001
        async with browser(app, a.winner.user) as winner:
            long = await winner.post(f"/milestones/{first}/submit", evidence=evidence)
            assert long.status_code == 422
            assert error_of(long, f"f-evidence-{first}") == "This is too long."
            assert value_of(long, f"f-evidence-{first}") == evidence
            done = await winner.post(f"/milestones/{first}/submit", evidence="Baseline report.")
            assert done.status_code == 303
        reason = "Figures missing. " * 300
        async with browser(app, a.city.manager.user) as manager:
            long = await manager.post(f"/milestones/{first}/send-back", reason=reason)
            assert long.status_code == 422
            assert error_of(long, f"f-reason-{first}") == "This is too long."
            assert value_of(long, f"f-reason-{first}") == reason
        milestone = await Milestone.get(id=first)
        assert milestone.status is MilestoneStatus.submitted
        assert (milestone.evidence, milestone.return_reason) == ("Baseline report.", "")

    async def test_a_file_not_of_this_milestone_is_not_found(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        a = await awarded(client)
        first, second = a.milestone_ids[0], a.milestone_ids[1]
        added = await client.post(
            f"/api/v1/milestones/{first}/files",
            files={"file": ("report.pdf", PDF, "application/pdf")},
            headers=a.winner.headers,
        )
        assert added.status_code == 201, added.text
        file_id = added.json()["id"]
        # Another milestone of the same award does not hold it, on the pages or in the API.
        async with browser(app, a.city.manager.user) as manager:
            assert (await manager.get(f"/milestones/{first}/files/{file_id}")).status_code == 200
            assert (await manager.get(f"/milestones/{second}/files/{file_id}")).status_code == 404
        wrong = await client.get(
            f"/api/v1/milestones/{second}/files/{file_id}", headers=a.city.manager.headers
        )
        assert wrong.status_code == 404 and wrong.json()["detail"] == "No such file."

    async def test_released_through_stripe_the_notice_says_so(
        self, app: Starlette, client: httpx.AsyncClient, fake: FakeStripe, worker_burst: Burst
    ) -> None:
        a = await awarded(client)
        await connected(client, fake, a)
        await deliver(client, fake)
        await worker_burst()
        first = a.milestone_ids[0]
        await approved(client, a, first)
        async with browser(app, a.treasurer.user) as treasurer:
            released = await treasurer.post(f"/milestones/{first}/release")
            assert await notice_after(treasurer, released) == (
                "Released. The payment is on its way through Stripe."
            )
        assert (await Payout.get(milestone_id=first)).status is PayoutStatus.queued
        await worker_burst()
        assert (await Payout.get(milestone_id=first)).status is PayoutStatus.paid


class TestMilestoneSteps:
    async def test_evidence_cannot_change_once_approved(self, client: httpx.AsyncClient) -> None:
        a = await awarded(client)
        first = a.milestone_ids[0]
        await approved(client, a, first)
        late = await client.post(
            f"/api/v1/milestones/{first}/submit",
            json={"evidence": "A better report."},
            headers=a.winner.headers,
        )
        assert late.status_code == 409
        assert late.json()["detail"] == (
            "This milestone is approved: that step is not possible now."
        )
        milestone = await Milestone.get(id=first)
        assert milestone.status is MilestoneStatus.approved
        assert milestone.evidence == "Baseline report published on the city's site."

    async def test_a_milestone_holds_at_most_twenty_files(self, client: httpx.AsyncClient) -> None:
        a = await awarded(client)
        first = a.milestone_ids[0]
        for n in range(21):
            response = await client.post(
                f"/api/v1/milestones/{first}/files",
                files={"file": (f"part {n}.pdf", PDF, "application/pdf")},
                headers=a.winner.headers,
            )
            assert response.status_code == (201 if n < 20 else 422), response.text
        assert response.json()["fields"] == {
            "file": "A milestone holds at most 20 files of evidence."
        }
        assert await MilestoneFile.filter(milestone_id=first).count() == 20


class TestBankDetailsForm:
    async def test_a_holder_name_too_long_is_refused_and_nothing_saved(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        owner = await factories.person(client)
        org = await factories.make_org(members={owner.user: factories.Role.owner})
        url = f"/organizations/{org.id}/payout-account"
        holder = "Rutas y Movilidad Sostenible " * 6
        async with browser(app, owner.user) as web:
            long = await web.post(url, holder=holder, iban="ES91 2100 0418 4502 0005 1332")
            assert long.status_code == 422
            assert error_of(long, "f-holder") == "This is too long."
            assert value_of(long, "f-holder") == holder
            assert value_of(long, "f-iban") == "ES91 2100 0418 4502 0005 1332"
        assert not await PayoutAccount.exists()


async def test_addresses_of_nothing_are_not_found(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    person = await factories.person(client)
    async with browser(app) as visitor:
        assert (await visitor.get(f"/awards/{FAR}")).status_code == 404
    for method, url, detail in [
        ("GET", f"/api/v1/milestones/{FAR}", "No such milestone."),
        ("GET", f"/api/v1/payouts/{FAR}", "No such payout."),
        ("POST", f"/api/v1/refunds/{FAR}/bank-transfer", "No such refund."),
    ]:
        response = await client.request(
            method,
            url,
            json={"reference": "X"} if method == "POST" else None,
            headers=person.headers,
        )
        assert response.status_code == 404, url
        assert response.json()["detail"] == detail
