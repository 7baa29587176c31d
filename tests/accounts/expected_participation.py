"""Who may use each route of the participation area (merged into the matrix), and its objects.

The world adds a proposal P of the region "Madrid" by the citizen, with one comment by the
citizen. Cities A and B are both governments of Madrid: the managers of either (A's owner
and manager, B's owner) are that region's city managers, who answer and moderate; operators
moderate too, with two-factor. Adopting also needs the body's organization (A) to be the
actor's own. Written from PRODUCT.md's rules and the participation issue.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from service import db
from service.participation.models import Comment, Proposal, ProposalPhoto
from tests.participation.images import PNG

Who = Callable[[str], bool]

GOV_ROLES = ("owner", "manager", "editor", "finance")
ANYONE: Who = lambda actor: True  # noqa: E731
SIGNED_IN: Who = lambda actor: actor != "anonymous"  # noqa: E731
AUTHOR: Who = lambda actor: actor == "citizen"  # noqa: E731
MEMBERS_OF_A: Who = lambda actor: actor in GOV_ROLES  # noqa: E731
EDITORS_OF_A: Who = lambda actor: actor in ("owner", "manager", "editor")  # noqa: E731
MANAGERS_OF_A: Who = lambda actor: actor in ("owner", "manager")  # noqa: E731
REGION_MANAGERS: Who = lambda actor: actor in ("owner", "manager", "other_org_owner")  # noqa: E731
MODERATORS: Who = lambda actor: actor in ("owner", "manager", "other_org_owner", "operator")  # noqa: E731

V1 = "/api/v1"
PROPOSAL = f"{V1}/proposals/{{proposal_id:int}}"
PAGE = "/proposals/{proposal_id:int}"
EXPECTED: dict[str, Who] = {
    f"GET {V1}/proposals": ANYONE,
    f"POST {V1}/proposals": SIGNED_IN,
    f"GET {V1}/proposals/similar": ANYONE,
    f"GET {PROPOSAL}": ANYONE,
    f"PATCH {PROPOSAL}": AUTHOR,
    f"PUT {PROPOSAL}/photo": AUTHOR,
    f"DELETE {PROPOSAL}/photo": AUTHOR,
    f"POST {PROPOSAL}/supports": SIGNED_IN,
    f"DELETE {PROPOSAL}/supports": SIGNED_IN,
    f"GET {PROPOSAL}/comments": ANYONE,
    f"POST {PROPOSAL}/comments": SIGNED_IN,
    f"POST {V1}/comments/{{comment_id:int}}/report": SIGNED_IN,
    f"POST {V1}/comments/{{comment_id:int}}/hide": MODERATORS,
    f"POST {PROPOSAL}/hide": MODERATORS,
    f"POST {PROPOSAL}/response": REGION_MANAGERS,
    f"POST {PROPOSAL}/adopt": MANAGERS_OF_A,
    f"GET {PROPOSAL}/updates": ANYONE,
    f"POST {PROPOSAL}/updates": REGION_MANAGERS,
    # The matrix's challenge is a draft of A: its timeline is not public yet.
    f"GET {V1}/challenges/{{challenge_id:int}}/updates": MEMBERS_OF_A,
    f"POST {V1}/challenges/{{challenge_id:int}}/updates": EDITORS_OF_A,
    f"GET {V1}/organizations/{{organization_id:int}}/updates": ANYONE,
    f"POST {V1}/organizations/{{organization_id:int}}/updates": EDITORS_OF_A,
    f"PUT {V1}/organizations/{{organization_id:int}}/proposal-threshold": MANAGERS_OF_A,
    # pages
    "GET /proposals": ANYONE,
    "GET /proposals/new": SIGNED_IN,
    "POST /proposals/new": SIGNED_IN,
    f"GET {PAGE}": ANYONE,
    f"GET {PAGE}/photo": ANYONE,
    f"GET {PAGE}/edit": AUTHOR,
    f"POST {PAGE}/photo": AUTHOR,
    f"POST {PAGE}/photo/remove": AUTHOR,
    f"POST {PAGE}/edit": AUTHOR,
    f"POST {PAGE}/support": SIGNED_IN,
    f"POST {PAGE}/unsupport": SIGNED_IN,
    f"POST {PAGE}/comments": SIGNED_IN,
    f"POST {PAGE}/hide": MODERATORS,
    f"POST {PAGE}/response": REGION_MANAGERS,
    f"POST {PAGE}/adopt": MANAGERS_OF_A,
    f"POST {PAGE}/updates": REGION_MANAGERS,
    f"GET {PAGE}/updates.atom": ANYONE,
    "POST /comments/{comment_id:int}/report": SIGNED_IN,
    "POST /comments/{comment_id:int}/hide": MODERATORS,
    "GET /challenges/{challenge_id:int}/updates.atom": MEMBERS_OF_A,
    "GET /cities/{organization_id:int}/updates": ANYONE,
    "GET /cities/{organization_id:int}/updates.atom": ANYONE,
}


async def path_values(world: Any, settings: Any) -> dict[str, str]:
    async with db.transaction(None):
        proposal = await Proposal.create(
            author=world.users["citizen"],
            title="Broken street lights",
            description="Half of the street lights have been off since March.",
            region=world.org.region,
        )
        comment = await Comment.create(
            proposal=proposal, author=world.users["citizen"], text="I agree, it is dark."
        )
        stored = f"{secrets.token_hex(8)}.png"
        settings.storage_dir.mkdir(parents=True, exist_ok=True)
        (settings.storage_dir / stored).write_bytes(PNG)
        await ProposalPhoto.create(
            proposal=proposal,
            stored_name=stored,
            content_type="image/png",
            size=len(PNG),
            sha256="0" * 64,
            alt="A dark street at night",
        )
    return {"proposal_id": str(proposal.id), "comment_id": str(comment.id)}
