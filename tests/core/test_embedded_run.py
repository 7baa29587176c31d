"""`python -m service run --port N` on the SQLite default, as `make run PORT=N` starts it.

Without BASE_URL, absolute links (feeds, calendars, e-mails, CSV, OCDS) name the port served,
not the default one. Search there ignores accents and case as on PostgreSQL
(tests/core/test_accent_search.py): SQLite compares with the registered `civic_fold`.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import socket
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from tortoise.context import TortoiseContext

from service import db
from service.accounts.models import Organization, OrganizationKind, User
from service.challenges.models import Challenge, ChallengeStatus
from service.config import ROOT, Env, Settings
from service.participation.models import Proposal
from service.runner import served_base_url
from tests import processes, services


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, Path]]:
    folder = tmp_path_factory.mktemp("embedded-run")
    database = folder / "civic.sqlite3"
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if key != "BASE_URL"}
    env.update(
        {
            "ENV": "development",
            "DATABASE_URL": f"sqlite://{database}",
            "REDIS_URL": services.redis_url(),
            "REDIS_PREFIX": f"civicrun{uuid.uuid4().hex[:8]}",
            "STORAGE_DIR": str(folder / "uploads"),
            "SMTP_HOST": "",
            "TRANSLATOR": "none",
            "LOG_LEVEL": "WARNING",
        }
    )
    # Run from a folder of its own: a `.env` of the checkout must not set BASE_URL here.
    with processes.service_run(
        ["--workers", "0"],
        env=env,
        cwd=folder,
        log_path=folder / "run.log",
        port=port,
        ready_within=90,
    ) as base:
        yield base, port, database


class TestBaseUrlFollowsThePort:
    async def test_feed_links_name_the_port_served(self, embedded: tuple[str, int, Path]) -> None:
        base, port, _ = embedded
        assert port != 8000
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            feed = await client.get("/challenges/feed.atom")
        assert feed.status_code == 200
        assert f'href="http://127.0.0.1:{port}/challenges/feed.atom"' in feed.text
        assert "127.0.0.1:8000" not in feed.text

    def test_an_explicit_base_url_is_kept(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("BASE_URL", raising=False)
        unset = Settings(_env_file=None)  # type: ignore[call-arg]
        assert served_base_url(unset, host="127.0.0.1", port=8123) == "http://127.0.0.1:8123"
        assert served_base_url(unset, host="0.0.0.0", port=80) == "http://127.0.0.1:80"  # noqa: S104
        assert served_base_url(unset, host="::", port=8080) == "http://[::1]:8080"
        assert served_base_url(unset, host="localhost", port=9) == "http://localhost:9"
        monkeypatch.setenv("BASE_URL", "https://civic.example.org")
        explicit = Settings(_env_file=None)  # type: ignore[call-arg]
        assert served_base_url(explicit, host="127.0.0.1", port=8123) is None
        # Even when it names the default port: set is set.
        told = Settings(_env_file=None, base_url="http://127.0.0.1:8000")  # type: ignore[call-arg]
        assert served_base_url(told, host="127.0.0.1", port=8123) is None

    def test_make_run_passes_the_port(self) -> None:
        env = {key: value for key, value in os.environ.items() if key != "PORT"}
        for argv, extra, expected in (
            (["make", "-n", "run", "PORT=8123"], {}, "--port 8123"),
            (["make", "-n", "run"], {"PORT": "8124"}, "--port 8124"),
            (["make", "-n", "run"], {}, "--port 8000"),
        ):
            shown = subprocess.run(
                argv, env={**env, **extra}, cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout
            assert f"-m service run {expected}" in shown, (argv, extra, shown[-500:])


async def _seed(database: str) -> tuple[int, int]:
    """A city's challenge and a resident's proposal written beside the running app, as another
    process would (SQLite takes turns). Run in a process of its own (`_seed_apart`): Tortoise
    bound to SQLite here would leave this test process's models speaking SQLite's dialect to
    the PostgreSQL every other test uses."""
    settings = Settings(_env_file=None, env=Env.test, database_url=f"sqlite://{database}")  # type: ignore[call-arg]
    now = datetime.now(UTC)
    async with TortoiseContext() as context:
        await context.init(config=db.tortoise_config(settings))
        city = await Organization.create(
            name="Ayuntamiento de Cádiz",
            kind=OrganizationKind.government,
            country="ES",
            region="Cádiz",
        )
        challenge = await Challenge.create(
            organization=city,
            title="Tuberías sin fugas",
            summary="Detectar fugas en la red de AGUA potable.",
            problem_statement="El agua se pierde.",
            area="water",
            sdgs=[6],
            region="Andalucía",
            eligible_kinds=["startup"],
            reward_amount_minor=1_000_000,
            currency="EUR",
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=30),
            judging_ends_at=now + timedelta(days=60),
            status=ChallengeStatus.open,
            published_at=now - timedelta(days=1),
            search_text="tuberías sin fugas detectar fugas en la red de agua potable.",
        )
        author = await User.create(email="vecina@example.org", name="Vecina", password_hash="")
        proposal = await Proposal.create(
            author=author,
            title="Bancos rotos del jardín",
            description="Los bancos del jardín llevan meses rotos.",
            region="Cádiz",
            area="mobility",
            sdgs=[11],
            search_text="bancos rotos del jardín los bancos del jardín llevan meses rotos.",
        )
    return challenge.id, proposal.id


def _seed_sync(database: str) -> tuple[int, int]:
    return asyncio.run(_seed(database))


def _seed_apart(database: Path) -> tuple[int, int]:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_seed_sync, (str(database),))


class TestSearchOnSqlite:
    async def test_accents_and_case_do_not_count(self, embedded: tuple[str, int, Path]) -> None:
        base, _, database = embedded
        challenge_id, proposal_id = _seed_apart(database)
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:

            async def found(path: str, **params: str) -> list[int]:
                response = await client.get(path, params=params)
                assert response.status_code == 200, response.text
                return [item["id"] for item in response.json()["items"]]

            for q in ("tuberias", "TUBERÍAS", "Tuberías agua", "TUBERIAS fugas"):
                assert await found("/api/v1/challenges", q=q) == [challenge_id], q
            assert await found("/api/v1/challenges", q="tuberias pozos") == []
            assert await found("/api/v1/challenges", region="ANDALUCIA") == [challenge_id]
            for q in ("jardin", "JARDÍN", "Jardín bancos"):
                assert await found("/api/v1/proposals", q=q) == [proposal_id], q
            assert await found("/api/v1/proposals", region="cadiz") == [proposal_id]
            page = await client.get("/challenges", params={"q": "tuberias"})
            assert "Tuberías sin fugas" in page.text
