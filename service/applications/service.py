"""Applications and consortia, judging and awards, in the platform's words."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from service.accounts.models import (
    APPLICANT_KINDS,
    Membership,
    Organization,
    OrganizationKind,
    Role,
    User,
)
from service.applications import ranking
from service.applications.escrow import escrow
from service.applications.models import (
    APPLICATION_TRANSITIONS,
    Application,
    ApplicationAttachment,
    ApplicationPartner,
    ApplicationStatus,
    Award,
    JudgeAssignment,
    PartnerStatus,
    Review,
    ReviewWindow,
    review_window,
)
from service.audit import service as audit
from service.challenges.models import Challenge, ChallengeStatus, Criterion
from service.challenges.service import advance, move
from service.core import i18n
from service.core.context import Context
from service.core.errors import Conflict, NotFound, ValidationFailed
from service.core.i18n import N_, ngettext
from service.integrations.storage import StoredFile
from service.notifications import service as notifications

A = ApplicationStatus
S = ChallengeStatus
_ = i18n.gettext
# Files an application may hold at once.
MAX_FILES = 20


class ChallengeNotOpen(Conflict):
    default_detail = N_("This challenge is not open for applications.")


class DeadlinePassed(Conflict):
    default_detail = N_(
        "The deadline has passed: applications can no longer be submitted or changed."
    )


class NotEligible(ValidationFailed):
    default_detail = N_("Your organization is not eligible for this challenge.")


class SharesDoNotAddUp(ValidationFailed):
    default_detail = N_(
        "The payout shares of the lead and the accepted partners must add up to 100."
    )


class ApplicationLocked(Conflict):
    default_detail = N_("This application can no longer be changed.")


class TooManyFiles(ValidationFailed):
    default_detail = N_("An application holds at most 20 files: delete one to add another.")


class ExceedsFunds(Conflict):
    default_detail = N_("The awards would exceed the challenge's available funds.")


# --- who is looking ------------------------------------------------------------------------


# --- conflicts of interest -----------------------------------------------------------------

# The applications judges score and the ranking lists.
RANKED = (A.submitted, A.awarded, A.not_awarded)


class Recusal(StrEnum):
    """Why a judge is recused from an application without having declared it."""

    # The judge is a member of the application's lead or of one of its partners.
    member = "member_of_applicant"
    # The judge is a member of another applicant, and the manager recused them from all.
    rival = "member_of_rival"


class JudgeRecused(NotFound):
    default_detail = N_(
        "You are recused from this application: you are a member of an organization that "
        "applied to this challenge."
    )


async def applicant_orgs(challenge_id: int) -> dict[int, set[int]]:
    """Each ranked application's organizations: its lead and the partners that did not
    decline."""
    leads = await Application.filter(challenge_id=challenge_id, status__in=RANKED).values_list(
        "id", "organization_id"
    )
    orgs: dict[int, set[int]] = {int(a): {int(o)} for a, o in leads}
    partners = (
        await ApplicationPartner.filter(application_id__in=list(orgs))
        .exclude(status=PartnerStatus.declined)
        .values_list("application_id", "organization_id")
    )
    for app_id, org_id in partners:
        orgs[int(app_id)].add(int(org_id))
    return orgs


def recusals(
    member_of: set[int], applicants: dict[int, set[int]], *, recuse_from_all: bool
) -> dict[int, Recusal]:
    """The applications a judge with these memberships is recused from, and why (pure)."""
    result = {app_id: Recusal.member for app_id, orgs in applicants.items() if orgs & member_of}
    if result and recuse_from_all:
        for app_id in applicants:
            result.setdefault(app_id, Recusal.rival)
    return result


async def memberships_of(user_ids: list[int]) -> dict[int, set[int]]:
    """Each user's organizations as they are now: a judge who joined an applicant a moment
    ago is recused already."""
    found: dict[int, set[int]] = {user_id: set() for user_id in user_ids}
    for user_id, org_id in await Membership.filter(user_id__in=user_ids).values_list(
        "user_id", "organization_id"
    ):
        found[int(user_id)].add(int(org_id))
    return found


async def recusals_of(challenge_id: int, judge: JudgeAssignment) -> dict[int, Recusal]:
    member_of = (await memberships_of([judge.user_id]))[judge.user_id]
    return recusals(
        member_of, await applicant_orgs(challenge_id), recuse_from_all=judge.recuse_from_all
    )


def set_aside_note(counts: dict[Recusal, int]) -> str:
    """What the ranking says about the scores it left out, one sentence per reason."""
    notes = []
    if counts.get(Recusal.member):
        notes.append(
            ngettext(
                "%(num)s score set aside: the judge is a member of the applicant",
                "%(num)s scores set aside: the judges are members of the applicant",
                counts[Recusal.member],
            )
            % {"num": counts[Recusal.member]}
        )
    if counts.get(Recusal.rival):
        notes.append(
            ngettext(
                "%(num)s score set aside: the judge is a member of another applicant",
                "%(num)s scores set aside: the judges are members of other applicants",
                counts[Recusal.rival],
            )
            % {"num": counts[Recusal.rival]}
        )
    return "; ".join(notes)


# --- who is looking ------------------------------------------------------------------------


@dataclass
class Access:
    """What the current user is to an application (computed once per request)."""

    lead_member: bool = False
    partner_member: bool = False
    city_staff: bool = False
    judge: JudgeAssignment | None = None
    review: Review | None = None
    # A judge recused by their memberships, whatever they declared.
    conflict: Recusal | None = None

    @property
    def applicant(self) -> bool:
        return self.lead_member or self.partner_member

    @property
    def recused(self) -> bool:
        declared = self.review is not None and self.review.conflict_of_interest
        return declared or self.conflict is not None

    @property
    def judge_cleared(self) -> bool:
        return self.review is not None and not self.recused


async def access_for(
    application: Application, challenge: Challenge, user: User | None, roles: dict[int, Role]
) -> Access:
    access = Access()
    if user is None:
        return access
    access.lead_member = application.organization_id in roles
    partner_orgs = {
        p.organization_id
        for p in await ApplicationPartner.filter(application_id=application.id)
        if p.status is not PartnerStatus.declined
    }
    access.partner_member = bool(partner_orgs & set(roles))
    access.city_staff = challenge.organization_id in roles
    access.judge = await JudgeAssignment.get_or_none(challenge_id=challenge.id, user_id=user.id)
    if access.judge is not None:
        access.review = await Review.get_or_none(
            judge_id=access.judge.id, application_id=application.id
        )
        # `roles` are the memberships read for this request: a judge who is an applicant.
        if access.applicant:
            access.conflict = Recusal.member
        elif access.judge.recuse_from_all:
            access.conflict = recusals(
                set(roles), await applicant_orgs(challenge.id), recuse_from_all=True
            ).get(application.id)
    return access


# --- drafting and submitting ---------------------------------------------------------------


def _deadline_open(challenge: Challenge, now: datetime) -> bool:
    return challenge.status is S.open and now < challenge.closes_at


async def create(
    ctx: Context,
    challenge: Challenge,
    org: Organization,
    *,
    title: str,
    summary: str,
    proposal: str,
    team: str,
    budget_minor: int,
    partners: list[dict[str, Any]],
    now: datetime | None = None,
) -> Application:
    now = now or datetime.now(UTC)
    if org.kind not in APPLICANT_KINDS:
        raise NotEligible(
            fields={"organization_id": _("Only startups, universities and research centres apply.")}
        )
    if not _deadline_open(challenge, now):
        raise ChallengeNotOpen()
    if await Application.filter(challenge_id=challenge.id, organization_id=org.id).exists():
        raise Conflict(
            fields={
                "organization_id": _(
                    "Your organization already has an application for this challenge."
                )
            }
        )
    application = await Application.create(
        challenge=challenge,
        organization=org,
        title=title,
        summary=summary,
        proposal=proposal,
        team=team,
        budget_minor=budget_minor,
        created_by_id=ctx.actor.user.id if ctx.actor.user else None,
    )
    await set_partners(ctx, application, partners, city_id=challenge.organization_id)
    await audit.record(
        ctx,
        "application.create",
        object_type="application",
        object_id=application.id,
        organization_id=org.id,
    )
    return application


async def set_partners(
    ctx: Context, application: Application, partners: list[dict[str, Any]], *, city_id: int
) -> None:
    """Invite the partners listed (new ones are invited; ones no longer listed are removed).

    `city_id` is the organization that posted the challenge: it judges and pays the
    applications, so it cannot be a partner of one."""
    existing = {
        p.organization_id: p for p in await ApplicationPartner.filter(application_id=application.id)
    }
    wanted = {int(p["organization_id"]): p for p in partners}
    if application.organization_id in wanted:
        raise ValidationFailed(fields={"partners": _("The lead cannot be its own partner.")})
    if city_id in wanted:
        raise ValidationFailed(
            fields={
                "partners": _(
                    "The city that posted the challenge cannot be a partner of an application "
                    "to it."
                )
            }
        )
    orgs = {o.id: o for o in await Organization.filter(id__in=list(wanted))}
    for org_id, spec in wanted.items():
        org = orgs.get(org_id)
        if org is None or org.kind is OrganizationKind.investor:
            raise ValidationFailed(
                fields={
                    "partners": _(
                        "A partner must be a startup, university, research centre or government."
                    )
                }
            )
        row = existing.get(org_id)
        if row is None:
            row = await ApplicationPartner.create(
                application=application,
                organization=org,
                role=spec["role"],
                share_pct=spec["share_pct"],
            )
            await _notify_org(
                org,
                "partner_invited",
                f"/applications/{application.id}",
                await Challenge.get(id=application.challenge_id),
            )
        elif row.role != spec["role"] or row.share_pct != spec["share_pct"]:
            # Changed terms must be accepted again.
            row.role, row.share_pct = spec["role"], spec["share_pct"]
            row.status, row.answered_at = PartnerStatus.invited, None
            await row.save()
    for org_id, row in existing.items():
        if org_id not in wanted:
            await row.delete()
    total_partners = sum(int(p["share_pct"]) for p in partners)
    if total_partners > 100:
        raise SharesDoNotAddUp(fields={"partners": _(SharesDoNotAddUp.default_detail)})
    application.lead_share_pct = 100 - total_partners
    await application.save(update_fields=["lead_share_pct"])


async def update(
    ctx: Context,
    application: Application,
    challenge: Challenge,
    *,
    values: dict[str, Any],
    partners: list[dict[str, Any]] | None,
    now: datetime | None = None,
) -> Application:
    now = now or datetime.now(UTC)
    application = await Application.select_for_update().get(id=application.id)
    if application.status not in (A.draft, A.submitted):
        raise ApplicationLocked()
    if not _deadline_open(challenge, now):
        raise DeadlinePassed()
    for key, value in values.items():
        setattr(application, key, value)
    await application.save()
    if partners is not None:
        current = {
            p.organization_id: (p.role, p.share_pct)
            for p in await ApplicationPartner.filter(application_id=application.id)
        }
        wanted = {int(p["organization_id"]): (p["role"], int(p["share_pct"])) for p in partners}
        if application.status is A.submitted and current != wanted:
            # New terms need the partners' answers again: back to draft until they give them.
            application.status, application.submitted_at = A.draft, None
            await application.save(update_fields=["status", "submitted_at"])
        await set_partners(ctx, application, partners, city_id=challenge.organization_id)
    await audit.record(
        ctx,
        "application.update",
        object_type="application",
        object_id=application.id,
        organization_id=application.organization_id,
    )
    return application


async def eligibility_problems(
    application: Application, challenge: Challenge, org: Organization
) -> dict[str, str]:
    problems = {}
    if org.kind.value not in challenge.eligible_kinds:
        problems["organization_kind"] = _(
            "This challenge is not open to your kind of organization."
        )
    if challenge.eligible_regions and org.region.lower() not in {
        r.lower() for r in challenge.eligible_regions
    }:
        problems["organization_region"] = (
            _("This challenge is only open to organizations from:")
            + " "
            + ", ".join(challenge.eligible_regions)
        )
    if not org.is_verified:
        problems["organization_verified"] = _(
            "Your organization must be verified by an operator before it can submit."
        )
    partners = await ApplicationPartner.filter(application_id=application.id)
    pending = [p for p in partners if p.status is PartnerStatus.invited]
    if pending:
        problems["partners"] = _("Every invited partner must accept or decline before you submit.")
    accepted = sum(p.share_pct for p in partners if p.status is PartnerStatus.accepted)
    if not pending and application.lead_share_pct + accepted != 100:
        problems.setdefault("shares", _(SharesDoNotAddUp.default_detail))
    if not application.summary.strip() or not application.title.strip():
        problems["summary"] = _("A title and a summary are needed to submit.")
    return problems


async def submit(
    ctx: Context, application: Application, challenge: Challenge, *, now: datetime | None = None
) -> Application:
    now = now or datetime.now(UTC)
    application = await Application.select_for_update().get(id=application.id)
    if application.status is A.submitted:
        return application
    if application.status is not A.draft:
        raise ApplicationLocked()
    if not _deadline_open(challenge, now):
        raise DeadlinePassed()
    org = await Organization.get(id=application.organization_id)
    problems = await eligibility_problems(application, challenge, org)
    if problems:
        raise NotEligible(_("The application cannot be submitted yet."), fields=problems)
    application.status = APPLICATION_TRANSITIONS.check(application.status, A.submitted)
    application.submitted_at = now
    await application.save(update_fields=["status", "submitted_at"])
    await audit.record(
        ctx,
        "application.submit",
        object_type="application",
        object_id=application.id,
        organization_id=org.id,
    )
    await _notify_org(org, "application_received", f"/applications/{application.id}", challenge)
    return application


async def withdraw(ctx: Context, application: Application) -> Application:
    application = await Application.select_for_update().get(id=application.id)
    if application.status not in (A.draft, A.submitted):
        raise ApplicationLocked(_("Only applications not yet decided can be withdrawn."))
    application.status = APPLICATION_TRANSITIONS.check(application.status, A.withdrawn)
    application.withdrawn_at = datetime.now(UTC)
    await application.save(update_fields=["status", "withdrawn_at"])
    await audit.record(
        ctx,
        "application.withdraw",
        object_type="application",
        object_id=application.id,
        organization_id=application.organization_id,
    )
    return application


async def answer_partnership(
    ctx: Context, partner: ApplicationPartner, *, accept: bool
) -> ApplicationPartner:
    partner = await ApplicationPartner.select_for_update().get(id=partner.id)
    application = await Application.get(id=partner.application_id)
    if application.status is not A.draft:
        raise ApplicationLocked()
    partner.status = PartnerStatus.accepted if accept else PartnerStatus.declined
    partner.answered_at = datetime.now(UTC)
    await partner.save(update_fields=["status", "answered_at"])
    await audit.record(
        ctx,
        "application.partner_" + ("accept" if accept else "decline"),
        object_type="application",
        object_id=application.id,
        organization_id=partner.organization_id,
    )
    lead = await Organization.get(id=application.organization_id)
    await _notify_org(
        lead,
        "partner_answered",
        f"/applications/{application.id}",
        await Challenge.get(id=application.challenge_id),
    )
    return partner


async def _notify_org(org: Organization, kind: str, link: str, challenge: Challenge) -> None:
    for membership in await Membership.filter(organization_id=org.id).select_related("user"):
        await notifications.notify(
            membership.user, kind, link=link, challenge=challenge, organization=org.name
        )


# --- files ---------------------------------------------------------------------------------


def check_files_open(
    application: Application, challenge: Challenge, *, now: datetime | None = None
) -> None:
    """Files change while the application does: a draft or submitted one, before the deadline."""
    if application.status not in (A.draft, A.submitted):
        raise ApplicationLocked()
    if not _deadline_open(challenge, now or datetime.now(UTC)):
        raise DeadlinePassed(
            _("The deadline has passed: files can no longer be added to or deleted from it.")
        )


async def add_file(
    ctx: Context,
    application: Application,
    challenge: Challenge,
    *,
    stored: StoredFile,
    name: str,
    now: datetime | None = None,
) -> ApplicationAttachment:
    # The application row is the lock: the deadline and the count are read once per upload.
    locked = await Application.select_for_update().get(id=application.id)
    check_files_open(locked, challenge, now=now)
    if await ApplicationAttachment.filter(application_id=locked.id).count() >= MAX_FILES:
        raise TooManyFiles(fields={"file": _(TooManyFiles.default_detail)})
    assert ctx.actor.user is not None
    file = await ApplicationAttachment.create(
        application=locked,
        original_name=name,
        stored_name=stored.name,
        content_type=stored.content_type,
        size=stored.size,
        sha256=stored.sha256,
        uploaded_by_id=ctx.actor.user.id,
    )
    await audit.record(
        ctx,
        "application.attach",
        object_type="application_attachment",
        object_id=file.id,
        organization_id=locked.organization_id,
        application=locked.id,
        name=name,
        size=stored.size,
    )
    return file


async def remove_file(
    ctx: Context,
    application: Application,
    challenge: Challenge,
    file: ApplicationAttachment,
    *,
    now: datetime | None = None,
) -> None:
    """Delete the file's row; the caller removes the stored file once this commits."""
    locked = await Application.select_for_update().get(id=application.id)
    check_files_open(locked, challenge, now=now)
    await ApplicationAttachment.filter(id=file.id, application_id=locked.id).delete()
    await audit.record(
        ctx,
        "application.detach",
        object_type="application_attachment",
        object_id=file.id,
        organization_id=locked.organization_id,
        application=locked.id,
        name=file.original_name,
    )


