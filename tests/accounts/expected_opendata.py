"""Who may use each route of the open data area (merged into the matrix).

Everything here is public. The matrix's challenge C is a draft: a draft is not open data, so
its OCDS package is not found for anyone, the city's own members included.
"""

from __future__ import annotations

from collections.abc import Callable

Who = Callable[[str], bool]

ANYONE: Who = lambda actor: True  # noqa: E731
NOBODY: Who = lambda actor: False  # noqa: E731

V1 = "/api/v1/opendata"
OPENDATA: dict[str, Who] = {
    f"GET {V1}/ocds": ANYONE,
    f"GET {V1}/ocds/{{challenge_id:int}}": NOBODY,
    f"GET {V1}/challenges.csv": ANYONE,
    f"GET {V1}/awards.csv": ANYONE,
    f"GET {V1}/milestones.csv": ANYONE,
    f"GET {V1}/payouts.csv": ANYONE,
    f"GET {V1}/ledger.csv": ANYONE,
    f"GET {V1}/dashboard": ANYONE,
    f"GET {V1}/cities/{{organization_id:int}}/dashboard": ANYONE,
    f"GET {V1}/ecosystem": ANYONE,
    "GET /opendata": ANYONE,
    "GET /opendata/dashboard": ANYONE,
    "GET /opendata/cities/{organization_id:int}": ANYONE,
    "GET /opendata/ecosystem": ANYONE,
}
