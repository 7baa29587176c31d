"""Money is integer minor units plus an ISO 4217 currency."""

from __future__ import annotations

from babel.numbers import get_currency_precision, list_currencies

CURRENCIES = frozenset(list_currencies())


def minor_units(currency: str) -> int:
    """How many decimals a currency has (EUR 2, CLP 0, ...)."""
    return int(get_currency_precision(currency))