async def files_of(application: Application) -> list[ApplicationAttachment]:
    return await ApplicationAttachment.filter(application_id=application.id).order_by("id")


# --- judging -------------------------------------------------------------------------------


async def assign_judge(
    ctx: Context,
    challenge: Challenge,
    *,
    user: User,
    assigned_by_id: int | None = None,
    recuse_from_all: bool = False,
) -> JudgeAssignment:
    """Make `user` a judge; `assigned_by_id` names the manager when it is not the actor (an
    invited judge accepting). A judge who is a member of an applicant is recused from it by
    `access_for` and `recusals_of`, from every application with `recuse_from_all`."""
    if assigned_by_id is None and ctx.actor.user is not None:
        assigned_by_id = ctx.actor.user.id
    assignment, created = await JudgeAssignment.get_or_create(
        challenge_id=challenge.id,
        user_id=user.id,
        defaults={"assigned_by_id": assigned_by_id, "recuse_from_all": recuse_from_all},
    )
    if recuse_from_all and not assignment.recuse_from_all:
        # Assigned again with the wider recusal: it only ever widens this way.
        assignment.recuse_from_all = True
        await assignment.save(update_fields=["recuse_from_all"])
    if created and challenge.status is S.closed:
        # The first judge of a closed challenge starts its judging.
        locked = await Challenge.select_for_update().get(id=challenge.id)
        await advance(locked, now=datetime.now(UTC))
    if created:
        await audit.record(
            ctx,
            "challenge.assign_judge",
            object_type="challenge",
            object_id=challenge.id,
            organization_id=challenge.organization_id,
            judge=user.id,
            recuse_from_all=recuse_from_all,
        )
        await notifications.notify(
            user,
            "judge_assigned",
            link=f"/judging/{challenge.id}",
            challenge=challenge,
            title=challenge.title,
        )
    return assignment


