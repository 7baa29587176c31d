"""Challenges in the platform's words: draft, publish, amend, cancel, advance, ask, answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from service.accounts.models import Organization, OrganizationKind, Role, User
from service.audit import service as audit
from service.challenges import hooks, references, repository
from service.challenges.models import (
    Amendment,
    Challenge,
    ChallengeStatus,
    Criterion,
    Follow,
    Question,
    StatusChange,
    can_move,
)
from service.core.i18n import N_

__all__ = ["can_move"]
from service.challenges.readability import score
from service.challenges.schemas import ChallengeIn, ChallengePatch, ChallengeTerms
from service.core import events, i18n
from service.core.context import Context
from service.core.errors import Conflict, PermissionDenied, ValidationFailed
from service.notifications import service as notifications
from service.translation import service as translation

S = ChallengeStatus
EDITABLE = frozenset({S.draft, S.published, S.open})
DEFAULT_JUDGING_DAYS = 30


class NotAGovernment(ValidationFailed):
    default_detail = N_("Only a city or government organization posts challenges.")


class TransitionNotAllowed(Conflict):
    default_detail = N_("The challenge cannot move to that state from where it is.")


class NotVerified(PermissionDenied):
    default_detail = N_("Only verified governments publish challenges. An operator verifies them.")


class AmendmentRequired(ValidationFailed):
    default_detail = N_(
        "This challenge is published: changing its reward, criteria or dates needs a public "
        "amendment with a reason."
    )


class ChallengeNotEditable(Conflict):
    default_detail = N_("This challenge can no longer be edited.")


def _search_text(terms: ChallengeTerms) -> str:
    return " ".join([terms.title, terms.summary, terms.problem_statement]).lower()


def _fields(terms: ChallengeTerms) -> dict[str, Any]:
    judging_ends = terms.judging_ends_at or terms.closes_at + timedelta(days=DEFAULT_JUDGING_DAYS)
    return {
        "title": terms.title,
        "summary": terms.summary,
        "problem_statement": terms.problem_statement,
        "language": terms.language,
        "area": terms.area,
        "sdgs": terms.sdgs,
        "region": terms.region,
        "eligible_kinds": [k.value for k in terms.eligible_kinds],
        "eligible_regions": terms.eligible_regions,
        "reward_amount_minor": terms.reward.amount_minor,
        "currency": terms.reward.currency,
        "opens_at": terms.opens_at.astimezone(UTC),
        "closes_at": terms.closes_at.astimezone(UTC),
        "judging_ends_at": judging_ends.astimezone(UTC),
        "blind_judging": terms.blind_judging,
        "search_text": _search_text(terms),
    }


async def _replace_criteria(challenge: Challenge, terms: ChallengeTerms) -> None:
    await Criterion.filter(challenge_id=challenge.id).delete()
    for position, criterion in enumerate(terms.criteria):
        await Criterion.create(
            challenge=challenge,
            name=criterion.name,
            description=criterion.description,
            weight=criterion.weight,
            position=position,
        )


async def create(ctx: Context, org: Organization, data: ChallengeIn) -> Challenge:
    if org.kind is not OrganizationKind.government:
        raise NotAGovernment(
            fields={"organization_id": i18n.gettext(NotAGovernment.default_detail)}
        )
    challenge = await Challenge.create(
        organization=org,
        created_by_id=ctx.actor.user.id if ctx.actor.user else None,
        **_fields(data),
    )
    await _replace_criteria(challenge, data)
    await _remember_texts(challenge)
    await references.refresh_challenge(challenge, ctx.settings)
    await audit.record(
        ctx,
        "challenge.create",
        object_type="challenge",
        object_id=challenge.id,
        organization_id=org.id,
    )
    return challenge


async def _remember_texts(challenge: Challenge) -> None:
    """Offer the challenge's texts in the other languages (translated after the commit)."""
    await translation.remember(
        "challenge",
        challenge.id,
        language=challenge.language,
        title=challenge.title,
        summary=challenge.summary,
        problem_statement=challenge.problem_statement,
    )


def _terms_snapshot(challenge: Challenge, criteria: list[Criterion]) -> dict[str, Any]:
    return {
        "reward": {"amount_minor": challenge.reward_amount_minor, "currency": challenge.currency},
        "criteria": [{"name": c.name, "weight": c.weight} for c in criteria],
        "opens_at": challenge.opens_at.isoformat(),
        "closes_at": challenge.closes_at.isoformat(),
        "judging_ends_at": challenge.judging_ends_at.isoformat(),
    }


