"""The double-entry ledger: post balanced transactions, read balances, check the invariants.

Every function that posts runs inside the caller's database transaction, after the caller has
locked the business row it posts for (the funding, the award, the payout). A transaction's key
names the business event ("payout:17"), so the same event can never be posted twice.

Owns the ledger's accounts, transactions and entries: it inserts them, and reads them and the
monthly sums (`LedgerMonth`, kept by `service.rewards.aggregates` as each transaction is
inserted). It must never update or delete a posted transaction or entry (a mistake is undone
by a new, opposite posting), never lock rows itself, and never call Stripe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Subquery
from tortoise.functions import Sum
from tortoise.queryset import QuerySet

from service.rewards.models import (
    AccountKind,
    LedgerAccount,
    LedgerEntry,
    LedgerMonth,
    LedgerTransaction,
    TransactionKind,
)

K = AccountKind
T = TransactionKind


class Unbalanced(ValueError):
    """A transaction whose entries do not sum to zero: a programming error, never posted."""


async def account(
    kind: AccountKind,
    currency: str,
    *,
    organization_id: int | None = None,
    challenge_id: int | None = None,
    award_id: int | None = None,
) -> LedgerAccount:
    # The key names the owner and is unique, so each account exists once; first use creates it.
    owner = (
        f"challenge:{challenge_id}"
        if kind is K.escrow
        else f"award:{award_id}"
        if kind is K.allocation
        else f"organization:{organization_id}"
    )
    # A recipient's payable and paid-out accounts are per award: each award is followed apart.
    if kind in (K.payable, K.paid_out):
        owner += f":award:{award_id}"
    key = f"{kind.value}:{owner}:{currency}"
    found, _ = await LedgerAccount.get_or_create(
        key=key,
        defaults={
            "kind": kind,
            "currency": currency,
            "organization_id": organization_id,
            "challenge_id": challenge_id,
            "award_id": award_id,
        },
    )
    return found


async def post(
    key: str,
    kind: TransactionKind,
    moves: list[tuple[LedgerAccount, int]],
    *,
    challenge_id: int,
    city_id: int,
    counterpart_id: int | None,
    amount_minor: int,
    currency: str,
    memo: str = "",
) -> LedgerTransaction | None:
    """Post one balanced transaction; None when this event was already posted."""
    # Refused before anything is written: unbalanced, mixed currencies, or a zero or negative
    # amount (money only moves one way per posting; a reversal is a posting of its own).
    if sum(amount for _, amount in moves) != 0:
        raise Unbalanced(key)
    if any(a.currency != currency for a, _ in moves) or amount_minor <= 0:
        raise Unbalanced(key)
    # A repeat of the same event is a quiet no-op. Two at once are kept apart by the caller's
    # row lock; without it the unique key would make the second insert fail and roll back.
    if await LedgerTransaction.exists(key=key):
        return None
    txn = await LedgerTransaction.create(
        key=key,
        kind=kind,
        challenge_id=challenge_id,
        city_id=city_id,
        counterpart_id=counterpart_id,
        amount_minor=amount_minor,
        currency=currency,
        memo=memo[:200],
    )
    await LedgerEntry.bulk_create(
        [LedgerEntry(transaction_id=txn.id, account_id=a.id, amount_minor=n) for a, n in moves]
    )
    return txn


async def balance(acct: LedgerAccount) -> int:
    # No balance is stored: it is always the sum of the account's entries.
    row = (
        await LedgerEntry.filter(account_id=acct.id)
        .annotate(total=Sum("amount_minor"))
        .first()
        .values("total")
    )
    return int(row["total"] or 0) if row else 0


async def move(
    key: str,
    kind: TransactionKind,
    source: LedgerAccount,
    target: LedgerAccount,
    amount_minor: int,
    *,
    challenge_id: int,
    city_id: int,
    counterpart_id: int | None,
    memo: str = "",
) -> LedgerTransaction | None:
    """Move money from one account to another, as one transaction of two entries."""
    return await post(
        key,
        kind,
        [(source, -amount_minor), (target, amount_minor)],
        challenge_id=challenge_id,
        city_id=city_id,
        counterpart_id=counterpart_id,
        amount_minor=amount_minor,
        currency=source.currency,
        memo=memo,
    )


@dataclass(frozen=True)
class Totals:
    """A challenge's money, as the public page shows it."""

    committed: int
    escrowed: int
    allocated: int
    paid: int
    refunded: int
    remaining: int
    currency: str

    @property
    def funded(self) -> bool:
        return self.committed > 0 and self.escrowed + self.refunded >= self.committed


