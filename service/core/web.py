"""Helpers shared by API routes and pages: the request's context, transaction, limits and
route paths."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from starlette.datastructures import URLPath
from starlette.requests import Request
from starlette.routing import Router
from tortoise.backends.base.client import BaseDBAsyncClient

from service import db
from service.core import ratelimit
from service.core.context import Context

if TYPE_CHECKING:
    from service.accounts.actor import Actor

# Kept on each router: (route name, sorted parameters) -> path. Routes do not change once an
# app is built, and pages link to a bounded set of (name, parameters); the bound only guards
# against an unbounded parameter (an id) filling memory, by starting afresh.
_PATHS_ATTRIBUTE = "_url_paths"
_PATHS_LIMIT = 20_000


def url_path(router: Router, name: str, /, **params: Any) -> URLPath:
    """`router.url_path_for(name, **params)`, looked up once: Starlette searches every route
    (raising and catching an error on each that does not match) on every call."""
    paths: dict[tuple[Any, ...], URLPath] | None = getattr(router, _PATHS_ATTRIBUTE, None)
    if paths is None:
        paths = {}
        setattr(router, _PATHS_ATTRIBUTE, paths)
    try:
        key = (name, *sorted(params.items()))
        found = paths.get(key)
    except TypeError:  # an unhashable parameter: no caching
        return router.url_path_for(name, **params)
    if found is None:
        found = router.url_path_for(name, **params)
        if len(paths) >= _PATHS_LIMIT:
            paths.clear()
        paths[key] = found
    return found


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def context(request: Request) -> Context:
    # Set on every request by the accounts' ActorMiddleware (anonymous when nobody signed
    # in); core only carries it.
    actor: Actor = request.state.actor
    return Context(
        actor=actor,
        settings=request.app.state.settings,
        ip=client_ip(request),
        language=getattr(request.state, "language", "en"),
        # What a new session or token records about the client (see accounts.devices).
        extra={
            "user_agent": request.headers.get("user-agent", "")[:255],
            "accept_language": request.headers.get("accept-language", "")[:200],
        },
    )


@asynccontextmanager
async def transaction(request: Request) -> AsyncIterator[BaseDBAsyncClient]:
    async with db.transaction(request.app.state.deps.queue) as connection:
        yield connection


async def limit(request: Request, name: str, attempts: int, window: int, *subjects: str) -> None:
    settings = request.app.state.settings
    await ratelimit.hit(
        request.app.state.deps.redis,
        settings.redis_prefix,
        ratelimit.Limit(name, attempts, window),
        *subjects,
    )
