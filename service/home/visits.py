"""A person's visits to their home, kept in Redis: when they last came, and what their deal
flow held then, so that the home can say what is new since.

Redis rather than a table: losing this (a wiped Redis) only means that everything counts as
seen once more, and a home view then writes no database row. The key carries the account's
creation time as well as its id, so that an id used again (a rebuilt database) starts afresh.

A visit is a run of home views less than `VISIT_GAP` apart; "since your last visit" counts
from the end of the visit before the current one, so reloading the home keeps showing what
was new when the visit began.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from service.accounts.models import User

VISIT_GAP = timedelta(minutes=30)
KEEP = timedelta(days=180)


@dataclass(frozen=True)
class Baseline:
    """What the current visit is compared with (None: the first visit)."""

    since: datetime | None
    seen_matches: dict[str, list[int]] | None


def _key(prefix: str, user: User) -> str:
    created = int(user.created_at.timestamp()) if user.created_at else 0
    return f"{prefix}:home:visit:{user.id}:{created}"


def _time(raw: Any) -> datetime | None:
    if not raw:
        return None
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    return datetime.fromisoformat(text)


def _matches(raw: Any) -> dict[str, list[int]] | None:
    if not raw:
        return None
    value = json.loads(raw)
    return (
        {str(k): [int(s) for s in v] for k, v in value.items()} if isinstance(value, dict) else None
    )


async def visit(
    redis: Any, prefix: str, user: User, matches: dict[str, list[int]], now: datetime | None = None
) -> Baseline:
    """Record this home view and answer what it compares with."""
    now = now or datetime.now(UTC)
    key = _key(prefix, user)
    stored = await redis.hgetall(key)
    fields = {(k.decode() if isinstance(k, bytes) else str(k)): v for k, v in stored.items()}
    last = _time(fields.get("last"))
    latest = _matches(fields.get("latest"))
    if last is None:
        baseline = Baseline(since=None, seen_matches=None)
        update: dict[str, str] = {"started": now.isoformat()}
    elif now - last >= VISIT_GAP:
        # A new visit: what the last one showed last is now "seen", from the time it ended.
        baseline = Baseline(since=last, seen_matches=latest or {})
        update = {
            "started": now.isoformat(),
            "previous": last.isoformat(),
            "seen": json.dumps(latest or {}),
        }
    else:
        baseline = Baseline(
            since=_time(fields.get("previous")), seen_matches=_matches(fields.get("seen"))
        )
        update = {}
    update["last"] = now.isoformat()
    update["latest"] = json.dumps(matches)
    await redis.hset(key, mapping=update)
    await redis.expire(key, int(KEEP.total_seconds()))
    return baseline
