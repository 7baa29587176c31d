"""What the rewards area keeps that concerns deleting an account (see
service.core.personal_data). Its money records (the ledger, payouts, payout accounts) belong
to organizations, not to a person: none goes into a person's copy of their data, and none is
erased. What an organization still owes or is owed blocks deleting its last owner's account."""

from __future__ import annotations

from tortoise.expressions import Q, Subquery
from tortoise.functions import Sum

from service.accounts.models import Organization, User
from service.challenges.models import Challenge
from service.core import i18n
from service.core.personal_data import Section
from service.rewards.models import AccountKind, LedgerEntry, Milestone, MilestoneStatus


def export_sections() -> list[Section]:
    return []


async def deletion_blockers(organization: Organization) -> list[str]:
    """Money held in escrow or awarded but not yet paid, and milestones not paid."""
    reasons: list[str] = []
    challenge_ids = Subquery(Challenge.filter(organization_id=organization.id).values("id"))
    # Escrow, awarded and released money are balances of their own: any left is owed.
    balances = (
        await LedgerEntry.filter(
            account__kind__in=[AccountKind.escrow, AccountKind.allocation, AccountKind.payable],
            account__challenge_id__in=challenge_ids,
        )
        .annotate(total=Sum("amount_minor"))
        .group_by("account_id")
        .values("account_id", "total")
    )
    if any(row["total"] for row in balances):
        reasons.append(i18n.gettext("money held in escrow for its challenges"))
    unpaid = Milestone.filter(status__not=MilestoneStatus.paid)
    if await unpaid.filter(
        Q(award__challenge__organization_id=organization.id)
        | Q(award__application__organization_id=organization.id)
    ).exists():
        reasons.append(i18n.gettext("award milestones not paid yet"))
    return reasons


async def erase(user: User) -> None:
    return None
