"""A challenge completes when its last milestones are paid, even by two payouts at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette

from service import db
from service.challenges.models import Challenge, ChallengeStatus
from service.config import Settings
from service.integrations.fake_stripe import TEST_API_KEY, FakeStripe
from service.rewards import service as rewards
from service.rewards.gateway import StripeGateway
from service.rewards.models import Payout
from tests.rewards.payout_world import PayoutWorld, build_world, release


@pytest.fixture
async def two_winners(app: Starlette) -> AsyncIterator[tuple[PayoutWorld, Settings]]:
    """One challenge in delivery, two winners with one released milestone each."""
    fake = await FakeStripe(default_currency="eur").start_async()
    settings: Settings = app.state.settings.with_overrides(
        stripe_secret_key=TEST_API_KEY, stripe_api_base=fake.url
    )
    gateway = StripeGateway(settings, timeout=5)

    async def onboard(account_id: str) -> None:
        fake.complete_onboarding(account_id)

    try:
        queue = app.state.deps.queue
        world = await build_world(
            settings,
            gateway,
            onboard=onboard,
            queue=queue,
            challenges=1,
            winners_each=2,
            milestones_each=1,
        )
        for milestone_id, _ in world.milestones:
            await release(world, settings, milestone_id, queue)
        yield world, settings
    finally:
        await gateway.aclose()
        await fake.stop_async()


class TestCompletion:
    async def test_the_last_two_payouts_paid_at_once_complete_the_challenge(
        self, app: Starlette, two_winners: tuple[PayoutWorld, Settings]
    ) -> None:
        world, _ = two_winners
        first, second = await Payout.all().order_by("id")
        paid_first = asyncio.Event()
        commit_first = asyncio.Event()

        async def pay(payout_id: int, *, hold: bool) -> None:
            async with db.transaction(app.state.deps.queue):
                payout = await Payout.select_for_update().get(id=payout_id)
                award = await rewards._award_of(payout)
                await rewards.mark_paid(payout, award, transfer_id=f"tr_{payout_id}", reference="")
                if hold:
                    paid_first.set()
                    await commit_first.wait()

        async def pay_second() -> None:
            await paid_first.wait()
            await pay(second.id, hold=False)

        one = asyncio.create_task(pay(first.id, hold=True))
        two = asyncio.create_task(pay_second())
        await paid_first.wait()
        # The second payout runs while the first is paid but not committed: it must wait for
        # the first (on the challenge's row), not decide on what it sees.
        await asyncio.wait({two}, timeout=0.5)
        commit_first.set()
        await asyncio.gather(one, two)

        challenge = await Challenge.get(id=world.challenge_ids[0])
        assert challenge.status is ChallengeStatus.completed
