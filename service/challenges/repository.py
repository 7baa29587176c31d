"""Every query of the challenges area.

The public list is one SQL statement whatever its filters and page size (a JOIN for the
organization's name, keyset pagination on the chosen sort). On PostgreSQL the search uses
the generated `search_vector` column and its GIN index; on SQLite it falls back to LIKE.
Either way accents and case do not count (service.core.search).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from tortoise.connection import get_connection

from service.challenges import hooks
from service.challenges.models import (
    PUBLIC_STATUSES,
    Amendment,
    Attachment,
    Challenge,
    ChallengeStatus,
    Criterion,
    Follow,
    Question,
    StatusChange,
)
from service.core import search
from service.core.errors import ValidationFailed
from service.translation import service as translation

SORTS = {
    # name: (expression, descending)
    "newest": ("c.published_at", True),
    "closing": ("c.closes_at", False),
    # Rewards in different currencies compare by their reference amount in the platform
    # currency (service.currencies keeps it); one without a rate (-1) comes last. The
    # expression is indexed as written (migration 0018).
    "reward": ("COALESCE(c.reward_reference_minor, -1)", True),
}
# The name each sort's value is selected under, for the next page's cursor.
SORT_KEY = "sort_key"


@dataclass
class ChallengeFilters:
    q: str = ""
    statuses: list[str] = field(default_factory=list)
    area: str = ""
    sdg: int | None = None
    region: str = ""
    eligible_kind: str = ""
    # Minor units of the platform currency, compared with the reference amount.
    min_reward: int | None = None
    closing_before: datetime | None = None
    organization_id: int | None = None
    sort: str = "newest"


def encode_cursor(sort_value: Any, row_id: int) -> str:
    value = sort_value.isoformat() if isinstance(sort_value, datetime) else sort_value
    raw = json.dumps([value, row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if sort in ("newest", "closing"):
            value = datetime.fromisoformat(value)
        elif not isinstance(value, int):
            raise ValueError("reward cursor must be an integer")
        return value, int(row_id)
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise ValidationFailed(fields={"cursor": "This cursor is not valid."}) from exc


class _Sql:
    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.params: list[Any] = []

    def param(self, value: Any) -> str:
        self.params.append(value)
        return f"${len(self.params)}" if self.dialect == "postgres" else "?"


LIST_COLUMNS = """c.id, c.title, c.summary, c.area, c.region, c.status, c.sdgs,
    c.eligible_kinds, c.reward_amount_minor, c.currency, c.opens_at, c.closes_at,
    c.reward_reference_minor, c.reward_reference_currency, c.reward_reference_date,
    c.reward_reference_source,
    c.published_at, c.organization_id, o.name AS organization_name,
    o.time_zone AS organization_time_zone"""


def list_sql(
    filters: ChallengeFilters, *, dialect: str, cursor: str | None, limit: int
) -> tuple[str, list[Any]]:
    """The statement behind every public list (page, API, feeds)."""
    sql = _Sql(dialect)
    where = []
    statuses = [s for s in filters.statuses if s in PUBLIC_STATUSES] or sorted(PUBLIC_STATUSES)
    where.append(f"c.status IN ({', '.join(sql.param(s) for s in statuses)})")
    # A draft cancelled before publication was never public.
    where.append("c.published_at IS NOT NULL")
    if filters.q.strip():
        # Accents and case do not count (service.core.search): both sides are folded.
        if dialect == "postgres":
            query = f"{search.FOLD}({sql.param(filters.q)})"
            own = f"c.search_vector @@ websearch_to_tsquery('simple', {query})"
        else:
            own = " AND ".join(
                f"{search.FOLD}(c.search_text) LIKE {sql.param(search.contains_pattern(w))} "
                "ESCAPE '\\'"
                for w in search.words(filters.q) or [""]
            )
        # A challenge is also found by the words of its translations.
        other = translation.search_sql("challenge", filters.q, dialect=dialect, param=sql.param)
        where.append(f"(({own}) OR {other})")
    if filters.area:
        where.append(f"c.area = {sql.param(filters.area)}")
    if filters.region:
        where.append(f"{search.FOLD}(c.region) = {search.FOLD}({sql.param(filters.region)})")
    if filters.sdg is not None:
        if dialect == "postgres":
            where.append(f"c.sdgs::jsonb @> {sql.param(json.dumps([filters.sdg]))}::jsonb")
        else:
            where.append(
                f"EXISTS (SELECT 1 FROM json_each(c.sdgs) WHERE value = {sql.param(filters.sdg)})"
            )
    if filters.eligible_kind:
        if dialect == "postgres":
            kind = json.dumps([filters.eligible_kind])
            where.append(f"c.eligible_kinds::jsonb @> {sql.param(kind)}::jsonb")
        else:
            where.append(
                "EXISTS (SELECT 1 FROM json_each(c.eligible_kinds) WHERE value = "
                f"{sql.param(filters.eligible_kind)})"
            )
    if filters.min_reward is not None:
        where.append(f"c.reward_reference_minor >= {sql.param(filters.min_reward)}")
    if filters.closing_before is not None:
        where.append(f"c.closes_at < {sql.param(filters.closing_before)}")
    if filters.organization_id is not None:
        where.append(f"c.organization_id = {sql.param(filters.organization_id)}")
    column, descending = SORTS.get(filters.sort, SORTS["newest"])
    if cursor:
        value, row_id = decode_cursor(cursor, filters.sort)
        op = "<" if descending else ">"
        where.append(f"({column}, c.id) {op} ({sql.param(value)}, {sql.param(row_id)})")
    direction = "DESC" if descending else "ASC"
    statement = (
        f"SELECT {LIST_COLUMNS}, {column} AS {SORT_KEY} FROM challenges c "
        "JOIN organizations o ON o.id = c.organization_id "
        f"WHERE {' AND '.join(where)} "
        f"ORDER BY {column} {direction}, c.id {direction} LIMIT {sql.param(limit + 1)}"
    )
    return statement, sql.params


@dataclass
class ListPage:
    items: list[dict[str, Any]]
    next_cursor: str | None


async def list_public(
    filters: ChallengeFilters, *, cursor: str | None = None, limit: int = 20
) -> ListPage:
    connection = get_connection("default")
    dialect = connection.capabilities.dialect
    statement, params = list_sql(filters, dialect=dialect, cursor=cursor, limit=limit)
    rows = await connection.execute_query_dict(statement, params)
    for row in rows:
        _normalize_row(row)
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(last[SORT_KEY], last["id"])
    return ListPage(items=rows[:limit], next_cursor=next_cursor)


_SCALARS = (str, int, float, bool, type(None))


@lru_cache(maxsize=4096)
def _scalar_list(text: str) -> tuple[Any, ...] | None:
    """A JSON list of plain values as a tuple (None for anything else). A list shows the
    same few goal and applicant-kind lists on every row: each text is parsed once."""
    value = json.loads(text)
    if isinstance(value, list) and all(isinstance(v, _SCALARS) for v in value):
        return tuple(value)
    return None


def _json_value(text: str) -> Any:
    known = _scalar_list(text)
    # A fresh list for every row: what a caller does with one row's list stays there.
    return list(known) if known is not None else json.loads(text)


def _normalize_row(row: dict[str, Any]) -> None:
    """Raw rows differ by driver: JSON may come back as text, datetimes as strings."""
    for key in ("sdgs", "eligible_kinds"):
        if isinstance(row[key], str):
            row[key] = _json_value(row[key])
    for key in ("opens_at", "closes_at", "published_at", SORT_KEY):
        if isinstance(row[key], str):
            row[key] = datetime.fromisoformat(row[key])
    if isinstance(row["reward_reference_date"], str):
        row["reward_reference_date"] = date.fromisoformat(row["reward_reference_date"])


async def get(challenge_id: int) -> Challenge | None:
    return await Challenge.get_or_none(id=challenge_id).select_related("organization")


async def city_zone(challenge: Challenge) -> str:
    """The IANA zone of the challenge's city (its organization): its dates read in it."""
    from service.accounts.models import Organization

    # Fetched with select_related (the detail pages do): no query needed.
    loaded = getattr(challenge, "_organization", None)
    if isinstance(loaded, Organization):
        return loaded.time_zone
    zone = (
        await Organization.filter(id=challenge.organization_id)
        .first()
        .values_list("time_zone", flat=True)
    )
    return str(zone or "UTC")


