"""The application factory: routes, middleware, error handlers and the lifespan."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from service import bootstrap, db_routing
from service.accounts import oidc
from service.accounts.actor import ActorMiddleware, host_cookie
from service.accounts.page_context import page_context
from service.config import ROOT, Env, Settings
from service.core import manifest
from service.core.api import JsonContentTypeMiddleware
from service.core.bodylimit import BodyLimitMiddleware
from service.core.errors import RateLimited, ServiceError
from service.core.i18n import LocaleMiddleware, gettext
from service.core.observability import (
    ConstantAnswers,
    Metrics,
    ObservabilityMiddleware,
    configure_logging,
)
from service.core.pages_only import PagesOnly
from service.core.routing import index_routes
from service.core.security_headers import SecurityHeadersMiddleware, secure_error_response
from service.core.templates import create_templates

log = logging.getLogger(__name__)


def _collect_routes() -> list[BaseRoute]:
    import importlib

    routes: list[BaseRoute] = []
    for name in manifest.route_modules():
        routes.extend(importlib.import_module(name).routes)
    return routes


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error_page(request: Request, status: int, title: str, detail: str) -> Response:
    templates = request.app.state.templates
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "title": title, "detail": detail},
        status_code=status,
    )


async def service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    if wants_json(request):
        return JSONResponse(exc.as_json(), status_code=exc.status_code, headers=headers)
    response = _error_page(request, exc.status_code, gettext("Something is not right"), exc.detail)
    if headers:
        response.headers.update(headers)
    return response


_HTTP_ERROR_NAMES = {404: "NotFound", 405: "MethodNotAllowed", 400: "BadRequest"}


def allowed_methods(request: Request) -> str:
    """Every method the path answers to. Starlette's 405 names only the methods of the one
    route it tried, while a path's methods may be spread over several routes."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.methods:
            match, _ = route.matches({**request.scope, "method": "GET"})
            if match != Match.NONE:
                methods |= route.methods
    return ", ".join(sorted(methods))


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_ERROR_NAMES.get(exc.status_code, "HTTPError")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = allowed_methods(request)
    if wants_json(request):
        return JSONResponse(
            {"error": code, "detail": exc.detail, "fields": {}},
            status_code=exc.status_code,
            headers=headers,
        )
    title = gettext("Page not found") if exc.status_code == 404 else gettext("Request refused")
    detail = gettext("There is no page at this address.") if exc.status_code == 404 else exc.detail
    response = _error_page(request, exc.status_code, title, detail)
    response.headers.update(headers)
    return response


async def server_error(request: Request, exc: Exception) -> Response:
    request_id = getattr(request.state, "request_id", "-")
    log.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
    response: Response
    if wants_json(request):
        response = JSONResponse(
            {
                "error": "InternalError",
                "detail": f"Unexpected error (request {request_id}).",
                "fields": {},
            },
            status_code=500,
        )
    else:
        response = _error_page(
            request,
            500,
            gettext("Something went wrong"),
            gettext("The error was logged. Quote this request id if you contact us:")
            + f" {request_id}",
        )
    return secure_error_response(request, response)


# Answers that never change, sent without the middleware stack once it has answered them.
CONSTANT_PATHS = ("/healthz",)


class ServiceApp(Starlette):
    """Starlette, with the liveness probe answered in front of the middleware stack: a
    load balancer asks it several times a second and its answer is always the same."""

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        return ConstantAnswers(stack, metrics=self.state.metrics, paths=CONSTANT_PATHS)


def create_app(
    settings: Settings | None = None,
    *,
    gateway: Any = None,
    mailer: Any = None,
    extra_routes: list[BaseRoute] | None = None,
) -> Starlette:
    """Build the app. Tests pass their own settings and edge fakes (gateway, mailer)."""
    settings = settings or Settings()
    configure_logging(settings.log_level)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        deps = await bootstrap.build(settings, gateway=gateway, mailer=mailer)
        app.state.deps = deps
        if settings.env is Env.production:
            # What start-up built (modules, compiled templates, catalogs) lives as long as
            # the process: kept out of the garbage collector's passes, which otherwise walk
            # it again and again while requests allocate.
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            await bootstrap.close(deps)

    routes = [*_collect_routes(), *(extra_routes or [])]
    routes.append(
        Mount("/static", StaticFiles(directory=ROOT / "frontend" / "static"), name="static")
    )
    exception_handlers: dict[Any, Callable[..., Any]] = {
        ServiceError: service_error,
        HTTPException: http_error,
        Exception: server_error,
    }
    app = ServiceApp(
        debug=False,
        routes=routes,
        middleware=[
            # First, so that every answer carries the headers: errors, redirects, files.
            Middleware(SecurityHeadersMiddleware, settings=settings),
            Middleware(ObservabilityMiddleware, metrics=metrics),
            Middleware(LocaleMiddleware),
            Middleware(JsonContentTypeMiddleware),
            # Counts the body's bytes as they arrive: 413 past the route's limit.
            Middleware(BodyLimitMiddleware, max_upload_bytes=settings.max_upload_bytes),
            # A signed cookie for what must survive between two requests before (or without)
            # a server-side session: the CSRF token of anonymous forms, OIDC state, notices.
            # (PagesOnly wraps another middleware; Starlette's types do not foresee that.)
            Middleware(
                PagesOnly,  # type: ignore[arg-type]
                middleware=SessionMiddleware,
                secret_key=settings.secret_key,
                session_cookie=host_cookie(settings, "civic_flow"),
                max_age=2 * 60 * 60,
                same_site="lax",
                https_only=settings.secure_cookies,
            ),
            Middleware(ActorMiddleware, secret=settings.secret_key, settings=settings),
            # With DATABASE_READ_URL: anonymous GETs read from the replica (service.db_routing).
            *db_routing.middleware(settings),
        ],
        exception_handlers=exception_handlers,
        lifespan=lifespan,
    )
    # A request tries only the routes its path's leading segments can match.
    index_routes(app.router)
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.templates = create_templates(auto_reload=settings.env is Env.development)
    app.state.context_processors = [page_context]
    app.state.oauth = oidc.build_client(settings)
    return app
