"""Amounts as people type them in forms, and as forms show them back.

The API speaks integer minor units; people do not. In Santiago one types "20.000.000", in
Sevilla "40.000,50" or "40 000,50", in Chicago "20,000,000.50". One parser reads what the
viewer's locale writes (Babel's CLDR data, strict about grouping so "1.5" is never read as
15 in Spanish), and one formatter writes form values and examples the same way, so what a
form shows can always be sent back unchanged. The number of decimals always comes from the
currency (`money.minor_units`): CLP and JPY have none, BHD has three.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from typing import Any

from babel.localedata import locale_identifiers
from babel.numbers import (
    NumberFormatError,
    format_decimal,
    get_currency_name,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
    parse_decimal,
)

from service.core import i18n
from service.core.i18n import gettext, ngettext
from service.core.money import minor_units

# The largest amount any schema accepts, in minor units (see the API's `le=10**13`).
MAX_MINOR = 10**13

_SPACES = re.compile(r"\s+")  # spaces, no-break and narrow no-break spaces included
_MINUS = "-\u2212"


class AmountError(ValueError):
    """A typed amount that cannot be read; the message is for people, in their language."""


@cache
def _symbols(currency: str) -> tuple[str, ...]:
    """What people may type around an amount: its code and every symbol that the languages
    we speak give it in any country ("$" for CLP only exists in es_CL). Longest first, so "US$"
    is taken whole before "$"."""
    languages = tuple(i18n.LANGUAGES)
    found = {currency}
    for ident in locale_identifiers():
        if ident.split("_")[0] in languages:
            found.add(get_currency_symbol(currency, ident))
    return tuple(sorted((_SPACES.sub("", s) for s in found if s), key=len, reverse=True))


def _strip_symbol(text: str, currency: str, *, end: bool) -> str:
    folded = text.upper()
    for symbol in _symbols(currency):
        upper = symbol.upper()
        if end and folded.endswith(upper):
            return text[: -len(symbol)]
        if not end and folded.startswith(upper):
            return text[len(symbol) :]
    return text


def _take_sign(text: str) -> tuple[bool, str]:
    if text and text[0] in _MINUS:
        return True, text[1:]
    if text[:1] == "+":
        return False, text[1:]
    return False, text


def format_amount_input(amount_minor: int, currency: str, locale: str) -> str:
    """Minor units as a form shows them: grouped, with exactly the currency's decimals
    (2000000000 CLP in es -> "2.000.000.000"; 4000050 EUR in es -> "40.000,50")."""
    digits = minor_units(currency)
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(Decimal(amount_minor).scaleb(-digits), format=pattern, locale=locale)


def amount_example(currency: str, locale: str) -> str:
    """A believable amount in the form people should type it: "20.000.000" for CLP in es,
    "40,000.50" for EUR in en, "40.000,500" for BHD in es."""
    digits = minor_units(currency)
    if digits == 0:
        return format_amount_input(20_000_000, currency, locale)
    return format_amount_input(int(Decimal("40000.5").scaleb(digits)), currency, locale)


def amount_inputmode(currency: str) -> str:
    """The keyboard a phone should offer: digits only where the currency has no decimals."""
    return "numeric" if minor_units(currency) == 0 else "decimal"


def _unit_name(currency: str, locale: str) -> str:
    name = get_currency_name(currency, count=2, locale=locale)
    # Babel capitalises some currency names in Portuguese; in a sentence they are common nouns
    # there and in Spanish (in English they carry a country's name and keep the capital).
    return name if locale.startswith("en") else name[:1].lower() + name[1:]


def parse_amount(text: str, currency: str, locale: str, *, maximum: int = MAX_MINOR) -> int:
    """An amount typed in the viewer's locale, in minor units of `currency`.

    Raises AmountError, with a message naming what is wrong, for anything that is not a
    non-negative amount with at most the currency's decimals and at most `maximum`.
    """
    digits = minor_units(currency)
    example = amount_example(currency, locale)
    raw = _SPACES.sub("", text)
    if not raw:
        raise AmountError(gettext("Enter the amount."))
    negative, raw = _take_sign(raw)
    raw = _strip_symbol(raw, currency, end=False)
    if not negative:
        negative, raw = _take_sign(raw)
    raw = _strip_symbol(raw, currency, end=True)
    marks = re.escape(get_group_symbol(locale) + get_decimal_symbol(locale))
    if negative:
        raise AmountError(gettext("Enter an amount of zero or more."))
    if not re.fullmatch(rf"[0-9][0-9{marks}]*", raw):
        raise AmountError(gettext("Enter an amount, such as %(example)s.") % {"example": example})
    try:
        # strict: grouping must be where the locale puts it, so "1.5" in Spanish is refused
        # instead of read as fifteen.
        value = parse_decimal(raw, locale=locale, strict=True)
    except NumberFormatError:
        raise AmountError(
            gettext("Enter an amount, such as %(example)s.") % {"example": example}
        ) from None
    exponent = value.as_tuple().exponent
    decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if decimals > digits:
        # Counted as typed: "20.000" in English is 20 with three decimals, refused for CLP
        # rather than silently stored as twenty pesos.
        if digits == 0:
            raise AmountError(
                gettext("%(currency)s has no cents: enter a whole number of %(unit)s.")
                % {"currency": currency, "unit": _unit_name(currency, locale)}
            )
        raise AmountError(
            ngettext(
                "%(currency)s has %(num)s decimal: enter an amount such as %(example)s.",
                "%(currency)s has %(num)s decimals: enter an amount such as %(example)s.",
                digits,
            )
            % {"currency": currency, "num": digits, "example": example}
        )
    amount = int(value.scaleb(digits))
    if amount > maximum:
        raise AmountError(
            gettext("This amount is too large: at most %(maximum)s.")
            % {"maximum": format_amount_input(maximum, currency, locale)}
        )
    return amount


def read_amount(
    values: Mapping[str, Any],
    name: str,
    currency: str,
    errors: dict[str, str],
    *,
    required: bool = True,
) -> int | None:
    """The form field `name` in minor units, in the viewer's locale; None when it is empty
    (an error when required) or wrong, with the reason put in `errors` under `name`."""
    text = str(values.get(name) or "").strip()
    if not text:
        if required:
            errors[name] = gettext("Enter the amount.")
        return None
    try:
        return parse_amount(text, currency, i18n.current_locale.get())
    except AmountError as exc:
        errors[name] = str(exc)
        return None


def input_value(amount_minor: int | None, currency: str) -> str:
    """Minor units as a form field of the viewer shows them ("" for no amount)."""
    if amount_minor is None:
        return ""
    return format_amount_input(amount_minor, currency, i18n.current_locale.get())


def example_hint(currency: str) -> str:
    """ "e.g. 20.000.000", in the viewer's locale, for a field of this currency."""
    return gettext("e.g. %(example)s") % {
        "example": amount_example(currency, i18n.current_locale.get())
    }
