"""The demo tells a story that holds together: prizes of the size cities offer in their own
currency, and every step of the money dated after the one it follows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.applications import Starlette

from service.applications.models import Application, Award
from service.challenges.models import Challenge, StatusChange
from service.config import Settings
from service.core.money import minor_units
from service.rewards.models import Funding, LedgerTransaction, Milestone, Payout, PayoutStatus

# What a city would offer, in major units of its own currency.
SMALLEST_PRIZE = {"CLP": 1_000_000, "EUR": 100_000, "BRL": 100_000}


class TestDemoCalendar:
    async def test_prizes_are_believable_and_the_money_is_dated_in_order(
        self, app: Starlette, settings: Settings
    ) -> None:
        from service.demo import seed

        await seed(settings)
        now = datetime.now(UTC)
        challenges = {c.id: c for c in await Challenge.all()}
        # Drafts too: a funding round's draft costs its prize, and the city reads that cost.
        for c in challenges.values():
            major = c.reward_amount_minor // 10 ** minor_units(c.currency)
            assert major >= SMALLEST_PRIZE[c.currency], (c.title, c.currency, major)
        # Applications are drafted and submitted before the deadline.
        for application in await Application.exclude(submitted_at=None):
            closes = challenges[application.challenge_id].closes_at
            submitted = application.submitted_at
            assert submitted is not None and application.created_at < submitted < closes
        awards = await Award.all()
        assert awards
        first_award = {a.challenge_id: a.created_at for a in sorted(awards, key=lambda a: a.id)}
        for award in awards:
            challenge = challenges[award.challenge_id]
            # Awarded after the close, during judging, and never today for an old challenge.
            assert challenge.closes_at <= award.created_at <= challenge.judging_ends_at
            assert award.created_at < now - timedelta(hours=12)
            milestones = await Milestone.filter(award_id=award.id).order_by("position")
            assert sum(m.amount_minor for m in milestones) == award.amount_minor
            assert all(m.due_at > award.created_at for m in milestones)
            for m in milestones:
                steps = [m.submitted_at, m.approved_at, m.released_at, m.paid_at]
                done = [s for s in steps if s is not None]
                assert done == sorted(done) and all(award.created_at <= s < now for s in done)
        # Funding is in escrow before the first award of its challenge.
        for funding in await Funding.exclude(succeeded_at=None):
            awarded = first_award.get(funding.challenge_id)
            assert funding.succeeded_at is not None
            assert funding.succeeded_at >= (challenges[funding.challenge_id].published_at or now)
            assert awarded is None or funding.succeeded_at < awarded
            fund = await LedgerTransaction.get(key=f"fund:{funding.id}")
            assert fund.created_at == funding.succeeded_at
        # Nothing is paid before it was awarded, nor paid today for an award months old.
        payouts = await Payout.filter(status=PayoutStatus.paid).select_related("milestone__award")
        assert payouts
        for payout in payouts:
            award = payout.milestone.award
            assert payout.paid_at is not None
            assert award.created_at <= payout.created_at <= payout.paid_at < now - timedelta(days=1)
            paid = await LedgerTransaction.get(key=f"payout:{payout.id}")
            assert paid.created_at == payout.paid_at
        # The challenge's history agrees: completed when its last milestone was paid.
        completed = await Challenge.get(status="completed")
        last_paid = max(
            m.paid_at
            for m in await Milestone.filter(award__challenge_id=completed.id)
            if m.paid_at is not None
        )
        move = await StatusChange.get(challenge_id=completed.id, to_status="completed")
        assert move.at == last_paid