async def review(
    ctx: Context,
    application: Application,
    challenge: Challenge,
    judge: JudgeAssignment,
    *,
    conflict: bool,
    scores: dict[int, int] | None,
    comment: str,
    now: datetime | None = None,
) -> Review:
    window = review_window(challenge, now or datetime.now(UTC))
    if window is ReviewWindow.ended:
        raise Conflict(_("Judging has ended: reviews can no longer change."))
    # While the challenge is open a judge may already declare (a conflict, or none);
    # scores wait until it closes.
    if window is ReviewWindow.before or (
        window is ReviewWindow.declare and not conflict and scores
    ):
        raise Conflict(_("Scores can be given once the challenge has closed, until judging ends."))
    if application.status not in (A.submitted,):
        raise NotFound()
    existing = await Review.select_for_update().get_or_none(
        judge_id=judge.id, application_id=application.id
    )
    if existing is not None and existing.conflict_of_interest:
        raise NotFound()
    # Read from the memberships as they are now, not from what the judge declared.
    if application.id in await recusals_of(challenge.id, judge):
        raise JudgeRecused()
    criteria = {c.id for c in await Criterion.filter(challenge_id=challenge.id)}
    if conflict:
        if existing is not None and existing.scores:
            raise Conflict(_("You already scored this application."))
        values: dict[str, Any] = {"conflict_of_interest": True, "scores": {}, "comment": ""}
    else:
        scores = scores or {}
        unknown = set(scores) - criteria
        if unknown:
            raise ValidationFailed(fields={"scores": _("Score only this challenge's criteria.")})
        if scores and set(scores) != criteria:
            raise ValidationFailed(fields={"scores": _("Give a score for every criterion.")})
        values = {
            "conflict_of_interest": False,
            "scores": {str(k): v for k, v in scores.items()},
            "comment": comment,
        }
    if existing is None:
        result = await Review.create(judge=judge, application=application, **values)
    else:
        for key, value in values.items():
            setattr(existing, key, value)
        await existing.save()
        result = existing
    await audit.record(
        ctx,
        "application.review",
        object_type="application",
        object_id=application.id,
        organization_id=challenge.organization_id,
        conflict=conflict,
    )
    return result


