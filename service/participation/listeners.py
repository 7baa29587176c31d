"""What the participation area tells the challenges area of the residents' proposals (see
service.challenges.proposals): the region's open proposals like a challenge being drafted."""

from __future__ import annotations

from service.challenges import proposals
from service.participation import service
from service.participation.models import ProposalStatus


async def open_alike(region: str, title: str) -> list[proposals.OpenProposal]:
    return [
        proposals.OpenProposal(id=p.id, title=p.title, support_count=p.support_count)
        for p in await service.similar(region, title)
        if p.status is ProposalStatus.open
    ]


proposals.register(open_alike)
