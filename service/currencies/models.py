"""The exchange-rate table that operators keep."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ExchangeRate(Model):
    """On `date`, one unit of `base` was worth `rate` units of `quote` (EUR -> USD 1.0523).

    Rates are exact decimals as published (the ECB gives up to six significant digits); a
    float would not give back the rate that was typed or imported. One rate per pair and
    day: importing the same file again, or typing a correction, replaces it in place.
    """

    id = fields.IntField(primary_key=True)
    date = fields.DateField()
    base = fields.CharField(max_length=3)
    quote = fields.CharField(max_length=3)
    rate = fields.DecimalField(max_digits=30, decimal_places=12)
    # Who published it: "ECB" for the European Central Bank's reference rates, or what the
    # operator typed (a central bank, a bank's quote).
    source = fields.CharField(max_length=60)
    entered_by_id = fields.IntField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "exchange_rates"
        # Also the index behind "the latest rate of a pair on or before a day".
        unique_together = (("base", "quote", "date"),)
