"""What each role has waiting, for the signed-in home: bounded lists with their counts.

Every list is one query for its first rows (LIMIT) and one for its count, whatever the number
of rows; the values shown beside each row (applications by state, a judge's progress) come
from one grouped query for all the rows shown, never one query per row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.functions import Count

from service.accounts.actor import register_duties
from service.accounts.models import Organization
from service.accounts.roles import JUDGE, Roles
from service.applications.models import (
    Application,
    ApplicationPartner,
    ApplicationStatus,
    JudgeAssignment,
    PartnerStatus,
    Review,
)
from service.challenges.models import Challenge, ChallengeStatus, Follow, Question
from service.config import Settings
from service.investors import matching_bridge
from service.investors import repository as repo
from service.investors.models import IntroRequest, IntroStatus, WatchNotice
from service.matching import service as matching
from service.participation.models import Proposal, ProposalStatus, Support, Update
from service.rewards.models import (
    InvariantBreach,
    Milestone,
    MilestoneStatus,
    Payout,
    PayoutStatus,
    Refund,
    RefundStatus,
)

# Rows shown per list; the count and a link lead to the rest.
SHOWN = 6
CLOSING_SOON = timedelta(days=7)
# A draft untouched this long, a closed challenge not yet in judging this long: stuck.
DRAFT_STALE = timedelta(days=30)
CLOSED_STALE = timedelta(days=7)
S = ChallengeStatus


async def _judge_duty(user_id: int) -> set[str]:
    judges = await JudgeAssignment.filter(user_id=user_id).limit(1).exists()
    return {JUDGE} if judges else set()


register_duties(_judge_duty)


@dataclass
class Listing:
    """The first rows of a list and how many there are in all."""

    rows: list[Any] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> int:
        return max(0, self.total - len(self.rows))


async def _listing(query: Any, *order: str) -> Listing:
    rows = await query.order_by(*order).limit(SHOWN)
    total = len(rows) if len(rows) < SHOWN else await query.count()
    return Listing(rows=list(rows), total=total)


def days_since(moment: datetime | None, now: datetime) -> int:
    if moment is None:
        return 0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0, (now - moment).days)


# --- city staff ----------------------------------------------------------------------------


async def city_section(roles: Roles, now: datetime) -> dict[str, Any]:
    cities = list(roles.cities)
    active = [s for s in S if s not in (S.completed, S.cancelled)]
    challenges = await _listing(
        Challenge.filter(organization_id__in=cities, status__in=active), "closes_at", "id"
    )
    shown = [c.id for c in challenges.rows]
    received: dict[int, dict[str, int]] = defaultdict(dict)
    if shown:
        for row in (
            await Application.filter(challenge_id__in=shown)
            .exclude(status=ApplicationStatus.draft)
            .annotate(n=Count("id"))
            .group_by("challenge_id", "status")
            .values("challenge_id", "status", "n")
        ):
            received[int(row["challenge_id"])][str(row["status"])] = int(row["n"])
    questions = await _listing(
        Question.filter(challenge__organization_id__in=cities, answered_at=None)
        .exclude(challenge__status__in=[S.cancelled, S.completed])
        .select_related("challenge"),
        "created_at",
        "id",
    )
    proposals = await _waiting_proposals(roles)
    attention = await _listing(
        Challenge.filter(organization_id__in=cities).filter(
            Q(status=S.open, closes_at__lte=now + CLOSING_SOON)
            | Q(status=S.draft, updated_at__lt=now - DRAFT_STALE)
            | Q(status=S.closed, closes_at__lt=now - CLOSED_STALE)
            | Q(status=S.judging, judging_ends_at__lt=now)
            | Q(status=S.published, opens_at__lt=now - timedelta(days=1))
        ),
        "closes_at",
        "id",
    )

    milestones = await _listing(
        Milestone.filter(
            status=MilestoneStatus.submitted,
            award__challenge__organization_id__in=list(roles.city_managers),
        ).select_related("award__challenge"),
        "submitted_at",
        "id",
    )
    finance = list(roles.city_finance)
    releases = await _listing(
        Milestone.filter(
            status=MilestoneStatus.approved, award__challenge__organization_id__in=finance
        ).select_related("award__challenge"),
        "approved_at",
        "id",
    )
    transfers = await _listing(
        Payout.filter(
            status=PayoutStatus.awaiting_transfer,
            milestone__award__challenge__organization_id__in=finance,
        ).select_related("milestone", "organization"),
        "created_at",
        "id",
    )
    refunds = await _listing(
        Refund.filter(
            status=RefundStatus.awaiting_transfer,
            funding__challenge__organization_id__in=finance,
        ).select_related("funding__challenge"),
        "created_at",
        "id",
    )
    return {
        "first_city": cities[0],
        "challenges": challenges,
        "received": received,
        "questions": questions,
        "proposals": proposals,
        "attention": attention,
        "milestones": milestones,
        "manager": bool(roles.city_managers),
        "finance": bool(finance),
        "releases": releases,
        "transfers": transfers,
        "refunds": refunds,
    }


async def _waiting_proposals(roles: Roles) -> Listing:
    """Over their region's threshold, with no formal answer yet: the regions of the cities
    the person manages (only a manager may answer)."""

    regions = await Organization.filter(id__in=list(roles.city_managers)).values_list(
        "region", flat=True
    )
    if not regions:
        return Listing()
    in_region = Q(*[Q(region__iexact=str(r).strip()) for r in regions], join_type="OR")
    return await _listing(
        Proposal.filter(
            in_region,
            status=ProposalStatus.open,
            threshold_reached_at__not_isnull=True,
            responded_at=None,
            hidden_at=None,
        ),
        "threshold_reached_at",
        "id",
    )


# --- applicants ----------------------------------------------------------------------------


async def applicant_section(roles: Roles, now: datetime, settings: Settings) -> dict[str, Any]:
    orgs = list(roles.applicants)
    drafts = await _listing(
        Application.filter(organization_id__in=orgs, status=ApplicationStatus.draft)
        .exclude(challenge__status__in=[S.cancelled, S.completed])
        .select_related("challenge"),
        "challenge__closes_at",
        "id",
    )
    invitations = await _listing(
        ApplicationPartner.filter(organization_id__in=orgs, status=PartnerStatus.invited)
        .exclude(application__status__in=[ApplicationStatus.withdrawn])
        .select_related("application__challenge", "application__organization"),
        "created_at",
        "id",
    )

    milestones = await _listing(
        Milestone.filter(
            award__application__organization_id__in=orgs,
            status__in=[MilestoneStatus.planned, MilestoneStatus.returned],
        ).select_related("award__challenge"),
        "due_at",
        "id",
    )
    feedback = await _listing(
        Application.filter(
            organization_id__in=orgs,
            status__in=[ApplicationStatus.awarded, ApplicationStatus.not_awarded],
        ).select_related("challenge"),
        "-updated_at",
        "-id",
    )
    intros = await _listing(
        IntroRequest.filter(
            startup_id__in=orgs, status=IntroStatus.open, expires_at__gt=now
        ).select_related("investor"),
        "created_at",
        "id",
    )

    recommended = await matching.challenges_for_page(orgs[0], SHOWN, settings=settings)
    return {
        "first_org": orgs[0],
        "drafts": drafts,
        "invitations": invitations,
        "milestones": milestones,
        "feedback": feedback,
        "intros": intros,
        "recommended": recommended,
    }


# --- judges --------------------------------------------------------------------------------


async def judge_section(user_id: int) -> dict[str, Any]:
    """The challenges the person judges that are closed or in judging, split into those with
    reviews left to do and those fully reviewed. Which is which depends on counts, so the
    assignments' ids are read whole (a judge has a handful), then the counts in two grouped
    queries and the challenges of the rows shown in one: four statements whatever the rows."""
    assigned = await (
        JudgeAssignment.filter(user_id=user_id, challenge__status__in=[S.closed, S.judging])
        .order_by("challenge__judging_ends_at", "id")
        .values_list("id", "challenge_id")
    )
    challenge_ids = [int(c) for _, c in assigned]
    to_review: dict[int, int] = {}
    done: dict[int, int] = {}
    if assigned:
        for challenge_id, n in (
            await Application.filter(
                challenge_id__in=challenge_ids, status=ApplicationStatus.submitted
            )
            .annotate(n=Count("id"))
            .group_by("challenge_id")
            .values_list("challenge_id", "n")
        ):
            to_review[int(challenge_id)] = int(n)
        for judge_id, n in (
            await Review.filter(
                judge_id__in=[int(a) for a, _ in assigned],
                application__status=ApplicationStatus.submitted,
            )
            .annotate(n=Count("id"))
            .group_by("judge_id")
            .values_list("judge_id", "n")
        ):
            done[int(judge_id)] = int(n)
    progress = [
        (
            int(challenge_id),
            min(done.get(int(a), 0), to_review.get(int(challenge_id), 0)),
            to_review.get(int(challenge_id), 0),
        )
        for a, challenge_id in assigned
    ]
    open_ = [p for p in progress if p[1] < p[2]]
    finished = [p for p in progress if p[1] >= p[2]]
    shown = [p[0] for p in open_[:SHOWN] + finished[:SHOWN]]
    challenges = {c.id: c for c in await Challenge.filter(id__in=shown)} if shown else {}

    def listing(rows: list[tuple[int, int, int]]) -> Listing:
        return Listing(
            rows=[{"challenge": challenges[c], "done": d, "total": t} for c, d, t in rows[:SHOWN]],
            total=len(rows),
        )

    return {"to_do": listing(open_), "reviewed": listing(finished)}


# --- investors -----------------------------------------------------------------------------


async def current_matches(investors: list[int], settings: Settings) -> dict[str, list[int]]:
    """The startups each investor's deal flow lists, best first: its stored ranking from the
    deal flow's score cut-off (the thesis preview's floor), only startups that opted in and
    are verified, so that the home's counts are what the deal flow shows."""

    found: dict[str, list[int]] = {str(i): [] for i in investors}
    floor = matching_bridge.floor_threshold(settings)
    for row in await repo.fetch(repo.listed_sql(repo.dialect(), investors, floor=floor)):
        found[str(row["investor_id"])].append(int(row["startup_id"]))
    return found


