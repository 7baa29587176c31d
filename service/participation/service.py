"""Participation in the platform's words: propose, support, comment, moderate, answer, adopt."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from service.accounts.models import Organization, OrganizationKind, Role, User
from service.audit import service as audit
from service.challenges import service as challenges
from service.challenges.models import Challenge
from service.challenges.schemas import ChallengeIn
from service.core import i18n
from service.core.context import Context
from service.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ServiceError,
    ValidationFailed,
)
from service.core.i18n import N_
from service.integrations.storage import StoredFile
from service.notifications import kinds
from service.notifications import service as notifications
from service.participation import repository
from service.participation.models import (
    Comment,
    CommentReport,
    Proposal,
    ProposalPhoto,
    ProposalStatus,
    RegionThreshold,
    Stance,
    Support,
    Update,
    can_answer,
)
from service.participation.schemas import AdoptIn, ProposalIn, ProposalPatch, ResponseIn
from service.translation import service as translation

P = ProposalStatus
DEFAULT_THRESHOLD = 200
NEW_ACCOUNT_HOURS = 24
LINK = re.compile(r"(https?://|www\.)\S+|\b[\w-]+\.(com|org|net|io|info|biz|xyz|ru)\b", re.I)


class EmailNotVerified(PermissionDenied):
    default_detail = N_("Confirm your e-mail address before taking part.")


class ProposalLocked(Conflict):
    default_detail = N_(
        "This proposal has supporters: it can no longer be edited. Add an update instead."
    )


class ProposalClosed(Conflict):
    default_detail = N_("This proposal is hidden or already answered: it takes no more of this.")


class AnswerNotAllowed(Conflict):
    default_detail = N_("The proposal cannot move to that answer from where it is.")


class NotTheRegionsCity(ValidationFailed):
    default_detail = N_("Adopt the proposal with the city government of its region.")


def _now() -> datetime:
    return datetime.now(UTC)


def _norm_region(region: str) -> str:
    return " ".join(region.split()).lower()


def _user(ctx: Context) -> User:
    user = ctx.actor.user
    assert user is not None
    return user


def _require_verified(ctx: Context) -> User:
    user = _user(ctx)
    if user.email_verified_at is None:
        raise EmailNotVerified()
    return user


def _no_links_yet(user: User, now: datetime, **texts: str) -> None:
    """New accounts post no links for their first day (the spammers' favourite)."""
    if user.created_at is None or now - user.created_at >= timedelta(hours=NEW_ACCOUNT_HOURS):
        return
    for name, text in texts.items():
        if LINK.search(text or ""):
            raise ValidationFailed(
                fields={
                    name: i18n.gettext("New accounts cannot post links during their first day.")
                }
            )


def sdg_token(goal: int) -> str:
    return f"[sdg:{goal}]"


def _search_text(title: str, description: str, affected: str, sdgs: list[int]) -> str:
    """Lower-cased words to search, and a token per SDG: the SDG filter reads the same column
    on PostgreSQL and SQLite (which has no JSON containment)."""
    return " ".join([title, description, affected, *map(sdg_token, sdgs)]).lower()


# --- similar titles ------------------------------------------------------------------------


async def similar(region: str, title: str, *, exclude_id: int | None = None) -> list[Proposal]:
    """The region's proposals most like `title` (at most 5), whatever language they are in.

    A proposal is compared by its title as written and by its cached translations
    (`translation.most_alike`: words, characters and meaning).
    """
    if len(title.strip()) < 4 or not region.strip():
        return []
    candidates = {
        p.id: p
        for p in await repository.recent_in_region(_norm_region(region))
        if p.id != exclude_id and p.hidden_at is None
    }
    found = await translation.most_alike(
        "proposal", title, {i: p.title for i, p in candidates.items()}
    )
    return [candidates[i] for i in found]


# --- proposals -----------------------------------------------------------------------------


async def create(ctx: Context, data: ProposalIn) -> Proposal:
    user = _require_verified(ctx)
    now = _now()
    _no_links_yet(user, now, title=data.title, description=data.description, affected=data.affected)
    if not data.confirm_distinct:
        found = await similar(data.region, data.title)
        if found:
            raise ValidationFailed(
                i18n.gettext("Similar proposals exist in this region."),
                fields={
                    "title": i18n.gettext(
                        "Similar proposals exist in this region: %(titles)s. Support one of "
                        "them, or confirm that yours is a different problem."
                    )
                    % {"titles": "; ".join(f"#{p.id} {p.title}" for p in found)}
                },
            )
    proposal = await Proposal.create(
        author=user,
        title=data.title,
        description=data.description,
        affected=data.affected,
        region=data.region,
        area=data.area,
        sdgs=data.sdgs,
        search_text=_search_text(data.title, data.description, data.affected, data.sdgs),
    )
    await translation.remember(
        "proposal",
        proposal.id,
        title=proposal.title,
        description=proposal.description,
        affected=proposal.affected,
    )
    await audit.record(ctx, "proposal.create", object_type="proposal", object_id=proposal.id)
    await add_update(
        proposal_id=proposal.id,
        kind="proposed",
        params={"proposal": proposal.title},
        event_key=f"proposal:{proposal.id}:created",
        at=now,
        link=f"/proposals/{proposal.id}",
    )
    return proposal


def edit_refusal(proposal: Proposal) -> ServiceError | None:
    """Why the author may no longer change the proposal, or None while they may: until the
    first support, and while it is open and not hidden. Pure, so that the edit page shows no
    form that `edit` would refuse."""
    if proposal.support_count > 0:
        return ProposalLocked()
    if proposal.hidden_at is not None or proposal.status is not P.open:
        return ProposalClosed()
    return None


async def _editable(proposal: Proposal) -> Proposal:
    """The proposal, locked, if its author may still change it (`edit_refusal`)."""
    proposal = await repository.get_for_update(proposal.id)
    # The count is kept by the support's own transaction; the row check covers a support
    # recorded while the count was being updated.
    if await Support.filter(proposal_id=proposal.id).exists():
        raise ProposalLocked()
    if (refusal := edit_refusal(proposal)) is not None:
        raise refusal
    return proposal


async def edit(ctx: Context, proposal: Proposal, data: ProposalPatch) -> Proposal:
    proposal = await _editable(proposal)
    _no_links_yet(
        _user(ctx), _now(), title=data.title, description=data.description, affected=data.affected
    )
    proposal.title = data.title
    proposal.description = data.description
    proposal.affected = data.affected
    proposal.region = data.region
    proposal.area = data.area  # type: ignore[assignment]
    proposal.sdgs = data.sdgs
    proposal.search_text = _search_text(data.title, data.description, data.affected, data.sdgs)
    await proposal.save()
    await translation.remember(
        "proposal",
        proposal.id,
        title=proposal.title,
        description=proposal.description,
        affected=proposal.affected,
    )
    await audit.record(ctx, "proposal.edit", object_type="proposal", object_id=proposal.id)
    return proposal


PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")
PHOTO_MAX_BYTES = 5 * 1024 * 1024


class NotAPhoto(ValidationFailed):
    status_code = 415
    default_detail = N_("A proposal's photo must be a JPEG, PNG or WebP image.")


async def set_photo(
    ctx: Context, proposal: Proposal, *, stored: StoredFile, alt: str
) -> tuple[ProposalPhoto, str | None]:
    """Add or replace the photo; returns it and the stored name of the one it replaced (to
    delete once committed)."""
    alt = " ".join(alt.split())
    if not alt or len(alt) > 200:
        raise ValidationFailed(
            i18n.gettext("Describe the photo in a few words (at most 200 characters)."),
            fields={"alt": "required" if not alt else "too_long"},
        )
    if stored.content_type not in PHOTO_TYPES:
        raise NotAPhoto(i18n.gettext(NotAPhoto.default_detail))
    proposal = await _editable(proposal)
    old = await ProposalPhoto.get_or_none(proposal_id=proposal.id)
    if old is not None:
        await old.delete()
    photo = await ProposalPhoto.create(
        proposal_id=proposal.id,
        stored_name=stored.name,
        content_type=stored.content_type,
        size=stored.size,
        sha256=stored.sha256,
        alt=alt,
    )
    await audit.record(
        ctx, "proposal.photo", object_type="proposal", object_id=proposal.id, size=stored.size
    )
    return photo, old.stored_name if old else None


async def remove_photo(ctx: Context, proposal: Proposal) -> str | None:
    """Remove the photo; returns its stored name (to delete once committed), None if none."""
    proposal = await _editable(proposal)
    photo = await ProposalPhoto.get_or_none(proposal_id=proposal.id)
    if photo is None:
        return None
    await photo.delete()
    await audit.record(ctx, "proposal.photo_remove", object_type="proposal", object_id=proposal.id)
    return photo.stored_name


async def threshold_of(region: str) -> int:
    row = await RegionThreshold.get_or_none(region=_norm_region(region))
    return row.supports if row else DEFAULT_THRESHOLD


async def set_threshold(ctx: Context, org: Organization, *, supports: int) -> RegionThreshold:
    if org.kind is not OrganizationKind.government:
        raise NotTheRegionsCity()
    region = _norm_region(org.region)
    row, _ = await RegionThreshold.update_or_create(
        region=region,
        defaults={"supports": supports, "organization_id": org.id, "set_by_id": _user(ctx).id},
    )
    await audit.record(
        ctx,
        "proposal.threshold",
        object_type="region",
        object_id=region,
        organization_id=org.id,
        supports=supports,
    )
    # Proposals already over the new threshold start waiting for their answer now.
    await Proposal.filter(
        region__iexact=org.region.strip(),
        threshold_reached_at=None,
        support_count__gte=supports,
        status=P.open,
    ).update(threshold_reached_at=_now())
    return row


async def support(ctx: Context, proposal: Proposal) -> tuple[Proposal, bool]:
    """Support once (idempotent); returns the proposal and whether a support was added."""
    user = _require_verified(ctx)
    # The row lock serialises concurrent clicks on one proposal; the unique pair
    # (proposal, user) is the last word if two requests of one user still race.
    proposal = await repository.get_for_update(proposal.id)
    if proposal.hidden_at is not None or proposal.status in (P.declined,):
        raise ProposalClosed()
    created = False
    if not await Support.filter(proposal_id=proposal.id, user_id=user.id).exists():
        try:
            async with in_transaction():
                await Support.create(proposal_id=proposal.id, user_id=user.id)
            created = True
        except IntegrityError:
            created = False
    await _recount(proposal)
    if created:
        await audit.record(ctx, "proposal.support", object_type="proposal", object_id=proposal.id)
    return proposal, created


async def withdraw_support(ctx: Context, proposal: Proposal) -> Proposal:
    user = _user(ctx)
    proposal = await repository.get_for_update(proposal.id)
    deleted = await Support.filter(proposal_id=proposal.id, user_id=user.id).delete()
    await _recount(proposal)
    if deleted:
        await audit.record(ctx, "proposal.unsupport", object_type="proposal", object_id=proposal.id)
    return proposal


async def _recount(proposal: Proposal) -> None:
    proposal.support_count = await Support.filter(proposal_id=proposal.id).count()
    fields = ["support_count"]
    if (
        proposal.threshold_reached_at is None
        and proposal.status is P.open
        and proposal.support_count >= await threshold_of(proposal.region)
    ):
        # The clock of the city's formal answer starts once, and keeps running.
        proposal.threshold_reached_at = _now()
        fields.append("threshold_reached_at")
        await _threshold_reached(proposal)
    await proposal.save(update_fields=fields)


async def _threshold_reached(proposal: Proposal) -> None:
    """The region's city managers are told that a formal answer is now due."""
    assert proposal.threshold_reached_at is not None
    await add_update(
        proposal_id=proposal.id,
        kind="threshold",
        params={"proposal": proposal.title},
        at=proposal.threshold_reached_at,
        event_key=f"proposal:{proposal.id}:threshold",
        link=f"/proposals/{proposal.id}",
    )
    city_ids = await Organization.filter(
        kind=OrganizationKind.government, region__iexact=proposal.region.strip()
    ).values_list("id", flat=True)
    managers = await User.filter(
        memberships__organization_id__in=list(city_ids),
        memberships__role__in=[Role.manager, Role.owner],
    ).distinct()
    for manager in managers:
        await notifications.notify(
            manager, "proposal_needs_answer", link=f"/proposals/{proposal.id}", proposal=proposal
        )


# --- deliberation --------------------------------------------------------------------------


async def comment(
    ctx: Context, proposal: Proposal, *, text: str, stance: Stance, parent_id: int | None
) -> Comment:
    user = _require_verified(ctx)
    if proposal.hidden_at is not None:
        raise ProposalClosed()
    _no_links_yet(user, _now(), text=text)
    if parent_id is not None:
        parent = await Comment.get_or_none(id=parent_id, proposal_id=proposal.id)
        if parent is None:
            raise ValidationFailed(
                fields={"parent_id": i18n.gettext("Reply to a comment of this proposal.")}
            )
    created = await Comment.create(
        proposal_id=proposal.id, author=user, text=text, stance=stance, parent_id=parent_id
    )
    await translation.remember("comment", created.id, text=created.text)
    await audit.record(ctx, "proposal.comment", object_type="comment", object_id=created.id)
    return created


async def report(ctx: Context, comment_obj: Comment, *, reason: str) -> bool:
    user = _user(ctx)
    _, created = await CommentReport.get_or_create(
        comment_id=comment_obj.id, user_id=user.id, defaults={"reason": reason}
    )
    if created:
        count = await CommentReport.filter(comment_id=comment_obj.id).count()
        await Comment.filter(id=comment_obj.id).update(report_count=count)
        await audit.record(
            ctx, "proposal.comment.report", object_type="comment", object_id=comment_obj.id
        )
    return created


async def hide_comment(ctx: Context, comment_obj: Comment, *, reason: str) -> Comment:
    comment_obj = await Comment.select_for_update().get(id=comment_obj.id)
    comment_obj.hidden_at = comment_obj.hidden_at or _now()
    comment_obj.hidden_reason = reason
    comment_obj.hidden_by_id = _user(ctx).id
    await comment_obj.save(update_fields=["hidden_at", "hidden_reason", "hidden_by_id"])
    await audit.record(
        ctx, "proposal.comment.hide", object_type="comment", object_id=comment_obj.id, reason=reason
    )
    return comment_obj


async def hide_proposal(ctx: Context, proposal: Proposal, *, reason: str) -> Proposal:
    proposal = await repository.get_for_update(proposal.id)
    proposal.hidden_at = proposal.hidden_at or _now()
    proposal.hidden_reason = reason
    proposal.hidden_by_id = _user(ctx).id
    await proposal.save(update_fields=["hidden_at", "hidden_reason", "hidden_by_id"])
    await audit.record(
        ctx, "proposal.hide", object_type="proposal", object_id=proposal.id, reason=reason
    )
    return proposal


# --- the city's answer and adoption --------------------------------------------------------


async def respond(ctx: Context, proposal: Proposal, data: ResponseIn) -> Proposal:
    proposal = await repository.get_for_update(proposal.id)
    target = P(data.status)
    if proposal.hidden_at is not None or not can_answer(proposal.status, target):
        raise AnswerNotAllowed()
    proposal.status = target
    proposal.response = data.text
    proposal.responded_at = _now()
    proposal.responded_by_id = _user(ctx).id
    await proposal.save(update_fields=["status", "response", "responded_at", "responded_by_id"])
    await audit.record(
        ctx, "proposal.respond", object_type="proposal", object_id=proposal.id, status=target.value
    )
    await add_update(
        proposal_id=proposal.id,
        kind=f"answer_{target.value}",
        params={"proposal": proposal.title, "text": data.text},
        author_id=_user(ctx).id,
        at=proposal.responded_at,
        link=f"/proposals/{proposal.id}",
        notify=True,
        base_url=ctx.settings.base_url,
    )
    return proposal


def _first_sentence(text: str, limit: int = 200) -> str:
    sentence = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    if len(sentence) > limit:
        sentence = sentence[: limit - 1].rsplit(" ", 1)[0] + "…"
    return sentence if len(sentence) >= 10 else text.strip()[:limit]


def draft_terms(proposal: Proposal, org: Organization, data: AdoptIn) -> ChallengeIn:
    """The challenge draft prefilled from the proposal; the city edits it before publishing."""
    now = _now()
    problem = proposal.description
    if proposal.affected:
        problem += "\n\n" + i18n.gettext("Who is affected:") + " " + proposal.affected
    problem += "\n\n" + i18n.gettext("Born from citizen proposal #%(id)s.") % {"id": proposal.id}
    return ChallengeIn.model_validate(
        {
            "organization_id": org.id,
            "title": proposal.title if len(proposal.title) >= 5 else f"{proposal.title} (proposal)",
            "summary": _first_sentence(proposal.description),
            "problem_statement": problem,
            "area": (proposal.area.value if proposal.area else data.area) or "social_inclusion",
            "sdgs": proposal.sdgs,
            "region": proposal.region,
            "eligible_kinds": ["startup", "university", "research_center"],
            "reward": {"amount_minor": data.reward_amount_minor, "currency": data.currency},
            "criteria": [
                {"name": i18n.gettext("Impact on the problem"), "weight": 50},
                {"name": i18n.gettext("Feasibility"), "weight": 30},
                {"name": i18n.gettext("Cost"), "weight": 20},
            ],
            "opens_at": (now + timedelta(days=14)).isoformat(),
            "closes_at": (now + timedelta(days=74)).isoformat(),
        }
    )


async def adopt(
    ctx: Context, proposal: Proposal, org: Organization, data: AdoptIn
) -> tuple[Proposal, Challenge]:
    proposal = await repository.get_for_update(proposal.id)
    if proposal.hidden_at is not None or not can_answer(proposal.status, P.adopted):
        raise AnswerNotAllowed()
    if org.kind is not OrganizationKind.government or _norm_region(org.region) != _norm_region(
        proposal.region
    ):
        raise NotTheRegionsCity(
            fields={"organization_id": i18n.gettext(NotTheRegionsCity.default_detail)}
        )
    challenge = await challenges.create(ctx, org, draft_terms(proposal, org, data))
    # The challenges area keeps a plain column for where a challenge came from.
    await Challenge.filter(id=challenge.id).update(proposal_id=proposal.id)
    now = _now()
    proposal.status = P.adopted
    proposal.challenge_id = challenge.id
    proposal.adopted_by_id = _user(ctx).id
    proposal.adopted_at = now
    proposal.responded_at = proposal.responded_at or now
    proposal.responded_by_id = _user(ctx).id
    await proposal.save(
        update_fields=[
            "status",
            "challenge_id",
            "adopted_by_id",
            "adopted_at",
            "responded_at",
            "responded_by_id",
        ]
    )
    await audit.record(
        ctx,
        "proposal.adopt",
        object_type="proposal",
        object_id=proposal.id,
        organization_id=org.id,
        challenge=challenge.id,
    )
    await add_update(
        proposal_id=proposal.id,
        organization_id=org.id,
        kind="adopted",
        params={"proposal": proposal.title, "city": org.name},
        author_id=_user(ctx).id,
        at=now,
        event_key=f"proposal:{proposal.id}:adopted",
        link=f"/proposals/{proposal.id}",
        notify=True,
        base_url=ctx.settings.base_url,
    )
    return proposal, challenge


# --- timelines -----------------------------------------------------------------------------


async def add_update(
    *,
    kind: str,
    at: datetime,
    params: dict[str, Any] | None = None,
    title: str = "",
    body: str = "",
    link: str = "",
    event_key: str | None = None,
    author_id: int | None = None,
    challenge_id: int | None = None,
    proposal_id: int | None = None,
    organization_id: int | None = None,
    notify: bool = False,
    base_url: str = "",
) -> Update | None:
    """Write a timeline entry once (an event key already written returns None).

    A system entry gives its `params` (the kind `timeline.<kind>` in notifications/kinds.py
    says what it reads); its English text is kept beside them. A staff post gives its own
    `title` and `body`."""
    if params is not None:
        kinds.check(f"timeline.{kind}", params)
        title, body = kinds.render(f"timeline.{kind}", params, "en")
    if event_key is not None and await Update.filter(event_key=event_key).exists():
        return None
    try:
        async with in_transaction():
            update = await Update.create(
                kind=kind,
                title=title[:200],
                body=body,
                params=params,
                link=link,
                event_key=event_key,
                author_id=author_id,
                challenge_id=challenge_id,
                proposal_id=proposal_id,
                organization_id=organization_id,
                at=at,
            )
    except IntegrityError:
        return None  # another run wrote this event first
    if notify:
        await _tell_followers(update, base_url)
    return update


async def post_staff_update(
    ctx: Context,
    *,
    title: str,
    body: str,
    proposal: Proposal | None = None,
    challenge: Challenge | None = None,
    organization: Organization | None = None,
) -> Update:
    user = _user(ctx)
    if proposal is not None:
        link = f"/proposals/{proposal.id}"
    elif challenge is not None:
        link = f"/challenges/{challenge.id}"
    else:
        assert organization is not None
        link = f"/cities/{organization.id}/updates"
    update = await add_update(
        kind="staff",
        title=title,
        body=body,
        at=_now(),
        link=link,
        author_id=user.id,
        proposal_id=proposal.id if proposal else None,
        challenge_id=challenge.id if challenge else None,
        organization_id=(
            organization.id if organization else challenge.organization_id if challenge else None
        ),
        notify=True,
        base_url=ctx.settings.base_url,
    )
    assert update is not None
    await audit.record(
        ctx, "participation.update", object_type="update", object_id=update.id, link=link
    )
    return update


async def followers_of(update: Update) -> list[int]:
    """Who hears of an update: a proposal's supporters and commenters (and, for a challenge
    born from a proposal, that proposal's), and the challenge's own followers."""
    proposal_ids: set[int] = set()
    user_ids: set[int] = set()
    if update.proposal_id is not None:
        proposal_ids.add(update.proposal_id)
    if update.challenge_id is not None:
        proposal_ids.update(
            cast(
                list[int],
                await Proposal.filter(challenge_id=update.challenge_id).values_list(
                    "id", flat=True
                ),
            )
        )
        if update.kind == "staff":
            from service.challenges.models import Follow

            user_ids.update(
                cast(
                    list[int],
                    await Follow.filter(challenge_id=update.challenge_id).values_list(
                        "user_id", flat=True
                    ),
                )
            )
    if proposal_ids:
        user_ids.update(
            cast(
                list[int],
                await Support.filter(proposal_id__in=proposal_ids).values_list(
                    "user_id", flat=True
                ),
            )
        )
        user_ids.update(
            cast(
                list[int],
                await Comment.filter(proposal_id__in=proposal_ids).values_list(
                    "author_id", flat=True
                ),
            )
        )
        user_ids.update(
            cast(
                list[int],
                await Proposal.filter(id__in=proposal_ids).values_list("author_id", flat=True),
            )
        )
    if update.author_id is not None:
        user_ids.discard(update.author_id)
    return sorted(user_ids)


async def _tell_followers(update: Update, base_url: str) -> None:
    users = await User.filter(id__in=await followers_of(update))
    if not users:
        return
    params = dict(update.params or {"title": update.title, "text": update.body})
    challenge = proposal = None
    if update.challenge_id is not None:
        title = params.pop("challenge", None) or (await Challenge.get(id=update.challenge_id)).title
        challenge = notifications.Ref(update.challenge_id, title)
    if update.proposal_id is not None:
        title = params.pop("proposal", None) or (await Proposal.get(id=update.proposal_id)).title
        proposal = notifications.Ref(update.proposal_id, title)
    for user in users:
        await notifications.notify(
            user,
            f"timeline.{update.kind}",
            link=update.link,
            challenge=challenge,
            proposal=proposal,
            **params,
        )


def proposal_status_label(status: str) -> str:
    labels = {
        "open": N_("Open for support"),
        "under_study": N_("Accepted for study"),
        "adopted": N_("Adopted"),
        "declined": N_("Declined"),
    }
    return i18n.gettext(labels.get(status, status))


def waiting_days(proposal: Any, now: datetime | None = None) -> int | None:
    """Days a proposal over its threshold has waited for the city's answer (None if not)."""
    reached = getattr(proposal, "threshold_reached_at", None)
    if reached is None:
        return None
    end = getattr(proposal, "responded_at", None) or now or _now()
    return max(0, (end - reached).days)


async def get_visible(proposal_id: int) -> Proposal:
    proposal = await Proposal.get_or_none(id=proposal_id)
    if proposal is None:
        raise NotFound("No such proposal.")
    return proposal
