"""Who may do what with challenges; registered into the one permissions table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from service.accounts.actor import Actor
from service.accounts.models import Organization, Role
from service.accounts.permissions import Rule, actor_of, path_int, register
from service.challenges.models import (
    PUBLIC_STATUSES,
    Application,
    ApplicationAttachment,
    Attachment,
    Challenge,
    JudgeAssignment,
    Question,
)
from service.core.errors import NotFound, ValidationFailed

if TYPE_CHECKING:
    from service.challenges.applications import Access


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


# --- applications and judging --------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationView:
    """An application with what the acting user is to it, as `load_application` gives it."""

    application: Application
    access: Access


@dataclass(frozen=True)
class ApplicationFileView(ApplicationView):
    """The application (as `load_application` gives it) with the file named in the path."""

    file: ApplicationAttachment


@dataclass(frozen=True)
class JudgeView:
    """A challenge with the acting user's assignment as its judge, if any."""

    challenge: Challenge
    assignment: JudgeAssignment | None

    @property
    def judge(self) -> JudgeAssignment:
        """The assignment, once the rule `challenge.judge` has let the request through."""
        if self.assignment is None:
            raise TypeError("not a judge of this challenge: the rule refuses such a request")
        return self.assignment


def _may_view_application(actor: Actor, view: ApplicationView) -> bool:
    access = view.access
    if access.applicant:
        return True
    if view.application.status.value == "draft":
        return False
    return bool(access.city_staff or (access.judge is not None and not access.recused))


def _is_lead(actor: Actor, view: ApplicationView) -> bool:
    return view.access.lead_member


def _is_applicant(actor: Actor, view: ApplicationView) -> bool:
    """A member of the lead or of a partner not declined: who may read the application."""
    return view.access.applicant


def _may_review(actor: Actor, view: ApplicationView) -> bool:
    access = view.access
    return (
        access.judge is not None
        and not access.recused
        and view.application.status.value == "submitted"
    )


def _may_read_feedback(actor: Actor, view: ApplicationView) -> bool:
    return view.access.applicant and view.application.status.value in ("awarded", "not_awarded")


def _is_judge(actor: Actor, view: JudgeView) -> bool:
    return view.assignment is not None


def _is_judge_invitee(actor: Any, invitation: Any) -> bool:
    # A confirmed address only: anyone could register an invited address otherwise.
    user = actor.user
    return bool(
        user is not None
        and user.email_verified_at is not None
        and user.email == getattr(invitation, "email", None)
    )


register("application.create", Rule(member=True))
register("application.view", Rule(custom=_may_view_application))
register("application.edit", Rule(custom=_is_lead))
register("application.partner", Rule(member=True))
register("application.review", Rule(custom=_may_review))
register("application.feedback", Rule(custom=_may_read_feedback))
# The applicant organizations add and delete files; whoever reads the application downloads
# them (the city once submitted, judges unless recused).
register("application.attach", Rule(custom=_is_applicant))
register("application.download", Rule(custom=_may_view_application))
register("challenge.manage_judging", Rule(roles=MANAGERS))
register("challenge.rank", Rule(roles=EDITORS))
register("challenge.judge", Rule(custom=_is_judge))
register("challenge.award", Rule(roles=MANAGERS))
register("judge_invitation.answer", Rule(custom=_is_judge_invitee))


async def load_application(request: Request) -> ApplicationView:
    from service.challenges.applications import access_for

    application = await Application.get_or_none(
        id=path_int(request, "application_id")
    ).select_related("challenge", "organization")
    if application is None:
        raise NotFound("No such application.")
    actor = actor_of(request)
    access = await access_for(application, application.challenge, actor.user, actor.roles)
    return ApplicationView(application, access)


async def load_partner(request: Request) -> Any:
    from service.challenges.models import ApplicationPartner

    partner = await ApplicationPartner.get_or_none(
        application_id=path_int(request, "application_id"),
        organization_id=path_int(request, "organization_id"),
    ).select_related("application")
    if partner is None:
        raise NotFound("No such partner invitation.")
    return partner


async def load_challenge_for_judge(request: Request) -> JudgeView:

    challenge = await load_challenge(request)
    actor = actor_of(request)
    assignment = (
        await JudgeAssignment.get_or_none(challenge_id=challenge.id, user_id=actor.user.id)
        if actor.user
        else None
    )
    return JudgeView(challenge, assignment)


async def load_application_file(request: Request) -> ApplicationFileView:
    """The application (as `load_application` gives it) with the file named in the path."""
    view = await load_application(request)
    file = await ApplicationAttachment.get_or_none(
        id=path_int(request, "file_id"), application_id=view.application.id
    )
    if file is None:
        raise NotFound("No such file.")
    return ApplicationFileView(view.application, view.access, file)


async def load_judge_invitation(request: Request) -> Any:
    from service.challenges.models import JudgeInvitation

    invitation = await JudgeInvitation.get_or_none(
        id=path_int(request, "judge_invitation_id")
    ).select_related("challenge")
    if invitation is None:
        raise NotFound("No such invitation.")
    return invitation
