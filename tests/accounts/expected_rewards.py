"""Who may use each route of the rewards area (merged into the matrix), and its objects.

The world adds, to the matrix's draft challenge C of city A and application X by startup S:
a bank-transfer funding of C with a refund awaiting its transfer, an award to X with one
planned milestone holding one file of evidence, and a payout of it to S awaiting its bank
transfer. Only "operator" signs in with two-factor in the matrix, so nobody there may
release money or record a transfer.
Written from PRODUCT.md's rules.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from service import db
from service.applications.models import Award
from service.rewards.models import (
    Funding,
    FundingStatus,
    Milestone,
    MilestoneFile,
    Payout,
    PayoutStatus,
    Rail,
    Refund,
    RefundStatus,
)

Who = Callable[[str], bool]

GOV_ROLES = ("owner", "manager", "editor", "finance")
ANYONE: Who = lambda actor: True  # noqa: E731
MEMBERS_OF_A: Who = lambda actor: actor in GOV_ROLES  # noqa: E731
MANAGERS_OF_A: Who = lambda actor: actor in ("owner", "manager")  # noqa: E731
FINANCE_OF_A: Who = lambda actor: actor in ("owner", "finance")  # noqa: E731
APPLICANT: Who = lambda actor: actor == "applicant"  # noqa: E731
# The city that pays and the startup that is paid.
BOTH_SIDES: Who = lambda actor: actor in GOV_ROLES or actor == "applicant"  # noqa: E731
NOBODY: Who = lambda actor: False  # noqa: E731

V1 = "/api/v1"
MILESTONE = f"{V1}/milestones/{{milestone_id:int}}"
REWARDS: dict[str, Who] = {
    f"POST {V1}/challenges/{{challenge_id:int}}/funding": FINANCE_OF_A,
    # C is a draft: its money is not public yet.
    f"GET {V1}/challenges/{{challenge_id:int}}/money": MEMBERS_OF_A,
    f"GET {V1}/challenges/{{challenge_id:int}}/ledger": MEMBERS_OF_A,
    f"GET {V1}/challenges/{{challenge_id:int}}/ledger.csv": MEMBERS_OF_A,
    f"GET {V1}/organizations/{{organization_id:int}}/ledger": ANYONE,
    f"GET {V1}/organizations/{{organization_id:int}}/ledger.csv": ANYONE,
    f"POST {V1}/organizations/{{organization_id:int}}/payout-account": FINANCE_OF_A,
    f"GET {V1}/organizations/{{organization_id:int}}/payout-account": MEMBERS_OF_A,
    f"GET {MILESTONE}": BOTH_SIDES,
    f"POST {MILESTONE}/submit": APPLICANT,
    f"POST {MILESTONE}/files": APPLICANT,
    f"GET {MILESTONE}/files/{{evidence_id:int}}": BOTH_SIDES,
    f"POST {MILESTONE}/approve": MANAGERS_OF_A,
    f"POST {MILESTONE}/send-back": MANAGERS_OF_A,
    f"POST {MILESTONE}/release": NOBODY,
    f"GET {V1}/payouts/{{payout_id:int}}": BOTH_SIDES,
    f"POST {V1}/payouts/{{payout_id:int}}/bank-transfer": NOBODY,
    f"POST {V1}/refunds/{{refund_id:int}}/bank-transfer": NOBODY,
    # Anyone may call it; only Stripe's signature makes it do anything.
    f"POST {V1}/webhooks/stripe": ANYONE,
    # pages: the challenge's money panel and funding form, the ledgers, the award, payouts
    "POST /challenges/{challenge_id:int}/funding": FINANCE_OF_A,
    "GET /challenges/{challenge_id:int}/ledger": MEMBERS_OF_A,
    "GET /organizations/{organization_id:int}/ledger": ANYONE,
    "GET /awards/{award_id:int}": BOTH_SIDES,
    "POST /milestones/{milestone_id:int}/submit": APPLICANT,
    "POST /milestones/{milestone_id:int}/files": APPLICANT,
    "GET /milestones/{milestone_id:int}/files/{evidence_id:int}": BOTH_SIDES,
    "POST /milestones/{milestone_id:int}/approve": MANAGERS_OF_A,
    "POST /milestones/{milestone_id:int}/send-back": MANAGERS_OF_A,
    # Finance is refused on the page too without two-factor (the matrix signs in without).
    "POST /milestones/{milestone_id:int}/release": NOBODY,
    "POST /payouts/{payout_id:int}/bank-transfer": NOBODY,
    "POST /refunds/{refund_id:int}/bank-transfer": NOBODY,
    "GET /organizations/{organization_id:int}/payout-account": MEMBERS_OF_A,
    "POST /organizations/{organization_id:int}/payout-account": FINANCE_OF_A,
    "POST /organizations/{organization_id:int}/payout-account/stripe": FINANCE_OF_A,
    "GET /organizations/{organization_id:int}/payout-account/return": FINANCE_OF_A,
    "GET /organizations/{organization_id:int}/payout-account/refresh": FINANCE_OF_A,
}


@dataclass
class RewardsWorld:
    award: Award
    milestone: Milestone
    payout: Payout
    refund: Refund
    evidence: MilestoneFile

    def path_values(self) -> dict[str, str]:
        return {
            "award_id": str(self.award.id),
            "milestone_id": str(self.milestone.id),
            "payout_id": str(self.payout.id),
            "refund_id": str(self.refund.id),
            "evidence_id": str(self.evidence.id),
        }


async def build_rewards_world(world: Any, settings: Any) -> RewardsWorld:
    owner = world.users["owner"]
    async with db.transaction(None):
        funding = await Funding.create(
            challenge=world.challenge,
            amount_minor=1000,
            currency=world.challenge.currency,
            method=Rail.bank_transfer,
            reference="TR-1",
            status=FundingStatus.succeeded,
            recorded_by_id=owner.id,
        )
        refund = await Refund.create(
            funding=funding,
            amount_minor=1000,
            currency=funding.currency,
            status=RefundStatus.awaiting_transfer,
        )
        award = await Award.create(
            challenge=world.challenge,
            application=world.application,
            amount_minor=1000,
            currency=world.challenge.currency,
            rationale="The best plan.",
            created_by_id=owner.id,
        )
        milestone = await Milestone.create(
            award=award,
            title="Pilot",
            amount_minor=1000,
            currency=award.currency,
            due_at=datetime.now(UTC) + timedelta(days=30),
        )
        payout = await Payout.create(
            milestone=milestone,
            organization=world.startup,
            amount_minor=1000,
            currency=award.currency,
            rail=Rail.bank_transfer,
            status=PayoutStatus.awaiting_transfer,
            idempotency_key=f"payout-{milestone.id}-{world.startup.id}-1",
        )
        stored = f"{secrets.token_hex(8)}.txt"
        (settings.storage_dir / stored).write_text("pilot report")
        evidence = await MilestoneFile.create(
            milestone=milestone,
            original_name="report.txt",
            stored_name=stored,
            content_type="text/plain",
            size=12,
            sha256="0" * 64,
            uploaded_by_id=world.users["applicant"].id,
        )
    return RewardsWorld(
        award=award, milestone=milestone, payout=payout, refund=refund, evidence=evidence
    )
