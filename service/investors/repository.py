"""Every query of the investors area.

The deal flow runs a fixed number of statements whatever the page size: the page of ranked
startups (one statement, filters included), their track record (matching's `track_records`,
a fixed few), and which of them are on the watchlist (one). The SQL is built here as text
with its parameters so that the benchmark runs the same page statement on a bare asyncpg
connection.
"""

# Statements are assembled from fixed fragments; every value travels as a parameter.
# ruff: noqa: S608

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from tortoise.connection import get_connection

from service.core import search
from service.core.search import FOLD
from service.investors import matching_bridge as matching

# Delivered milestones and won challenges as the track record defines them
# (`service.matching.track.TrackRecord`), for the filters and the sort by wins.
DELIVERED = tuple(str(s) for s in matching.DELIVERED)
_DELIVERED_SQL = ", ".join(f"'{s}'" for s in DELIVERED)
# The ask the deal flow shows, filters and sorts by: only startups ask for funding (a
# university's ask stored before that rule is none).
_RAISING_SQL = ", ".join(f"'{k}'" for k in sorted(matching.RAISING_KINDS))
_ASK = f"(CASE WHEN o.kind IN ({_RAISING_SQL}) THEN p.funding_ask_minor END)"
SORTS = ("rank", "ask_asc", "ask_desc", "wins", "recent")


@dataclass(frozen=True)
class Filters:
    sector: str = ""
    stage: str = ""
    region: str = ""
    # Words of the startup's name or profile text.
    q: str = ""
    ask_min: int | None = None
    ask_max: int | None = None
    won: bool = False
    delivered: bool = False
    sort: str = "rank"


