"""How long a payout waits before it is tried again after a transient error from Stripe."""

from __future__ import annotations

from service.rewards.tasks import MAX_BACKOFF, payout_retry_delay


class TestPayoutRetryDelay:
    def test_the_first_retry_is_immediate_then_the_wait_doubles(self) -> None:
        assert [payout_retry_delay(n) for n in range(1, 8)] == [0, 1, 2, 4, 8, 16, 32]

    def test_the_wait_is_capped(self) -> None:
        assert payout_retry_delay(20) == MAX_BACKOFF
