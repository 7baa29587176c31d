"""Public questions, signed only by choice.

Who asks a question about a challenge is often a likely bidder: a question is shown as "a
participant asked" unless its asker chooses to sign it with their organization's name. The
organization is the one the asker belonged to first (the one their account shows first), kept
as it was when they asked.
"""

from __future__ import annotations

from collections.abc import Iterable

from service.accounts.actor import Actor
from service.accounts.models import Organization
from service.challenges import service as challenges
from service.challenges.models import Challenge, Question
from service.core.context import Context
from service.core.errors import ValidationFailed
from service.core.i18n import gettext


def signer_of(actor: Actor) -> int | None:
    """The organization a question of this person would be signed with, if any."""
    return next(iter(actor.roles), None)


async def ask(ctx: Context, challenge: Challenge, *, text: str, signed: bool) -> Question:
    organization_id = signer_of(ctx.actor) if signed else None
    if signed and organization_id is None:
        raise ValidationFailed(
            fields={
                "signed": gettext(
                    "You are not a member of an organization: your question can only be shown "
                    "as a participant's."
                )
            }
        )
    question = await challenges.ask(ctx, challenge, text=text)
    if signed:
        question.signed, question.signed_organization_id = True, organization_id
        await question.save(update_fields=["signed", "signed_organization_id"])
    return question


async def signers(questions: Iterable[Question]) -> dict[int, str]:
    """The organization's name of each signed question, by question id (one query)."""
    signed = {q.id: q.signed_organization_id for q in questions if q.signed}
    if not signed:
        return {}
    names = dict(await Organization.filter(id__in=set(signed.values())).values_list("id", "name"))
    return {q: str(names[o]) for q, o in signed.items() if o in names}