@dataclass
class Progress:
    total: int
    declared: int
    scored: int
    recused: int
    # The applications the judge is recused from by membership, and why.
    conflicts: dict[int, Recusal] = field(default_factory=dict)


async def judge_progress(challenge: Challenge, judge: JudgeAssignment) -> Progress:
    applications = await Application.filter(challenge_id=challenge.id, status__in=RANKED).count()
    reviews = await Review.filter(judge_id=judge.id)
    conflicts = await recusals_of(challenge.id, judge)
    recused = {r.application_id for r in reviews if r.conflict_of_interest} | set(conflicts)
    return Progress(
        total=applications,
        declared=len(reviews),
        scored=sum(1 for r in reviews if r.scores and r.application_id not in recused),
        recused=len(recused),
        conflicts=conflicts,
    )


@dataclass
class Judged:
    """The ranking, and the scores it set aside per application (kept in the database)."""

    rows: list[ranking.Ranked]
    set_aside: dict[int, dict[Recusal, int]]

    def note(self, application_id: int) -> str:
        return set_aside_note(self.set_aside.get(application_id, {}))

    def count(self, application_id: int) -> int:
        return sum(self.set_aside.get(application_id, {}).values())


async def _counted(
    challenge_id: int, reviews: list[Review]
) -> tuple[list[Review], list[tuple[Review, Recusal]]]:
    """The scored reviews that count, and (review, why) for those set aside because the judge
    is, now, a member of an applicant: checked each time from current memberships."""
    scored = [r for r in reviews if r.scores]
    judges = {r.judge.id: r.judge for r in scored}
    members = await memberships_of(list({j.user_id for j in judges.values()}))
    applicants = await applicant_orgs(challenge_id) if scored else {}
    conflicts = {
        j.id: recusals(members[j.user_id], applicants, recuse_from_all=j.recuse_from_all)
        for j in judges.values()
    }
    counted: list[Review] = []
    aside: list[tuple[Review, Recusal]] = []
    for r in scored:
        why = conflicts[r.judge.id].get(r.application_id)
        if why is None:
            counted.append(r)
        else:
            aside.append((r, why))
    return counted, aside


