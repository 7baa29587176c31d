"""Sorting by reward and the minimum-reward filter compare rewards in the platform currency.

Rewards stay in their own currency; the list compares them by their reference amount at the
latest exchange rate (a CLP 45,000,000 prize is about EUR 45,000, below a EUR 120,000 one),
and one whose currency has no rate comes last and says so.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from starlette.applications import Starlette

from service import db
from service.accounts.actor import Actor
from service.accounts.models import Organization, OrganizationKind, Role
from service.challenges import references
from service.challenges.models import Challenge, ChallengeStatus
from service.config import Settings
from service.core.context import Context
from service.currencies import service as rates
from service.currencies.models import ExchangeRate
from tests import factories
from tests.challenges.factories import challenge_body, make_draft_challenge

LATEST = (Path(__file__).parent / "eurofxref.csv").read_text()
# Rewards of the demo's kind, in minor units: expected value in euro cents at the sample's
# rates (EUR->USD 1.0523, USD->CLP 940, EUR->BRL 6.1040, EUR->JPY 162.50).
PRIZES = {
    "Valparaíso buses": (45_000_000, "CLP", 4_549_305),  # 45e6 / (1.0523 x 940)
    "Sevilla water": (12_000_000, "EUR", 12_000_000),
    "Curitiba waste": (30_000_000, "BRL", 4_914_810),  # 300,000.00 / 6.1040
    "Osaka energy": (5_000_000, "JPY", 3_076_923),  # 5e6 / 162.50
    "Manama housing": (20_000_000, "BHD", None),  # BHD 20,000.000, no rate
}


def operator_ctx(settings: Settings) -> Context:
    return Context(actor=Actor(), settings=settings, ip="test")


async def load_rates(settings: Settings) -> None:
    async with db.transaction(None):
        await rates.import_ecb(operator_ctx(settings), LATEST)
        await rates.set_rate(
            operator_ctx(settings),
            day=date(2026, 12, 3),
            base="USD",
            quote="CLP",
            rate=Decimal("940"),
            source="Banco Central de Chile",
        )


async def publish(org: Organization, title: str, amount_minor: int, currency: str) -> int:
    now = datetime.now(UTC)
    async with db.transaction(None):
        challenge = await make_draft_challenge(
            org,
            title=title,
            search_text=title.lower(),
            reward_amount_minor=amount_minor,
            currency=currency,
            status=ChallengeStatus.open,
            published_at=now,
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=10),
        )
    return challenge.id


async def mixed_world(settings: Settings) -> dict[str, int]:
    org = await factories.make_org(kind=OrganizationKind.government, name="Mixed City")
    ids = {}
    for title, (amount, currency, _) in PRIZES.items():
        ids[title] = await publish(org, title, amount, currency)
    await load_rates(settings)
    return ids


async def api_ids(client: httpx.AsyncClient, **params: Any) -> list[int]:
    ids: list[int] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/api/v1/challenges", params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        ids += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            return ids


class TestSortAndFilter:
    async def test_api_sorts_by_the_reference_amount_and_no_rate_comes_last(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        ids = await mixed_world(settings)
        order = [
            "Sevilla water",
            "Curitiba waste",
            "Valparaíso buses",
            "Osaka energy",
            "Manama housing",
        ]
        assert await api_ids(client, sort="reward") == [ids[t] for t in order]
        assert await api_ids(client, sort="reward", limit=2) == [ids[t] for t in order]
        items = (await client.get("/api/v1/challenges", params={"sort": "reward"})).json()
        by_title = {item["title"]: item for item in items["items"]}
        for title, (amount, currency, expected) in PRIZES.items():
            item = by_title[title]
            assert item["reward"] == {"amount_minor": amount, "currency": currency}
            reference = item["reward_reference"]
            if expected is None:
                assert reference is None
            else:
                assert reference["amount_minor"] == expected
                assert reference["currency"] == "EUR"
        clp = by_title["Valparaíso buses"]["reward_reference"]
        assert clp["rate_date"] == "2026-12-03"
        assert clp["rate_source"] == "Banco Central de Chile, ECB"

    async def test_min_reward_is_a_plain_amount_in_the_platform_currency(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        ids = await mixed_world(settings)
        assert set(await api_ids(client, min_reward="50000")) == {ids["Sevilla water"]}
        assert set(await api_ids(client, min_reward="45000")) == {
            ids["Sevilla water"],
            ids["Curitiba waste"],
            ids["Valparaíso buses"],
        }
        # Cents count: the CLP prize is worth EUR 45,493.05.
        assert ids["Valparaíso buses"] in await api_ids(client, min_reward="45493.05")
        assert ids["Valparaíso buses"] not in await api_ids(client, min_reward="45493.06")
        bad = await client.get("/api/v1/challenges", params={"min_reward": "lots"})
        assert bad.status_code == 422 and "min_reward" in bad.json()["fields"]

    async def test_a_rate_for_the_missing_currency_moves_its_challenge_into_place(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        ids = await mixed_world(settings)
        async with db.transaction(None):
            await rates.set_rate(
                operator_ctx(settings),
                day=date(2026, 12, 4),
                base="EUR",
                quote="BHD",
                rate=Decimal("0.396"),
                source="Central Bank of Bahrain",
            )
        # BHD 20,000.000 / 0.396 = EUR 50,505.05: between the EUR and the BRL prizes.
        assert (await api_ids(client, sort="reward"))[:3] == [
            ids["Sevilla water"],
            ids["Manama housing"],
            ids["Curitiba waste"],
        ]
        bhd = await Challenge.get(id=ids["Manama housing"])
        assert (bhd.reward_reference_minor, bhd.reward_amount_minor) == (5_050_505, 20_000_000)

    async def test_list_page_sorts_filters_and_says_at_which_rate(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        await mixed_world(settings)
        page = await client.get("/challenges", params={"sort": "reward"})
        assert page.status_code == 200
        titles = re.findall(r'<h3 id="c-\d+"><a [^>]*>([^<]+)</a>', page.text)
        assert titles == [
            "Sevilla water",
            "Curitiba waste",
            "Valparaíso buses",
            "Osaka energy",
            "Manama housing",
        ]
        assert "CLP" in page.text and "45,000,000" in page.text
        assert "≈ €45,493.05 at the Banco Central de Chile, ECB rate of 2026-12-03" in page.text
        assert "≈ €49,148.10 at the ECB rate of 2026-12-04" in page.text
        assert "(no rate)" in page.text
        assert "Minimum reward, in EUR" in page.text
        assert "such as 50,000.00 (not cents)" in page.text
        filtered = await client.get("/challenges", params={"min_reward": "50000"})
        assert re.findall(r'<h3 id="c-\d+"><a [^>]*>([^<]+)</a>', filtered.text) == [
            "Sevilla water"
        ]

    async def test_list_page_reads_the_minimum_as_the_viewer_writes_amounts(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        await mixed_world(settings)
        spanish = {"Accept-Language": "es"}
        page = await client.get("/challenges", params={"min_reward": "50.000"}, headers=spanish)
        assert page.status_code == 200
        assert re.findall(r'<h3 id="c-\d+"><a [^>]*>([^<]+)</a>', page.text) == ["Sevilla water"]
        wrong = await client.get("/challenges", params={"min_reward": "50.0.0"}, headers=spanish)
        assert wrong.status_code == 422
        assert "min_reward" in wrong.text and 'value="50.0.0"' in wrong.text

    async def test_challenge_page_shows_its_own_currency_first(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        ids = await mixed_world(settings)
        page = (await client.get(f"/challenges/{ids['Valparaíso buses']}")).text
        own = page.index("CLP")
        reference = page.index("≈ €45,493.05")
        assert own < reference
        assert "<small>" in page[own:reference]


class TestRewardChanges:
    async def test_creating_and_amending_a_reward_updates_its_reference(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        await load_rates(settings)
        manager = await factories.person(client, totp=True)
        org = await factories.make_org(
            kind=OrganizationKind.government, members={manager.user: Role.manager}
        )
        body = challenge_body(org, reward={"amount_minor": 30_000_000, "currency": "BRL"})
        created = await client.post("/api/v1/challenges", json=body, headers=manager.headers)
        assert created.status_code == 201, created.text
        assert created.json()["reward_reference"]["amount_minor"] == 4_914_810
        changed = await client.patch(
            f"/api/v1/challenges/{created.json()['id']}",
            json={**body, "reward": {"amount_minor": 61_040_000, "currency": "BRL"}},
            headers=manager.headers,
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["reward"] == {"amount_minor": 61_040_000, "currency": "BRL"}
        assert changed.json()["reward_reference"]["amount_minor"] == 10_000_000


# --- property: whatever the rewards and the rates --------------------------------------

CURRENCIES = ["EUR", "CLP", "BRL", "JPY", "BHD", "USD"]
DIGITS = {"EUR": 2, "CLP": 0, "BRL": 2, "JPY": 0, "BHD": 3, "USD": 2}
rate_values = st.decimals(
    min_value=Decimal("0.0001"), max_value=Decimal("50000"), places=4, allow_nan=False
).filter(lambda d: d > 0)


def expected_reference(
    amount_minor: int, currency: str, per_euro: dict[str, Fraction]
) -> int | None:
    """Written from the definition, apart from service.currencies: the amount in euros at
    the rate, in cents, rounded half up."""
    if currency == "EUR":
        return amount_minor
    if currency not in per_euro:
        return None
    cents = Fraction(amount_minor, 10 ** DIGITS[currency]) / per_euro[currency] * 100
    return int((cents * 2 + 1) // 2)


@pytest.fixture(scope="session")
async def session_loop(app: Starlette) -> AsyncIterator[asyncio.AbstractEventLoop]:
    # The database connections belong to the session's loop: the examples run there.
    yield asyncio.get_running_loop()


class TestProperty:
    def test_sorting_by_reward_equals_sorting_by_the_reference_amount(
        self, app: Starlette, settings: Settings, session_loop: asyncio.AbstractEventLoop
    ) -> None:
        org_id = session_loop.run_until_complete(_org())

        @examples(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        @given(
            rewards=st.lists(
                st.tuples(st.sampled_from(CURRENCIES), st.integers(1, 10**13)),
                min_size=1,
                max_size=12,
            ),
            direct=st.dictionaries(st.sampled_from(CURRENCIES[1:]), rate_values, max_size=5),
            usd_clp=st.none() | rate_values,
            threshold=st.integers(0, 10**9),
        )
        def check(
            rewards: list[tuple[str, int]],
            direct: dict[str, Decimal],
            usd_clp: Decimal | None,
            threshold: int,
        ) -> None:
            session_loop.run_until_complete(
                _check(app, settings, org_id, rewards, direct, usd_clp, threshold)
            )

        check()


async def _org() -> int:
    org = await factories.make_org(kind=OrganizationKind.government, name="Property City")
    return org.id


async def _check(
    app: Starlette,
    settings: Settings,
    org_id: int,
    rewards: list[tuple[str, int]],
    direct: dict[str, Decimal],
    usd_clp: Decimal | None,
    threshold: int,
) -> None:
    await Challenge.filter(organization_id=org_id).delete()
    await ExchangeRate.all().delete()
    org = await Organization.get(id=org_id)
    ids = [await publish(org, f"Prize {n}", amount, cur) for n, (amount, cur) in _flip(rewards)]
    async with db.transaction(None):
        for currency, rate in direct.items():
            await rates.set_rate(
                operator_ctx(settings),
                day=date(2026, 12, 4),
                base="EUR",
                quote=currency,
                rate=rate,
                source="Test",
            )
        if usd_clp is not None and "USD" in direct and "CLP" not in direct:
            await rates.set_rate(
                operator_ctx(settings),
                day=date(2026, 12, 4),
                base="USD",
                quote="CLP",
                rate=usd_clp,
                source="Test",
            )
        await references.refresh_all(settings)
    per_euro = {c: Fraction(r) for c, r in direct.items()}
    if usd_clp is not None and "USD" in direct and "CLP" not in direct:
        per_euro["CLP"] = Fraction(direct["USD"]) * Fraction(usd_clp)
    refs = {
        id_: expected_reference(amount, currency, per_euro)
        for id_, (currency, amount) in zip(ids, rewards, strict=True)
    }
    expected = sorted(ids, key=lambda i: (-1 if refs[i] is None else refs[i], i), reverse=True)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert await api_ids(client, sort="reward", limit=5) == expected
        minimum = Decimal(threshold) / 100
        kept = await api_ids(client, sort="reward", min_reward=str(minimum), limit=100)
        assert kept == [i for i in expected if refs[i] is not None and refs[i] >= threshold]


def _flip(rewards: list[tuple[str, int]]) -> list[tuple[int, tuple[int, str]]]:
    return [(n, (amount, currency)) for n, (currency, amount) in enumerate(rewards)]