async def investor_section(
    roles: Roles,
    matches: dict[str, list[int]],
    seen: dict[str, list[int]] | None,
    since: datetime | None,
) -> dict[str, Any]:
    """`seen` is the deal flow at the previous visit (None on the first visit)."""

    investors = list(roles.investors)
    new_pairs = [
        (int(inv), startup)
        for inv, startups in matches.items()
        for startup in startups
        if seen is not None and startup not in set(seen.get(inv, []))
    ]
    names = dict(
        await Organization.filter(id__in=[s for _, s in new_pairs[:SHOWN]]).values_list(
            "id", "name"
        )
    )
    new_rows = [
        {"investor_id": inv, "startup_id": s, "name": names.get(s, "")}
        for inv, s in new_pairs[:SHOWN]
    ]
    watch_query = WatchNotice.filter(watch__investor_id__in=investors)
    if since is not None:
        watch_query = watch_query.filter(created_at__gt=since)
    watch = await _listing(watch_query.select_related("watch__startup"), "-created_at", "-id")
    intro_query = IntroRequest.filter(investor_id__in=investors)
    if since is not None:
        intro_query = intro_query.filter(Q(status=IntroStatus.open) | Q(answered_at__gt=since))
    else:
        intro_query = intro_query.filter(status=IntroStatus.open)
    intros = await _listing(intro_query.select_related("startup"), "-created_at", "-id")
    return {
        "first_investor": investors[0],
        "first_visit": seen is None,
        "in_dealflow": sum(len(v) for v in matches.values()),
        "new": Listing(rows=new_rows, total=len(new_pairs)),
        "watch": watch,
        "intros": intros,
        "since": since,
    }