async def judged(challenge: Challenge, *, normalise: bool) -> Judged:
    criteria = await Criterion.filter(challenge_id=challenge.id)
    weights = {c.id: c.weight for c in criteria}
    applications = await Application.filter(challenge_id=challenge.id, status__in=RANKED).order_by(
        "id"
    )
    reviews = await Review.filter(
        application__challenge_id=challenge.id, conflict_of_interest=False
    ).select_related("judge")
    counted, aside = await _counted(challenge.id, reviews)
    scored = [
        ranking.ScoredReview(
            judge_id=r.judge.user_id,
            application_id=r.application_id,
            scores={int(k): float(v) for k, v in r.scores.items()},
        )
        for r in counted
    ]
    set_aside: dict[int, dict[Recusal, int]] = {}
    for r, why in aside:
        per = set_aside.setdefault(r.application_id, {})
        per[why] = per.get(why, 0) + 1
    rows = ranking.rank(scored, weights, [a.id for a in applications], normalise=normalise)
    return Judged(rows=rows, set_aside=set_aside)


async def ranking_of(challenge: Challenge, *, normalise: bool) -> list[ranking.Ranked]:
    return (await judged(challenge, normalise=normalise)).rows


async def counted_reviews(application: Application) -> list[Review]:
    """An application's scored reviews that count (for its feedback): none set aside."""
    reviews = await Review.filter(
        application_id=application.id, conflict_of_interest=False
    ).select_related("judge")
    return (await _counted(application.challenge_id, reviews))[0]


