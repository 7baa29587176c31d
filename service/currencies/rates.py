"""Cross rates through the euro, and a reward's reference amount. Pure: no database.

Every known rate is turned into "units of the currency for one euro" (the ECB's own
quotation), directly from a EUR pair or through a currency that already has one (a rate typed
as USD -> CLP becomes EUR -> CLP = EUR -> USD x USD -> CLP). Arithmetic is exact (fractions of
the published decimals) and the reference is rounded half up once, at the end, so the same
rates always give the same order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from service.core.money import minor_units

EURO = "EUR"


@dataclass(frozen=True)
class Quote:
    day: date
    base: str
    quote: str
    rate: Decimal
    source: str


@dataclass(frozen=True)
class PerEuro:
    """Units of a currency for one euro, as of `day` (the older day of the rates it is
    derived from), from `sources`."""

    units: Fraction
    day: date | None
    sources: frozenset[str]


@dataclass(frozen=True)
class Reference:
    amount_minor: int
    currency: str
    day: date | None
    source: str


def _later(new: PerEuro, old: PerEuro | None) -> bool:
    if old is None:
        return True
    return (new.day or date.min) > (old.day or date.min)


def per_euro(quotes: Iterable[Quote]) -> dict[str, PerEuro]:
    """The euro value of every currency the quotes reach (the latest of each pair given)."""
    quotes = sorted(quotes, key=lambda q: (q.base, q.quote, q.day))
    table: dict[str, PerEuro] = {EURO: PerEuro(Fraction(1), None, frozenset())}
    # Direct pairs first; when both directions are known, the more recent one counts.
    for q in quotes:
        rate = Fraction(q.rate)
        if q.base == EURO and q.quote != EURO:
            candidate = PerEuro(rate, q.day, frozenset({q.source}))
            if _later(candidate, table.get(q.quote)):
                table[q.quote] = candidate
        elif q.quote == EURO and q.base != EURO:
            candidate = PerEuro(1 / rate, q.day, frozenset({q.source}))
            if _later(candidate, table.get(q.base)):
                table[q.base] = candidate
    # Cross pairs: a currency only reached through another one. A few passes reach chains
    # (EUR -> USD -> CLP -> ...); among several ways to one currency the most recent rate
    # wins, ties by the sorted order of the pairs, so the result never depends on row order.
    for _ in range(3):
        found: dict[str, PerEuro] = {}
        for q in quotes:
            rate = Fraction(q.rate)
            if q.base in table and q.quote not in table:
                via = table[q.base]
                candidate = PerEuro(
                    via.units * rate, _older(via.day, q.day), via.sources | {q.source}
                )
                target = q.quote
            elif q.quote in table and q.base not in table:
                via = table[q.quote]
                candidate = PerEuro(
                    via.units / rate, _older(via.day, q.day), via.sources | {q.source}
                )
                target = q.base
            else:
                continue
            if _later(candidate, found.get(target)):
                found[target] = candidate
        if not found:
            break
        table.update(found)
    return table


def _older(a: date | None, b: date) -> date:
    return b if a is None else min(a, b)


def round_half_up(value: Fraction) -> int:
    return int((value * 2 + 1) // 2)


def reference(
    amount_minor: int, currency: str, table: dict[str, PerEuro], platform: str
) -> Reference | None:
    """The reward in the platform currency, or None when either currency has no rate."""
    if currency == platform:
        return Reference(amount_minor, platform, None, "")
    own, target = table.get(currency), table.get(platform)
    if own is None or target is None:
        return None
    major = Fraction(amount_minor, 10 ** minor_units(currency))
    value = major / own.units * target.units * 10 ** minor_units(platform)
    days = [d for d in (own.day, target.day) if d is not None]
    return Reference(
        amount_minor=round_half_up(value),
        currency=platform,
        day=min(days) if days else None,
        source=", ".join(sorted(own.sources | target.sources)),
    )