async def get_for_update(challenge_id: int) -> Challenge:
    return await Challenge.select_for_update().get(id=challenge_id)


async def criteria(challenge: Challenge) -> list[Criterion]:
    return await Criterion.filter(challenge_id=challenge.id).order_by("position", "id")


async def detail_parts(challenge: Challenge) -> dict[str, list[Any]]:
    """Everything the detail page shows, in a fixed number of queries."""
    questions = (
        await Question.filter(challenge_id=challenge.id).select_related("author").order_by("id")
    )
    texts = [challenge.title, challenge.summary, challenge.problem_statement]
    texts += [t for q in questions for t in (q.text, q.answer)]
    return {
        "criteria": await criteria(challenge),
        "questions": questions,
        # The texts in the reader's language where a machine translation is cached (one item).
        "translations": [await translation.shown(texts)],
        "amendments": await Amendment.filter(challenge_id=challenge.id).order_by("id"),
        "attachments": await Attachment.filter(challenge_id=challenge.id).order_by("id"),
        "history": await StatusChange.filter(challenge_id=challenge.id).order_by("id"),
        # Who won, as the applications area tells (service.challenges.hooks).
        "winners": await hooks.winners(challenge),
    }


async def due_for_dates(now: datetime) -> list[Challenge]:
    """Challenges whose dates call for a move; rows locked, others' locks skipped."""
    return (
        await Challenge.select_for_update(skip_locked=True)
        .filter(
            status__in=[ChallengeStatus.published, ChallengeStatus.open, ChallengeStatus.closed]
        )
        .filter(opens_at__lte=now)
        .order_by("id")
        .limit(500)
    )


async def followers(challenge: Challenge) -> list[int]:
    return [f.user_id for f in await Follow.filter(challenge_id=challenge.id)]


async def is_following(challenge: Challenge, user_id: int) -> bool:
    return await Follow.filter(challenge_id=challenge.id, user_id=user_id).exists()
