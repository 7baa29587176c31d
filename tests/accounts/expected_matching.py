"""Who may use each route of the matching area (merged into the permission matrix).

The matrix's organization A is a city: it keeps neither a thesis nor a deal-flow profile, so
those routes answer 404 to everyone there (tests/matching/test_api.py checks who may with an
investor and a startup of their own). "Challenges for you" are for A's members (an empty list
for a city). Demo days are scheduled and read by operators (with two-factor).
Written from PRODUCT.md's rules.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from service import db
from service.config import Settings
from service.matching.models import DemoDay

Who = Callable[[str], bool]

GOV_ROLES = ("owner", "manager", "editor", "finance")
MEMBERS_OF_A: Who = lambda actor: actor in GOV_ROLES  # noqa: E731
OPERATOR: Who = lambda actor: actor == "operator"  # noqa: E731
NOBODY: Who = lambda actor: False  # noqa: E731

V1 = "/api/v1"
DAY = f"{V1}/demo-days/{{demo_day_id:int}}"
EXPECTED: dict[str, Who] = {
    f"PUT {V1}/investors/{{organization_id:int}}/thesis": NOBODY,
    f"GET {V1}/investors/{{organization_id:int}}/thesis": NOBODY,
    f"PUT {V1}/startups/{{organization_id:int}}/profile": NOBODY,
    f"GET {V1}/startups/{{organization_id:int}}/profile": NOBODY,
    f"GET {V1}/organizations/{{organization_id:int}}/recommended-challenges": MEMBERS_OF_A,
    f"POST {V1}/demo-days": OPERATOR,
    f"GET {DAY}": OPERATOR,
    f"GET {DAY}/schedule.csv": OPERATOR,
    f"GET {DAY}/schedule.ics": OPERATOR,
}


async def path_values(world: object, settings: Settings) -> dict[str, str]:
    async with db.transaction(None):
        day = await DemoDay.create(
            title="Demo day",
            starts_at=datetime(2026, 5, 1, 9, tzinfo=UTC),
            investors=[],
            startups=[],
        )
    return {"demo_day_id": str(day.id)}
