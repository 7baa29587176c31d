"""The ECB file, the exchange-rate table and its import: the command and the operator page."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from service import db
from service.accounts.actor import Actor
from service.audit.models import AuditEvent
from service.config import ROOT, Settings
from service.core.context import Context
from service.core.errors import ValidationFailed
from service.currencies import ecb
from service.currencies import service as rates
from service.currencies.models import ExchangeRate
from tests import factories

HERE = Path(__file__).parent
LATEST = (HERE / "eurofxref.csv").read_text()
HISTORIC = (HERE / "eurofxref-hist.csv").read_text()
DAY = date(2026, 12, 4)


def ctx(settings: Settings) -> Context:
    return Context(actor=Actor(), settings=settings, ip="test")


class TestEcbFile:
    def test_latest_file_gives_every_rate_of_its_day(self) -> None:
        parsed = ecb.parse(LATEST)
        assert len(parsed) == 30
        assert {p.day for p in parsed} == {DAY}
        usd = next(p for p in parsed if p.quote == "USD")
        assert usd.rate == Decimal("1.0523")
        assert next(p for p in parsed if p.quote == "IDR").rate == Decimal("16885.12")

    def test_historic_file_gives_each_day_and_skips_missing_rates(self) -> None:
        parsed = ecb.parse(HISTORIC)
        assert {p.day for p in parsed} == {
            date(2026, 12, 4),
            date(2026, 12, 3),
            date(2026, 12, 2),
            date(2008, 1, 2),
        }
        cyprus = [p for p in parsed if p.quote == "CYP"]
        assert [(p.day, p.rate) for p in cyprus] == [(date(2008, 1, 2), Decimal("0.5842"))]

    @pytest.mark.parametrize(
        ("text", "line"),
        [
            ("", "1"),
            ("Day, USD\n04 December 2026, 1.05\n", "1"),
            ("Date, USD, ZZZ,\n04 December 2026, 1.05, 2,\n", "1"),
            ("Date, USD, JPY,\n04 December 2026, 1.05\n", "2"),
            ("Date, USD,\n04 December 2026, 1.05,\n31 February 2026, 1.04,\n", "3"),
            ("Date, USD,\n04 December 2026, one,\n", "2"),
            ("Date, USD,\n04 December 2026, -1.05,\n", "2"),
            ("Date, USD,\n2026-12-04, 1.05,\n2026-12-04, 1.06,\n", "3"),
        ],
    )
    def test_wrong_file_names_the_line(self, text: str, line: str) -> None:
        with pytest.raises(ValidationFailed) as caught:
            ecb.parse(text)
        assert caught.value.fields["file"].startswith(f"Line {line}:")


class TestImport:
    async def test_latest_file_is_stored_as_eur_rates(
        self, app: object, settings: Settings
    ) -> None:
        async with db.transaction(None):
            result = await rates.import_ecb(ctx(settings), LATEST)
        assert (result.added, result.changed, result.days) == (30, 0, 1)
        usd = await ExchangeRate.get(base="EUR", quote="USD", date=DAY)
        assert (Decimal(usd.rate), usd.source) == (Decimal("1.0523"), "ECB")

    async def test_importing_the_same_file_twice_changes_nothing(
        self, app: object, settings: Settings
    ) -> None:
        async with db.transaction(None):
            await rates.import_ecb(ctx(settings), HISTORIC)
        before = [(r.id, r.rate, r.updated_at) for r in await ExchangeRate.all().order_by("id")]
        events = await AuditEvent.filter(action="rates.imported").count()
        async with db.transaction(None):
            again = await rates.import_ecb(ctx(settings), HISTORIC)
        assert (again.added, again.changed, again.unchanged) == (0, 0, len(before))
        after = [(r.id, r.rate, r.updated_at) for r in await ExchangeRate.all().order_by("id")]
        assert after == before
        assert await AuditEvent.filter(action="rates.imported").count() == events

    async def test_a_corrected_rate_replaces_the_day_s_rate(
        self, app: object, settings: Settings
    ) -> None:
        async with db.transaction(None):
            await rates.import_ecb(ctx(settings), LATEST)
            result = await rates.import_ecb(ctx(settings), LATEST.replace("1.0523", "1.0524"))
        assert (result.added, result.changed) == (0, 1)
        usd = await ExchangeRate.get(base="EUR", quote="USD", date=DAY)
        assert Decimal(usd.rate) == Decimal("1.0524")

    async def test_bad_file_writes_nothing(self, app: object, settings: Settings) -> None:
        broken = HISTORIC + "2026-12-05,1.05,oops,1.9558,N/A,25.1,6.1,0.83,\n"
        with pytest.raises(ValidationFailed) as caught:
            async with db.transaction(None):
                await rates.import_ecb(ctx(settings), broken)
        assert "Line 6" in caught.value.fields["file"]
        assert await ExchangeRate.all().count() == 0

    async def test_currency_quoted_against_another_is_derived_through_eur(
        self, app: object, settings: Settings
    ) -> None:
        async with db.transaction(None):
            await rates.import_ecb(ctx(settings), LATEST)
            await rates.set_rate(
                ctx(settings),
                day=date(2026, 12, 3),
                base="USD",
                quote="CLP",
                rate=Decimal("940"),
                source="Banco Central de Chile",
            )
        table = await rates.table(date(2026, 12, 7))
        clp = table["CLP"]
        assert clp.units == Decimal("1.0523") * 940
        # The older of the two rates dates the cross rate.
        assert clp.day == date(2026, 12, 3)
        assert clp.sources == {"ECB", "Banco Central de Chile"}

    async def test_latest_rate_on_or_before_the_day_counts(
        self, app: object, settings: Settings
    ) -> None:
        async with db.transaction(None):
            await rates.import_ecb(ctx(settings), HISTORIC)
        assert (await rates.table(date(2026, 12, 3)))["USD"].units == Decimal("1.0498")
        assert (await rates.table(date(2026, 12, 31)))["USD"].units == Decimal("1.0523")
        assert "USD" not in await rates.table(date(2000, 1, 1))


class TestCommand:
    def _run(self, settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "DATABASE_URL": settings.database_url, "ENV": "test"}
        return subprocess.run(
            [sys.executable, "-m", "service", "rates", *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    async def test_import_command_is_idempotent(self, app: object, settings: Settings) -> None:
        first = self._run(settings, "import", str(HERE / "eurofxref.csv"))
        assert first.returncode == 0, first.stderr
        assert "30 rate(s) added" in first.stdout
        second = self._run(settings, "import", str(HERE / "eurofxref.csv"))
        assert second.returncode == 0, second.stderr
        assert "0 rate(s) added, 0 changed, 30 already known" in second.stdout
        assert await ExchangeRate.all().count() == 30

    async def test_import_command_refuses_a_bad_file(
        self, app: object, settings: Settings, tmp_path: Path
    ) -> None:
        bad = tmp_path / "rates.csv"
        bad.write_text("Date, USD,\n04 December 2026, 1.05, 7,\n")
        result = self._run(settings, "import", str(bad))
        assert result.returncode == 2
        assert "Nothing imported" in result.stderr and "Line 2" in result.stderr
        assert await ExchangeRate.all().count() == 0


class TestOperatorPage:
    async def test_operator_with_two_factor_uploads_the_ecb_file(
        self, client: httpx.AsyncClient
    ) -> None:
        operator = await factories.make_user(operator=True, totp=True)
        csrf = await factories.web_signin(client, operator)
        response = await client.post(
            "/admin/rates/import",
            data={"csrf_token": csrf},
            files={"file": ("eurofxref.csv", LATEST.encode(), "text/csv")},
        )
        assert response.status_code == 303, response.text
        assert await ExchangeRate.all().count() == 30
        page = await client.get("/admin/rates")
        assert page.status_code == 200
        assert "1.0523" in page.text and "ECB" in page.text

    async def test_bad_upload_is_shown_by_the_field_and_writes_nothing(
        self, client: httpx.AsyncClient
    ) -> None:
        operator = await factories.make_user(operator=True, totp=True)
        csrf = await factories.web_signin(client, operator)
        response = await client.post(
            "/admin/rates/import",
            data={"csrf_token": csrf},
            files={"file": ("rates.csv", b"Date, USD,\nyesterday, 1.05,\n", "text/csv")},
        )
        assert response.status_code == 422
        assert 'id="f-file-error"' in response.text and "Line 2" in response.text
        assert await ExchangeRate.all().count() == 0

    async def test_operator_enters_one_rate_by_hand(self, client: httpx.AsyncClient) -> None:
        operator = await factories.make_user(operator=True, totp=True)
        csrf = await factories.web_signin(client, operator)
        body = {
            "csrf_token": csrf,
            "date": "2026-12-04",
            "base": "eur",
            "quote": "CLP",
            "rate": "1003.5",
            "source": "Banco Central de Chile",
        }
        response = await client.post("/admin/rates", data=body)
        assert response.status_code == 303, response.text
        row = await ExchangeRate.get(base="EUR", quote="CLP")
        assert (Decimal(row.rate), row.date, row.entered_by_id) == (
            Decimal("1003.5"),
            DAY,
            operator.id,
        )
        wrong = await client.post("/admin/rates", data={**body, "quote": "CL", "rate": "-2"})
        assert wrong.status_code == 422
        assert 'id="f-quote-error"' in wrong.text and 'id="f-rate-error"' in wrong.text
        assert await ExchangeRate.all().count() == 1

    @pytest.mark.parametrize("who", ["citizen", "operator_without_2fa"])
    async def test_only_operators_with_two_factor_may(
        self, client: httpx.AsyncClient, who: str
    ) -> None:
        user = await factories.make_user(operator=who != "citizen")
        csrf = await factories.web_signin(client, user)
        assert (await client.get("/admin/rates")).status_code == 403
        response = await client.post(
            "/admin/rates/import",
            data={"csrf_token": csrf},
            files={"file": ("eurofxref.csv", LATEST.encode(), "text/csv")},
        )
        assert response.status_code == 403
        assert await ExchangeRate.all().count() == 0


class TestPlatformCurrency:
    def test_platform_currency_must_be_an_iso_code(self) -> None:
        assert Settings(platform_currency="usd").platform_currency == "USD"
        with pytest.raises(ValueError, match="PLATFORM_CURRENCY"):
            Settings(platform_currency="EURO")
