"""A payee's account held in another currency than the challenge's: the account says which,
and finance records the rate used for each manual bank transfer, through the API and pages.
The ledger stays in the challenge's currency."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from service.accounts.models import Role
from service.rewards import ledger
from service.rewards.models import LedgerTransaction, Payout, PayoutAccount, PayoutStatus
from tests import factories
from tests.rewards.helpers import Awarded, approved, awarded
from tests.rewards.test_pages import browser, error_of, notice_after, text_of, value_of

IBAN = "ES91 2100 0418 4502 0005 1332"


async def account_in(
    client: httpx.AsyncClient, person: factories.Person, org_id: int, currency: str
) -> httpx.Response:
    return await client.post(
        f"/api/v1/organizations/{org_id}/payout-account",
        json={"rail": "bank_transfer", "holder": "Startup SL", "iban": IBAN, "currency": currency},
        headers=person.headers,
    )


async def awaiting(client: httpx.AsyncClient, currency: str) -> tuple[Awarded, int]:
    """An award whose first milestone (10,000.00 in the challenge's currency) is released to
    a winner whose account is in `currency`; the payout waits for its bank transfer."""
    a = await awarded(client)
    saved = await account_in(client, a.winner, a.winner_org, currency)
    assert saved.status_code == 200, saved.text
    await approved(client, a, a.milestone_ids[0])
    released = await client.post(
        f"/api/v1/milestones/{a.milestone_ids[0]}/release", headers=a.treasurer.headers
    )
    assert released.status_code == 200, released.text
    return a, released.json()["payouts"][0]["id"]


async def record(
    client: httpx.AsyncClient, a: Awarded, payout_id: int, **body: str
) -> httpx.Response:
    return await client.post(
        f"/api/v1/payouts/{payout_id}/bank-transfer",
        json={"reference": "TR-9", **body},
        headers=a.treasurer.headers,
    )


class TestAccountCurrency:
    async def test_the_account_currency_is_saved_upper_case_and_an_unknown_code_refused(
        self, client: httpx.AsyncClient
    ) -> None:
        a = await awarded(client)
        bad = await account_in(client, a.winner, a.winner_org, "XYZ")
        assert bad.status_code == 422 and "currency" in bad.json()["fields"]
        assert await PayoutAccount.filter(organization_id=a.winner_org).count() == 0
        saved = await account_in(client, a.winner, a.winner_org, "clp")
        assert saved.status_code == 200 and saved.json()["currency"] == "CLP"
        shown = await client.get(
            f"/api/v1/organizations/{a.winner_org}/payout-account", headers=a.winner.headers
        )
        assert shown.json()["currency"] == "CLP"
        # Empty is the challenge's currency.
        again = await account_in(client, a.winner, a.winner_org, "")
        assert again.json()["currency"] is None


class TestRecordedRate:
    async def test_same_currency_needs_no_rate_and_a_rate_given_is_ignored(
        self, client: httpx.AsyncClient
    ) -> None:
        a, payout_id = await awaiting(client, "EUR")
        done = await record(client, a, payout_id, rate="1.5")
        assert done.status_code == 200, done.text
        body = done.json()
        assert body["status"] == "paid"
        assert [body[f"transfer_{n}"] for n in ("currency", "rate", "amount_minor")] == [None] * 3

    async def test_other_currency_requires_the_rate_and_stores_the_amount_in_its_minor_units(
        self, client: httpx.AsyncClient
    ) -> None:
        a, payout_id = await awaiting(client, "CLP")
        entries = await LedgerTransaction.all().count()
        missing = await record(client, a, payout_id)
        assert missing.status_code == 422
        assert missing.json()["fields"]["rate"] == "Enter the rate used: CLP per 1 EUR."
        # 10,000.00 EUR at 1050.00005 is 10,500,000.5 pesos: half-even to 10,500,000 (no cents).
        done = await record(client, a, payout_id, rate=" 1050.00005 ")
        assert done.status_code == 200, done.text
        shown = await client.get(f"/api/v1/payouts/{payout_id}", headers=a.winner.headers)
        body = shown.json()
        assert (body["amount_minor"], body["currency"]) == (1_000_000, "EUR")
        assert [body[f"transfer_{n}"] for n in ("currency", "rate", "amount_minor")] == [
            "CLP",
            "1050.00005",
            10_500_000,
        ]
        # The ledger moved the euros only.
        assert await LedgerTransaction.all().count() == entries + 1
        assert await ledger.check_invariants() == []

    async def test_rounding_to_a_currency_with_cents(self, client: httpx.AsyncClient) -> None:
        a, payout_id = await awaiting(client, "USD")
        done = await record(client, a, payout_id, rate="1.0812345")
        # 10,000.00 EUR x 1.0812345 = 10,812.345 USD: half-even to 10,812.34.
        assert done.json()["transfer_amount_minor"] == 1_081_234

    @pytest.mark.parametrize("rate", ["0", "-3", "abc", "NaN", "Infinity", "1e-30", "1e400"])
    async def test_a_bad_rate_is_refused_and_nothing_changes(
        self, client: httpx.AsyncClient, rate: str
    ) -> None:
        a, payout_id = await awaiting(client, "CLP")
        entries = await LedgerTransaction.all().count()
        refused = await record(client, a, payout_id, rate=rate)
        assert refused.status_code == 422, refused.text
        assert refused.json()["fields"]["rate"] == (
            "Enter the rate as a positive number, such as 1050.25."
        )
        payout = await Payout.get(id=payout_id)
        assert payout.status is PayoutStatus.awaiting_transfer
        assert (payout.transfer_rate, payout.bank_reference) == (None, "")
        assert await LedgerTransaction.all().count() == entries


class TestPages:
    async def test_the_account_form_offers_the_country_currency_and_checks_it(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        owner = await factories.person(client)
        org = await factories.make_org(members={owner.user: Role.owner}, name="Rutas SL")
        url = f"/organizations/{org.id}/payout-account"
        async with browser(app, owner.user) as web:
            # A Spanish payee: euros unless it says otherwise.
            assert value_of(await web.get(url), "f-currency") == "EUR"
            bad = await web.post(url, holder="Rutas SL", iban=IBAN, currency="PESO")
            assert bad.status_code == 422
            assert error_of(bad, "f-currency") == "Enter a currency code such as EUR, CLP or BRL."
            assert value_of(bad, "f-currency") == "PESO"
            done = await web.post(url, holder="Rutas SL", iban=IBAN, currency="clp")
            assert done.status_code == 303
            page = await web.get(url)
            assert "Currency of the account CLP" in text_of(page)
            assert value_of(page, "f-currency") == "CLP"

    async def test_finance_sees_the_account_currency_and_records_the_rate(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        a, payout_id = await awaiting(client, "CLP")
        page_url = f"/awards/{a.award_id}"
        form_url = f"/payouts/{payout_id}/bank-transfer"
        async with browser(app, a.treasurer.user) as treasurer:
            page = await treasurer.get(page_url)
            assert "Account currency: CLP" in value_of(page, f"payout-{payout_id}-instruction")
            assert "Rate used: CLP per 1 EUR" in text_of(page)
            missing = await treasurer.post(form_url, reference="TR-9")
            assert missing.status_code == 422
            assert error_of(missing, f"f-payout-{payout_id}-rate") == (
                "Enter the rate used: CLP per 1 EUR."
            )
            assert value_of(missing, f"f-payout-{payout_id}") == "TR-9"
            bad = await treasurer.post(form_url, reference="", rate="zero")
            assert bad.status_code == 422
            assert error_of(bad, f"f-payout-{payout_id}") == "Enter the bank transfer's reference."
            assert error_of(bad, f"f-payout-{payout_id}-rate") == (
                "Enter the rate as a positive number, such as 1050.25."
            )
            assert value_of(bad, f"f-payout-{payout_id}-rate") == "zero"
            assert (await Payout.get(id=payout_id)).status is PayoutStatus.awaiting_transfer
            done = await treasurer.post(form_url, reference="TR-9", rate="1050")
            assert "recorded: the payout is paid" in await notice_after(treasurer, done)
            text = text_of(await treasurer.get(page_url))
            assert "at 1050 CLP per 1 EUR" in text and "Sent as" in text
        payout = await Payout.get(id=payout_id)
        assert (payout.transfer_currency, payout.transfer_amount_minor) == ("CLP", 10_500_000)
