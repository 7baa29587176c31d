"""Demo money: the demo challenges funded right after they are made (seed_escrow, before the
applications' step awards them), then, once awarded, the winners' bank payout accounts,
milestones paid or waiting for approval, and the refund of the cancelled challenge recorded.

Everything goes through the rewards service with a `Context`, as the pages would; the guards
are not in the way (releasing needs two-factor on the pages, not here), but the service's own
rules hold: the person who releases is never the one who approved.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from service.accounts.actor import Actor
from service.accounts.demo import DEMO_PASSWORD
from service.accounts.models import Membership, Organization, Role, User
from service.applications.models import Application, Award
from service.challenges import service as challenges
from service.challenges.demo import CHALLENGES, TO_COMPLETE, city_context
from service.challenges.models import Challenge, ChallengeStatus
from service.config import Settings
from service.core.context import Context
from service.rewards import service as rewards
from service.rewards.gateway import ManualGateway
from service.rewards.models import (
    Milestone,
    Rail,
    Refund,
    RefundStatus,
)

S = ChallengeStatus
# Bank details of the recipients by their country, in the order they are first met: each
# in its country's own way, with valid check digits (RUTs, CNPJs, IBANs).
BANK_DETAILS: dict[str, list[tuple[str, dict[str, str]]]] = {
    "CL": [
        (
            "cl_account",
            {
                "rut": "77.123.456-9",
                "bank": "001",
                "account_type": "corriente",
                "account_number": "00-123-45678-09",
            },
        ),
        (
            "cl_account",
            {
                "rut": "65.043.210-K",
                "bank": "012",
                "account_type": "vista",
                "account_number": "2345678901",
            },
        ),
    ],
    "BR": [
        ("br_pix_cnpj", {"pix_key": "11.222.333/0001-81"}),
        ("br_pix_email", {"pix_key": "financeiro@energialimpa.org.br"}),
    ],
    "ES": [("iban", {"iban": "ES79 2100 0813 6101 2345 6789", "bic": "CAIXESBBXXX"})],
}
OTHER = ("iban", {"iban": "DE89 3704 0044 0532 0130 00", "bic": ""})
EVIDENCE = [
    "Baseline measured over four weeks in the two pilot districts; the report and the raw data "
    "are published on the city's open data portal.",
    "The pilot ran for three months in two districts. Monthly reports were published; the "
    "summary compares each month with the baseline.",
    "Final public report presented to the city council, with the code and the data released "
    "under an open licence.",
]


def _context(settings: Settings, user: User, org: Organization, role: Role) -> Context:
    return Context(actor=Actor(user=user, roles={org.id: role}), settings=settings)


async def _owner(org: Organization) -> User:
    membership = await Membership.get(organization=org, role=Role.owner).select_related("user")
    return membership.user


async def _staff(org: Organization, role: Role) -> User:
    """The city's member with this role: a demo person of its own, made when it has none
    (`<role>@<city>.demo.civic`, like the demo's other people)."""
    from service.accounts.passwords import hash_password

    found = await Membership.filter(organization=org, role=role).order_by("id").first()
    if found is not None:
        return await User.get(id=found.user_id)
    owner = await _owner(org)
    city = owner.email.split("@")[0]
    user = await User.create(
        email=f"{role.value}@{city}.demo.civic",
        name=f"{org.name} {role.value}",
        password_hash=hash_password(DEMO_PASSWORD),
        email_verified_at=datetime.now(UTC),
    )
    await Membership.create(user=user, organization=org, role=role)
    return user


UNFUNDED = {"Fugas de agua en la red antigua"}


def is_funded(title: str) -> bool:
    """Every published challenge is funded, but one, to show what "not funded yet" looks like."""
    return title not in UNFUNDED


async def seed_escrow(settings: Settings) -> None:
    """Each demo challenge published is funded, in the order they were made: the city's
    finance team records the bank transfer into escrow (signed in with two-factor, as recording
    a bank transfer requires). The one meant to be cancelled is cancelled once funded, so that
    what was escrowed is refunded."""
    final = {row[1]: row[-1] for row in CHALLENGES}
    for challenge in await Challenge.filter(title__in=list(final)).order_by("id"):
        if challenge.status is S.draft:
            continue
        ctx = await city_context(await Organization.get(id=challenge.organization_id), settings)
        if is_funded(challenge.title):
            await rewards.fund(
                replace(ctx, actor=replace(ctx.actor, mfa=True)),
                challenge,
                ManualGateway(),
                amount_minor=challenge.reward_amount_minor,
                method=Rail.bank_transfer,
                reference=f"ESCROW-{challenge.id:05d}",
            )
        if final[challenge.title] is S.cancelled:
            await challenges.cancel(
                ctx, challenge, reason="The budget line was moved to an emergency."
            )


async def seed_rewards(settings: Settings) -> None:
    awards = await Award.all().select_related("challenge").order_by("id")
    await _payout_accounts(settings, awards)
    for award in awards:
        challenge: Challenge = award.challenge
        if challenge.title in TO_COMPLETE:
            # Every milestone paid: the challenge completes with its last payment.
            await _deliver(settings, award, paid=len(await _milestones(award)), submitted=0)
        elif challenge.status is S.in_delivery:
            # The first milestone paid, the second waiting for the manager's approval.
            await _deliver(settings, award, paid=1, submitted=1)
    for challenge in await Challenge.filter(status=S.cancelled).order_by("id"):
        await _record_refunds(settings, challenge)


async def _payout_accounts(settings: Settings, awards: list[Award]) -> None:
    """Every recipient of an award (lead and partners) gets bank details, and so do the other
    applicants of the awarded challenges, ready in case they win the next one."""
    seen: list[int] = []
    for award in awards:
        application = await Application.get(id=award.application_id)
        for share in await rewards.shares_of(application):
            if share.organization_id not in seen:
                seen.append(share.organization_id)
    for applicant in await Application.filter(
        challenge_id__in=[a.challenge_id for a in awards]
    ).order_by("id"):
        if applicant.organization_id not in seen:
            seen.append(applicant.organization_id)
    used: dict[str, int] = {}
    for org_id in seen:
        org = await Organization.get(id=org_id)
        choices = BANK_DETAILS.get(org.country, [OTHER])
        n = used[org.country] = used.get(org.country, -1) + 1
        method, values = choices[n % len(choices)]
        ctx = _context(settings, await _owner(org), org, Role.owner)
        await rewards.set_bank_account(ctx, org, holder=org.name, method=method, values=values)


async def _milestones(award: Award) -> list[Milestone]:
    return await Milestone.filter(award_id=award.id).order_by("position", "id")


async def _deliver(settings: Settings, award: Award, *, paid: int, submitted: int) -> None:
    """The first `paid` milestones go the whole way to paid, the next `submitted` wait for
    approval."""
    challenge: Challenge = award.challenge
    city = await Organization.get(id=challenge.organization_id)
    application = await Application.get(id=award.application_id)
    recipient = await Organization.get(id=application.organization_id)
    winner = _context(settings, await _owner(recipient), recipient, Role.owner)
    manager = _context(settings, await _staff(city, Role.manager), city, Role.manager)
    finance = _context(settings, await _staff(city, Role.finance), city, Role.finance)
    for n, milestone in enumerate(await _milestones(award)):
        if n >= paid + submitted:
            break
        await rewards.submit_evidence(
            winner, milestone, evidence=EVIDENCE[min(n, len(EVIDENCE) - 1)]
        )
        if n >= paid:
            continue
        await rewards.approve(manager, milestone)
        for payout in await rewards.release(finance, milestone):
            await rewards.record_bank_transfer(
                finance, payout, reference=f"TRF-{challenge.id:04d}-{payout.id:05d}"
            )


async def _record_refunds(settings: Settings, challenge: Challenge) -> None:
    city = await Organization.get(id=challenge.organization_id)
    finance = _context(settings, await _staff(city, Role.finance), city, Role.finance)
    for refund in await Refund.filter(
        funding__challenge_id=challenge.id, status=RefundStatus.awaiting_transfer
    ).order_by("id"):
        await rewards.record_refund_transfer(
            finance, refund, reference=f"RETURN-{challenge.id:04d}-{refund.id:04d}"
        )