async def update(ctx: Context, challenge: Challenge, data: ChallengePatch) -> Challenge:
    challenge = await repository.get_for_update(challenge.id)
    if challenge.status not in EDITABLE:
        raise ChallengeNotEditable()
    before = _terms_snapshot(challenge, await repository.criteria(challenge))
    values = _fields(data)
    after = {
        "reward": {"amount_minor": values["reward_amount_minor"], "currency": values["currency"]},
        "criteria": [{"name": c.name, "weight": c.weight} for c in data.criteria],
        "opens_at": values["opens_at"].isoformat(),
        "closes_at": values["closes_at"].isoformat(),
        "judging_ends_at": values["judging_ends_at"].isoformat(),
    }
    changed = {
        key: {"before": before[key], "after": after[key]}
        for key in before
        if before[key] != after[key]
    }
    if challenge.status is not S.draft:
        if changed and not data.amendment_reason.strip():
            raise AmendmentRequired(
                fields={"amendment_reason": i18n.gettext(AmendmentRequired.default_detail)}
            )
        if "opens_at" in changed and challenge.status is S.open:
            raise ValidationFailed(
                fields={
                    "opens_at": i18n.gettext(
                        "The challenge is already open: its opening date cannot change."
                    )
                }
            )
    for key, value in values.items():
        setattr(challenge, key, value)
    await challenge.save()
    if "reward" in changed:
        # The row is locked (get_for_update above): an import refreshing references waits
        # for this edit, or committed its rates before these are read.
        await references.refresh_challenge(challenge, ctx.settings)
    await _replace_criteria(challenge, data)
    await _remember_texts(challenge)
    if challenge.status is not S.draft and changed:
        assert ctx.actor.user is not None
        await Amendment.create(
            challenge=challenge,
            author_id=ctx.actor.user.id,
            reason=data.amendment_reason.strip(),
            changes=changed,
        )
        await _tell_followers(challenge, "challenge_amended")
    await audit.record(
        ctx,
        "challenge.update",
        object_type="challenge",
        object_id=challenge.id,
        organization_id=challenge.organization_id,
        changed=sorted(changed),
    )
    return challenge


async def move(
    ctx: Context | None, challenge: Challenge, target: ChallengeStatus, at: datetime
) -> None:
    if not can_move(challenge.status, target):
        raise TransitionNotAllowed(
            i18n.gettext("The challenge cannot move from %(current)s to %(target)s.")
            % {"current": challenge.status.value, "target": target.value}
        )
    await StatusChange.create(
        challenge=challenge,
        from_status=challenge.status.value,
        to_status=target.value,
        actor_id=ctx.actor.user.id if ctx and ctx.actor.user else None,
        at=at,
    )
    challenge.status = target
    await challenge.save(update_fields=["status", "updated_at"])


async def publish(ctx: Context, challenge: Challenge, *, now: datetime | None = None) -> Challenge:
    now = now or datetime.now(UTC)
    challenge = await repository.get_for_update(challenge.id)
    org = await Organization.get(id=challenge.organization_id)
    if not org.is_verified:
        raise NotVerified()
    if challenge.status is not S.draft:
        raise TransitionNotAllowed()
    if challenge.closes_at <= now:
        raise ValidationFailed(
            fields={
                "closes_at": i18n.gettext("The closing date has passed: move it before publishing.")
            }
        )
    await move(ctx, challenge, S.published, now)
    challenge.published_at = now
    await challenge.save(update_fields=["published_at"])
    await audit.record(
        ctx,
        "challenge.publish",
        object_type="challenge",
        object_id=challenge.id,
        organization_id=challenge.organization_id,
    )
    await advance(challenge, now=now)
    return challenge


async def cancel(ctx: Context, challenge: Challenge, *, reason: str) -> Challenge:
    challenge = await repository.get_for_update(challenge.id)
    await move(ctx, challenge, S.cancelled, datetime.now(UTC))
    challenge.cancelled_at = datetime.now(UTC)
    challenge.cancel_reason = reason.strip()
    await challenge.save(update_fields=["cancelled_at", "cancel_reason"])
    # Rewards gives the unallocated escrow back (service.rewards.listeners).
    await events.announce("challenge.cancelled", ctx=ctx, challenge=challenge)
    await audit.record(
        ctx,
        "challenge.cancel",
        object_type="challenge",
        object_id=challenge.id,
        organization_id=challenge.organization_id,
        reason=reason,
    )
    await _tell_followers(challenge, "challenge_cancelled")
    return challenge