# --- citizens ------------------------------------------------------------------------------


async def citizen_section(user_id: int, since: datetime | None) -> dict[str, Any]:

    proposals = await _listing(
        Proposal.filter(author_id=user_id, hidden_at=None), "-created_at", "-id"
    )
    supports = await _listing(
        Support.filter(user_id=user_id, proposal__hidden_at=None).select_related("proposal"),
        "-created_at",
        "-id",
    )
    followed = Subquery(Follow.filter(user_id=user_id).values("challenge_id"))
    updates_query = Update.filter(challenge_id__in=followed)
    if since is not None:
        updates_query = updates_query.filter(at__gt=since)
    updates = await _listing(updates_query, "-at", "-id")
    following = await Follow.filter(user_id=user_id).count()
    return {
        "proposals": proposals,
        "supports": supports,
        "updates": updates,
        "following": following,
        "since": since,
    }


# --- operators -----------------------------------------------------------------------------


async def operator_section(now: datetime, settings: Settings) -> dict[str, Any]:

    unverified = await _listing(Organization.filter(verified_at=None), "created_at", "id")
    breaches = await _listing(
        InvariantBreach.filter(found_at__gt=now - timedelta(days=30)), "-found_at", "-id"
    )
    stuck_before = now - timedelta(seconds=settings.payout_stuck_after_seconds)
    stuck = await _listing(
        Payout.filter(
            Q(status__in=[PayoutStatus.queued, PayoutStatus.in_flight], updated_at__lt=stuck_before)
            | Q(status=PayoutStatus.failed)
        ).select_related("milestone", "organization"),
        "updated_at",
        "id",
    )
    return {"unverified": unverified, "breaches": breaches, "stuck": stuck}
