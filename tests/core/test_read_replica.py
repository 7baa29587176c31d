"""Public pages read from a real PostgreSQL streaming replica (DATABASE_READ_URL), and nobody
misses their own change.

The replica is made from the machine's PostgreSQL binaries (`pg_basebackup -R`, see
tests/pg_replica.py) on another port and removed afterwards. Its replay is paused while a
change is made on the primary: a page that shows the old value was read from the replica, one
that shows the new value from the primary. A web process (uvicorn, as deployed) serves the
pages; the router's own rules (transactions and row locks on the primary) are checked in
this process through a second Tortoise context.

Without the binaries the test fails and says what is missing: they are on every machine this
project runs its tests on.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from tortoise.context import TortoiseContext
from tortoise.router import router

from service import db
from service.accounts.models import OrganizationKind, Role
from service.challenges.models import Challenge, ChallengeStatus
from service.config import Settings
from service.db_routing import WROTE_COOKIE, replica_reads
from tests import factories
from tests.pg_replica import Cluster, ReplicaUnavailable, connect, wait_for_replay
from tests.processes import ProcessGroup, WebProcess
from tests.rewards.payout_world import worker_env

pytestmark = pytest.mark.processes

WINDOW = 3  # READ_AFTER_WRITE_SECONDS of the web process
DATABASE = "civic"


@pytest.fixture
async def cluster(settings: Settings) -> AsyncIterator[Cluster]:
    """A primary with the schema migrated, and its replica, both streaming and ready."""
    made: Cluster | None = None
    try:
        try:
            made = Cluster()
            await asyncio.to_thread(made.start_primary)
            # The suite's database, already migrated, lends its schema.
            await asyncio.to_thread(made.copy_schema, settings.database_url, DATABASE)
            await asyncio.to_thread(made.start_replica)
        except ReplicaUnavailable as exc:
            pytest.fail(f"no PostgreSQL primary and replica on this machine: {exc}")
        yield made
    finally:
        if made is not None:
            await asyncio.to_thread(made.stop)


def _title_on(page: httpx.Response) -> str:
    main = page.text.split('id="main"', 1)[-1]
    assert page.status_code == 200, (page.status_code, re.sub(r"\s+", " ", main)[:600])
    found = re.search(r"Buses on time \((\w+)\)", page.text)
    assert found, page.text[:500]
    return found.group(1)


async def test_anonymous_pages_read_from_the_replica_and_writers_from_the_primary(
    settings: Settings, cluster: Cluster, tmp_path: Path
) -> None:
    replica_settings = settings.with_overrides(
        database_url=cluster.primary.url(DATABASE),
        database_read_url=cluster.replica.url(DATABASE),
        read_after_write_seconds=WINDOW,
    )
    primary = await connect(replica_settings.database_url)
    standby = await connect(replica_settings.database_read_url)
    try:
        # This task's ORM talks to the test's own primary (and replica), as the web process does.
        async with TortoiseContext() as orm:
            await orm.init(config=db.tortoise_config(replica_settings))
            try:
                await _check_pages(replica_settings, primary, standby, tmp_path)
            finally:
                await orm.close_connections()
                # The router registry is process-wide: leave none for the rest of the suite.
                router.init_routers([])
    finally:
        await standby.execute("SELECT pg_wal_replay_resume()")
        await primary.close()
        await standby.close()


async def _check_pages(
    settings: Settings, primary: asyncpg.Connection, standby: asyncpg.Connection, tmp_path: Path
) -> None:
    manager = await factories.make_user()
    city = await factories.make_org(
        kind=OrganizationKind.government, members={manager: Role.manager}
    )
    now = datetime.now(UTC)
    challenge = await Challenge.create(
        organization=city,
        title="Buses on time (before)",
        summary="Help school buses arrive on time.",
        problem_statement="Buses are late on two mornings out of five.",
        area="mobility",
        sdgs=[11],
        region="Madrid",
        eligible_kinds=["startup"],
        reward_amount_minor=100_000,
        currency="EUR",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=30),
        judging_ends_at=now + timedelta(days=60),
        status=ChallengeStatus.open,
        published_at=now - timedelta(days=1),
    )
    env = worker_env(settings) | {
        "DATABASE_READ_URL": settings.database_read_url,
        "READ_AFTER_WRITE_SECONDS": str(WINDOW),
    }
    with ProcessGroup() as group:
        web = group.add(WebProcess(env, tmp_path / "web.log"))
        web.start()
        assert await standby.fetchval("SELECT pg_is_in_recovery()")
        await wait_for_replay(primary, standby)
        # From here the replica keeps the old title until replay resumes.
        await standby.execute("SELECT pg_wal_replay_pause()")
        await Challenge.filter(id=challenge.id).update(title="Buses on time (after)")
        await asyncio.to_thread(web.wait_ready)
        page = f"/challenges/{challenge.id}"

        async with (
            httpx.AsyncClient(base_url=web.url) as visitor,
            httpx.AsyncClient(base_url=web.url) as member,
        ):
            # A visitor's pages and the open data come from the replica.
            assert _title_on(await visitor.get(page)) == "before"
            opendata = await visitor.get("/api/v1/opendata/challenges.csv")
            assert opendata.status_code == 200
            assert "Buses on time (before)" in opendata.text
            assert "(after)" not in opendata.text
            # With a token the same API reads from the primary.
            token = await factories.token_for(member, manager)
            signed = await member.get(
                "/api/v1/opendata/challenges.csv", headers={"Authorization": f"Bearer {token}"}
            )
            assert "Buses on time (after)" in signed.text

            # Signed in: the primary.
            csrf = await factories.web_signin(member, manager)
            assert _title_on(await member.get(page)) == "after"
            # Signed out again, the browser still reads its own writes for a while: the
            # sign-out was a write, answered with the short-lived cookie.
            out = await member.post("/signout", data={"csrf_token": csrf})
            assert out.status_code == 303, out.text
            marks = [h for h in out.headers.get_list("set-cookie") if WROTE_COOKIE in h]
            assert marks and f"Max-Age={WINDOW}" in marks[0], out.headers
            assert _title_on(await member.get(page)) == "after"
            # Once the cookie has expired (the browser drops it), the replica again.
            member.cookies.delete(WROTE_COOKIE)
            assert _title_on(await member.get(page)) == "before"
            # Others' writes never send a visitor to the primary.
            assert _title_on(await visitor.get(page)) == "before"

            await standby.execute("SELECT pg_wal_replay_resume()")
            await wait_for_replay(primary, standby)
            assert _title_on(await visitor.get(page)) == "after"
        assert "Traceback" not in web.log_tail(200), web.log_tail(200)
        web.stop()
    await _router_keeps_transactions_on_the_primary(challenge.id, primary, standby)


async def _router_keeps_transactions_on_the_primary(
    challenge_id: int, primary: asyncpg.Connection, standby: asyncpg.Connection
) -> None:
    """The router's own rules, in this process: replica reads only outside transactions; a
    transaction's reads and row locks, and every write, on the primary."""
    await standby.execute("SELECT pg_wal_replay_pause()")
    await primary.execute(
        "UPDATE challenges SET title = 'Buses on time (third)' WHERE id = $1", challenge_id
    )
    with replica_reads():
        assert (await Challenge.get(id=challenge_id)).title.endswith("(after)")
        async with db.transaction(None):
            row = await Challenge.get(id=challenge_id)
            locked = await Challenge.select_for_update().get(id=challenge_id)
            assert row.title.endswith("(third)")
            assert locked.title.endswith("(third)")
        await Challenge.filter(id=challenge_id).update(summary="Changed.")
        assert (await Challenge.get(id=challenge_id)).summary != "Changed."
    # Outside a public request (the worker, commands): the primary.
    assert (await Challenge.get(id=challenge_id)).title.endswith("(third)")
    summary = await primary.fetchval("SELECT summary FROM challenges WHERE id = $1", challenge_id)
    assert summary == "Changed."
    await standby.execute("SELECT pg_wal_replay_resume()")
