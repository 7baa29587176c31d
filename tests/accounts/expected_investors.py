"""Who may use each route of the investors area (merged into the matrix), and its objects.

The world adds: startup S opted in to the deal flow, ranked for the verified investor
organization "Fund" (owned by "investor"), and an open intro request from Fund to S.
Written from PRODUCT.md's rules: only a verified investor's members see the deal flow; only
the startup's members answer an intro; a city's owner, managers and editors pick startups.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from service import db
from service.accounts.models import Organization, OrganizationKind
from service.config import Settings
from service.investors.models import IntroRequest
from service.matching.models import Match, StartupProfile

Who = Callable[[str], bool]

INVESTOR: Who = lambda actor: actor == "investor"  # noqa: E731
APPLICANT: Who = lambda actor: actor == "applicant"  # noqa: E731
EITHER_SIDE: Who = lambda actor: actor in ("investor", "applicant")  # noqa: E731
SIGNED_IN: Who = lambda actor: actor != "anonymous"  # noqa: E731
CURATORS_OF_A: Who = lambda actor: actor in ("owner", "manager", "editor")  # noqa: E731

V1 = "/api/v1"
INV_API = f"{V1}/investors/{{investor_id:int}}"
INTRO_API = f"{V1}/intro-requests/{{intro_request_id:int}}"
INV = "/investors/{investor_id:int}"
STARTUP = f"{INV}/startups/{{startup_id:int}}"

EXPECTED: dict[str, Who] = {
    f"GET {INV_API}/dealflow": INVESTOR,
    f"GET {INV_API}/dealflow.csv": INVESTOR,
    f"GET {INV_API}/startups/{{startup_id:int}}": INVESTOR,
    f"GET {INV_API}/watchlist": INVESTOR,
    f"PUT {INV_API}/watchlist/{{startup_id:int}}": INVESTOR,
    f"DELETE {INV_API}/watchlist/{{startup_id:int}}": INVESTOR,
    f"GET {INV_API}/intro-requests": INVESTOR,
    f"GET {V1}/startups/{{startup_id:int}}/intro-requests": APPLICANT,
    f"GET {V1}/startups/{{startup_id:int}}/viewers": APPLICANT,
    # The body names the investor organization; the matrix's body is not valid (422).
    f"POST {V1}/intro-requests": SIGNED_IN,
    f"GET {INTRO_API}": EITHER_SIDE,
    f"POST {INTRO_API}/accept": APPLICANT,
    f"POST {INTRO_API}/decline": APPLICANT,
    f"POST {V1}/cities/{{city_id:int}}/picks": CURATORS_OF_A,
    f"DELETE {V1}/cities/{{city_id:int}}/picks/{{startup_id:int}}": CURATORS_OF_A,
    # pages
    f"GET {INV}/thesis": INVESTOR,
    f"POST {INV}/thesis": INVESTOR,
    f"GET {INV}/thesis/preview": INVESTOR,
    f"GET {INV}/dealflow": INVESTOR,
    f"GET {INV}/dealflow.csv": INVESTOR,
    f"GET {STARTUP}": INVESTOR,
    f"POST {STARTUP}/intro": INVESTOR,
    f"GET {INV}/watchlist": INVESTOR,
    f"POST {INV}/watchlist/{{startup_id:int}}": INVESTOR,
    f"POST {INV}/watchlist/{{startup_id:int}}/remove": INVESTOR,
    f"GET {INV}/intros": INVESTOR,
    "GET /startups/{startup_id:int}/profile": APPLICANT,
    "POST /startups/{startup_id:int}/profile": APPLICANT,
    "GET /startups/{startup_id:int}/interest": APPLICANT,
    "POST /intro-requests/{intro_request_id:int}/accept": APPLICANT,
    "POST /intro-requests/{intro_request_id:int}/decline": APPLICANT,
    "GET /cities/{city_id:int}/picks": CURATORS_OF_A,
    "POST /cities/{city_id:int}/picks": CURATORS_OF_A,
    "POST /cities/{city_id:int}/picks/{startup_id:int}/remove": CURATORS_OF_A,
}


async def path_values(world: Any, settings: Settings) -> dict[str, str]:
    fund = await Organization.get(kind=OrganizationKind.investor, name="Fund")
    async with db.transaction(None):
        await StartupProfile.create(
            organization=world.startup,
            sectors=["mobility"],
            stage="seed",
            funding_ask_minor=10_000_000,
            region="Madrid",
            text="Bus routes around traffic.",
            dealflow_opt_in=True,
        )
        await Match.create(
            investor=fund,
            startup=world.startup,
            rank=1,
            score=0.9,
            components={},
            reasons=[],
            computed_at=datetime.now(UTC),
        )
        intro = await IntroRequest.create(
            investor=fund,
            startup=world.startup,
            requested_by=world.users["investor"],
            message="Shall we talk?",
            expires_at=datetime.now(UTC) + timedelta(days=14),
        )
    return {
        "investor_id": str(fund.id),
        "startup_id": str(world.startup.id),
        "city_id": str(world.org.id),
        "intro_request_id": str(intro.id),
    }
