"""Who may do what with challenges; registered into the one permissions table."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from service.accounts.models import Organization, Role
from service.accounts.permissions import Rule, path_int, register
from service.challenges.models import PUBLIC_STATUSES, Attachment, Challenge, Question
from service.core.errors import NotFound, ValidationFailed


def is_public(obj: Any) -> bool:
    challenge = obj if isinstance(obj, Challenge) else getattr(obj, "challenge", None)
    return (
        isinstance(challenge, Challenge)
        and challenge.status in PUBLIC_STATUSES
        and challenge.published_at is not None
    )


EDITORS = frozenset({Role.editor, Role.manager})
MANAGERS = frozenset({Role.manager})

register("challenge.view", Rule(signed_in=False, public_when=is_public, member=True))
register("challenge.draft", Rule(roles=EDITORS))
register("challenge.publish", Rule(roles=MANAGERS))
register("challenge.cancel", Rule(roles=MANAGERS))
# Signed-in people ask and follow; a draft stays invisible to everyone outside the city.
register("challenge.participate", Rule(public_when=is_public, member=True))
register("question.answer", Rule(roles=EDITORS))


async def load_challenge(request: Request) -> Challenge:
    challenge = await Challenge.get_or_none(id=path_int(request, "challenge_id"))
    if challenge is None:
        raise NotFound("No such challenge.")
    return challenge


async def load_question(request: Request) -> Question:
    question = await Question.get_or_none(id=path_int(request, "question_id")).select_related(
        "challenge"
    )
    if question is None:
        raise NotFound("No such question.")
    return question


async def load_attachment(request: Request) -> Attachment:
    attachment = await Attachment.get_or_none(
        id=path_int(request, "attachment_id"), challenge_id=path_int(request, "challenge_id")
    ).select_related("challenge")
    if attachment is None:
        raise NotFound("No such file.")
    return attachment


async def load_organization_in_body(request: Request) -> Organization:
    """The organization a new challenge is for, named in the JSON body or the form."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            body = {}
        raw = body.get("organization_id") if isinstance(body, dict) else None
    else:
        raw = (await request.form()).get("organization_id")
    try:
        org_id = int(str(raw))
    except (TypeError, ValueError):
        raise ValidationFailed(fields={"organization_id": "Choose the organization."}) from None
    if not 0 < org_id < 2**31:
        raise ValidationFailed(fields={"organization_id": "Choose the organization."})
    org = await Organization.get_or_none(id=org_id)
    if org is None:
        raise NotFound("No such organization.")
    return org