async def escrow_balance(challenge_id: int, currency: str) -> int:
    # The key as `account` builds it; no account yet means nothing was ever escrowed.
    acct = await LedgerAccount.get_or_none(key=f"escrow:challenge:{challenge_id}:{currency}")
    return await balance(acct) if acct else 0


async def totals(challenge_id: int, committed: int, currency: str) -> Totals:
    """Sums by kind of the challenge's transactions: one query over the monthly sums that the
    posting transaction keeps (`service.rewards.aggregates`), so its cost grows with months,
    not with the ledger's rows."""
    rows = (
        await LedgerMonth.filter(challenge_id=challenge_id)
        .annotate(total=Sum("amount_minor"))
        .group_by("kind")
        .values("kind", "total")
    )
    by_kind = {str(r["kind"]): int(r["total"] or 0) for r in rows}
    return _totals(by_kind, committed, currency)


async def totals_by_currency(challenges: QuerySet[Any]) -> list[Totals]:
    """The money of several challenges (a query of them), summed per currency: two queries
    whatever their number, the second over the monthly sums (as `totals`)."""
    committed = {
        str(r["currency"]): int(r["total"] or 0)
        for r in await challenges.annotate(total=Sum("reward_amount_minor"))
        .group_by("currency")
        .values("currency", "total")
    }
    rows = (
        await LedgerMonth.filter(challenge_id__in=Subquery(challenges.values("id")))
        .annotate(total=Sum("amount_minor"))
        .group_by("currency", "kind")
        .values("currency", "kind", "total")
    )
    by_currency: dict[str, dict[str, int]] = {c: {} for c in committed}
    for r in rows:
        by_currency.setdefault(str(r["currency"]), {})[str(r["kind"])] = int(r["total"] or 0)
    return [
        _totals(by_kind, committed.get(currency, 0), currency)
        for currency, by_kind in sorted(by_currency.items())
    ]


def _totals(by_kind: dict[str, int], committed: int, currency: str) -> Totals:
    def of(kind: TransactionKind) -> int:
        return by_kind.get(kind.value, 0)

    funded = of(T.fund)
    refunded = of(T.refund)
    allocated = of(T.allocate)
    # A reversal takes back part of what was paid; it returns to the award, not to escrow.
    paid = of(T.payout) - of(T.reversal)
    return Totals(
        committed=committed,
        escrowed=funded - refunded,
        allocated=allocated,
        paid=paid,
        refunded=refunded,
        remaining=funded - refunded - allocated,
        currency=currency,
    )


# --- invariants ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Breach:
    check: str
    detail: str
    city_id: int | None = None


# Accounts that hold the platform's money: none may ever go below zero.
NEVER_NEGATIVE = (K.escrow, K.allocation, K.payable, K.paid_out, K.refunded)


