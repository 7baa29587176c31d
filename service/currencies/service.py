"""Keeping the exchange-rate table: ECB files imported, rates typed by an operator, the
latest table of rates for a day.

When rates are added or changed, the area announces "rates.changed" in the same transaction;
the challenges area, which stores each challenge's reward in the platform's currency for its
list (service.challenges.references), refreshes those values and answers how many changed.
This area never imports challenges: the areas that price things in several currencies build on
it, not the reverse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from tortoise.connection import get_connection

from service.audit import service as audit
from service.config import Settings
from service.core import events
from service.core.context import Context
from service.core.errors import ValidationFailed
from service.core.i18n import gettext
from service.currencies import ecb
from service.currencies.models import ExchangeRate
from service.currencies.rates import EURO, PerEuro, Quote, per_euro

BATCH = 1000
MAX_DECIMALS = 12


@dataclass(frozen=True)
class ImportResult:
    added: int
    changed: int
    unchanged: int
    days: int
    challenges_updated: int


def today() -> date:
    return datetime.now(UTC).date()


async def latest_quotes(on_or_before: date) -> list[Quote]:
    """The latest rate of each pair on or before a day (one statement)."""
    connection = get_connection("default")
    mark = "$1" if connection.capabilities.dialect == "postgres" else "?"
    rows = await connection.execute_query_dict(
        "SELECT r.base, r.quote, r.date, r.rate, r.source FROM exchange_rates r "  # noqa: S608
        "JOIN (SELECT base, quote, MAX(date) AS day FROM exchange_rates "
        f"WHERE date <= {mark} GROUP BY base, quote) m "
        "ON r.base = m.base AND r.quote = m.quote AND r.date = m.day",
        [on_or_before],
    )
    return [
        Quote(
            day=row["date"] if isinstance(row["date"], date) else date.fromisoformat(row["date"]),
            base=row["base"],
            quote=row["quote"],
            rate=Decimal(str(row["rate"])),
            source=row["source"],
        )
        for row in rows
    ]


async def table(on_or_before: date | None = None) -> dict[str, PerEuro]:
    return per_euro(await latest_quotes(on_or_before or today()))


async def rates_changed(settings: Settings) -> int:
    """Tell the areas that keep amounts converted with these rates (in this transaction);
    returns how many stored values they refreshed."""
    return sum(await events.announce("rates.changed", settings=settings))


def _check_rate(value: Decimal, field: str = "rate") -> Decimal:
    exponent = value.as_tuple().exponent
    if (
        not value.is_finite()
        or value <= 0
        or value >= Decimal(10) ** 17
        or (isinstance(exponent, int) and exponent < -MAX_DECIMALS)
    ):
        raise ValidationFailed(
            fields={
                field: gettext(
                    "Enter a positive rate with at most %(decimals)s decimals, such as 1.0523."
                )
                % {"decimals": MAX_DECIMALS}
            }
        )
    return value


async def _upsert(quotes: list[Quote], *, entered_by_id: int | None) -> tuple[int, int, int]:
    """Write quotes, one row per pair and day: new rows added, different ones replaced, the
    same ones left alone (so importing a file twice writes nothing)."""
    days = [q.day for q in quotes]
    existing = {
        (r.base, r.quote, r.date): r
        for r in await ExchangeRate.filter(
            date__gte=min(days),
            date__lte=max(days),
            base__in=sorted({q.base for q in quotes}),
            quote__in=sorted({q.quote for q in quotes}),
        ).select_for_update()
    }
    new: list[ExchangeRate] = []
    changed = unchanged = 0
    for q in quotes:
        row = existing.get((q.base, q.quote, q.day))
        if row is None:
            new.append(
                ExchangeRate(
                    date=q.day,
                    base=q.base,
                    quote=q.quote,
                    rate=q.rate,
                    source=q.source,
                    entered_by_id=entered_by_id,
                )
            )
        elif Decimal(row.rate) != q.rate or row.source != q.source:
            row.rate, row.source, row.entered_by_id = q.rate, q.source, entered_by_id
            await row.save(update_fields=["rate", "source", "entered_by_id", "updated_at"])
            changed += 1
        else:
            unchanged += 1
    for start in range(0, len(new), BATCH):
        await ExchangeRate.bulk_create(new[start : start + BATCH])
    return len(new), changed, unchanged


async def import_ecb(ctx: Context, text: str) -> ImportResult:
    """Import an ECB reference-rate file (daily or historic); a wrong file writes nothing.
    Run inside a transaction."""
    parsed = ecb.parse(text)
    for item in parsed:
        _check_rate(item.rate, "file")
    quotes = [Quote(p.day, EURO, p.quote, p.rate, ecb.SOURCE) for p in parsed]
    user = ctx.actor.user
    added, changed, unchanged = await _upsert(quotes, entered_by_id=user.id if user else None)
    updated = await rates_changed(ctx.settings) if added or changed else 0
    result = ImportResult(
        added=added,
        changed=changed,
        unchanged=unchanged,
        days=len({q.day for q in quotes}),
        challenges_updated=updated,
    )
    if added or changed:
        await audit.record(
            ctx,
            "rates.imported",
            object_type="exchange_rates",
            source=ecb.SOURCE,
            added=added,
            changed=changed,
            days=result.days,
            last_day=max(q.day for q in quotes).isoformat(),
        )
    return result


async def set_rate(
    ctx: Context, *, day: date, base: str, quote: str, rate: Decimal, source: str
) -> ExchangeRate:
    """One rate typed by an operator (for a currency the ECB does not quote, such as CLP)."""
    _check_rate(rate)
    if base == quote:
        raise ValidationFailed(fields={"quote": gettext("Choose two different currencies.")})
    user = ctx.actor.user
    await _upsert([Quote(day, base, quote, rate, source)], entered_by_id=user.id if user else None)
    await rates_changed(ctx.settings)
    await audit.record(
        ctx,
        "rates.entered",
        object_type="exchange_rates",
        day=day.isoformat(),
        base=base,
        quote=quote,
        rate=str(rate),
        source=source,
    )
    return await ExchangeRate.get(base=base, quote=quote, date=day)


async def recent(limit: int = 60) -> list[ExchangeRate]:
    """The latest rates, newest first (the operator page)."""
    return await ExchangeRate.all().order_by("-date", "base", "quote").limit(limit)
