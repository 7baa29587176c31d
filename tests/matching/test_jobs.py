"""Recomputing: the jobs, incremental against full, hard filters on stored results, track
records watched, the command line, and demo days through the API and the worker."""

from __future__ import annotations

import asyncio
import csv
import io
import random
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
import time_machine
from icalendar import Calendar
from starlette.applications import Starlette

from service import db
from service.accounts.models import Membership, Organization, OrganizationKind, Role
from service.config import Settings
from service.matching import recompute, tasks
from service.matching import service as matching
from service.matching.models import DemoDay, Match, StartupProfile, TextModel
from service.matching.schemas import ProfileIn, ThesisIn
from service.rewards.service import system_context
from tests import factories
from tests.matching import helpers

Burst = Callable[[], Coroutine[Any, Any, None]]
SECTORS = ["mobility", "energy", "water", "health", "education"]
STAGES = ["idea", "pre_seed", "seed", "series_a", "series_b"]
REGIONS = ["Madrid", "Lisboa", "Valparaíso"]
WORDS = "autobuses tráfico agua sensores energía solar escuelas salud buses water schools".split()


async def world(seed: int, n_startups: int = 24, n_investors: int = 4) -> dict[str, list[int]]:
    rng = random.Random(seed)
    startups = []
    for _ in range(n_startups):
        org, _ = await helpers.startup(
            sectors=rng.sample(SECTORS, rng.randint(1, 2)),
            stage=rng.choice(STAGES),
            funding_ask_minor=rng.choice([50_000_00, 300_000_00, 2_000_000_00]),
            region=rng.choice(REGIONS),
            text=" ".join(rng.choice(WORDS) for _ in range(6)),
        )
        startups.append(org.id)
    investors = []
    for _ in range(n_investors):
        org, _ = await helpers.investor(
            sectors=rng.sample(SECTORS, 2),
            stages=rng.sample(STAGES, 2),
            ticket_min_minor=100_000_00,
            ticket_max_minor=1_000_000_00,
            regions=rng.sample(REGIONS, 1),
            text=" ".join(rng.choice(WORDS) for _ in range(5)),
        )
        investors.append(org.id)
    return {"startups": startups, "investors": investors}


async def full(settings: Settings, **options: Any) -> int:
    async with db.transaction(None):
        return await matching.recompute_all(settings=settings, **options)


class TestConcurrentRanking:
    async def test_two_workers_ranking_one_investor_at_once_both_finish(
        self, app: Starlette, settings: Settings
    ) -> None:
        """Two jobs rank the same investor at the same moment (two workers). A third
        connection holds the rankings table until both are inside their transactions."""
        ids = await world(3, n_startups=12, n_investors=1)
        investor = ids["investors"][0]
        small = settings.with_overrides(matching_top_n=5)

        async def rank() -> int:
            async with db.transaction(None):
                return await matching.recompute_investor(investor, settings=small)

        blocker = await asyncpg.connect(
            settings.database_url.replace("postgres://", "postgresql://")
        )
        try:
            transaction = blocker.transaction()
            await transaction.start()
            await blocker.execute("LOCK TABLE matches IN ACCESS EXCLUSIVE MODE")
            jobs = [asyncio.create_task(rank()) for _ in range(2)]
            await asyncio.sleep(1.0)
            await transaction.rollback()
            assert await asyncio.gather(*jobs) == [5, 5]
        finally:
            await blocker.close()
        ranks = (
            await Match.filter(investor_id=investor).order_by("rank").values_list("rank", flat=True)
        )
        assert ranks == [1, 2, 3, 4, 5]


