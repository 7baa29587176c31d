"""Minor units come from ISO 4217 (through Babel), never assumed to be two."""

from __future__ import annotations

from decimal import Decimal

import pytest

from service.core.money import minor_units, to_major, to_minor


@pytest.mark.parametrize(
    ("currency", "digits"), [("EUR", 2), ("BRL", 2), ("CLP", 0), ("JPY", 0), ("BHD", 3)]
)
def test_minor_units_come_from_iso(currency: str, digits: int) -> None:
    assert minor_units(currency) == digits


@pytest.mark.parametrize(
    ("amount_minor", "currency", "major"),
    [
        (45_000_000, "CLP", Decimal("45000000")),
        (4_530_000, "EUR", Decimal("45300.00")),
        (1_234, "BHD", Decimal("1.234")),
        (9_999_999_999_999, "EUR", Decimal("99999999999.99")),
    ],
)
def test_major_amount_is_exact_in_each_currency(
    amount_minor: int, currency: str, major: Decimal
) -> None:
    assert to_major(amount_minor, currency) == major
    assert to_minor(major, currency) == amount_minor


def test_a_fraction_finer_than_the_minor_unit_is_refused() -> None:
    with pytest.raises(ValueError, match="CLP"):
        to_minor(Decimal("100.5"), "CLP")
