"""Whatever the order of funding, awards, releases, payments, failures, reversals and refunds,
the ledger stays balanced and agrees with an independent account of the money.

The stateful test drives the real services on a fresh challenge per example (see
`ledger_world.LedgerWorld`); the split of a milestone between a consortium's members is a pure
function, checked on its own with many more examples.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test
from starlette.applications import Starlette

from service.config import Settings
from service.rewards import service as rewards
from service.rewards.models import MilestoneStatus, PayoutStatus, RefundStatus
from tests.rewards.ledger_world import LedgerWorld


@pytest.fixture(scope="session")
async def session_loop(app: Starlette) -> AsyncIterator[asyncio.AbstractEventLoop]:
    # The database connections belong to the session's loop: the machine runs its steps there.
    yield asyncio.get_running_loop()


@pytest.fixture
def world(
    app: Starlette, session_loop: asyncio.AbstractEventLoop, settings: Settings
) -> type[LedgerWorld]:
    return LedgerWorld.bind(session_loop, settings)


class TestAnySequence:
    def test_keeps_every_invariant(self, world: type[LedgerWorld]) -> None:
        run_state_machine_as_test(
            world,
            settings=settings(
                max_examples=40,
                stateful_step_count=20,
                deadline=None,
                # Most rules wait on the escrow's state (no release before an approval, no
                # refund before a cancellation): a step whose rules are all closed counts as a
                # filtered draw, and how many are closed depends on the run's earlier steps.
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
        # What the runs reached (shown with -s): the deep paths, not only the refusals.
        print(dict(world.reached.most_common()))
        paid = world.reached["pay by bank transfer"] + world.reached["pay by stripe transfer"]
        core = ("fund", "award", "approve", "release", "fail", "release again", "cancel")
        assert paid > 0 and all(world.reached[op] > 0 for op in core), world.reached

    def test_a_story_that_takes_every_path(self, world: type[LedgerWorld]) -> None:
        """Each operation at least once, in an order a reader can follow, with every check of
        the generated runs after each step."""
        w = world()

        def then(_: None = None) -> None:
            w.unchanged = False
            w.books_balance()

        # Three startups, the first with a university partner holding 30%; only the first
        # startup has bank details yet.
        w.build(reward=1_000_001, partner_pcts=[30, None, None], with_account=[True])
        then()
        lead, partner, second, _ = w.recipients
        then(w.fund_beyond_the_reward(extra=1))
        then(w.fund(share=60))
        then(w.fund(share=100))
        then(w.fund_beyond_the_reward(extra=1))
        assert w.left_to_fund == 0
        then(w.award_beyond_the_escrow(which=0, extra=1))
        # 700,000 to the consortium in two milestones, 102,000 to the second startup.
        then(w.award(which=0, share=70, weights=[50, 50]))
        then(w.award_beyond_the_escrow(which=0, extra=1))
        then(w.award(which=0, share=34, weights=[100]))
        first, second_m, third = sorted(w.b.milestones)
        assert [w.b.milestones[m].amount for m in (first, second_m, third)] == [
            350_000,
            350_000,
            102_000,
        ]
        then(w.release_out_of_turn(which=0))
        then(w.approve(which=0))
        then(w.release_by_the_approver(which=0))
        # The partner has no payout account yet.
        then(w.release(which=0))
        assert w.ops["refused release without payout account"] == 1
        then(w.add_bank_details(which=0))
        then(w.release(which=0))
        assert w.b.milestones[first].status is MilestoneStatus.released
        then(w.release_out_of_turn(which=0))
        # The partner's payout fails: only its share is released again, the lead's payout
        # (still owed) is not made twice.
        lead_payout, partner_payout = w.b.payouts_of(first)
        assert (lead_payout.organization_id, partner_payout.organization_id) == (lead, partner)
        then(w.fail(which=1))
        then(w.pay_again(which=0))
        then(w.release(which=0))
        assert w.ops["release again"] == 1
        assert [(p.organization_id, p.status) for p in w.b.payouts_of(first)] == [
            (lead, PayoutStatus.awaiting_transfer),
            (partner, PayoutStatus.failed),
            (partner, PayoutStatus.awaiting_transfer),
        ]
        # Paying the partner's new payout does not close the milestone: the lead's is owed.
        then(w.pay_by_stripe_transfer(which=1))
        assert w.b.milestones[first].status is MilestoneStatus.released
        then(w.pay_by_bank_transfer(which=0))
        then(w.pay_again(which=0))
        assert w.b.milestones[first].status is MilestoneStatus.paid
        # Stripe reverses part of the transfer, tells of it again, then reverses the rest.
        stripe_paid = w.b.payouts_of(first)[-1]
        assert stripe_paid.transfer_id is not None
        then(w.reverse(which=0, full=False, part=0))
        assert 0 < stripe_paid.reversed < stripe_paid.amount
        then(w.sync_again(which=0))
        then(w.reverse(which=0, full=True, part=0))
        assert stripe_paid.status is PayoutStatus.reversed
        assert w.b.milestones[first].status is MilestoneStatus.approved
        then(w.release(which=0))
        then(w.pay_by_bank_transfer(which=0))
        assert w.b.milestones[first].status is MilestoneStatus.paid
        assert len(w.b.payouts_of(first)) == 4
        # The second startup's milestone: approved, released once it has bank details, paid.
        then(w.approve(which=1))
        assert w.b.milestones[third].status is MilestoneStatus.approved
        then(w.add_bank_details(which=0))
        assert second in w.accounts
        then(w.release(which=0))
        then(w.pay_by_bank_transfer(which=0))
        then(w.close_awarding())
        assert w.b.milestones[second_m].status is MilestoneStatus.planned
        # Cancelling returns what was never awarded (198,001), from the newest funding.
        then(w.cancel())
        assert list(w.b.refunds.values()) == [(198_001, RefundStatus.awaiting_transfer)]
        then(w.refund_again())
        then(w.fund_beyond_the_reward(extra=1))
        then(w.award_beyond_the_escrow(which=1, extra=1))
        then(w.record_refund(which=0))
        then(w.record_refund_again(which=0))
        then(w.refund_again())
        assert (w.b.escrow, w.b.refunded) == (0, 198_001)
        expected = {
            "fund",
            "award",
            "approve",
            "release",
            "release again",
            "bank details",
            "pay by bank transfer",
            "pay by stripe transfer",
            "fail",
            "reverse in part",
            "reverse in full",
            "sync again",
            "close awarding",
            "cancel",
            "refund again",
            "record refund",
            "refused fund",
            "refused award",
            "refused release without payout account",
            "refused release by the approver",
            "refused payment of failed",
            "refused payment of paid",
            "refused refund again",
        }
        assert expected <= set(w.ops), expected - set(w.ops)


# --- splitting a milestone between a consortium's members ----------------------------------

amounts = st.one_of(st.integers(0, 1_000), st.integers(0, 10**15))


@st.composite
def shares_of_100(draw: st.DrawFn) -> list[int]:
    """Percentages that sum to 100, as a lead's and its partners' shares do."""
    cuts = draw(st.lists(st.integers(0, 100), max_size=5))
    points = [0, *sorted(cuts), 100]
    return [b - a for a, b in itertools.pairwise(points)]


any_shares = st.lists(st.integers(0, 1_000), min_size=1, max_size=8).filter(lambda p: sum(p) > 0)


class TestSplit:
    @settings(max_examples=1_000, deadline=None)
    @given(amount=amounts, percentages=st.one_of(shares_of_100(), any_shares))
    def test_parts_sum_to_the_amount_each_within_a_cent(
        self, amount: int, percentages: list[int]
    ) -> None:
        parts = rewards.split(amount, percentages)
        assert len(parts) == len(percentages)
        assert sum(parts) == amount
        total = sum(percentages)
        for part, pct in zip(parts, percentages, strict=True):
            exact = Fraction(amount * pct, total)
            assert abs(part - exact) < 1
            assert part >= 0
            if pct == 0:
                assert part == 0
        # The same input always gives the same parts.
        assert rewards.split(amount, list(percentages)) == parts

    @settings(max_examples=500, deadline=None)
    @given(amount=amounts, percentages=shares_of_100())
    def test_leftover_cents_go_to_the_largest_remainders_first(
        self, amount: int, percentages: list[int]
    ) -> None:
        parts = rewards.split(amount, percentages)
        remainders = [(amount * p) % 100 for p in percentages]
        rounded_up = [
            i
            for i, (part, p) in enumerate(zip(parts, percentages, strict=True))
            if part * 100 > amount * p
        ]
        kept = [i for i in range(len(parts)) if i not in rounded_up]
        for up in rounded_up:
            for down in kept:
                assert (remainders[up], -up) > (remainders[down], -down)

    def test_percentages_that_sum_to_nothing_are_refused(self) -> None:
        with pytest.raises(ValueError):
            rewards.split(100, [0, 0])