class TestFullRecompute:
    async def test_stores_the_top_results_with_ranks_scores_and_reasons(
        self, app: Starlette, settings: Settings
    ) -> None:
        ids = await world(1)
        small = settings.with_overrides(matching_top_n=10)
        stored = await full(small)
        assert stored == 4 * 10
        for investor in ids["investors"]:
            rows = await Match.filter(investor_id=investor).order_by("rank")
            assert [m.rank for m in rows] == list(range(1, 11))
            scores = [m.score for m in rows]
            assert scores == sorted(scores, reverse=True)
            assert all(0.0 <= s <= 1.0 for s in scores)
            assert all(set(m.components) == set(small.matching_weights) for m in rows)
            assert all(1 <= len(m.reasons) <= 3 for m in rows[:3])
            assert all(
                isinstance(r["code"], str) and "values" in r for m in rows for r in m.reasons
            )
        assert await TextModel.all().count() == 1

    async def test_hard_filters_hold_in_the_stored_results(
        self, app: Starlette, settings: Settings
    ) -> None:
        await world(2, n_startups=6, n_investors=2)
        hidden, _ = await helpers.startup(sectors=["mobility"], dealflow_opt_in=False)
        unverified, _ = await helpers.startup(sectors=["mobility"], verified=False)
        city = await factories.make_org(kind=OrganizationKind.government)
        async with db.transaction(None):
            # A profile of a city (made by hand: the API refuses it) is never ranked either.
            await StartupProfile.create(organization=city, dealflow_opt_in=True)
        fund, _ = await helpers.investor(verified=False, sectors=["mobility"])
        await full(settings)
        startups = set(await Match.all().values_list("startup_id", flat=True))
        assert startups and not startups & {hidden.id, unverified.id, city.id}
        assert not await Match.filter(investor_id=fund.id).exists()


class TestIncremental:
    async def test_an_investor_change_rewrites_only_its_rows_and_equals_a_full_recompute(
        self, app: Starlette, settings: Settings
    ) -> None:
        ids = await world(3)
        await full(settings)
        before = await helpers.stored_rows()
        changed = ids["investors"][0]
        owner = await factories.make_user()
        async with db.transaction(None):
            org = await Organization.get(id=changed)
            await Membership.create(user=owner, organization=org, role=Role.owner)
        ctx = system_context(settings)
        async with db.transaction(app.state.deps.queue):
            await matching.save_thesis(
                ctx, org, ThesisIn(sectors=["water"], stages=["idea"], text="agua sensores")
            )
        async with db.transaction(None):
            await matching.recompute_investor(changed, settings=settings)
        after = await helpers.stored_rows()
        for key, row in before.items():
            if key[0] != changed:
                assert after[key] == row, "another investor's row was rewritten"
        incremental = await helpers.stored()
        assert {k for k in incremental if k[0] == changed} != {
            k for k in before if k[0] == changed
        } or any(after[k] != before[k] for k in before if k[0] == changed)
        await full(settings, refit=False)
        assert await helpers.stored() == incremental

    async def test_a_startup_change_equals_a_full_recompute(
        self, app: Starlette, settings: Settings
    ) -> None:
        small = settings.with_overrides(matching_top_n=8)
        ids = await world(4)
        await full(small)
        before = await helpers.stored()
        changed = ids["startups"][5]
        org = await Organization.get(id=changed)
        ctx = system_context(small)
        async with db.transaction(app.state.deps.queue):
            await matching.save_profile(
                ctx,
                org,
                ProfileIn(
                    sectors=["mobility", "energy", "water"],
                    stage="seed",
                    funding_ask_minor=300_000_00,
                    region="Madrid",
                    text="autobuses tráfico energía solar",
                    dealflow_opt_in=True,
                ),
            )
        async with db.transaction(None):
            await matching.recompute_startup(changed, settings=small)
        incremental = await helpers.stored()
        assert incremental != before
        assert {k: v for k, v in incremental.items() if k[1] == changed} != {
            k: v for k, v in before.items() if k[1] == changed
        }
        await full(small, refit=False)
        assert await helpers.stored() == incremental

    async def test_a_series_of_startup_changes_each_equals_a_full_recompute(
        self, app: Starlette, settings: Settings
    ) -> None:
        """Startups change one after another; after each, the edited rankings equal a full
        recompute. Over the series a startup enters a full ranking (pushing the last one
        out), moves within one, and falls out of one."""
        small = settings.with_overrides(matching_top_n=4)
        ids = await world(11, n_startups=16, n_investors=5)
        await full(small)
        rng = random.Random(5)
        ctx = system_context(small)
        seen = {"entered": 0, "moved": 0, "left": 0}
        for _ in range(14):
            before = await helpers.stored()
            changed = rng.choice(ids["startups"])
            org = await Organization.get(id=changed)
            profile = ProfileIn(
                sectors=rng.sample(SECTORS, rng.randint(1, 2)),
                stage=rng.choice(STAGES),
                funding_ask_minor=rng.choice([50_000_00, 300_000_00, 2_000_000_00]),
                region=rng.choice(REGIONS),
                text=" ".join(rng.choice(WORDS) for _ in range(6)),
                dealflow_opt_in=rng.random() < 0.85,
            )
            async with db.transaction(app.state.deps.queue):
                await matching.save_profile(ctx, org, profile)
            async with db.transaction(None):
                await matching.recompute_startup(changed, settings=small)
            incremental = await helpers.stored()
            await full(small, refit=False)
            assert await helpers.stored() == incremental
            for investor in ids["investors"]:
                had = before.get((investor, changed))
                has = incremental.get((investor, changed))
                full_before = sum(1 for key in before if key[0] == investor) == 4
                if had is None and has is not None and full_before:
                    seen["entered"] += 1
                elif had is not None and has is None:
                    seen["left"] += 1
                elif had is not None and has is not None and had[0] != has[0]:
                    seen["moved"] += 1
        assert all(seen.values()), seen

    async def test_opting_out_removes_the_startup_everywhere(
        self, app: Starlette, settings: Settings
    ) -> None:
        small = settings.with_overrides(matching_top_n=30)
        ids = await world(5, n_startups=10)
        await full(small)
        leaving = ids["startups"][0]
        assert await Match.filter(startup_id=leaving).exists()
        await StartupProfile.filter(organization_id=leaving).update(dealflow_opt_in=False)
        async with db.transaction(None):
            await matching.recompute_startup(leaving, settings=small)
        assert not await Match.filter(startup_id=leaving).exists()
        incremental = await helpers.stored()
        await full(small, refit=False)
        assert await helpers.stored() == incremental