# --- awards --------------------------------------------------------------------------------


async def available_funds(challenge: Challenge) -> int:
    """What may still be awarded: the escrowed, unallocated funds (from the ledger)."""
    return await escrow().available(challenge)


async def award(
    ctx: Context,
    challenge: Challenge,
    application: Application,
    *,
    amount_minor: int,
    rationale: str,
    milestones: list[dict[str, Any]],
) -> Award:
    # The challenge row is the lock: two managers awarding at once are served one by one,
    # and the second sees the first's award in the sum.
    challenge = await Challenge.select_for_update().get(id=challenge.id)
    if challenge.status not in (S.judging, S.awarded):
        raise Conflict(_("Awards are made after the challenge closes and judging starts."))
    application = await Application.select_for_update().get(id=application.id)
    if application.challenge_id != challenge.id:
        raise NotFound()
    if application.status is not A.submitted:
        raise Conflict(fields={"application_id": _("Only submitted applications can win.")})
    if sum(int(m["amount_minor"]) for m in milestones) != amount_minor:
        raise ValidationFailed(
            fields={"milestones": _("The milestone amounts must add up to the award.")}
        )
    if amount_minor > await available_funds(challenge):
        raise ExceedsFunds(fields={"amount_minor": _(ExceedsFunds.default_detail)})
    assert ctx.actor.user is not None
    record = await Award.create(
        challenge=challenge,
        application=application,
        amount_minor=amount_minor,
        currency=challenge.currency,
        rationale=rationale,
        created_by_id=ctx.actor.user.id,
    )
    # The escrow is allocated to the award and its milestones opened by rewards, which keeps
    # the money (service.applications.escrow).
    await escrow().open_award(record, challenge, milestones)
    application.status = APPLICATION_TRANSITIONS.check(application.status, A.awarded)
    await application.save(update_fields=["status"])
    if challenge.status is S.judging:
        await move(ctx, challenge, S.awarded, datetime.now(UTC))
    await audit.record(
        ctx,
        "challenge.award",
        object_type="award",
        object_id=record.id,
        organization_id=challenge.organization_id,
        application=application.id,
        amount_minor=amount_minor,
    )
    org = await Organization.get(id=application.organization_id)
    await _notify_org(org, "application_awarded", f"/applications/{application.id}", challenge)
    return record


async def close_awarding(ctx: Context, challenge: Challenge) -> int:
    """The awards are final: the other applicants are told, and delivery begins."""
    challenge = await Challenge.select_for_update().get(id=challenge.id)
    if challenge.status is not S.awarded:
        raise Conflict(_("Award at least one application first."))
    losers = await Application.filter(challenge_id=challenge.id, status=A.submitted)
    for application in losers:
        application.status = APPLICATION_TRANSITIONS.check(application.status, A.not_awarded)
        await application.save(update_fields=["status"])
        org = await Organization.get(id=application.organization_id)
        await _notify_org(
            org, "application_not_awarded", f"/applications/{application.id}", challenge
        )
    await move(ctx, challenge, S.in_delivery, datetime.now(UTC))
    await audit.record(
        ctx,
        "challenge.close_awarding",
        object_type="challenge",
        object_id=challenge.id,
        organization_id=challenge.organization_id,
    )
    return len(losers)
