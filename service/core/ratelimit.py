"""Sliding-window rate limits kept in Redis, shared by every web process.

Each subject's attempts are a sorted set of timestamps: an attempt counts for exactly
`window_seconds` after it was made, wherever the clock's minute or hour boundaries fall.
Refused attempts count too, so hammering keeps the door shut.
"""

from __future__ import annotations

import math
import secrets
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
    now = time.time()
    retry_after = 0.0
    for subject in subjects:
        if not subject:
            continue
        key = f"{prefix}:rl:{limit.name}:{subject.lower()}"
        async with redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, "-inf", now - limit.window_seconds)
            pipe.zadd(key, {f"{now:.6f}:{secrets.token_hex(4)}": now})
            pipe.zcard(key)
            pipe.expire(key, limit.window_seconds + 1)
            _, _, count, _ = await pipe.execute()
        excess = int(count) - limit.attempts
        if excess > 0:
            # The subject is let in again once all but `attempts` of its attempts have aged out.
            freeing = await redis.zrange(key, excess - 1, excess - 1, withscores=True)
            frees_at = freeing[0][1] + limit.window_seconds if freeing else now + 1
            retry_after = max(retry_after, frees_at - now)
    if retry_after > 0:
        raise RateLimited(retry_after=max(math.ceil(retry_after), 1))
