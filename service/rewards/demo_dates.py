"""The demo's money on a calendar that holds together.

The demo goes through the services, which stamp every step with the moment it runs: a
challenge that closed a year ago would be awarded, paid and completed today. This step, run
after the money is seeded, dates each step as it would have happened: the escrow funded soon
after publication, the award three weeks after the close (judging), each milestone due one,
four and six months after the award, and each paid milestone submitted, approved, released and
paid in the days before its due date. The ledger's transactions carry the same dates, so the
public ledger tells the same story as the award page; the ledger's sums by month and the
awards' first payments are then recomputed from those dates.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service import db
from service.applications.models import Award
from service.challenges.models import Challenge, StatusChange
from service.config import Settings
from service.rewards import aggregates
from service.rewards.models import Funding, LedgerTransaction, Milestone, Payout

# From the close to the award: the judges' three weeks.
JUDGING = timedelta(days=20)
# Each milestone is due this long after the award (the last one for any beyond).
DUE_AFTER = [timedelta(days=30), timedelta(days=120), timedelta(days=180)]
# Before its due date, a delivered milestone was submitted, approved, released and paid.
SUBMITTED, APPROVED, RELEASED, PAID = (timedelta(days=d) for d in (6, 4, 3, 2))


def award_date(challenge: Challenge, now: datetime) -> datetime:
    """After the close, within judging, and never later than yesterday."""
    return min(challenge.closes_at + JUDGING, challenge.judging_ends_at, now - timedelta(days=1))


async def date_money(settings: Settings) -> None:
    now = datetime.now(UTC)
    for funding in await Funding.all().order_by("id"):
        challenge = await Challenge.get(id=funding.challenge_id)
        # The city funds the escrow two days after publishing, before anyone can apply.
        funded = min((challenge.published_at or now) + timedelta(days=2), now)
        await Funding.filter(id=funding.id).update(created_at=funded, succeeded_at=funded)
        await LedgerTransaction.filter(key=f"fund:{funding.id}").update(created_at=funded)
    for award in await Award.all().select_related("challenge").order_by("id"):
        await _date_award(award, now)
    # The sums were kept as the money was posted, today: they follow the ledger's new dates.
    async with db.transaction(None) as connection:
        await aggregates.rebuild(connection)


async def _date_award(award: Award, now: datetime) -> None:
    challenge: Challenge = award.challenge
    awarded = award_date(challenge, now)
    await Award.filter(id=award.id).update(created_at=awarded)
    await LedgerTransaction.filter(key=f"allocate:{award.id}").update(created_at=awarded)
    moves = StatusChange.filter(challenge_id=challenge.id)
    await moves.filter(to_status="awarded").update(at=awarded)
    # Awarding closes the day after: the applications not chosen are told so.
    await moves.filter(to_status="in_delivery").update(at=awarded + timedelta(days=1))
    last_paid = awarded
    milestones = await Milestone.filter(award_id=award.id).order_by("position", "id")
    for n, milestone in enumerate(milestones):
        due = awarded + DUE_AFTER[min(n, len(DUE_AFTER) - 1)]
        # Steps still to come are never dated in the future: at the latest, a day ago.
        latest = now - timedelta(days=1)
        dates: dict[str, datetime] = {"due_at": due, "created_at": awarded}
        if milestone.submitted_at is not None:
            dates["submitted_at"] = min(due - SUBMITTED, latest)
        if milestone.approved_at is not None:
            dates["approved_at"] = min(due - APPROVED, latest)
        if milestone.released_at is not None:
            dates["released_at"] = min(due - RELEASED, latest)
        if milestone.paid_at is not None:
            dates["paid_at"] = paid = min(due - PAID, latest)
            last_paid = max(last_paid, paid)
            # The demo's released milestones are all paid: their payouts go with them.
            for payout in await Payout.filter(milestone_id=milestone.id):
                released = dates["released_at"]
                await Payout.filter(id=payout.id).update(
                    created_at=released, updated_at=paid, paid_at=paid
                )
                release = LedgerTransaction.filter(key=f"release:{payout.id}")
                await release.update(created_at=released)
                await LedgerTransaction.filter(key=f"payout:{payout.id}").update(created_at=paid)
        await Milestone.filter(id=milestone.id).update(**dates)
    await moves.filter(to_status="completed").update(at=last_paid)
