"""Who may use each route of the citizens' panels area (merged into the matrix).

The world adds a public (open) challenge of city A with a drawn panel in which the "citizen" is
a seated member, and one more volunteer in the pool. The panel's staff are A's owner, managers
and editors (finance is not staff); only they see the pool. Anyone sees the panel of a public
challenge; any signed-in resident may volunteer; only a seated member scores. Opening a panel
is for A's managers. Written from the issue's rules.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from service import db
from service.challenges.models import ChallengeStatus
from service.panels.models import Panel, PanelStatus, Volunteer, VolunteerStatus
from tests.challenges.factories import make_draft_challenge

Who = Callable[[str], bool]

ANYONE: Who = lambda actor: True  # noqa: E731
SIGNED_IN: Who = lambda actor: actor != "anonymous"  # noqa: E731
STAFF: Who = lambda actor: actor in ("owner", "manager", "editor")  # noqa: E731
MANAGERS_OF_A: Who = lambda actor: actor in ("owner", "manager")  # noqa: E731
MEMBER: Who = lambda actor: actor == "citizen"  # noqa: E731

V1 = "/api/v1"
PANEL = "/panels/{panel_id:int}"
VOLUNTEER = f"{PANEL}/volunteers/{{volunteer_id:int}}"
EXPECTED: dict[str, Who] = {
    f"POST {V1}/challenges/{{challenge_id:int}}/panel": MANAGERS_OF_A,
    f"GET {V1}{PANEL}": ANYONE,
    f"POST {V1}{PANEL}/volunteers": SIGNED_IN,
    f"GET {V1}{PANEL}/volunteers": STAFF,
    f"POST {V1}{PANEL}/draw": STAFF,
    f"POST {V1}{VOLUNTEER}/withdraw": STAFF,
    f"POST {V1}{VOLUNTEER}/stipend": STAFF,
    f"POST {V1}{PANEL}/scores": MEMBER,
    f"GET {V1}{PANEL}/ranking": STAFF,
    f"POST {V1}{PANEL}/sessions": STAFF,
    f"POST {V1}{PANEL}/recommendation": STAFF,
    # pages
    "GET /challenges/{challenge_id:int}/panel/new": MANAGERS_OF_A,
    "POST /challenges/{challenge_id:int}/panel": MANAGERS_OF_A,
    f"GET {PANEL}": ANYONE,
    f"GET {PANEL}/pool": STAFF,
    f"POST {PANEL}/volunteer": SIGNED_IN,
    f"POST {PANEL}/draw": STAFF,
    f"POST {PANEL}/sessions": STAFF,
    f"POST {PANEL}/recommendation": STAFF,
    f"POST {VOLUNTEER}/withdraw": STAFF,
    f"POST {VOLUNTEER}/stipend": STAFF,
    f"GET {PANEL}/ranking": STAFF,
    f"GET {PANEL}/score": MEMBER,
    f"POST {PANEL}/score/{{application_id:int}}": MEMBER,
}
# The matrix's application belongs to another (draft) challenge: the member passes the guard
# and the panel refuses an application of another challenge with a 404. The world's volunteer
# is in the pool, not seated: the staff pass the guard and only a seated member is paid (404).
STATE_404 = {f"POST {PANEL}/score/{{application_id:int}}", f"POST {VOLUNTEER}/stipend"}

FEATURES = [
    {
        "name": "age",
        "values": [{"value": "16-39", "min": 0, "max": 2}, {"value": "40+", "min": 0, "max": 2}],
    }
]


async def path_values(world: Any, settings: Any) -> dict[str, str]:
    now = datetime.now(UTC)
    async with db.transaction(None):
        challenge = await make_draft_challenge(
            world.org,
            title="Quieter night buses",
            status=ChallengeStatus.open,
            published_at=now - timedelta(days=2),
            opens_at=now - timedelta(days=2),
        )
        panel = await Panel.create(
            challenge=challenge,
            organization_id=world.org.id,
            size=2,
            features=FEATURES,
            recruitment_opens_at=now - timedelta(days=10),
            recruitment_closes_at=now - timedelta(days=1),
            stipend_minor=5000,
            currency="EUR",
            score_share_pct=30,
            status=PanelStatus.drawn,
        )
        await Volunteer.create(
            panel=panel,
            user_id=world.users["citizen"].id,
            features={"age": "16-39"},
            status=VolunteerStatus.member,
            seat=1,
        )
        other = await Volunteer.create(
            panel=panel,
            user_id=world.users["investor"].id,
            features={"age": "40+"},
            status=VolunteerStatus.pool,
        )
    return {"panel_id": str(panel.id), "volunteer_id": str(other.id)}