class TestJobs:
    async def test_saving_through_the_api_queues_one_recompute_per_window(
        self, client: httpx.AsyncClient, worker_burst: Burst
    ) -> None:
        owner = await factories.person(client)
        fund = await factories.make_org(
            kind=OrganizationKind.investor, members={owner.user: Role.owner}
        )
        company = await factories.make_org(members={owner.user: Role.owner})
        profile = {
            "sectors": ["mobility"],
            "stage": "seed",
            "funding_ask_minor": 300_000_00,
            "region": "Madrid",
            "text": "rutas de autobuses",
            "dealflow_opt_in": True,
        }
        url = f"/api/v1/startups/{company.id}/profile"
        # Frozen clock: the three saves fall in one debounce window whatever the timing.
        with time_machine.travel(datetime.now(UTC), tick=False):
            for _ in range(3):
                saved = await client.put(url, json=profile, headers=owner.headers)
                assert saved.status_code == 200
        deps = client._transport.app.state.deps  # type: ignore[attr-defined]
        assert await deps.queue.depth() == 1, "three saves in a window make one job"
        thesis = {
            "sectors": ["mobility"],
            "stages": ["seed"],
            "ticket_min_minor": 100_000_00,
            "ticket_max_minor": 1_000_000_00,
            "regions": ["Madrid"],
            "text": "autobuses",
        }
        put = await client.put(
            f"/api/v1/investors/{fund.id}/thesis", json=thesis, headers=owner.headers
        )
        assert put.status_code == 200
        await worker_burst()
        [match] = await Match.filter(investor_id=fund.id)
        assert match.startup_id == company.id and match.rank == 1
        codes = [r["code"] for r in match.reasons]
        assert codes[:2] == ["sector", "stage"] or codes[:2] == ["sector", "ticket"]

    async def test_a_new_track_record_is_noticed_and_recomputed(
        self, app: Starlette, settings: Settings, worker_burst: Burst
    ) -> None:
        company, _ = await helpers.startup(sectors=["mobility"], stage="seed")
        fund, _ = await helpers.investor(sectors=["mobility"])
        await full(settings)
        [before] = await Match.filter(investor_id=fund.id)
        assert before.components["track"] == 0.0
        await helpers.win_challenge(company)
        deps = app.state.deps
        assert await tasks.watch_track_records(deps) == 1
        assert await tasks.watch_track_records(deps) == 0, "a second run finds nothing new"
        await worker_burst()
        [after] = await Match.filter(investor_id=fund.id)
        assert after.components["track"] > 0
        assert after.score > before.score
        assert any(r["code"] == "track" for r in after.reasons)
        assert (
            after.reasons[[r["code"] for r in after.reasons].index("track")]["values"]["wins"] == 1
        )

    async def test_track_records_of_more_startups_than_a_query_can_bind(
        self, app: Starlette
    ) -> None:
        """The nightly run reads every startup's track record; PostgreSQL binds at most
        32,767 parameters per query (a national run failed with 100,000 startups)."""
        from service.matching import track

        company, _ = await helpers.startup(sectors=["mobility"], stage="seed")
        await helpers.win_challenge(company)
        # The company among 40,000 ids, most of which name no organization: its record is
        # read in the same round as the others and comes back whole.
        ids = [*range(10_000_000, 10_040_000), company.id]
        records = await track.track_records(ids, consenting=[company.id])
        assert len(records) == 40_001
        assert records[company.id].challenges_won == 1
        assert records[10_000_000].challenges_won == 0

    async def test_the_nightly_job_and_the_command(
        self, app: Starlette, settings: Settings, capsys: pytest.CaptureFixture[str]
    ) -> None:
        await world(6, n_startups=5, n_investors=2)
        assert await tasks.nightly(app.state.deps) == 10
        await Match.all().delete()
        assert await recompute.run(settings) == 0
        assert await Match.all().count() == 10
        assert "matching: 10 matches stored" in capsys.readouterr().out