async def advance(challenge: Challenge, *, now: datetime) -> list[ChallengeStatus]:
    """Apply every move the dates call for (several after downtime), in order."""
    moves: list[ChallengeStatus] = []
    while True:
        if challenge.status is S.published and challenge.opens_at <= now:
            target = S.open
        elif challenge.status is S.open and challenge.closes_at <= now:
            target = S.closed
        elif challenge.status is S.closed and await hooks.has_judges(challenge):
            # Judging starts once the deadline has passed and someone is there to judge.
            target = S.judging
        else:
            return moves
        # The step is dated when it was due, not when the scheduler noticed.
        due = challenge.opens_at if target is S.open else challenge.closes_at
        at = min(due, now)
        if challenge.published_at is not None:
            # Published after its opening date: it opened on publication, not before.
            at = max(at, challenge.published_at)
        await move(None, challenge, target, at)
        moves.append(target)
        if target is S.open:
            await _tell_followers(challenge, "challenge_opened")
        elif target is S.closed:
            await _tell_followers(challenge, "challenge_closed")


async def advance_all(*, now: datetime) -> int:
    """The scheduler's pass: returns how many moves it made."""
    count = 0
    for challenge in await repository.due_for_dates(now):
        count += len(await advance(challenge, now=now))
    return count


async def _tell_followers(challenge: Challenge, kind: str) -> None:
    user_ids = await repository.followers(challenge)
    for user in await User.filter(id__in=user_ids):
        await notifications.notify(
            user, kind, link=f"/challenges/{challenge.id}", challenge=challenge
        )


# --- questions and followers ---------------------------------------------------------------


class ChallengeNotPublic(Conflict):
    default_detail = N_("Questions open once the challenge is published.")


async def ask(ctx: Context, challenge: Challenge, *, text: str) -> Question:
    if challenge.status in (S.draft, S.cancelled, S.completed):
        raise ChallengeNotPublic()
    assert ctx.actor.user is not None
    question = await Question.create(challenge=challenge, author=ctx.actor.user, text=text)
    await translation.remember("question", question.id, text=question.text)
    await follow(ctx, challenge)
    await audit.record(
        ctx,
        "question.ask",
        object_type="question",
        object_id=question.id,
        organization_id=challenge.organization_id,
    )
    # The city's staff who answer questions hear of a new one (not the one who asked).
    for user in await User.filter(
        memberships__organization_id=challenge.organization_id,
        memberships__role__in=[Role.owner, Role.manager, Role.editor],
    ).distinct():
        if user.id != ctx.actor.user.id:
            await notifications.notify(
                user,
                "question_asked",
                link=f"/challenges/{challenge.id}#questions",
                challenge=challenge,
                question=question.text[:300],
            )
    return question


async def answer(ctx: Context, question: Question, *, text: str) -> Question:
    question = await Question.select_for_update().get(id=question.id)
    assert ctx.actor.user is not None
    question.answer = text
    question.answered_by_id = ctx.actor.user.id
    question.answered_at = datetime.now(UTC)
    await question.save(update_fields=["answer", "answered_by_id", "answered_at"])
    # The answer is the city's, often in another language than the question: its own text.
    await translation.remember("answer", question.id, text=text)
    challenge = await Challenge.get(id=question.challenge_id)
    await audit.record(
        ctx,
        "question.answer",
        object_type="question",
        object_id=question.id,
        organization_id=challenge.organization_id,
    )
    await _tell_followers(challenge, "question_answered")
    return question


async def follow(ctx: Context, challenge: Challenge) -> bool:
    """Follow (idempotent); returns whether a new follow was recorded."""
    assert ctx.actor.user is not None
    _, created = await Follow.get_or_create(challenge_id=challenge.id, user_id=ctx.actor.user.id)
    return created


async def unfollow(ctx: Context, challenge: Challenge) -> None:
    assert ctx.actor.user is not None
    await Follow.filter(challenge_id=challenge.id, user_id=ctx.actor.user.id).delete()


def readability_of(challenge: Challenge | ChallengeTerms) -> list[tuple[str, float, bool]]:
    results = []
    for field in ("summary", "problem_statement"):
        result = score(getattr(challenge, field), challenge.language)
        if result is not None:
            results.append((field, result.score, result.hard))
    return results
