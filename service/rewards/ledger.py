"""The double-entry ledger: post balanced transactions, read balances, check the invariants.

Every function that posts runs inside the caller's database transaction, after the caller has
locked the business row it posts for (the funding, the award, the payout). A transaction's key
names the business event ("payout:17"), so the same event can never be posted twice.
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
    owner = (
        f"challenge:{challenge_id}"
        if kind is K.escrow
        else f"award:{award_id}"
        if kind is K.allocation
        else f"organization:{organization_id}"
    )
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
    if sum(amount for _, amount in moves) != 0:
        raise Unbalanced(key)
    if any(a.currency != currency for a, _ in moves) or amount_minor <= 0:
        raise Unbalanced(key)
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
    acct = await LedgerAccount.get_or_none(key=f"escrow:challenge:{challenge_id}:{currency}")
    return await balance(acct) if acct else 0


async def totals(challenge_id: int, committed: int, currency: str) -> Totals:
    """Sums by kind of the challenge's transactions: one query."""
    rows = (
        await LedgerTransaction.filter(challenge_id=challenge_id)
        .annotate(total=Sum("amount_minor"))
        .group_by("kind")
        .values("kind", "total")
    )
    by_kind = {str(r["kind"]): int(r["total"] or 0) for r in rows}
    return _totals(by_kind, committed, currency)


async def totals_by_currency(challenges: QuerySet[Any]) -> list[Totals]:
    """The money of several challenges (a query of them), summed per currency: two queries
    whatever their number."""
    committed = {
        str(r["currency"]): int(r["total"] or 0)
        for r in await challenges.annotate(total=Sum("reward_amount_minor"))
        .group_by("currency")
        .values("currency", "total")
    }
    rows = (
        await LedgerTransaction.filter(challenge_id__in=Subquery(challenges.values("id")))
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
    and every paid payout is matched by exactly one payout transaction (and back)."""
    from service.rewards.models import Payout, PayoutStatus

    breaches: list[Breach] = []
    sums = (
        await LedgerEntry.all()
        .annotate(total=Sum("amount_minor"))
        .group_by("transaction_id")
        .values("transaction_id", "total")
    )
    txns = await LedgerTransaction.all().values("id", "key", "kind", "city_id")
    city_of_txn = {t["id"]: t["city_id"] for t in txns}
    with_entries = set()
    for row in sums:
        with_entries.add(row["transaction_id"])
        if int(row["total"] or 0) != 0:
            breaches.append(
                Breach(
                    "unbalanced",
                    f"transaction {row['transaction_id']} sums to {row['total']}",
                    city_of_txn.get(row["transaction_id"]),
                )
            )
    for txn in txns:
        if txn["id"] not in with_entries:
            breaches.append(
                Breach("no_entries", f"transaction {txn['id']} has no entries", txn["city_id"])
            )
    balances = (
        await LedgerEntry.filter(account__kind__in=[k.value for k in NEVER_NEGATIVE])
        .annotate(total=Sum("amount_minor"))
        .group_by("account_id", "account__key")
        .values("account_id", "account__key", "total")
    )
    for row in balances:
        if int(row["total"] or 0) < 0:
            breaches.append(
                Breach(
                    "negative_balance",
                    f"account {row['account__key']} is at {row['total']}",
                    await _city_of_account(row["account_id"]),
                )
            )
    posted = {
        int(str(t["key"]).split(":")[1]): t
        for t in txns
        if t["kind"] == T.payout.value and str(t["key"]).startswith("payout:")
    }
    settled: set[int] = {
        int(pid)  # type: ignore[call-overload]
        for pid in await Payout.filter(
            status__in=[PayoutStatus.paid, PayoutStatus.reversed]
        ).values_list("id", flat=True)
    }
    for payout_id in settled - set(posted):
        city = await Payout.filter(id=payout_id).values_list(
            "milestone__award__challenge__organization_id", flat=True
        )
        breaches.append(
            Breach(
                "payout_unmatched",
                f"payout {payout_id} is paid but not posted",
                int(city[0]) if city else None,  # type: ignore[call-overload]
            )
        )
    for payout_id in set(posted) - settled:
        breaches.append(
            Breach(
                "payout_unmatched",
                f"payout {payout_id} is posted but not paid",
                posted[payout_id]["city_id"],
            )
        )
    return breaches


async def _city_of_account(account_id: int) -> int | None:
    """The city whose money an account holds: the one the breach is reported to."""
    from service.challenges.models import Award, Challenge

    acct = await LedgerAccount.get(id=account_id)
    if acct.kind in (K.funding_source, K.refunded):
        return acct.organization_id
    if acct.challenge_id is not None:
        challenge = await Challenge.get_or_none(id=acct.challenge_id)
        return challenge.organization_id if challenge else None
    award = await Award.get_or_none(id=acct.award_id).select_related("challenge")
    return award.challenge.organization_id if award else None
