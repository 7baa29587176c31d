"""What every page needs to know about the visitor: who they are, the CSRF token, notices."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from service.accounts.permissions import actor_of, csrf_token_for
from service.core.forms import pop_flash


def page_context(request: Request) -> dict[str, Any]:
    actor = actor_of(request)
    return {
        "actor": actor,
        "current_user": actor.user,
        "csrf_token": csrf_token_for(request, actor),
        "flash": pop_flash(request),
    }