class Sql:
    """Collects parameters and hands out the dialect's placeholders."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.params: list[Any] = []

    def p(self, value: Any) -> str:
        self.params.append(value)
        return f"${len(self.params)}" if self.dialect == "postgres" else "?"

    def ids(self, values: list[int]) -> str:
        if self.dialect == "postgres":
            return f"= ANY({self.p(list(values))}::int[])"
        if not values:
            return "IN (NULL)"
        return "IN (" + ", ".join(self.p(v) for v in values) + ")"

    def has_sector(self, column: str, sector: str) -> str:
        if self.dialect == "postgres":
            return f"{column} @> {self.p(json.dumps([sector]))}::jsonb"
        value = self.p(sector)
        return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE json_each.value = {value})"


def _wins_of(column: str) -> str:
    """Challenges won: those of its awarded applications, each once."""
    return (
        "(SELECT COUNT(DISTINCT aw.challenge_id) FROM awards aw "
        "JOIN applications ap ON ap.id = aw.application_id "
        f"WHERE ap.organization_id = {column})"
    )


def _delivered_exists(column: str) -> str:
    return (
        "EXISTS (SELECT 1 FROM milestones ms JOIN awards aw ON aw.id = ms.award_id "
        "JOIN applications ap ON ap.id = aw.application_id "
        f"WHERE ap.organization_id = {column} AND ms.status IN ({_DELIVERED_SQL}))"
    )


VISIBLE = "p.dealflow_opt_in = TRUE AND o.verified_at IS NOT NULL"


def dealflow_sql(
    dialect: str,
    investor_id: int,
    filters: Filters,
    *,
    limit: int,
    offset: int,
    floor: float | None = None,
) -> tuple[str, list[Any]]:
    """One page of an investor's stored ranking, only startups that opted in and are verified
    and, with `floor`, whose score is at least that (what the thesis preview counts)."""
    q = Sql(dialect)
    where = [f"m.investor_id = {q.p(investor_id)}", VISIBLE]
    if floor is not None:
        where.append(f"m.score >= {q.p(floor)}")
    if filters.sector:
        where.append(q.has_sector("p.sectors", filters.sector))
    if filters.stage:
        where.append(f"p.stage = {q.p(filters.stage)}")
    # Words and region compare folded: accents and case do not count (service.core.search).
    for word in search.words(filters.q):
        name, text = (q.p(search.contains_pattern(word)) for _ in range(2))
        where.append(
            f"({FOLD}(o.name) LIKE {FOLD}({name}) ESCAPE '\\' "
            f"OR {FOLD}(p.text) LIKE {FOLD}({text}) ESCAPE '\\')"
        )
    if filters.region:
        where.append(f"{FOLD}(p.region) = {FOLD}({q.p(filters.region)})")
    if filters.ask_min is not None:
        where.append(f"{_ASK} >= {q.p(filters.ask_min)}")
    if filters.ask_max is not None:
        where.append(f"{_ASK} <= {q.p(filters.ask_max)}")
    if filters.won:
        where.append(f"{_wins_of('m.startup_id')} > 0")
    if filters.delivered:
        where.append(_delivered_exists("m.startup_id"))
    order = {
        "rank": "m.rank, m.startup_id",
        "ask_asc": f"{_ASK} ASC NULLS LAST, m.rank",
        "ask_desc": f"{_ASK} DESC NULLS LAST, m.rank",
        "wins": f"{_wins_of('m.startup_id')} DESC, m.rank",
        "recent": "p.updated_at DESC, m.rank",
    }.get(filters.sort, "m.rank, m.startup_id")
    sql = (
        "SELECT m.startup_id, m.rank, m.score, m.reasons, m.components, o.name, o.kind, "
        f"o.country, p.sectors, p.stage, {_ASK} AS funding_ask_minor, p.currency, p.region, "
        "p.text, p.share_scores "
        "FROM matches m JOIN organizations o ON o.id = m.startup_id "
        "JOIN startup_profiles p ON p.organization_id = m.startup_id "
        f"WHERE {' AND '.join(where)} ORDER BY {order} "
        f"LIMIT {q.p(limit)} OFFSET {q.p(offset)}"
    )
    return sql, q.params


def listed_sql(dialect: str, investor_ids: list[int], *, floor: float) -> tuple[str, list[Any]]:
    """The startups each investor's deal flow lists unfiltered (what `dealflow_sql` pages
    through), best first: for the counts shown elsewhere, such as the signed-in home."""
    q = Sql(dialect)
    sql = (
        "SELECT m.investor_id, m.startup_id "
        "FROM matches m JOIN organizations o ON o.id = m.startup_id "
        "JOIN startup_profiles p ON p.organization_id = m.startup_id "
        f"WHERE m.investor_id {q.ids(investor_ids)} AND {VISIBLE} AND m.score >= {q.p(floor)} "
        "ORDER BY m.investor_id, m.rank, m.startup_id"
    )
    return sql, q.params


def watched_sql(dialect: str, investor_id: int, startup_ids: list[int]) -> tuple[str, list[Any]]:
    q = Sql(dialect)
    sql = (
        "SELECT startup_id FROM investor_watches "
        f"WHERE investor_id = {q.p(investor_id)} AND startup_id {q.ids(startup_ids)}"
    )
    return sql, q.params


def picks_sql(dialect: str, *, limit: int) -> tuple[str, list[Any]]:
    """The latest city picks of visible startups, with the city's name."""
    q = Sql(dialect)
    sql = (
        "SELECT cp.id, cp.startup_id, cp.note, cp.created_at, o.name, city.id AS city_id, "
        "city.name AS city_name, p.sectors, p.stage "
        "FROM investor_city_picks cp JOIN organizations o ON o.id = cp.startup_id "
        "JOIN startup_profiles p ON p.organization_id = cp.startup_id "
        "JOIN organizations city ON city.id = cp.city_id "
        f"WHERE {VISIBLE} ORDER BY cp.id DESC LIMIT {q.p(limit)}"
    )
    return sql, q.params


def dialect() -> str:
    return str(get_connection("default").capabilities.dialect)


async def fetch(built: tuple[str, list[Any]]) -> list[dict[str, Any]]:
    sql, params = built
    return list(await get_connection("default").execute_query_dict(sql, params))


def as_json(value: Any) -> Any:
    """JSON columns arrive as text from raw queries on some drivers."""
    return json.loads(value) if isinstance(value, str | bytes) else value


async def first_view_of_the_day(investor_id: int, startup_id: int, viewer: str, day: date) -> bool:
    """Note that `viewer` saw the startup on `day`; true only the first time that day.

    One statement that inserts or does nothing: two reloads at the same moment (two web
    processes) cannot both count, and no error aborts the request's transaction.
    """
    connection = get_connection("default")
    sqlite = connection.capabilities.dialect == "sqlite"
    marks = ["?"] * 4 if sqlite else ["$1", "$2", "$3", "$4"]
    sql = (
        "INSERT INTO investor_profile_view_days (investor_id, startup_id, viewer, day) "
        f"VALUES ({', '.join(marks)}) "
        "ON CONFLICT (startup_id, investor_id, viewer, day) DO NOTHING RETURNING id"
    )
    # SQLite keeps dates as ISO text, as Tortoise writes them.
    rows = await connection.execute_query_dict(
        sql, [investor_id, startup_id, viewer, day.isoformat() if sqlite else day]
    )
    return bool(rows)
