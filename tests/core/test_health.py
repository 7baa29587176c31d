from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from service.app import create_app
from service.config import Settings
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


@pytest.mark.parametrize("secret", ["dev-secret-change-me", "short"])
def test_production_refuses_a_default_or_short_secret(secret: str) -> None:
    with pytest.raises(ValueError, match="SECRET_KEY"):
        Settings(env="production", secret_key=secret)
