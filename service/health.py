"""Liveness, readiness and metrics endpoints, and the API docs page."""

from __future__ import annotations

import asyncio
import copy
import hmac
import ipaddress
import logging
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from tortoise.connection import get_connection

from service import db
from service.accounts.permissions import guard
from service.core.api import ErrorOut, api
from service.core.tasks import heartbeat_key

log = logging.getLogger(__name__)
CHECK_TIMEOUT = 2.0


@guard("public")
async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def _check_database(request: Request) -> str | None:
    try:
        await asyncio.wait_for(get_connection("default").execute_query("SELECT 1"), CHECK_TIMEOUT)
    except Exception as exc:
        log.warning("readiness: database unreachable", exc_info=exc)
        return "database unreachable"
    # Once every migration is applied it stays so for this process: skip reading the
    # migration files on each probe.
    if getattr(request.app.state, "migrations_applied", False):
        return None
    pending = await db.pending_migrations(request.app.state.settings)
    if pending:
        return f"migrations not applied: {', '.join(pending)}"
    request.app.state.migrations_applied = True
    return None


async def _check_redis(request: Request) -> str | None:
    try:
        await asyncio.wait_for(request.app.state.deps.redis.ping(), CHECK_TIMEOUT)
    except Exception as exc:
        log.warning("readiness: redis unreachable", exc_info=exc)
        return "redis unreachable"
    return None


@guard("public")
async def readyz(request: Request) -> Response:
    problems = {
        part: problem
        for part, problem in (
            ("database", await _check_database(request)),
            ("redis", await _check_redis(request)),
        )
        if problem
    }
    if problems:
        return JSONResponse({"status": "unavailable", "problems": problems}, status_code=503)
    return JSONResponse({"status": "ready"})


def _from_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        # No address (a Unix socket) or a name: not known to be this machine.
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _metrics_refusal(request: Request) -> Response | None:
    """Loopback clients, or the bearer of the metrics token; the rest learn nothing.

    Behind a reverse proxy on the same machine, the proxy must send X-Forwarded-For (uvicorn
    trusts it from 127.0.0.1): otherwise every outside visitor would look like loopback.
    """
    if _from_loopback(request):
        return None
    expected: str = request.app.state.settings.metrics_token
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if not credentials or scheme.lower() != "bearer":
        return PlainTextResponse("Not Found", status_code=404)
    if not expected or not hmac.compare_digest(credentials.strip().encode(), expected.encode()):
        return PlainTextResponse("Forbidden", status_code=403)
    return None


@guard("public")
async def metrics(request: Request) -> Response:
    refusal = _metrics_refusal(request)
    if refusal is not None:
        return refusal
    registry = request.app.state.metrics
    settings = request.app.state.settings
    try:
        depth = await asyncio.wait_for(request.app.state.deps.queue.depth(), CHECK_TIMEOUT)
        registry.queue_depth.set(depth)
    except Exception as exc:
        log.warning("metrics: queue depth unavailable", exc_info=exc)
    try:
        beat = await request.app.state.deps.redis.get(heartbeat_key(settings.redis_prefix))
        registry.worker_heartbeat.set(float(beat) if beat else 0)
    except Exception as exc:
        log.warning("metrics: worker heartbeat unavailable", exc_info=exc)
    return PlainTextResponse(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)


def openapi_document(request: Request) -> dict[str, Any]:
    """The OpenAPI document of this app, generated once from its routes' schemas."""
    if not hasattr(request.app.state, "openapi"):
        api.app = request.app
        # Generating moves the nested models out of `api.models`: a second app in the same
        # process (tests build several) would get references to schemas that are gone.
        models = copy.deepcopy(api.models)
        try:
            document = api._generate_spec()
        finally:
            api.models = models
        _declare_shared_errors(document)
        request.app.state.openapi = document
    served: dict[str, Any] = request.app.state.openapi
    return served


def _declare_shared_errors(document: dict[str, Any]) -> None:
    """Statuses any operation of a kind may answer, declared where its route does not.

    400/415: an operation that reads a JSON body refuses one that is not JSON.
    401: an operation that needs a bearer token refuses a request without a valid one.
    """
    schema = {"$ref": f"#/components/schemas/{api.naming_strategy(ErrorOut)}"}
    content = {"content": {"application/json": {"schema": schema}}}
    for operations in document["paths"].values():
        for operation in operations.values():
            responses = operation["responses"]
            if "requestBody" in operation:
                responses.setdefault("400", {"description": "Bad Request", **content})
                responses.setdefault("415", {"description": "Unsupported Media Type", **content})
            if operation.get("security"):
                responses.setdefault("401", {"description": "Unauthorized", **content})


@guard("public")
async def openapi_json(request: Request) -> Response:
    return JSONResponse(openapi_document(request))


@guard("public")
async def api_docs(request: Request) -> Response:
    """A server-rendered reading of the OpenAPI document: works without scripts."""
    spec = openapi_document(request)
    operations = []
    for path, methods in sorted(spec.get("paths", {}).items()):
        for method, operation in methods.items():
            operations.append({"path": path, "method": method.upper(), **operation})
    return request.app.state.templates.TemplateResponse(
        request, "api_docs.html", {"spec": spec, "operations": operations}
    )


routes = [
    Route("/healthz", healthz, include_in_schema=False),
    Route("/readyz", readyz, include_in_schema=False),
    Route("/metrics", metrics, include_in_schema=False),
    Route("/api/openapi.json", openapi_json, include_in_schema=False),
    Route("/api/docs", api_docs, include_in_schema=False),
]
