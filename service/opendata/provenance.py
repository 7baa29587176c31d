"""Provenance on the challenge page: from the citizen proposal to the last payment, each step
with its date, in one timeline (a section of the challenge page, see challenges/sections.py).

Built from the same rows as the challenge's OCDS releases, so the page and the open data tell
the same story: only what is public (no draft application, no unpublished challenge).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.requests import Request
from tortoise.expressions import Q

from service.challenges.models import Challenge, ChallengeStatus
from service.challenges.sections import Section
from service.core.i18n import gettext, ngettext
from service.opendata import repository
from service.opendata.ocds import AFTER_CLOSING, History
from service.participation.models import Proposal


@dataclass(frozen=True)
class Step:
    """One dated line of the timeline: what happened, and where to read more."""

    at: datetime
    kind: str
    text: str
    href: str | None = None
    amount_minor: int | None = None
    currency: str | None = None


def steps(history: History, *, now: datetime, proposal: Proposal | None = None) -> list[Step]:
    c = history.challenge
    orgs = history.organizations

    def name(org_id: int) -> str:
        org = orgs.get(org_id)
        return org.name if org is not None else f"#{org_id}"

    found: list[Step] = []
    if proposal is not None:
        found.append(
            Step(
                proposal.created_at,
                "proposal",
                gettext("Citizen proposal: %(title)s") % {"title": proposal.title},
                href=f"/proposals/{proposal.id}",
            )
        )
        if proposal.adopted_at is not None:
            found.append(
                Step(
                    proposal.adopted_at,
                    "adopted",
                    ngettext(
                        "Adopted by the city, with %(num)d supporter",
                        "Adopted by the city, with %(num)d supporters",
                        proposal.support_count,
                    )
                    % {"num": proposal.support_count},
                )
            )
    if c.published_at is not None:
        found.append(Step(c.published_at, "published", gettext("Challenge published")))
    for change in history.changes:
        if change.to_status == ChallengeStatus.open.value:
            found.append(Step(change.at, "open", gettext("Applications opened")))
        elif change.to_status == ChallengeStatus.cancelled.value:
            found.append(Step(change.at, "cancelled", gettext("Challenge cancelled")))
        elif change.to_status == ChallengeStatus.completed.value:
            found.append(Step(change.at, "completed", gettext("Challenge completed")))
    closing = next((s for s in history.changes if s.to_status in AFTER_CLOSING), None)
    if closing is not None:
        # Who applied is public from the closing on: before it, not even how many.
        count = len([a for a in history.applications if a.withdrawn_at is None])
        text = ngettext(
            "Applications closed: %(num)d application",
            "Applications closed: %(num)d applications",
            count,
        ) % {"num": count}
        found.append(Step(closing.at, "closed", text))
    for award in history.awards:
        application = next((a for a in history.applications if a.id == award.application_id), None)
        if application is None:
            continue
        found.append(
            Step(
                award.created_at,
                "award",
                gettext("Awarded to %(name)s") % {"name": name(application.organization_id)},
                href=f"/organizations/{application.organization_id}",
                amount_minor=award.amount_minor,
                currency=award.currency,
            )
        )
        for m in history.milestones.get(award.id, []):
            if m.approved_at is not None:
                found.append(
                    Step(
                        m.approved_at,
                        "milestone",
                        gettext("Milestone delivered and approved: %(title)s") % {"title": m.title},
                        amount_minor=m.amount_minor,
                        currency=m.currency,
                    )
                )
            elif m.due_at >= now:
                found.append(
                    Step(
                        m.due_at,
                        "milestone_due",
                        gettext("Milestone due: %(title)s") % {"title": m.title},
                        amount_minor=m.amount_minor,
                        currency=m.currency,
                    )
                )
    for move in history.movements:
        text = (
            gettext("Payment to %(name)s taken back")
            if move.reversal
            else gettext("Paid to %(name)s")
        ) % {"name": name(move.organization_id)}
        found.append(
            Step(
                move.at,
                "reversal" if move.reversal else "payment",
                text,
                href=f"/organizations/{move.organization_id}",
                amount_minor=move.amount_minor,
                currency=move.currency,
            )
        )
    order = {"proposal": 0, "adopted": 1, "published": 2, "open": 3, "closed": 4, "award": 5}
    return sorted(found, key=lambda s: (s.at, order.get(s.kind, 6)))


async def proposal_of(challenge: Challenge) -> Proposal | None:
    """The citizen proposal the challenge was adopted from, unless moderation hid it."""
    query = Proposal.filter(challenge_id=challenge.id)
    if challenge.proposal_id is not None:
        query = Proposal.filter(Q(challenge_id=challenge.id) | Q(id=challenge.proposal_id))
    return await query.filter(hidden_at=None).order_by("id").first()


async def challenge_section(request: Request, challenge: Challenge) -> Section | None:
    """The provenance timeline of a published challenge (none for a draft)."""
    if challenge.status is ChallengeStatus.draft or challenge.published_at is None:
        return None
    (history,) = await repository.histories([challenge])
    now = datetime.now(UTC)
    return Section(
        template="opendata/_provenance.html",
        slot="bottom",
        values={
            "steps": steps(history, now=now, proposal=await proposal_of(challenge)),
            "challenge_id": challenge.id,
            "now": now,
        },
    )
