"""Rate limits kept in Redis, shared by every web process.

Sliding windows (`hit`): each subject's attempts are a sorted set of timestamps; an attempt
counts for exactly `window_seconds` after it was made, wherever the clock's minute or hour
boundaries fall. Refused attempts count too, so hammering keeps the door shut. An attempt
that turned out legitimate can be handed back (`refund`).

Slow-downs (`Backoff`): after a few consecutive failures each further attempt waits a delay
that doubles up to a cap. A refused attempt does not count, so nobody can keep the door
shut for longer than the cap, and a success clears the subject.
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


def _window_key(prefix: str, limit: Limit, subject: str) -> str:
    return f"{prefix}:rl:{limit.name}:{subject.lower()}"


async def hit(redis: Redis, prefix: str, limit: Limit, *subjects: str) -> str:
    """Count one attempt for each subject (an IP, an account); 429 once any is over.

    Returns the attempt's name, which `refund` takes to hand the attempt back.
    """
    now = time.time()
    member = f"{now:.6f}:{secrets.token_hex(4)}"
    retry_after = 0.0
    for subject in subjects:
        if not subject:
            continue
        key = _window_key(prefix, limit, subject)
        async with redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, "-inf", now - limit.window_seconds)
            pipe.zadd(key, {member: now})
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
    return member


async def refund(redis: Redis, prefix: str, limit: Limit, subject: str, attempt: str) -> None:
    """Hand an attempt back (a successful sign-in does not spend the address's budget)."""
    if subject:
        await redis.zrem(_window_key(prefix, limit, subject), attempt)


@dataclass(frozen=True)
class Backoff:
    """After `free` consecutive failures, wait `base` seconds, doubling up to `cap`."""

    name: str
    free: int
    base: float
    cap: float
    # A subject's failures are forgotten after this long without a new one.
    memory_seconds: int

    def delay(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return float(min(self.base * 2 ** (failures - self.free), self.cap))


# Atomic: check the delay and count the attempt as a failure in one step, so parallel
# attempts cannot all pass the check before any of them is counted. The caller clears the
# subject on success. Returns {failures counted, seconds still to wait (0 = go)}.
_BACKOFF_BEGIN = """
local failures = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
local last = tonumber(redis.call('HGET', KEYS[1], 't') or '0')
local now = tonumber(ARGV[1])
local free = tonumber(ARGV[2])
local base = tonumber(ARGV[3])
local cap = tonumber(ARGV[4])
local delay = 0
if failures >= free then
  delay = math.min(base * 2 ^ (failures - free), cap)
end
local wait = last + delay - now
if wait > 0 then
  return {failures, tostring(wait)}
end
failures = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], 't', ARGV[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
return {failures, '0'}
"""


def _backoff_key(prefix: str, backoff: Backoff, subject: str) -> str:
    return f"{prefix}:rl:{backoff.name}:{subject.lower()}"


async def backoff_begin(redis: Redis, prefix: str, backoff: Backoff, subject: str) -> int:
    """Let an attempt through (counted as a failure until cleared) or raise 429.

    Returns how many consecutive failures the subject has, this attempt included.
    """
    script = redis.register_script(_BACKOFF_BEGIN)
    failures, wait = await script(
        keys=[_backoff_key(prefix, backoff, subject)],
        args=[
            f"{time.time():.6f}",
            backoff.free,
            backoff.base,
            backoff.cap,
            backoff.memory_seconds,
        ],
    )
    seconds = float(wait)
    if seconds > 0:
        raise RateLimited(retry_after=max(math.ceil(seconds), 1))
    return int(failures)


async def backoff_undo(redis: Redis, prefix: str, backoff: Backoff, subject: str) -> None:
    """The attempt was neither a failure nor a success (a second factor is still due)."""
    key = _backoff_key(prefix, backoff, subject)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hincrby(key, "n", -1)
        # Should the key have expired meanwhile, the decrement must not outlive it.
        pipe.expire(key, backoff.memory_seconds)
        await pipe.execute()


async def backoff_clear(redis: Redis, prefix: str, backoff: Backoff, subject: str) -> None:
    await redis.delete(_backoff_key(prefix, backoff, subject))
