"""Amounts typed as each country writes them: what is read, what is refused and why, and no
amount that changes on its way from minor units to a form (or a page) and back."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel.numbers import format_currency, list_currencies
from hypothesis import given, settings
from hypothesis import strategies as st

from service.core import i18n
from service.core.amounts import (
    MAX_MINOR,
    AmountError,
    amount_example,
    amount_inputmode,
    format_amount_input,
    parse_amount,
)
from service.core.money import minor_units

NBSP, NNBSP = "\u00a0", "\u202f"

# (locale, currency, typed, minor units)
READ = [
    ("es", "CLP", "20.000.000", 20_000_000),
    ("pt", "CLP", "20.000.000", 20_000_000),
    ("es", "CLP", "20000000", 20_000_000),
    ("es", "CLP", "20 000 000", 20_000_000),
    ("es", "CLP", f"20{NBSP}000{NBSP}000", 20_000_000),
    ("en", "CLP", f"20{NNBSP}000{NNBSP}000", 20_000_000),
    ("en", "CLP", "20,000,000", 20_000_000),
    ("es", "CLP", "$20.000.000", 20_000_000),
    ("es", "CLP", "CLP 45.000.000", 45_000_000),
    ("en", "CLP", "45,000,000 clp", 45_000_000),
    ("en", "USD", "20,000,000.50", 2_000_000_050),
    ("en", "USD", "$1,500", 150_000),
    ("es", "USD", "US$ 1.500,5", 150_050),
    ("en", "USD", " 0.07 ", 7),
    ("es", "EUR", "40.000,50", 4_000_050),
    ("es", "EUR", "40.000,50 €", 4_000_050),
    ("pt", "EUR", "€ 40.000,50", 4_000_050),
    ("es", "EUR", "40 000,50", 4_000_050),
    ("en", "EUR", "€120,000", 12_000_000),
    ("en", "EUR", "EUR 120000.5", 12_000_050),
    ("es", "EUR", "0", 0),
    ("pt", "BRL", "R$ 350.000,00", 35_000_000),
    ("pt", "BRL", "350.000", 35_000_000),
    ("en", "BRL", "R$350,000.25", 35_000_025),
    ("en", "JPY", "¥1,000,000", 1_000_000),
    ("pt", "JPY", "JP¥ 1.000.000", 1_000_000),
    ("es", "JPY", "1.000.000", 1_000_000),
    ("en", "BHD", "1,250.125", 1_250_125),
    ("es", "BHD", "1.250,125", 1_250_125),
    ("pt", "BHD", "BHD 7,5", 7_500),
]

# (locale, currency, typed, the start of what the field says)
REFUSED = [
    ("es", "CLP", "20.000.000,50", "CLP has no cents: enter a whole number of pesos chilenos"),
    ("en", "CLP", "20000.5", "CLP has no cents: enter a whole number of Chilean pesos"),
    # "20.000" in English is twenty with three decimals, not twenty thousand: refused.
    ("en", "CLP", "20.000", "CLP has no cents"),
    ("pt", "JPY", "1.000,0", "JPY has no cents"),
    ("en", "EUR", "40,000.505", "EUR has 2 decimals: enter an amount such as 40,000.50"),
    ("es", "EUR", "1,505", "EUR has 2 decimals: enter an amount such as 40.000,50"),
    ("en", "BHD", "1.2345", "BHD has 3 decimals: enter an amount such as 40,000.500"),
    # Grouping where the locale does not put it is not guessed at.
    ("es", "EUR", "1.5", "Enter an amount, such as 40.000,50"),
    ("es", "EUR", "20,000,000.50", "Enter an amount, such as 40.000,50"),
    ("en", "EUR", "1,5", "Enter an amount, such as 40,000.50"),
    ("en", "EUR", "1.500,50", "Enter an amount, such as 40,000.50"),
    ("en", "EUR", "-5", "Enter an amount of zero or more"),
    ("es", "EUR", "\u22125", "Enter an amount of zero or more"),
    ("en", "USD", "-$5", "Enter an amount of zero or more"),
    ("en", "EUR", "lots", "Enter an amount, such as"),
    ("en", "EUR", "NaN", "Enter an amount, such as"),
    ("en", "EUR", "Infinity", "Enter an amount, such as"),
    ("en", "EUR", "1e6", "Enter an amount, such as"),
    ("en", "EUR", "0x10", "Enter an amount, such as"),
    ("en", "EUR", "€", "Enter an amount, such as"),
    # Another currency's sign is not this one's.
    ("en", "CLP", "€20,000", "Enter an amount, such as 20,000,000"),
    ("en", "EUR", "", "Enter the amount"),
    ("en", "EUR", "   ", "Enter the amount"),
    ("en", "EUR", "100,000,000,000.01", "This amount is too large: at most 100,000,000,000.00"),
    ("es", "CLP", "99.999.999.999.999.999", "This amount is too large"),
]


@pytest.mark.parametrize(("locale", "currency", "typed", "minor"), READ)
def test_amounts_are_read_as_the_viewers_locale_writes_them(
    locale: str, currency: str, typed: str, minor: int
) -> None:
    assert parse_amount(typed, currency, locale) == minor


@pytest.mark.parametrize(("locale", "currency", "typed", "message"), REFUSED)
def test_amounts_that_cannot_be_read_are_refused_with_the_reason(
    locale: str, currency: str, typed: str, message: str
) -> None:
    token = i18n.current_locale.set("en")
    try:
        with pytest.raises(AmountError) as refused:
            parse_amount(typed, currency, locale)
    finally:
        i18n.current_locale.reset(token)
    assert str(refused.value).startswith(message), str(refused.value)


@pytest.mark.parametrize(
    ("locale", "currency", "example", "mode"),
    [
        ("es", "CLP", "20.000.000", "numeric"),
        ("en", "CLP", "20,000,000", "numeric"),
        ("pt", "JPY", "20.000.000", "numeric"),
        ("es", "EUR", "40.000,50", "decimal"),
        ("en", "EUR", "40,000.50", "decimal"),
        ("pt", "BRL", "40.000,50", "decimal"),
        ("en", "USD", "40,000.50", "decimal"),
        ("es", "BHD", "40.000,500", "decimal"),
    ],
)
def test_examples_have_the_currencys_decimals_in_the_viewers_form(
    locale: str, currency: str, example: str, mode: str
) -> None:
    assert amount_example(currency, locale) == example
    assert amount_inputmode(currency) == mode
    assert parse_amount(example, currency, locale) > 0


def test_minor_units_come_from_the_currency_not_an_assumed_two() -> None:
    assert [minor_units(c) for c in ("CLP", "JPY", "EUR", "BRL", "USD", "BHD")] == [
        0,
        0,
        2,
        2,
        2,
        3,
    ]
    assert format_amount_input(4_000_050, "EUR", "es") == "40.000,50"
    assert format_amount_input(4_000_050, "CLP", "es") == "4.000.050"
    assert format_amount_input(4_000_050, "BHD", "en") == "4,000.050"


CURRENCIES = sorted(list_currencies())
LOCALES = sorted(i18n.LANGUAGES)


@settings(max_examples=600, deadline=None)
@given(
    currency=st.sampled_from(CURRENCIES),
    locale=st.sampled_from(LOCALES),
    minor=st.one_of(st.integers(0, 10**6), st.integers(0, MAX_MINOR)),
)
def test_no_amount_changes_from_minor_units_to_a_form_and_back(
    currency: str, locale: str, minor: int
) -> None:
    assert parse_amount(format_amount_input(minor, currency, locale), currency, locale) == minor


@settings(max_examples=600, deadline=None)
@given(
    currency=st.sampled_from(CURRENCIES),
    locale=st.sampled_from(LOCALES),
    minor=st.one_of(st.integers(0, 10**6), st.integers(0, MAX_MINOR)),
)
def test_no_amount_changes_from_minor_units_to_a_page_and_back(
    currency: str, locale: str, minor: int
) -> None:
    """What a page shows (currency sign and all) pasted into a form reads the same amount."""
    shown = format_currency(Decimal(minor).scaleb(-minor_units(currency)), currency, locale=locale)
    assert parse_amount(shown, currency, locale) == minor


def test_every_currency_round_trips_at_its_edges() -> None:
    """Every currency Babel knows, in every language we speak, at 0, 1, 10^k and the top."""
    edges = [0, 1, 9, 10, 99, 100, 12_345, 10**9 + 1, MAX_MINOR - 1, MAX_MINOR]
    for currency in CURRENCIES:
        for locale in LOCALES:
            for minor in edges:
                typed = format_amount_input(minor, currency, locale)
                assert parse_amount(typed, currency, locale) == minor, (currency, locale, typed)
