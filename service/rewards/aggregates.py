"""The ledger's running sums: by challenge, kind, currency and month, and each award's first
payment, kept in the transaction that posts.

Dashboards and public ledgers read these instead of the ledger's rows, so their queries cost
the same at ten thousand rows and at a million. A listener on `LedgerTransaction` (the ledger
only ever inserts them, through `ledger.post`) adds each new transaction to its month's row on
the same connection, inside the caller's database transaction: the sums commit or roll back
with the posting. Two postings for the same month meet on one row, updated in place with
`amount = amount + n` (the row lock orders them). `rebuild()` recomputes everything from the
ledger (the migration's backfill, and a repair if the sums were ever doubted).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F, Subquery
from tortoise.functions import Sum
from tortoise.queryset import QuerySet
from tortoise.signals import Signals

from service.rewards.models import (
    AwardPayment,
    LedgerMonth,
    LedgerTransaction,
    Payout,
    TransactionKind,
)


def month_of(moment: datetime) -> str:
    """ "2026-12": the month (UTC) a transaction counts in."""
    return moment.astimezone(UTC).strftime("%Y-%m")


def payout_id_of(key: str) -> int | None:
    """The payout a "payout:<id>" transaction pays (None for any other key)."""
    kind, _, rest = key.partition(":")
    return int(rest) if kind == "payout" and rest.isdigit() else None


async def record(txn: LedgerTransaction, *, using_db: BaseDBAsyncClient) -> None:
    """Adds one new transaction to the sums, on the connection that posted it."""
    month, _ = await LedgerMonth.get_or_create(
        challenge_id=txn.challenge_id,
        kind=txn.kind,
        currency=txn.currency,
        month=month_of(txn.created_at),
        defaults={"city_id": txn.city_id},
        using_db=using_db,
    )
    await (
        LedgerMonth.filter(id=month.id)
        .using_db(using_db)
        .update(
            amount_minor=F("amount_minor") + txn.amount_minor,
            transactions=F("transactions") + 1,
        )
    )
    payout_id = payout_id_of(txn.key) if txn.kind == TransactionKind.payout else None
    if payout_id is None:
        return
    award_id = (
        await Payout.filter(id=payout_id)
        .using_db(using_db)
        .first()
        .values_list("milestone__award_id", flat=True)
    )
    if award_id is None:
        return
    first, created = await AwardPayment.get_or_create(
        award_id=award_id,
        defaults={"challenge_id": txn.challenge_id, "first_paid_at": txn.created_at},
        using_db=using_db,
    )
    if not created:
        # Payments are posted in time order, but a clock is not a promise: keep the earliest.
        await (
            AwardPayment.filter(award_id=first.award_id, first_paid_at__gt=txn.created_at)
            .using_db(using_db)
            .update(first_paid_at=txn.created_at)
        )


async def _on_posted(
    sender: type[LedgerTransaction],
    instance: LedgerTransaction,
    created: bool,
    using_db: BaseDBAsyncClient | None,
    update_fields: list[str],
) -> None:
    if created:
        await record(instance, using_db=using_db or LedgerTransaction._meta.db)


LedgerTransaction.register_listener(Signals.post_save, _on_posted)


# --- reading -------------------------------------------------------------------------------


async def sums_by_month(challenges: QuerySet[Any], kinds: list[TransactionKind]) -> list[Any]:
    """(kind, currency, month, amount) of some challenges (a query of them): one query over
    their months, whatever the number of transactions."""
    rows = (
        await LedgerMonth.filter(
            challenge_id__in=Subquery(challenges.values("id")), kind__in=[k.value for k in kinds]
        )
        .annotate(total=Sum("amount_minor"))
        .group_by("kind", "currency", "month")
        .values("kind", "currency", "month", "total")
    )
    return [(str(r["kind"]), str(r["currency"]), str(r["month"]), int(r["total"])) for r in rows]


async def first_payments(challenges: QuerySet[Any]) -> dict[int, datetime]:
    """Award id -> when its first payment was posted, for the awards of some challenges."""
    rows = await AwardPayment.filter(
        challenge_id__in=Subquery(challenges.values("id"))
    ).values_list("award_id", "first_paid_at")
    return {int(award_id): at for award_id, at in rows}


# --- rebuilding ----------------------------------------------------------------------------

_MONTH = {
    "postgres": "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM')",
    "sqlite": "strftime('%Y-%m', created_at)",
}


async def rebuild(connection: BaseDBAsyncClient) -> None:
    """Recomputes every sum from the ledger, in the caller's transaction: two inserts that
    each read the ledger once (PostgreSQL and SQLite)."""
    dialect = connection.capabilities.dialect
    month = _MONTH["postgres" if dialect == "postgres" else "sqlite"]
    # One statement at a time: SQLite's script call commits first, which would end the
    # caller's transaction. The payout's id as text, compared with the key's (no cast that
    # one dialect lacks).
    for statement in (
        "DELETE FROM ledger_months",
        # Fixed table names and the dialect's own month expression:
        "INSERT INTO ledger_months (challenge_id, city_id, kind, currency, month, "  # noqa: S608
        "amount_minor, transactions) "
        f"SELECT challenge_id, MIN(city_id), kind, currency, {month}, SUM(amount_minor), "
        "COUNT(*) "
        f"FROM ledger_transactions GROUP BY challenge_id, kind, currency, {month}",
        "DELETE FROM award_payments",
        "INSERT INTO award_payments (award_id, challenge_id, first_paid_at) "
        "SELECT m.award_id, MIN(t.challenge_id), MIN(t.created_at) "
        "FROM ledger_transactions t "
        "JOIN payouts p ON t.key = 'payout:' || p.id "
        "JOIN milestones m ON m.id = p.milestone_id "
        "WHERE t.kind = 'payout' "
        "GROUP BY m.award_id",
    ):
        await connection.execute_query(statement)
