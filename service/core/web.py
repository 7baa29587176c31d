"""Helpers shared by API routes and pages: the request's context, transaction and limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.requests import Request
from tortoise.backends.base.client import BaseDBAsyncClient

from service import db
from service.accounts.actor import Actor
from service.core import ratelimit
from service.core.context import Context


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def context(request: Request) -> Context:
    actor: Actor = getattr(request.state, "actor", None) or Actor()
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
