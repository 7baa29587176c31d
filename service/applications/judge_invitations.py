"""Judges invited by e-mail, before they have an account: invite, answer, revoke.

A manager names a judge by e-mail. With an account behind the address the person becomes a
judge at once; without one, a pending invitation is kept and mailed. Whoever later signs in
with that address confirmed sees it on their invitations and accepts (through
`applications.assign_judge`, so they are told and judging starts as for any judge) or declines.
"""

from __future__ import annotations

from datetime import UTC, datetime

from service.accounts.models import User
from service.accounts.service import normalize_email
from service.applications import service as applications
from service.applications.models import JudgeAssignment, JudgeInvitation, JudgeInvitationStatus
from service.audit import service as audit
from service.challenges.models import Challenge
from service.core import i18n
from service.core.context import Context
from service.core.errors import Conflict, ValidationFailed
from service.core.i18n import N_
from service.notifications import service as notifications

P = JudgeInvitationStatus
_ = i18n.gettext
# Pending invitations shown to one person at once.
LIST_LIMIT = 50


class InvitationAnswered(Conflict):
    default_detail = N_("This invitation was already answered.")


class InvitationRevoked(Conflict):
    default_detail = N_("This invitation was withdrawn by the challenge's managers.")


async def assign_or_invite(
    ctx: Context, challenge: Challenge, *, email: str, recuse_from_all: bool = False
) -> JudgeAssignment | JudgeInvitation:
    """The judge of this address if it has an account; otherwise a mailed invitation."""
    email = normalize_email(email)
    user = await User.get_or_none(email=email)
    if user is not None:
        return await applications.assign_judge(
            ctx, challenge, user=user, recuse_from_all=recuse_from_all
        )
    return await invite(ctx, challenge, email=email)


async def invite(ctx: Context, challenge: Challenge, *, email: str) -> JudgeInvitation:
    email = normalize_email(email)
    # The challenge row is the lock: two managers inviting the same address at once are
    # served one by one, and the second sees the first's invitation.
    await Challenge.select_for_update().get(id=challenge.id)
    if await JudgeInvitation.filter(
        challenge_id=challenge.id, email=email, status=P.pending
    ).exists():
        raise ValidationFailed(
            fields={
                "email": _("This address already has a pending invitation to judge this challenge.")
            }
        )
    inviter = ctx.actor.user
    assert inviter is not None
    invitation = await JudgeInvitation.create(
        challenge=challenge, email=email, invited_by_id=inviter.id
    )
    await audit.record(
        ctx,
        "challenge.invite_judge",
        object_type="judge_invitation",
        object_id=invitation.id,
        organization_id=challenge.organization_id,
        email=email,
    )
    base = ctx.settings.base_url
    await notifications.send_email(
        email,
        "judge_invitation",
        language=ctx.language,
        user=None,
        link=f"{base}/invitations",
        register_link=f"{base}/register",
        challenge=challenge,
        inviter=inviter.name,
    )
    return invitation


async def pending_for(user: User) -> list[JudgeInvitation]:
    """The invitations to judge addressed to the user, once their address is confirmed."""
    if user.email_verified_at is None:
        return []
    return (
        await JudgeInvitation.filter(email=user.email, status=P.pending)
        .select_related("challenge")
        .order_by("-id")
        .limit(LIST_LIMIT)
    )


async def count_pending_for(email: str) -> int:
    return await JudgeInvitation.filter(email=normalize_email(email), status=P.pending).count()


async def pending_of(challenge: Challenge) -> list[JudgeInvitation]:
    return await JudgeInvitation.filter(challenge_id=challenge.id, status=P.pending).order_by("id")


def _check_pending(invitation: JudgeInvitation) -> None:
    if invitation.status is P.revoked:
        raise InvitationRevoked()
    if invitation.status is not P.pending:
        raise InvitationAnswered()


async def answer(ctx: Context, invitation: JudgeInvitation, *, accept: bool) -> JudgeInvitation:
    # Locked: a double click, or an accept racing a revoke, is answered once.
    invitation = await JudgeInvitation.select_for_update().get(id=invitation.id)
    _check_pending(invitation)
    user = ctx.actor.user
    assert user is not None
    challenge = await Challenge.get(id=invitation.challenge_id)
    if accept:
        await applications.assign_judge(
            ctx, challenge, user=user, assigned_by_id=invitation.invited_by_id
        )
    invitation.status = P.accepted if accept else P.declined
    invitation.answered_by_id = user.id
    invitation.answered_at = datetime.now(UTC)
    await invitation.save(update_fields=["status", "answered_by_id", "answered_at"])
    await audit.record(
        ctx,
        "judge_invitation.accept" if accept else "judge_invitation.decline",
        object_type="judge_invitation",
        object_id=invitation.id,
        organization_id=challenge.organization_id,
        challenge=challenge.id,
    )
    inviter = await User.get_or_none(id=invitation.invited_by_id)
    if inviter is not None:
        await notifications.notify(
            inviter,
            "judge_invitation_accepted" if accept else "judge_invitation_declined",
            link=f"/challenges/{challenge.id}/judges",
            challenge=challenge,
            email=invitation.email,
        )
    invitation.challenge = challenge
    return invitation


async def revoke(ctx: Context, invitation: JudgeInvitation) -> JudgeInvitation:
    invitation = await JudgeInvitation.select_for_update().get(id=invitation.id)
    _check_pending(invitation)
    manager = ctx.actor.user
    assert manager is not None
    invitation.status = P.revoked
    invitation.answered_by_id = manager.id
    invitation.answered_at = datetime.now(UTC)
    await invitation.save(update_fields=["status", "answered_by_id", "answered_at"])
    challenge = await Challenge.get(id=invitation.challenge_id)
    await audit.record(
        ctx,
        "judge_invitation.revoke",
        object_type="judge_invitation",
        object_id=invitation.id,
        organization_id=challenge.organization_id,
        challenge=challenge.id,
        email=invitation.email,
    )
    invitation.challenge = challenge
    return invitation
