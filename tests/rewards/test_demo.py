"""The demo's money: what `make run` shows on an empty database."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from service.accounts.models import Membership, Organization, Role, User
from service.applications.models import Award
from service.challenges.models import Challenge, ChallengeStatus
from service.config import Settings
from service.rewards import ledger, service
from service.rewards.models import (
    Milestone,
    MilestoneStatus,
    Payout,
    PayoutAccount,
    PayoutStatus,
    Refund,
    RefundStatus,
)

S = ChallengeStatus
M = MilestoneStatus


async def statuses(challenge: Challenge) -> list[MilestoneStatus]:
    return [
        m.status
        for m in await Milestone.filter(award__challenge_id=challenge.id).order_by("position")
    ]


class TestDemoMoney:
    async def test_paid_waiting_and_refunded_with_a_balanced_ledger(
        self, app: Starlette, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        from service.demo import seed

        await seed(settings)
        assert await ledger.check_invariants() == []
        # Every recipient of an award (the lead and its partner) can be paid by bank transfer.
        for award in await Award.all().select_related("application"):
            for share in await service.shares_of(award.application):
                account = await PayoutAccount.get(organization_id=share.organization_id)
                assert account.payouts_enabled and account.bank_method
        # Each in its country's way: the Chilean winner by RUT and account, the Brazilian by PIX.
        by_country: dict[str, set[str]] = {}
        for a in await PayoutAccount.all().select_related("organization"):
            by_country.setdefault(a.organization.country, set()).add(a.method)
        assert by_country["CL"] == {"cl_account"}
        assert by_country["BR"] and all(m.startswith("br_pix_") for m in by_country["BR"])
        winner = await Organization.get(name="RutaViva Mobility")
        assert (await PayoutAccount.get(organization_id=winner.id)).method == "cl_account"
        delivering = await Challenge.get(status=S.in_delivery)
        assert await statuses(delivering) == [M.paid, M.submitted, M.planned]
        completed = await Challenge.get(status=S.completed)
        assert set(await statuses(completed)) == {M.paid}
        assert await Payout.exclude(status=PayoutStatus.paid).count() == 0
        # The finance member who released is never the manager who approved, and both work
        # for the city that pays.
        for milestone in await Milestone.filter(status=M.paid).select_related("award__challenge"):
            assert milestone.approved_by_id != milestone.released_by_id
            city = milestone.award.challenge.organization_id
            roles = {
                m.role
                for m in await Membership.filter(
                    organization_id=city,
                    user_id__in=[milestone.approved_by_id, milestone.released_by_id],
                )
            }
            assert roles == {Role.manager, Role.finance}
        finance = await User.get(email="finance@valparaiso.demo.civic")
        assert await Milestone.filter(
            award__challenge_id=completed.id, released_by_id=finance.id
        ).count() == len(await statuses(completed))
        cancelled = await Challenge.get(status=S.cancelled)
        refunds = await Refund.filter(funding__challenge_id=cancelled.id)
        assert refunds and all(r.status is RefundStatus.paid for r in refunds)
        totals = await ledger.totals(
            delivering.id, delivering.reward_amount_minor, delivering.currency
        )
        first = await Milestone.filter(award__challenge_id=delivering.id).order_by("position")
        assert totals.paid == first[0].amount_minor
        # The pages show it.
        page = await client.get(f"/challenges/{delivering.id}/ledger")
        assert page.status_code == 200 and "Paid to the winner" in page.text
        award = await Award.get(challenge_id=delivering.id)
        page = await client.get(f"/awards/{award.id}")
        assert "Evidence submitted" in page.text and "Paid" in page.text
