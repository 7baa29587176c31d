"""Each challenge's reward in the platform's currency, stored for the challenge list.

A challenge stores its reference amount (`reward_reference_minor`) instead of the list
converting at query time: the list then sorts and filters on one column with an index
(constant work per page whatever the number of challenges and rates), while a join to "the
latest rate of each pair on or before today", through cross rates, would be computed for
every listed row. Rates change once a day and rewards rarely, so refreshing the stored
values at those moments is cheap: when a challenge's reward is saved (service.py), and when
the currencies area announces new rates ("rates.changed", listened to here).

Race: a reward edited while rates are imported. The refresh after an import locks the
challenge rows it refreshes (FOR UPDATE, in id order) and an edit locks its challenge before
reading the rates, so whichever commits second computes from the other's committed state.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from tortoise.connection import get_connection

from service.challenges.models import Challenge
from service.config import Settings
from service.core.events import listener
from service.currencies import service as currencies
from service.currencies.rates import Reference, reference

BATCH = 1000


Stored = tuple[int | None, str, date | None, str]
FIELDS = (
    "reward_reference_minor",
    "reward_reference_currency",
    "reward_reference_date",
    "reward_reference_source",
)


def _stored(ref: Reference | None) -> Stored:
    if ref is None:
        return None, "", None, ""
    return ref.amount_minor, ref.currency, ref.day, ref.source


async def refresh_challenge(challenge: Challenge, settings: Settings) -> None:
    """Recompute one challenge's reference (its row already locked by the caller)."""
    rates = await currencies.table()
    values = _stored(
        reference(
            challenge.reward_amount_minor, challenge.currency, rates, settings.platform_currency
        )
    )
    for name, value in zip(FIELDS, values, strict=True):
        setattr(challenge, name, value)
    await Challenge.filter(id=challenge.id).update(**dict(zip(FIELDS, values, strict=True)))


async def refresh_all(settings: Settings) -> int:
    """Recompute every challenge's reference; returns how many changed. Run inside a
    transaction; only rows whose value changes are written, so running it twice is
    harmless."""
    rates = await currencies.table()
    platform = settings.platform_currency
    rows = (
        await Challenge.select_for_update()
        .order_by("id")
        .values_list("id", "reward_amount_minor", "currency", *FIELDS)
    )
    changed: list[list[Any]] = []
    connection = get_connection("default")
    postgres = connection.capabilities.dialect == "postgres"
    for id_, amount, currency, *old in rows:
        new = _stored(reference(amount, currency, rates, platform))
        if new != tuple(old):
            minor, code, day, source = new
            # SQLite's driver takes days as ISO text (its date adapter is deprecated).
            changed.append(
                [minor, code, day if postgres or day is None else day.isoformat(), source, id_]
            )
    # One prepared statement run for every changed row (an UPDATE per row through the ORM
    # took over two minutes for 100,000 challenges; this takes seconds).
    marks = [f"${n}" for n in range(1, 6)] if postgres else ["?"] * 5
    statement = (
        f"UPDATE challenges SET reward_reference_minor = {marks[0]}, "  # noqa: S608
        f"reward_reference_currency = {marks[1]}, reward_reference_date = {marks[2]}, "
        f"reward_reference_source = {marks[3]} WHERE id = {marks[4]}"
    )
    for start in range(0, len(changed), BATCH):
        await connection.execute_many(statement, changed[start : start + BATCH])
    return len(changed)


@listener("rates.changed")
async def on_rates_changed(*, settings: Settings) -> int:
    """New or changed rates: every challenge's reference again (in the import's transaction)."""
    return await refresh_all(settings)