class TestPreview:
    async def test_counts_what_would_pass_and_score_above_the_floor(
        self, app: Starlette, settings: Settings
    ) -> None:
        await helpers.startup(sectors=["mobility"], stage="seed", region="Madrid", text="buses")
        await helpers.startup(sectors=["mobility"], stage="seed", region="Lisboa", text="buses")
        await helpers.startup(sectors=["water"], stage="growth", region="Lisboa")
        await helpers.startup(sectors=["mobility"], stage="seed", dealflow_opt_in=False)
        wide = ThesisIn(sectors=["mobility"], stages=["seed"], text="buses")  # type: ignore[list-item]
        assert await matching.preview_count(wide, settings=settings) == 2
        strict = ThesisIn(
            sectors=["mobility"],  # type: ignore[list-item]
            stages=["seed"],  # type: ignore[list-item]
            regions=["Madrid"],
            regions_strict=True,
        )
        assert await matching.preview_count(strict, settings=settings) == 1

    async def test_a_saved_profile_shows_in_the_next_preview(
        self, app: Starlette, settings: Settings
    ) -> None:
        thesis = ThesisIn(sectors=["water"], stages=["seed"])  # type: ignore[list-item]
        company, _ = await helpers.startup(sectors=["mobility"], stage="idea")
        assert await matching.preview_count(thesis, settings=settings) == 0
        assert await matching.preview_count(thesis, settings=settings) == 0
        async with db.transaction(app.state.deps.queue):
            await matching.save_profile(
                system_context(settings),
                company,
                ProfileIn(sectors=["water"], stage="seed", dealflow_opt_in=True),  # type: ignore[list-item]
            )
        assert await matching.preview_count(thesis, settings=settings) == 1


