"""Forms of the exchange-rate pages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from service.core.i18n import N_
from service.core.money import CURRENCIES


class RateIn(BaseModel):
    """One rate typed by an operator: on `date`, 1 `base` = `rate` `quote`."""

    model_config = ConfigDict(str_strip_whitespace=True)

    date: date
    base: str = Field(min_length=3, max_length=3)
    quote: str = Field(min_length=3, max_length=3)
    rate: Decimal = Field(gt=0, lt=Decimal(10) ** 17)
    source: str = Field(min_length=2, max_length=60)

    @field_validator("base", "quote")
    @classmethod
    def _currency(cls, value: str) -> str:
        code = value.upper()
        if code not in CURRENCIES:
            raise ValueError(N_("Use an ISO 4217 currency code, such as EUR, BRL or CLP."))
        return code
