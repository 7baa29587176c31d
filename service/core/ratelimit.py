"""Fixed-window rate limits kept in Redis, shared by every web process."""

from __future__ import annotations

import time
from dataclasses import dataclass

from redis.asyncio import Redis

from service.core.errors import RateLimited


@dataclass(frozen=True)
class Limit:
    name: str
    attempts: int
    window_seconds: int


async def hit(redis: Redis, prefix: str, limit: Limit, *subjects: str) -> None:
    """Count one attempt for each subject (an IP, an account); 429 once any is over."""
    window = int(time.time() // limit.window_seconds)
    retry_after = limit.window_seconds - int(time.time() % limit.window_seconds)
    over = False
    for subject in subjects:
        if not subject:
            continue
        key = f"{prefix}:rl:{limit.name}:{subject.lower()}:{window}"
        async with redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, limit.window_seconds + 1)
            count, _ = await pipe.execute()
        if int(count) > limit.attempts:
            over = True
    if over:
        raise RateLimited(retry_after=max(retry_after, 1))
