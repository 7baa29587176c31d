"""Money is integer minor units plus an ISO 4217 currency."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import get_currency_precision, list_currencies

CURRENCIES = frozenset(list_currencies())


def minor_units(currency: str) -> int:
    """How many decimals a currency has (EUR 2, CLP 0, ...)."""
    return int(get_currency_precision(currency))


def to_major(amount_minor: int, currency: str) -> Decimal:
    """Integer minor units as an exact decimal amount (CLP 45000000 -> 45000000, EUR 4530000 ->
    45300.00). Decimal, not float: a float loses cents above 2**53 and rounds on display."""
    return Decimal(amount_minor).scaleb(-minor_units(currency))


def to_minor(amount: Decimal | int, currency: str) -> int:
    """An exact major amount as integer minor units (45300 EUR -> 4530000); a fraction finer
    than the currency's minor unit is refused rather than rounded away."""
    scaled = Decimal(amount).scaleb(minor_units(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more decimals than {currency} allows")
    return int(scaled)