class TestDemoDay:
    async def test_operator_schedules_and_downloads_it(
        self, client: httpx.AsyncClient, worker_burst: Burst
    ) -> None:
        operator = await factories.person(client, operator=True, totp=True)
        funds = [
            (await helpers.investor(sectors=["mobility"], name=f"Fund {i}"))[0] for i in range(2)
        ]
        companies = [
            (await helpers.startup(sectors=[s], name=f"Company {s}"))[0]
            for s in ["mobility", "water", "health"]
        ]
        body = {
            "title": "Spring demo day",
            "starts_at": "2026-05-01T09:00:00+02:00",
            "slot_minutes": 15,
            "investors": [{"organization_id": f.id, "slots": 2} for f in funds],
            "startups": [{"organization_id": c.id, "max_meetings": 1} for c in companies],
        }
        created = await client.post("/api/v1/demo-days", json=body, headers=operator.headers)
        assert created.status_code == 202, created.text
        assert created.json()["status"] == "queued"
        day_id = created.json()["id"]
        await worker_burst()
        read = await client.get(f"/api/v1/demo-days/{day_id}", headers=operator.headers)
        meetings = read.json()["meetings"]
        assert read.json()["status"] == "scheduled"
        assert len(meetings) == 3
        assert sorted(m["startup_id"] for m in meetings) == sorted(c.id for c in companies)
        for fund in funds:
            assert sum(1 for m in meetings if m["investor_id"] == fund.id) <= 2
        day = await DemoDay.get(id=day_id)
        assert day.total_score == pytest.approx(sum(m["score"] for m in meetings), abs=1e-5)
        csv_response = await client.get(
            f"/api/v1/demo-days/{day_id}/schedule.csv", headers=operator.headers
        )
        assert csv_response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(csv_response.text)))
        assert len(rows) == 3
        assert {r["startup"] for r in rows} == {c.name for c in companies}
        ics = await client.get(f"/api/v1/demo-days/{day_id}/schedule.ics", headers=operator.headers)
        calendar = Calendar.from_ical(ics.content)
        events = list(calendar.walk("VEVENT"))
        assert len(events) == 3
        starts = {e.decoded("dtstart") for e in events}
        assert datetime(2026, 5, 1, 7, 0, tzinfo=UTC) in starts

    async def test_names_a_wrong_organization_and_is_for_operators_only(
        self, client: httpx.AsyncClient
    ) -> None:
        operator = await factories.person(client, operator=True, totp=True)
        citizen = await factories.person(client)
        company, _ = await helpers.startup()
        body = {
            "title": "Demo",
            "starts_at": "2026-05-01T09:00:00Z",
            "investors": [{"organization_id": company.id, "slots": 2}],
            "startups": [{"organization_id": company.id, "max_meetings": 1}],
        }
        refused = await client.post("/api/v1/demo-days", json=body, headers=citizen.headers)
        assert refused.status_code == 403
        wrong = await client.post("/api/v1/demo-days", json=body, headers=operator.headers)
        assert wrong.status_code == 422
        assert "investors" in wrong.json()["fields"]
        assert not await DemoDay.exists()


class TestVerification:
    async def test_verifying_an_investor_or_a_startup_ranks_it(
        self, client: httpx.AsyncClient, worker_burst: Burst
    ) -> None:
        operator = await factories.person(client, operator=True, totp=True)
        fund, _ = await helpers.investor(verified=False, sectors=["mobility"])
        company, _ = await helpers.startup(sectors=["mobility"])
        newcomer, _ = await helpers.startup(verified=False, sectors=["mobility"])
        for org in (fund, newcomer):
            response = await client.post(
                f"/api/v1/organizations/{org.id}/verify", headers=operator.headers
            )
            assert response.status_code == 200, response.text
        await worker_burst()
        ranked = await Match.filter(investor_id=fund.id).order_by("rank")
        assert {m.startup_id for m in ranked} == {company.id, newcomer.id}
