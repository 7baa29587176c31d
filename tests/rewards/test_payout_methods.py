"""Bank details in each country's way: every method's valid example and wrong ones (with real
check digits), through the registry, the API and the page; masking; finance's instruction."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import httpx
import pytest
from starlette.applications import Starlette

from service import db
from service.accounts.models import Organization, Role
from service.rewards import payout_methods as pm
from service.rewards.models import Payout, PayoutAccount, Rail
from service.rewards.pages import _transfer_instruction
from tests import factories
from tests.rewards.helpers import approved, awarded
from tests.rewards.test_pages import browser, notice_after, text_of

CHECK = "This is not a valid %s: the check digit does not match."


@dataclass(frozen=True)
class Case:
    method: str
    country: str
    valid: dict[str, str]
    # (field, wrong value, the message shown by that field)
    wrong: tuple[tuple[str, str, str], ...]
    secret: str  # the account number or key as typed: never shown again in full


CASES = (
    Case(
        "iban",
        "ES",
        {"iban": "ES91 2100 0418 4502 0005 1332", "bic": "CAIXESBBXXX"},
        (
            ("iban", "ES91 2100 0418 4502 0005 1333", "This is not a valid IBAN."),
            ("bic", "nope", "This is not a valid BIC."),
        ),
        "21000418450200051332",
    ),
    Case(
        "br_pix_cpf",
        "BR",
        {"pix_key": "390.533.447-05"},
        (
            ("pix_key", "390.533.447-04", CHECK % "CPF"),
            ("pix_key", "390.533", "This is not a valid CPF: it has too few or too many digits."),
        ),
        "39053344705",
    ),
    Case(
        "br_pix_cnpj",
        "BR",
        {"pix_key": "16.727.230/0001-97"},
        (
            ("pix_key", "16.727.230/0001-98", CHECK % "CNPJ"),
            (
                "pix_key",
                "16.727.230/0001-9!",
                "This is not a valid CNPJ: it should look like 16.727.230/0001-97.",
            ),
        ),
        "16727230000197",
    ),
    Case(
        "br_pix_email",
        "BR",
        {"pix_key": "financeiro@curitiba-mobilidade.com.br"},
        (
            ("pix_key", "financeiro@", "This is not a valid e-mail address."),
            ("pix_key", "a" * 70 + "@example.com", "A PIX key is at most 77 characters long."),
        ),
        "financeiro@curitiba-mobilidade.com.br",
    ),
    Case(
        "br_pix_phone",
        "BR",
        {"pix_key": "+55 (41) 98765-4321"},
        (
            ("pix_key", "+54 11 1234-5678", "A Brazilian phone number starts with +55."),
            (
                "pix_key",
                "+55 41 123",
                "This is not a valid phone number: it should look like +55 41 98765-4321.",
            ),
        ),
        "+5541987654321",
    ),
    Case(
        "br_pix_random",
        "BR",
        {"pix_key": "123E4567-E89B-12D3-A456-426614174000"},
        (
            (
                "pix_key",
                "123e4567-e89b",
                "This is not a valid random key: it should look like "
                "123e4567-e89b-12d3-a456-426614174000.",
            ),
        ),
        "123e4567-e89b-12d3-a456-426614174000",
    ),
    Case(
        "br_bank",
        "BR",
        {
            "holder_id": "16.727.230/0001-97",
            "bank_code": "001",
            "branch": "0001-9",
            "account": "12345-5",
        },
        (
            ("account", "12345-6", CHECK % "account number"),
            ("branch", "0001-8", CHECK % "branch"),
            ("holder_id", "390.533.447-04", CHECK % "CPF"),
            ("bank_code", "1", "This is not a valid bank code: it should look like 001."),
            (
                "account",
                "123456",
                "This is not a valid account number with its check digit: it should look like "
                "12345-5.",
            ),
            ("branch", "agência 1", "This is not a valid branch: it should look like 0001-9."),
        ),
        "12345-5",
    ),
    Case(
        "cl_account",
        "CL",
        {
            "rut": "76.086.428-5",
            "bank": "001",
            "account_type": "corriente",
            "account_number": "00-123-45678-09",
        },
        (
            ("rut", "76.086.428-4", CHECK % "RUT"),
            ("bank", "999", "Choose one of the list."),
            ("account_type", "", "Choose one of the list."),
            (
                "account_number",
                "cta cte 12",
                "This is not a valid account number: it should look like 00-123-45678-09.",
            ),
        ),
        "001234567809",
    ),
    Case(
        "mx_clabe",
        "MX",
        {"clabe": "032 180 00011835971 9"},
        (
            ("clabe", "032180000118359718", CHECK % "CLABE"),
            ("clabe", "0321800001", "A CLABE has 18 digits."),
        ),
        "032180000118359719",
    ),
    Case(
        "ar_cbu",
        "AR",
        {"cbu": "2850590940090418135201"},
        (
            ("cbu", "2850590940090418135200", CHECK % "CBU/CVU"),
            ("cbu", "28505909", "This is not a valid CBU/CVU: it has too few or too many digits."),
        ),
        "2850590940090418135201",
    ),
    Case(
        "ar_cbu",
        "AR",
        {"cbu": "0000003100000000012342"},  # a CVU: same form and check digits as a CBU
        (("cbu", "0000003100000000012341", CHECK % "CBU/CVU"),),
        "0000003100000000012342",
    ),
    Case(
        "co_account",
        "CO",
        {
            "holder_id_type": "nit",
            "holder_id": "900.373.115-3",
            "bank": "007",
            "account_type": "ahorros",
            "account_number": "123-456789-01",
        },
        (
            ("holder_id", "900.373.115-4", CHECK % "NIT"),
            ("holder_id_type", "passport", "Choose one of the list."),
            (
                "account_number",
                "12",
                "This is not a valid account number: it should look like 123-456789-01.",
            ),
        ),
        "12345678901",
    ),
    Case(
        "co_account",
        "CO",
        {
            "holder_id_type": "cc",
            "holder_id": "1.020.304.050",
            "bank": "051",
            "account_type": "corriente",
            "account_number": "0550 1234 5678",
        },
        (
            (
                "holder_id",
                "12",
                "This is not a valid cédula: it should look like 1020304050.",
            ),
        ),
        "055012345678",
    ),
    Case(
        "us_ach",
        "US",
        {
            "routing_number": "111000025",
            "account_number": "000123456789",
            "account_type": "checking",
        },
        (
            ("routing_number", "111000026", CHECK % "ABA routing number"),
            (
                "account_number",
                "12",
                "This is not a valid account number: it should look like 000123456789.",
            ),
        ),
        "000123456789",
    ),
    Case(
        "gb_sort_code",
        "GB",
        {"sort_code": "20-00-00", "account_number": "3192 6819"},
        (
            ("sort_code", "20-00", "This is not a valid sort code: it should look like 20-00-00."),
            (
                "account_number",
                "1234567",
                "This is not a valid account number: it should look like 31926819.",
            ),
        ),
        "31926819",
    ),
)


async def payee(client: httpx.AsyncClient, country: str) -> tuple[factories.Person, Organization]:
    owner = await factories.person(client)
    org = await factories.make_org(members={owner.user: Role.owner}, name=f"Payee {country}")
    async with db.transaction(None):
        await Organization.filter(id=org.id).update(country=country)
    org.country = country
    return owner, org


def secrets_of(case: Case) -> list[str]:
    """The account number or key, as saved and as typed, and every other secret field."""
    secret = {f.name for f in pm.METHODS[case.method].fields if f.secret}
    return [case.secret, *(v for k, v in case.valid.items() if k in secret)]


def shown_error(page: httpx.Response, name: str) -> str:
    """The error shown by a field (input or select), tied to it for screen readers."""
    control = re.search(rf'<(input|select)[^>]*\bid="f-{name}"[^>]*>', page.text)
    assert control, f"no field {name}"
    assert 'aria-invalid="true"' in control[0] and f"f-{name}-error" in control[0]
    found = re.search(rf'id="f-{name}-error">([^<]*)<', page.text)
    assert found, f"no error for {name}"
    return html.unescape(found[1])


# --- the registry --------------------------------------------------------------------------


class TestRegistry:
    def test_each_country_is_offered_its_own_methods_and_others_an_iban(self) -> None:
        codes = {c: [m.code for m in pm.methods_for(c)] for c in ("CL", "MX", "GB", "es", "JP")}
        assert codes == {
            "CL": ["cl_account"],
            "MX": ["mx_clabe"],
            "GB": ["gb_sort_code", "iban"],
            "es": ["iban"],
            "JP": ["iban"],
        }
        assert [m.code for m in pm.methods_for("BR")] == [
            "br_pix_cpf",
            "br_pix_cnpj",
            "br_pix_email",
            "br_pix_phone",
            "br_pix_random",
            "br_bank",
        ]
        table = dict(pm.country_table())
        assert set(table) == {"AR", "BR", "CL", "CO", "GB", "MX", "US", "SEPA"}

    @pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method}-{c.country}")
    def test_valid_examples_pass_and_wrong_ones_name_the_field(self, case: Case) -> None:
        details, errors = pm.validate(case.method, case.valid)
        assert errors == {}
        assert pm.last4(case.method, details) == case.secret.replace("-", "")[-4:]
        for name, value, message in case.wrong:
            assert pm.validate(case.method, {**case.valid, name: value}) == ({}, {name: message})

    def test_banco_do_brasil_check_digits_of_branch_and_account(self) -> None:
        base = {"holder_id": "390.533.447-05", "bank_code": "001", "account": "12345-5"}
        # Modulo 11: a remainder of 10 is written X, of 11 is written 0.
        for branch in ("0006-X", "0006-x", "0014-0", "0001", "1"):
            assert pm.validate("br_bank", {**base, "branch": branch})[1] == {}, branch
        details, _ = pm.validate("br_bank", {**base, "branch": "1"})
        assert details["branch"] == "0001"
        # Other banks have rules of their own: their digits are checked by form only.
        other = {**base, "bank_code": "341", "branch": "0001-8", "account": "12345-6"}
        assert pm.validate("br_bank", other)[1] == {}

    def test_required_optional_and_too_long(self) -> None:
        assert pm.validate("mx_clabe", {}) == ({}, {"clabe": "Enter the CLABE."})
        assert pm.validate("mx_clabe", {"clabe": "1" * 141}) == ({}, {"clabe": "This is too long."})
        details, errors = pm.validate("iban", {"iban": "DE89 3704 0044 0532 0130 00", "bic": " "})
        assert errors == {} and details == {"iban": "DE89370400440532013000"}
        assert pm.validate("bitcoin", {}) == (
            {},
            {"method": "Choose how you are paid from the list."},
        )

    def test_pix_phone_without_the_country_code_is_read_as_brazilian(self) -> None:
        assert pm.validate("br_pix_phone", {"pix_key": "(41) 3222-1234"}) == (
            {"pix_key": "+554132221234"},
            {},
        )

    def test_shown_masks_secrets_and_the_instruction_holds_every_field(self) -> None:
        details, _ = pm.validate("cl_account", CASES[7].valid)
        assert pm.shown("cl_account", details) == [
            ("rut", "•••• 4285"),
            ("bank", "Banco de Chile / Edwards"),
            ("account_type", "Checking account (cuenta corriente)"),
            ("account_number", "•••• 7809"),
        ]
        assert pm.instruction("cl_account", "Valpo Movilidad SpA", details) == [
            ("Account holder", "Valpo Movilidad SpA"),
            ("Paid by", "Bank account in Chile"),
            ("RUT of the holder", "76.086.428-5"),
            ("Bank", "Banco de Chile / Edwards (001)"),
            ("Account type", "Checking account (cuenta corriente)"),
            ("Account number", "001234567809"),
        ]
        person, _ = pm.validate("br_bank", {**CASES[6].valid, "holder_id": "390.533.447-05"})
        assert ("CPF or CNPJ of the holder", "390.533.447-05") in pm.instruction(
            "br_bank", "Ana", person
        )
        company, _ = pm.validate("br_bank", CASES[6].valid)
        assert ("CPF or CNPJ of the holder", "16.727.230/0001-97") in pm.instruction(
            "br_bank", "Ana", company
        )
        assert pm.shown("gone", details) == pm.instruction("gone", "X", details) == []
        assert pm.last4("gone", details) == "" and pm.mask("") == ""

    def test_an_account_saved_before_methods_reads_as_an_iban(self) -> None:
        old = PayoutAccount(
            rail=Rail.bank_transfer, bank_holder="Rutas SL", bank_iban="ES9121000418450200051332"
        )
        assert (old.bank_method, old.bank_details) == (
            "iban",
            {"iban": "ES9121000418450200051332", "bic": ""},
        )
        view = _transfer_instruction(old)
        assert view is not None and view.last4 == "1332"
        assert ("IBAN", "ES91 2100 0418 4502 0005 1332") in view.lines
        stripe = PayoutAccount(rail=Rail.stripe, stripe_account_id="acct_1")
        assert (stripe.bank_method, stripe.bank_details) == ("", {})
        assert _transfer_instruction(stripe) is None


# --- the API -------------------------------------------------------------------------------


class TestApi:
    async def test_every_method_through_the_api(self, client: httpx.AsyncClient) -> None:
        for case in CASES:
            owner, org = await payee(client, case.country)
            url = f"/api/v1/organizations/{org.id}/payout-account"
            body = {"rail": "bank_transfer", "holder": "Payee", "method": case.method}
            for name, value, message in case.wrong:
                bad = await client.post(
                    url, json={**body, **case.valid, name: value}, headers=owner.headers
                )
                assert bad.status_code == 422, (case.method, name, bad.text)
                assert bad.json()["fields"] == {name: message}, case.method
            # Nothing was saved by a refused body.
            assert not await PayoutAccount.filter(organization_id=org.id).exists()
            saved = await client.post(url, json={**body, **case.valid}, headers=owner.headers)
            assert saved.status_code == 200, (case.method, saved.text)
            out = saved.json()
            assert out["method"] == case.method and out["payouts_enabled"] is True
            assert out["account_last4"] == case.secret.replace("-", "")[-4:]
            # Only the last four: neither the saved form nor the typed one comes back.
            shown = (await client.get(url, headers=owner.headers)).text
            for secret in secrets_of(case):
                assert secret not in shown, (case.method, secret)
            assert f"•••• {out['account_last4']}" in shown

    async def test_a_chilean_account_answers_with_its_fields_masked(
        self, client: httpx.AsyncClient
    ) -> None:
        owner, org = await payee(client, "CL")
        saved = await client.post(
            f"/api/v1/organizations/{org.id}/payout-account",
            json={
                "rail": "bank_transfer",
                "holder": "Valpo Movilidad SpA",
                "method": "cl_account",
                "rut": "76086428-5",
                "bank": "012",
                "account_type": "vista",
                "account_number": 12345678,  # a JSON number is read as its digits
            },
            headers=owner.headers,
        )
        assert saved.status_code == 200, saved.text
        out = saved.json()
        assert out["method_label"] == "Bank account in Chile" and out["bank_iban_last4"] == ""
        assert out["details"] == {
            "rut": "•••• 4285",
            "bank": "BancoEstado",
            "account_type": "Sight account (cuenta vista, CuentaRUT)",
            "account_number": "•••• 5678",
        }
        account = await PayoutAccount.get(organization_id=org.id)
        assert account.details["account_number"] == "12345678" and account.bank_iban == ""

    async def test_a_field_of_another_type_is_refused_by_name(
        self, client: httpx.AsyncClient
    ) -> None:
        owner, org = await payee(client, "MX")
        bad = await client.post(
            f"/api/v1/organizations/{org.id}/payout-account",
            json={"rail": "bank_transfer", "holder": "X", "method": "mx_clabe", "clabe": [1]},
            headers=owner.headers,
        )
        assert bad.status_code == 422 and bad.json()["fields"] == {"clabe": "Enter the CLABE."}
        unknown = await client.post(
            f"/api/v1/organizations/{org.id}/payout-account",
            json={"rail": "bank_transfer", "holder": "X", "method": "cheque"},
            headers=owner.headers,
        )
        assert unknown.json()["fields"] == {"method": "Choose how you are paid from the list."}

    async def test_changing_to_another_method_forgets_the_iban(
        self, client: httpx.AsyncClient
    ) -> None:
        owner, org = await payee(client, "BR")
        url = f"/api/v1/organizations/{org.id}/payout-account"
        old = {"rail": "bank_transfer", "holder": "X", "iban": "ES91 2100 0418 4502 0005 1332"}
        assert (await client.post(url, json=old, headers=owner.headers)).json()["method"] == "iban"
        pix = {
            "rail": "bank_transfer",
            "holder": "X",
            "method": "br_pix_cpf",
            "pix_key": "39053344705",
        }
        out = (await client.post(url, json=pix, headers=owner.headers)).json()
        assert (out["method"], out["bank_iban_last4"], out["account_last4"]) == (
            "br_pix_cpf",
            "",
            "4705",
        )
        account = await PayoutAccount.get(organization_id=org.id)
        assert (account.bank_iban, account.bank_bic) == ("", "")


# --- the page ------------------------------------------------------------------------------


class TestPage:
    async def test_the_form_asks_for_the_fields_of_the_payees_country(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        owner, org = await payee(client, "CL")
        url = f"/organizations/{org.id}/payout-account"
        async with browser(app, owner.user) as web:
            page = await web.get(url)
            text = text_of(page)
            assert 'label="In Chile"' in page.text
            assert 'label="An account in another country"' in page.text
            assert '<input type="hidden" name="method" value="cl_account">' in page.text
            for name in ("rut", "bank", "account_type", "account_number"):
                assert f'id="f-{name}"' in page.text
            assert 'id="f-iban"' not in page.text
            assert "Such as 76.086.428-5." in text and 'placeholder="76.086.428-5"' in page.text
            assert "BancoEstado" in text and "Sight account (cuenta vista, CuentaRUT)" in text
            # Another method, chosen without script: the page comes back with its fields.
            other = await web.get(f"{url}?method=mx_clabe")
            assert 'id="f-clabe"' in other.text and 'id="f-rut"' not in other.text
            unknown = await web.get(f"{url}?method=cheque")
            assert 'id="f-rut"' in unknown.text
            spanish = await web.get(f"{url}?lang=es")
            assert "Chile" in text_of(spanish)

    async def test_every_method_through_the_page(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        for case in CASES:
            owner, org = await payee(client, case.country)
            url = f"/organizations/{org.id}/payout-account"
            async with browser(app, owner.user) as web:
                form = {"holder": "Payee", "method": case.method}
                for name, value, message in case.wrong:
                    bad = await web.post(url, **form, **{**case.valid, name: value})
                    assert bad.status_code == 422, (case.method, name)
                    assert shown_error(bad, name) == message, case.method
                    # The form comes back with the method's fields and what was typed.
                    assert f'name="method" value="{case.method}"' in bad.text
                    if value and name not in ("bank", "account_type", "holder_id_type"):
                        assert f'value="{html.escape(value)}"' in bad.text
                assert not await PayoutAccount.filter(organization_id=org.id).exists()
                done = await web.post(url, **form, **case.valid)
                last4 = case.secret.replace("-", "")[-4:]
                assert await notice_after(web, done) == (
                    f"Bank details saved. Payouts to {org.name} go to the account ending in "
                    f"{last4}."
                )
                page = await web.get(url)
                assert f"ending in {last4}" in text_of(page)
                # The form's examples aside (the same as some valid values here).
                shown = page.text
                for f in pm.METHODS[case.method].fields:
                    shown = shown.replace(f"Such as {f.example}.", "")
                    shown = shown.replace(f'placeholder="{f.example}"', "")
                for secret in secrets_of(case):
                    assert secret not in shown, (case.method, secret)

    async def test_stripe_on_the_manual_rail_is_refused_and_the_return_link_is_harmless(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        owner, org = await payee(client, "ES")
        url = f"/organizations/{org.id}/payout-account"
        async with browser(app, owner.user) as web:
            refused = await web.post(f"{url}/stripe")
            assert refused.status_code == 422
            assert "Stripe is not available here: enter bank details instead." in text_of(refused)
            back = await web.get(f"{url}/return")
            assert back.status_code == 200 and "No payout account yet." in text_of(back)
        assert not await PayoutAccount.filter(organization_id=org.id).exists()

    async def test_a_method_not_in_the_list_is_refused_by_the_choice(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        owner, org = await payee(client, "CO")
        async with browser(app, owner.user) as web:
            bad = await web.post(
                f"/organizations/{org.id}/payout-account", holder="X", method="cheque"
            )
            assert bad.status_code == 422
            assert shown_error(bad, "method") == "Choose how you are paid from the list."


# --- what finance sees ---------------------------------------------------------------------


class TestFinanceInstruction:
    async def test_finance_copies_the_whole_instruction_and_others_see_the_last_four(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        a = await awarded(client)
        async with db.transaction(None):
            await Organization.filter(id=a.winner_org).update(country="CL")
        saved = await client.post(
            f"/api/v1/organizations/{a.winner_org}/payout-account",
            json={
                "rail": "bank_transfer",
                "holder": "Valpo Movilidad SpA",
                "method": "cl_account",
                **CASES[7].valid,
            },
            headers=a.winner.headers,
        )
        assert saved.status_code == 200, saved.text
        first = a.milestone_ids[0]
        await approved(client, a, first)
        released = await client.post(
            f"/api/v1/milestones/{first}/release", headers=a.treasurer.headers
        )
        assert released.status_code == 200, released.text
        payout = await Payout.get(milestone_id=first)
        page_url = f"/awards/{a.award_id}"
        async with browser(app, a.treasurer.user) as treasurer:
            page = await treasurer.get(page_url)
            found = re.search(
                r'<textarea id="payout-(\d+)-instruction"[^>]*readonly[^>]*>(.*?)</textarea>',
                page.text,
                flags=re.S,
            )
            assert found, page.text[:3000]
            assert int(found[1]) == payout.id
            assert html.unescape(found[2]).splitlines() == [
                "Amount: €10,000.00",
                "Account holder: Valpo Movilidad SpA",
                "Paid by: Bank account in Chile",
                "RUT of the holder: 76.086.428-5",
                "Bank: Banco de Chile / Edwards (001)",
                "Account type: Checking account (cuenta corriente)",
                "Account number: 001234567809",
            ]
        # Finance without two-factor and the winner see the last four only.
        async with browser(app, a.city.finance.user) as finance:
            text = text_of(await finance.get(page_url))
            assert "To the account ending in 7809." in text and "76.086.428-5" not in text
        async with browser(app, a.winner.user) as winner:
            page = await winner.get(page_url)
            assert "001234567809" not in page.text and "instruction" not in page.text
