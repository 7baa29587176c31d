"""What the applications area tells the challenges area of a challenge's applications (see
service.challenges.hooks): whether it has judges, and who won it."""

from __future__ import annotations

from service.applications.models import Award, JudgeAssignment
from service.challenges import hooks
from service.challenges.models import Challenge


async def has_judges(challenge: Challenge) -> bool:
    return await JudgeAssignment.filter(challenge_id=challenge.id).exists()


async def winners(challenge: Challenge) -> list[hooks.Winner]:
    awards = (
        await Award.filter(challenge_id=challenge.id)
        .select_related("application__organization")
        .order_by("id")
    )
    return [
        hooks.Winner(
            award_id=a.id,
            application_id=a.application_id,
            organization_id=a.application.organization_id,
            organization_name=a.application.organization.name,
            amount_minor=a.amount_minor,
            currency=a.currency,
            rationale=a.rationale,
        )
        for a in awards
    ]


hooks.register(hooks.Hooks(has_judges=has_judges, winners=winners))
