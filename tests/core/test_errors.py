"""The error contract: named errors are {"error", "detail", "fields"} JSON under /api/,
an HTML page elsewhere."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from service.app import create_app
from service.config import Settings
from service.core.api import api
from service.core.errors import Conflict


class ChallengeClosed(Conflict):
    default_detail = "This challenge closed for applications."


class Greeting(BaseModel):
    name: str = Field(min_length=1, max_length=20)
    times: int = Field(ge=1, le=3)


async def raise_named(request: Request) -> Response:
    raise ChallengeClosed(fields={"closes_at": "passed"})


async def raise_unexpected(request: Request) -> Response:
    raise ZeroDivisionError("boom")


@api.validate(json=Greeting, tags=["tests"])
async def greet(request: Request, json: Greeting) -> Response:
    return JSONResponse({"greeting": f"hello {json.name}" * json.times})


@pytest.fixture
async def http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        settings,
        extra_routes=[
            Route("/api/v1/named", raise_named),
            Route("/named", raise_named),
            Route("/api/v1/unexpected", raise_unexpected),
            Route("/unexpected", raise_unexpected),
            Route("/api/v1/greet", greet, methods=["POST"]),
        ],
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client


class TestErrorContract:
    async def test_named_error_is_json_with_its_status_under_api(
        self, http: httpx.AsyncClient
    ) -> None:
        response = await http.get("/api/v1/named")
        assert response.status_code == 409
        assert response.json() == {
            "error": "ChallengeClosed",
            "detail": "This challenge closed for applications.",
            "fields": {"closes_at": "passed"},
        }

    async def test_named_error_is_an_html_page_elsewhere(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/named", headers={"Accept-Language": "es"})
        assert response.status_code == 409
        assert response.headers["content-type"].startswith("text/html")
        assert "This challenge closed for applications." in response.text
        assert '<html lang="es">' in response.text

    async def test_unexpected_error_is_a_500_page_with_the_request_id(
        self, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        response = await http.get("/unexpected", headers={"X-Request-ID": "req-0123456789"})
        assert response.status_code == 500
        assert "req-0123456789" in response.text
        assert "ZeroDivisionError" not in response.text
        logged = [r for r in caplog.records if r.exc_info and r.levelname == "ERROR"]
        assert logged and logged[0].exc_info[0] is ZeroDivisionError  # type: ignore[index]

    async def test_unexpected_error_under_api_is_json(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/api/v1/unexpected")
        assert response.status_code == 500
        assert response.json()["error"] == "InternalError"

    async def test_unknown_api_path_is_json_404(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/api/v1/nothing-here")
        assert response.status_code == 404
        assert response.json()["error"] == "NotFound"

    async def test_validation_error_names_the_fields(self, http: httpx.AsyncClient) -> None:
        response = await http.post("/api/v1/greet", json={"name": "", "times": 9})
        assert response.status_code == 422
        body = response.json()
        assert body["error"] == "ValidationFailed"
        assert set(body["fields"]) == {"name", "times"}

    async def test_malformed_json_is_a_clear_400(self, http: httpx.AsyncClient) -> None:
        response = await http.post(
            "/api/v1/greet", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400
        assert response.json()["error"] == "BadRequest"

    async def test_json_with_charset_is_accepted(self, http: httpx.AsyncClient) -> None:
        response = await http.post(
            "/api/v1/greet",
            content=b'{"name": "ana", "times": 1}',
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"greeting": "hello ana"}

    async def test_openapi_documents_the_validated_route(self, http: httpx.AsyncClient) -> None:
        document = (await http.get("/api/openapi.json")).json()
        assert "post" in document["paths"]["/api/v1/greet"]
