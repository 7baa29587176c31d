"""Opinion-map benchmark: `python -m tests.deliberation.bench [--postgres-url URL]`.

For each size (3,000 participants x 300 statements x 90,000 votes, and the largest public
Polis conversation's scale, 35,000 x 300 x 1,000,000), it seeds a conversation in a
PostgreSQL database of its own (created, migrated, dropped), then runs the map job's two
steps as the worker does, in a fresh process: read every vote through the repository, and
compute the map with red-dwarf. It prints the seconds of each step and the peak memory
(resident set) of that process. The targets are under 5 s for the small one, and under
2 minutes within 2 GiB for the large one; figures are printed, never asserted.

The synthetic participants fall in three groups with their own stances, each vote following
the group's stance 80% of the time; a few statements are agreed by every group.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime

import asyncpg
import numpy as np

from service.config import ROOT
from tests.bench.postgres import DEFAULT_ADMIN_URL, BenchDatabase
from tests.bench.servers import BenchError

SIZES = [(3_000, 300, 90_000, 5.0), (35_000, 300, 1_000_000, 120.0)]
GROUPS = 3


def synthetic(people: int, statements: int, votes: int, seed: int = 7) -> np.ndarray:
    """(participant number, statement index, value) rows, one per person and statement."""
    rng = np.random.default_rng(seed)
    keys = np.unique(rng.integers(0, people * statements, int(votes * 1.08)))[:votes]
    rng.shuffle(keys)
    person, statement = keys // statements + 1, keys % statements
    stances = rng.choice([-1, 0, 1], size=(GROUPS, statements), p=[0.45, 0.1, 0.45])
    stances[:, :5] = 1  # agreed by everyone
    group = person % GROUPS
    follows = rng.random(keys.size) < 0.8
    value = np.where(follows, stances[group, statement], rng.choice([-1, 0, 1], keys.size))
    return np.column_stack([person, statement, value]).astype(np.int64)


async def seed(url: str, people: int, statements: int, votes: int) -> int:
    rows = synthetic(people, statements, votes)
    now = datetime.now(UTC)
    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        user_id = await connection.fetchval(
            "INSERT INTO users (email, name, password_hash, language, is_operator, time_zone, "
            "created_at, token_version) VALUES ($1, 'Bench', '', 'en', false, '', $2, 0) "
            "RETURNING id",
            f"bench-{people}@example.org",
            now,
        )
        cid = await connection.fetchval(
            "INSERT INTO deliberation_conversations (topic, description, status, opened_by_id, "
            "participant_count, created_at) VALUES ('Bench', '', 'open', $1, $2, $3) RETURNING id",
            user_id,
            people,
            now,
        )
        statement_ids = [
            await connection.fetchval(
                "INSERT INTO deliberation_statements (conversation_id, author_id, text, seed, "
                "status, reason, agree_count, disagree_count, pass_count, created_at) "
                "VALUES ($1, $2, $3, true, 'published', '', 0, 0, 0, $4) RETURNING id",
                cid,
                user_id,
                f"Statement {i}",
                now,
            )
            for i in range(statements)
        ]
        await connection.copy_records_to_table(
            "deliberation_participants",
            columns=["conversation_id", "user_id", "number", "created_at"],
            records=[(cid, 1_000_000 + n, n, now) for n in range(1, people + 1)],
        )
        pid_of = dict(
            await connection.fetch(
                "SELECT number, id FROM deliberation_participants WHERE conversation_id = $1", cid
            )
        )
        await connection.copy_records_to_table(
            "deliberation_votes",
            columns=["conversation_id", "statement_id", "participant_id", "value", "created_at"],
            records=((cid, statement_ids[int(s)], pid_of[int(p)], int(v), now) for p, s, v in rows),
        )
        await connection.execute("VACUUM (ANALYZE)")
    finally:
        await connection.close()
    return int(cid)


async def measure(url: str, cid: int) -> dict[str, float]:
    """The map job's reading and computing steps, in this (fresh) process."""
    from tortoise import Tortoise

    from service.config import Settings
    from service.db import tortoise_config
    from service.deliberation import repository
    from service.deliberation.service import _compute

    await Tortoise.init(config=tortoise_config(Settings(database_url=url)))
    try:
        started = time.perf_counter()
        votes = await repository.load_votes(cid)
        loaded = time.perf_counter()
        result = await asyncio.to_thread(_compute, votes)
        done = time.perf_counter()
    finally:
        await Tortoise.close_connections()
    return {
        "read_s": round(loaded - started, 2),
        "compute_s": round(done - loaded, 2),
        "total_s": round(done - started, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "votes": result.vote_count,
        "participants": result.participant_count,
        "groups": len(result.groups),
        "consensus": len(result.consensus),
    }


async def _admin(database: BenchDatabase, statement: str) -> None:
    connection = await asyncpg.connect(database.admin_url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def create(database: BenchDatabase) -> None:
    """An empty database with the app's migrations (no other seed: the conversations bring
    their own); dropped by `database.drop()` whatever happens."""
    database._created = True
    asyncio.run(_admin(database, f'CREATE DATABASE "{database.name}"'))
    # A generous timeout: a busy machine migrates slowly, and the figure is not the migration.
    subprocess.run(
        [sys.executable, "-m", "service", "migrate"],
        env={**os.environ, "DATABASE_URL": database.url},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres-url", default=DEFAULT_ADMIN_URL)
    parser.add_argument(
        "--measure", nargs=2, metavar=("URL", "CONVERSATION"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(asyncio.run(measure(args.measure[0], int(args.measure[1])))))
        return 0
    database = BenchDatabase(args.postgres_url)
    why = database.unavailable()
    if why:
        print(f"opinion maps: skipped, no PostgreSQL ({why})")
        return 0
    print("opinion maps (red-dwarf), read from PostgreSQL and computed as the map job does:")
    try:
        create(database)
        for people, statements, votes, target in SIZES:
            seeded = time.monotonic()
            cid = asyncio.run(seed(database.url, people, statements, votes))
            seed_s = time.monotonic() - seeded
            completed = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "tests.deliberation.bench",
                    "--measure",
                    database.url,
                    str(cid),
                ],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
            if completed.returncode != 0:
                raise BenchError(completed.stderr[-2000:])
            figures = json.loads(completed.stdout.strip().splitlines()[-1])
            print(
                f"  {people:>6,} participants x {statements} statements x "
                f"{figures['votes']:>9,} votes: "
                f"read {figures['read_s']:.2f} s + compute {figures['compute_s']:.2f} s = "
                f"{figures['total_s']:.2f} s (target < {target:.0f} s), peak memory "
                f"{figures['peak_rss_mib']:.0f} MiB (target < 2048), {figures['groups']} groups, "
                f"{figures['consensus']} consensus statements (seeded in {seed_s:.0f} s)"
            )
    finally:
        database.drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