async def check_invariants() -> list[Breach]:
    """Every transaction sums to zero and has entries, no held balance is negative,
    and every paid payout is matched by exactly one payout transaction (and back).

    Each check is one query that returns only the rows in breach (`GROUP BY … HAVING`,
    `NOT EXISTS`), so memory and the data read into Python stay constant however long the
    ledger grows; the database does the sums over its indexes. Written in SQL that PostgreSQL
    and SQLite both run (`||` joins text to a number in both).
    """
    from service.rewards.models import Payout, PayoutStatus

    connection = LedgerEntry._meta.db
    entries = LedgerEntry._meta.db_table
    txns = LedgerTransaction._meta.db_table
    payouts = Payout._meta.db_table
    breaches: list[Breach] = []
    for row in await connection.execute_query_dict(
        f"SELECT t.id, t.city_id, SUM(e.amount_minor) AS total "  # noqa: S608 - table names
        f"FROM {txns} t JOIN {entries} e ON e.transaction_id = t.id "
        "GROUP BY t.id, t.city_id HAVING SUM(e.amount_minor) <> 0 ORDER BY t.id"
    ):
        breaches.append(
            Breach("unbalanced", f"transaction {row['id']} sums to {row['total']}", row["city_id"])
        )
    for row in await connection.execute_query_dict(
        f"SELECT t.id, t.city_id FROM {txns} t WHERE NOT EXISTS "  # noqa: S608 - table names
        f"(SELECT 1 FROM {entries} e WHERE e.transaction_id = t.id) ORDER BY t.id"
    ):
        breaches.append(
            Breach("no_entries", f"transaction {row['id']} has no entries", row["city_id"])
        )
    balances = (
        await LedgerEntry.filter(account__kind__in=[k.value for k in NEVER_NEGATIVE])
        .annotate(total=Sum("amount_minor"))
        .group_by("account_id", "account__key")
        .filter(total__lt=0)
        .order_by("account_id")
        .values("account_id", "account__key", "total")
    )
    for row in balances:
        breaches.append(
            Breach(
                "negative_balance",
                f"account {row['account__key']} is at {row['total']}",
                await _city_of_account(row["account_id"]),
            )
        )
    # A settled payout is posted once under the key "payout:<id>" (the key is unique, so
    # "exactly one" is "at least one"); the two directions are two anti-joins. The statuses and
    # the kind are the enums' own fixed values, written into the statement as literals.
    settled = ", ".join(f"'{s.value}'" for s in (PayoutStatus.paid, PayoutStatus.reversed))
    kind = f"'{T.payout.value}'"
    unposted = await connection.execute_query_dict(
        f"SELECT p.id FROM {payouts} p WHERE p.status IN ({settled}) "  # noqa: S608
        f"AND NOT EXISTS (SELECT 1 FROM {txns} t WHERE t.key = 'payout:' || p.id "
        f"AND t.kind = {kind}) ORDER BY p.id"
    )
    for row in unposted:
        city = await Payout.filter(id=row["id"]).values_list(
            "milestone__award__challenge__organization_id", flat=True
        )
        breaches.append(
            Breach(
                "payout_unmatched",
                f"payout {row['id']} is paid but not posted",
                int(city[0]) if city else None,  # type: ignore[call-overload]
            )
        )
    unpaid = await connection.execute_query_dict(
        f"SELECT t.key, t.city_id FROM {txns} t WHERE t.kind = {kind} "  # noqa: S608
        f"AND t.key LIKE 'payout:%' AND NOT EXISTS (SELECT 1 FROM {payouts} p "
        f"WHERE 'payout:' || p.id = t.key AND p.status IN ({settled})) ORDER BY t.id"
    )
    for row in unpaid:
        payout_id = str(row["key"]).split(":")[1]
        breaches.append(
            Breach("payout_unmatched", f"payout {payout_id} is posted but not paid", row["city_id"])
        )
    return breaches


async def _city_of_account(account_id: int) -> int | None:
    """The city whose money an account holds: the one the breach is reported to."""
    from service.applications.models import Award
    from service.challenges.models import Challenge

    acct = await LedgerAccount.get(id=account_id)
    if acct.kind in (K.funding_source, K.refunded):
        return acct.organization_id
    if acct.challenge_id is not None:
        challenge = await Challenge.get_or_none(id=acct.challenge_id)
        return challenge.organization_id if challenge else None
    award = await Award.get_or_none(id=acct.award_id).select_related("challenge")
    return award.challenge.organization_id if award else None
