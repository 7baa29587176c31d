"""Rate limits count each attempt for a full window, whatever the clock's boundaries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from starlette.applications import Starlette

from service.core import ratelimit
from service.core.errors import RateLimited

LIMIT = ratelimit.Limit("test", attempts=3, window_seconds=60)


async def test_crossing_a_clock_boundary_does_not_reset_the_count(app: Starlette) -> None:
    redis, prefix = app.state.deps.redis, app.state.settings.redis_prefix
    subject = uuid.uuid4().hex
    # Three attempts a second before a minute boundary, the fourth a second after it: a
    # fixed window would have started counting again from zero.
    boundary = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)
    with time_machine.travel(boundary - timedelta(seconds=1), tick=False):
        for _ in range(LIMIT.attempts):
            await ratelimit.hit(redis, prefix, LIMIT, subject)
    with time_machine.travel(boundary + timedelta(seconds=1), tick=False):
        with pytest.raises(RateLimited) as refused:
            await ratelimit.hit(redis, prefix, LIMIT, subject)
    # The first attempt ages out 60 s after it was made: 58 s after the refusal.
    assert refused.value.retry_after == 58
    with time_machine.travel(boundary + timedelta(seconds=58.5), tick=False):
        # Half a second before then, every attempt is still inside the window.
        with pytest.raises(RateLimited):
            await ratelimit.hit(redis, prefix, LIMIT, subject)
    with time_machine.travel(boundary + timedelta(seconds=59.5), tick=False):
        # The first three aged out; the two refused ones still count.
        await ratelimit.hit(redis, prefix, LIMIT, subject)


async def test_subjects_are_counted_apart_and_empty_ones_ignored(app: Starlette) -> None:
    redis, prefix = app.state.deps.redis, app.state.settings.redis_prefix
    first, second = uuid.uuid4().hex, uuid.uuid4().hex
    for _ in range(LIMIT.attempts):
        await ratelimit.hit(redis, prefix, LIMIT, first, "")
    with pytest.raises(RateLimited):
        await ratelimit.hit(redis, prefix, LIMIT, first)
    await ratelimit.hit(redis, prefix, LIMIT, second)
