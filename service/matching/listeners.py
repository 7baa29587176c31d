"""What matching does when other areas announce an event (see service.core.events)."""

from __future__ import annotations

from service.accounts.models import Organization
from service.core.events import listener
from service.matching import service


@listener("organization.verified")
async def count_in_deal_flow(organization: Organization) -> None:
    """A verified organization's side of the deal flow counts from now on."""
    service.organization_verified(organization)
