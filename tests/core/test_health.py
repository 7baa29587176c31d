from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from service.app import create_app
from service.config import Env, Settings
from service.core.redis import EmbeddedRedis


class TestHealth:
    async def test_healthz_answers(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}

    async def test_readyz_is_ready_with_database_and_redis(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/readyz")
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "ready"

    async def test_readyz_names_redis_when_it_is_down(
        self, settings: Settings, tmp_path: Path
    ) -> None:
        embedded = EmbeddedRedis(tmp_path)
        app = create_app(settings.with_overrides(redis_url=embedded.url))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                assert (await http.get("/readyz")).status_code == 200
                embedded.shutdown()
                response = await http.get("/readyz")
        assert response.status_code == 503
        assert response.json()["problems"] == {"redis": "redis unreachable"}

    async def test_requests_carry_a_request_id(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz", headers={"X-Request-ID": "abcdef0123456789"})
        assert response.headers["x-request-id"] == "abcdef0123456789"
        generated = await client.get("/healthz", headers={"X-Request-ID": "bad id\n"})
        assert len(generated.headers["x-request-id"]) == 32

    async def test_metrics_count_requests_per_route(self, client: httpx.AsyncClient) -> None:
        await client.get("/healthz")
        body = (await client.get("/metrics")).text
        assert 'http_requests_total{method="GET",route="/healthz",status="200"}' in body
        assert "http_request_duration_seconds_bucket" in body
        assert "job_queue_depth" in body


class TestMetricsAccessASVSV13_4:
    """ASVS V13.4.5: the monitoring endpoint is not open to the internet; it answers this
    machine, or a scraper that presents the metrics token."""

    TOKEN = "m" * 40

    async def _get(
        self, app: Starlette, client: tuple[str, int], headers: dict[str, str] | None = None
    ) -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            return await http.get("/metrics", headers=headers)

    async def test_loopback_only_without_a_token(self, app: Starlette) -> None:
        for host in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
            assert (await self._get(app, (host, 5000))).status_code == 200, host
        outside = await self._get(app, ("203.0.113.7", 5000))
        assert outside.status_code == 404 and "http_requests_total" not in outside.text
        # No token configured: no token opens it.
        guessed = await self._get(app, ("203.0.113.7", 5000), {"Authorization": "Bearer "})
        assert guessed.status_code == 404
        guessed = await self._get(app, ("10.0.0.8", 5000), {"Authorization": "Bearer x"})
        assert guessed.status_code == 403

    async def test_a_scraper_with_the_token(self, settings: Settings) -> None:
        app = create_app(settings.with_overrides(metrics_token=self.TOKEN))
        async with app.router.lifespan_context(app):
            scraper = ("172.18.0.5", 41000)
            good = await self._get(app, scraper, {"Authorization": f"Bearer {self.TOKEN}"})
            assert good.status_code == 200 and "http_requests_total" in good.text
            wrong = await self._get(app, scraper, {"Authorization": f"Bearer {self.TOKEN}x"})
            assert wrong.status_code == 403 and "http_requests_total" not in wrong.text
            basic = await self._get(app, scraper, {"Authorization": f"Basic {self.TOKEN}"})
            assert basic.status_code == 404
            assert (await self._get(app, scraper)).status_code == 404
            assert (await self._get(app, ("127.0.0.1", 5000))).status_code == 200


@pytest.mark.parametrize("secret", ["dev-secret-change-me", "short"])
def test_production_refuses_a_default_or_short_secret(secret: str) -> None:
    with pytest.raises(ValueError, match="SECRET_KEY"):
        Settings(env=Env.production, secret_key=secret)
