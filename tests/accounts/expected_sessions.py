"""Who may use the routes of one's own sessions, API tokens and password (merged into the matrix).

The world adds a second session and an API token of the "citizen": only the citizen may end
or revoke them; for anybody else they do not exist (404). Written from ASVS 7.5.2: a user
sees and ends their own sessions, nobody else's.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from service import db
from service.accounts.actor import hash_token
from service.accounts.models import ApiToken, WebSession

Who = Callable[[str], bool]

SIGNED_IN: Who = lambda actor: actor != "anonymous"  # noqa: E731
THE_CITIZEN: Who = lambda actor: actor == "citizen"  # noqa: E731

EXPECTED: dict[str, Who] = {
    "POST /account/sessions/{session_id:int}/end": THE_CITIZEN,
    "POST /account/sessions/end-others": SIGNED_IN,
    "POST /account/tokens/{token_id:int}/revoke": THE_CITIZEN,
    "GET /account/password": SIGNED_IN,
    "POST /account/password": SIGNED_IN,
}


async def path_values(world: Any, settings: Any) -> dict[str, str]:
    citizen = world.users["citizen"]
    now = datetime.now(UTC)
    async with db.transaction(None):
        session = await WebSession.create(
            user=citizen,
            token_hash=hash_token(secrets.token_urlsafe(16)),
            csrf_token=secrets.token_urlsafe(16),
            expires_at=now + timedelta(hours=1),
            device="Firefox 128 on Windows",
        )
        token = await ApiToken.create(
            user=citizen,
            jti=secrets.token_hex(16),
            expires_at=now + timedelta(minutes=15),
            version=citizen.token_version,
        )
    return {"session_id": str(session.id), "token_id": str(token.id)}
