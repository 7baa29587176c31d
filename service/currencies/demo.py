"""Demo exchange rates, so that the demo's challenge list sorts honestly from the first start.

A fixed copy of one day of the ECB's reference rates (`data/eurofxref-demo.csv`), plus the
Chilean peso, which the ECB does not quote, typed as an operator would (through the dollar,
to show a cross rate).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from service.accounts.actor import Actor
from service.config import Settings
from service.core.context import Context
from service.currencies import service as rates

SAMPLE = Path(__file__).parent / "data" / "eurofxref-demo.csv"
# 1 USD in CLP on the sample's day (about 990 CLP per euro through the ECB's USD rate).
USD_CLP = Decimal("940.25")


async def seed_rates(settings: Settings) -> None:
    ctx = Context(actor=Actor(), settings=settings, ip="demo")
    result = await rates.import_ecb(ctx, SAMPLE.read_text(encoding="utf-8"))
    assert result.added, "the demo's rates were already there"
    await rates.set_rate(
        ctx,
        day=date(2026, 12, 4),
        base="USD",
        quote="CLP",
        rate=USD_CLP,
        source="Banco Central de Chile",
    )
