"""Who may do what with applications, judging and awards; registered into the one
permissions table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from service.accounts.actor import Actor
from service.accounts.permissions import Rule, actor_of, path_int, register
from service.applications.models import (
    Application,
    ApplicationAttachment,
    ApplicationPartner,
    JudgeAssignment,
    JudgeInvitation,
)
from service.applications.service import Access, access_for
from service.challenges.models import Challenge
from service.challenges.permissions import EDITORS, MANAGERS, load_challenge
from service.core.errors import NotFound


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
    application = await Application.get_or_none(
        id=path_int(request, "application_id")
    ).select_related("challenge", "organization")
    if application is None:
        raise NotFound("No such application.")
    actor = actor_of(request)
    access = await access_for(application, application.challenge, actor.user, actor.roles)
    return ApplicationView(application, access)


async def load_partner(request: Request) -> Any:
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
    invitation = await JudgeInvitation.get_or_none(
        id=path_int(request, "judge_invitation_id")
    ).select_related("challenge")
    if invitation is None:
        raise NotFound("No such invitation.")
    return invitation
