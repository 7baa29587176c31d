"""The European Central Bank's reference-rate CSV files.

`eurofxref.csv` (the day's rates) and `eurofxref-hist.csv` (every day since 1999) share one
shape: a header `Date, USD, JPY, ...` then one line per day, each rate the units of that
currency for one euro, with a trailing comma and spaces after the commas. The historic file
writes `N/A` (or nothing) for a currency not quoted that day. Dates are "4 December 2026"
in the daily file and "2026-12-04" in the historic one.
See https://www.ecb.europa.eu/stats/policy_and_exchange_rates/euro_reference_exchange_rates/
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from service.core.errors import ValidationFailed
from service.core.i18n import gettext
from service.core.money import CURRENCIES

SOURCE = "ECB"
# A historic file holds about 27 years x 260 days; anything much larger is not one.
MAX_LINES = 20_000
MISSING = {"", "N/A", "n/a", "-"}


@dataclass(frozen=True)
class EuroRate:
    day: date
    quote: str
    rate: Decimal


def _day(text: str) -> date:
    for fmt in ("%Y-%m-%d", "%d %B %Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def _refuse(line: int, problem: str) -> ValidationFailed:
    return ValidationFailed(
        gettext("This is not an ECB reference-rate file: line %(line)s: %(problem)s")
        % {"line": line, "problem": problem},
        fields={"file": gettext("Line %(line)s: %(problem)s") % {"line": line, "problem": problem}},
    )


def parse(text: str) -> list[EuroRate]:
    """Every rate of the file, or a ValidationFailed naming the first wrong line (nothing
    is returned from a file with any wrong line: a half-read file would mix days)."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    rows = [[cell.strip() for cell in row] for row in rows if any(c.strip() for c in row)]
    if not rows:
        raise _refuse(1, gettext("the file is empty."))
    if len(rows) > MAX_LINES:
        raise _refuse(MAX_LINES, gettext("the file is too long."))
    header = rows[0]
    while header and header[-1] == "":
        header.pop()
    if not header or header[0].lower() != "date" or len(header) < 2:
        raise _refuse(1, gettext('the first line must start with "Date" and name currencies.'))
    currencies = header[1:]
    for code in currencies:
        if code not in CURRENCIES:
            raise _refuse(1, gettext("%(code)s is not an ISO 4217 currency.") % {"code": code})
    if len(set(currencies)) != len(currencies):
        raise _refuse(1, gettext("a currency is named twice."))
    rates: list[EuroRate] = []
    seen_days: set[date] = set()
    for number, row in enumerate(rows[1:], start=2):
        while len(row) > len(header) and row[-1] == "":
            row.pop()
        if len(row) != len(header):
            raise _refuse(
                number,
                gettext("%(found)s values where the header names %(expected)s.")
                % {"found": len(row), "expected": len(header)},
            )
        try:
            day = _day(row[0])
        except ValueError:
            raise _refuse(
                number, gettext("%(value)s is not a date.") % {"value": row[0][:40]}
            ) from None
        if day in seen_days:
            raise _refuse(number, gettext("the day %(day)s comes twice.") % {"day": day})
        seen_days.add(day)
        for code, cell in zip(currencies, row[1:], strict=True):
            if cell in MISSING:
                continue
            try:
                rate = Decimal(cell)
            except InvalidOperation:
                rate = Decimal(0)
            if not rate.is_finite() or rate <= 0 or rate >= Decimal(10) ** 17:
                raise _refuse(
                    number,
                    gettext("%(value)s is not a rate for %(code)s.")
                    % {"value": cell[:40], "code": code},
                )
            rates.append(EuroRate(day=day, quote=code, rate=rate))
    if not rates:
        raise _refuse(2, gettext("the file holds no rate."))
    return rates
