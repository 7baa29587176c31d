"""Operations of the investors area: deal flow, watchlists, intro requests and city picks.

Rules kept here, whatever the caller:
- a startup that has not opted in to the deal flow (or is not verified) appears nowhere on
  the investor side: not in the list, the detail, the CSV, the picks or the watchlist;
- judge scores and comments are shown only when the startup consented to share them;
- contact details of either side are in no answer before the startup accepts an intro.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from service.accounts.models import Membership, Organization, User
from service.applications.models import Application, ApplicationStatus, Award, Review
from service.audit import service as audit
from service.challenges.models import PUBLIC_STATUSES, Challenge, Criterion
from service.config import Settings
from service.core import csv_export, i18n
from service.core.context import Context
from service.core.errors import Conflict, NotFound, ValidationFailed
from service.core.i18n import N_, gettext
from service.investors import matching_bridge as matching
from service.investors import repository as repo
from service.investors.models import (
    INTRO_TRANSITIONS,
    CityPick,
    IntroRequest,
    IntroStatus,
    ProfileView,
    Watch,
    WatchNotice,
)
from service.matching.models import StartupProfile
from service.notifications import service as notifications
from service.rewards.models import Milestone

# The lists of startups an organization keeps, each with a note.
Kept = TypeVar("Kept", Watch, CityPick)
MAX_PAGE = 100
PICKS_SHOWN = 10
CSV_LIMIT = 200  # the stored ranking holds at most the top 200 per investor


class IntroLimitReached(Conflict):
    default_detail = N_("Your organization has reached its limit of open intro requests.")


class IntroAlreadyOpen(Conflict):
    default_detail = N_("An intro request to this startup is already waiting for an answer.")


class IntroClosed(Conflict):
    default_detail = N_("This intro request is no longer open.")


# --- deal flow -----------------------------------------------------------------------------


# A startup's track record is matching's (`service.matching.track.TrackRecord`): the one
# definition of every figure the cards, reasons, pages, API and CSV show.
TrackRecord = matching.TrackRecord
Win = matching.Win


@dataclass
class DealItem:
    startup_id: int
    name: str
    kind: str
    country: str
    rank: int
    score: float
    reasons: list[dict[str, Any]]
    components: dict[str, float]
    sectors: list[str]
    stage: str | None
    funding_ask_minor: int | None
    currency: str
    region: str
    text: str
    watched: bool
    track: TrackRecord


@dataclass
class Pick:
    startup_id: int
    name: str
    city_id: int
    city_name: str
    note: str


@dataclass
class DealPage:
    items: list[DealItem]
    next_offset: int | None
    picks: list[Pick]


def reasons_in_words(reasons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "text": matching.render_reason(r)} for r in reasons]


@functools.lru_cache(maxsize=8192)
def _stored_reasons_in_words(language: str, stored: str) -> tuple[dict[str, Any], ...]:
    return tuple(reasons_in_words(list(json.loads(stored) or [])))


def stored_reasons(value: Any) -> list[dict[str, Any]]:
    """A row's reasons in words; the same stored text in the same language is put into words
    once (reasons repeat across startups and requests, and a page shows twenty)."""
    if isinstance(value, str):
        return list(_stored_reasons_in_words(i18n.current_locale.get(), value))
    return reasons_in_words(list(value or []))


async def _track_records(
    ids: list[int], *, consenting: list[int] | None = None
) -> dict[int, TrackRecord]:
    """The startups' track records; the judges' mean only of those in `consenting`."""
    return await matching.track_records(ids, consenting=consenting or [])


def current_reasons(
    reasons: list[dict[str, Any]], record: TrackRecord, kind: str
) -> list[dict[str, Any]]:
    """Stored reasons in words, told with today's figures: the track record is the one the
    card beside them shows (the ranking's may be older), and an organization that does not
    ask for funding (a university) is not said to ask for any."""
    result = []
    for reason in reasons:
        code = reason.get("code")
        if code == "ticket" and not matching.raises_funds(kind):
            continue
        if code != "track":
            result.append(reason)
            continue
        fresh = matching.with_track(reason, record)
        if fresh is not None:
            result.append({**fresh, "text": matching.render_reason(fresh)})
    return result


async def dealflow(
    investor: Organization,
    filters: repo.Filters,
    *,
    settings: Settings,
    limit: int = 20,
    offset: int = 0,
    with_picks: bool = True,
) -> DealPage:
    """One page of the investor's ranked deal flow, a fixed number of statements whatever the
    page size: the startups whose stored score reaches the thesis preview's floor (so the
    thesis page's "N startups match" is what the deal flow lists), best first."""
    limit = max(1, min(limit, MAX_PAGE))
    dialect = repo.dialect()
    rows = await repo.fetch(
        repo.dealflow_sql(
            dialect,
            investor.id,
            filters,
            limit=limit + 1,
            offset=offset,
            floor=matching.floor_threshold(settings),
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    ids = [int(r["startup_id"]) for r in rows]
    tracks = await _track_records(
        ids, consenting=[int(r["startup_id"]) for r in rows if r["share_scores"]]
    )
    watched: set[int] = set()
    if ids:
        watched = {
            int(r["startup_id"])
            for r in await repo.fetch(repo.watched_sql(dialect, investor.id, ids))
        }
    items = [
        DealItem(
            startup_id=int(r["startup_id"]),
            name=str(r["name"]),
            kind=str(r["kind"]),
            country=str(r["country"]),
            rank=int(r["rank"]),
            score=float(r["score"]),
            reasons=current_reasons(
                stored_reasons(r["reasons"]), tracks[int(r["startup_id"])], str(r["kind"])
            ),
            components=dict(repo.as_json(r["components"]) or {}),
            sectors=list(repo.as_json(r["sectors"]) or []),
            stage=r["stage"],
            # Only a startup's ask (the statement leaves out any other kind's).
            funding_ask_minor=r["funding_ask_minor"],
            currency=str(r["currency"]),
            region=str(r["region"]),
            text=str(r["text"]),
            watched=int(r["startup_id"]) in watched,
            track=tracks[int(r["startup_id"])],
        )
        for r in rows
    ]
    picks: list[Pick] = []
    if with_picks and offset == 0:
        picks = [
            Pick(
                startup_id=int(r["startup_id"]),
                name=str(r["name"]),
                city_id=int(r["city_id"]),
                city_name=str(r["city_name"]),
                note=str(r["note"]),
            )
            for r in await repo.fetch(repo.picks_sql(dialect, limit=PICKS_SHOWN))
        ]
    return DealPage(items=items, next_offset=offset + limit if more else None, picks=picks)


async def dealflow_csv(investor: Organization, filters: repo.Filters, *, settings: Settings) -> str:
    """The deal flow as CSV: the same items, figures and reasons as the page."""
    page = await dealflow(investor, filters, settings=settings, limit=MAX_PAGE, with_picks=False)
    items = list(page.items)
    while page.next_offset is not None and len(items) < CSV_LIMIT:
        page = await dealflow(
            investor,
            filters,
            settings=settings,
            limit=MAX_PAGE,
            offset=page.next_offset,
            with_picks=False,
        )
        items.extend(page.items)
    header = [
        "rank",
        "startup_id",
        "name",
        "kind",
        "score",
        "sectors",
        "stage",
        "funding_ask_minor",
        "currency",
        "region",
        "challenges_won",
        "milestones_delivered",
        "cities",
        "reasons",
        "watched",
    ]
    rows = (
        [
            item.rank,
            item.startup_id,
            item.name,
            item.kind,
            f"{item.score:.4f}",
            " ".join(item.sectors),
            item.stage or "",
            item.funding_ask_minor if item.funding_ask_minor is not None else "",
            item.currency,
            item.region,
            item.track.challenges_won,
            item.track.milestones_delivered,
            "; ".join(item.track.cities),
            "; ".join(r["text"] for r in item.reasons),
            "yes" if item.watched else "no",
        ]
        for item in items
    )
    return csv_export.write(header, rows)


# --- a startup seen by an investor ---------------------------------------------------------


async def visible_profile(startup_id: int) -> StartupProfile:
    """The profile of a startup the investor side may see, or NotFound."""
    profile = await StartupProfile.get_or_none(
        organization_id=startup_id, dealflow_opt_in=True, organization__verified_at__isnull=False
    ).select_related("organization")
    if profile is None:
        raise NotFound(gettext("No such startup in the deal flow."))
    return profile


@dataclass
class HistoryLine:
    challenge_id: int
    title: str
    city_name: str
    status: str
    won: bool
    # Only with the startup's consent: mean score out of 10 and the judges' comments.
    mean_score: float | None = None
    comments: list[str] = field(default_factory=list)


@dataclass
class StartupView:
    profile: StartupProfile
    organization: Organization
    history: list[HistoryLine]
    track: TrackRecord
    scores_shared: bool
    watch: Watch | None
    open_intro: IntroRequest | None
    match_reasons: list[dict[str, Any]]
    score: float | None
    # Whether it may ask for funding (a startup), and the ask it shows (none otherwise).
    raises_funds: bool = True
    funding_ask_minor: int | None = None


async def startup_for_investor(
    investor: Organization, startup_id: int, *, viewer: str
) -> StartupView:
    """A startup as an investor sees it. The visit counts once per `viewer` (a person, as
    `viewer_key` names them) and day, however often the page is reloaded."""
    """A startup's public challenge history (and, with consent, its judge scores); the visit
    is recorded so the startup sees who looked."""
    profile = await visible_profile(startup_id)
    applications = (
        await Application.filter(
            organization_id=startup_id,
            status__in=[
                ApplicationStatus.submitted,
                ApplicationStatus.awarded,
                ApplicationStatus.not_awarded,
            ],
            challenge__status__in=list(PUBLIC_STATUSES),
        )
        .select_related("challenge__organization")
        .order_by("-id")
        .limit(50)
    )
    won = set(
        await Award.filter(application_id__in=[a.id for a in applications]).values_list(
            "application_id", flat=True
        )
    )
    history = [
        HistoryLine(
            challenge_id=a.challenge.id,
            title=a.challenge.title,
            city_name=a.challenge.organization.name,
            status=a.challenge.status.value,
            won=a.id in won,
        )
        for a in applications
    ]
    if profile.share_scores and applications:
        await _add_scores(history, applications)
    match = await _match_of(investor.id, startup_id)
    record = (
        await _track_records([startup_id], consenting=[startup_id] if profile.share_scores else [])
    )[startup_id]
    now = datetime.now(UTC)
    counted = await repo.first_view_of_the_day(investor.id, startup_id, viewer, now.date())
    updated = await ProfileView.filter(investor_id=investor.id, startup_id=startup_id).update(
        views=F("views") + 1 if counted else F("views"), last_viewed_at=now
    )
    if not updated:
        try:
            await ProfileView.create(
                investor_id=investor.id, startup_id=startup_id, last_viewed_at=now
            )
        except IntegrityError:  # a concurrent first visit
            pass
    return StartupView(
        profile=profile,
        organization=profile.organization,
        history=history,
        track=record,
        scores_shared=profile.share_scores,
        watch=await Watch.get_or_none(investor_id=investor.id, startup_id=startup_id),
        open_intro=await IntroRequest.get_or_none(
            investor_id=investor.id, startup_id=startup_id, status=IntroStatus.open
        ),
        match_reasons=current_reasons(
            reasons_in_words(list(repo.as_json(match["reasons"]) or [])),
            record,
            str(profile.organization.kind),
        )
        if match
        else [],
        score=float(match["score"]) if match else None,
        raises_funds=matching.raises_funds(profile.organization.kind),
        funding_ask_minor=matching.funding_ask(
            profile.organization.kind, profile.funding_ask_minor
        ),
    )


def viewer_key(user_id: int | None, anonymous: str = "") -> str:
    """Who counts as one viewer: a signed-in person by their id; anyone else by a hash of
    their session or address (never stored in clear)."""
    if user_id is not None:
        return f"user:{user_id}"
    return "anon:" + hashlib.sha256(anonymous.encode()).hexdigest()[:40]


async def _match_of(investor_id: int, startup_id: int) -> dict[str, Any] | None:
    from service.matching.models import Match

    rows = await Match.filter(investor_id=investor_id, startup_id=startup_id).values(
        "score", "reasons"
    )
    return rows[0] if rows else None


async def _add_scores(history: list[HistoryLine], applications: list[Application]) -> None:
    by_challenge = {a.id: a.challenge_id for a in applications}
    weights = {
        c.id: c.weight
        for c in await Criterion.filter(challenge_id__in=list(set(by_challenge.values())))
    }
    reviews = await Review.filter(
        application_id__in=list(by_challenge), conflict_of_interest=False
    ).values("application_id", "scores", "comment")
    totals: dict[int, list[float]] = defaultdict(list)
    comments: dict[int, list[str]] = defaultdict(list)
    for review in reviews:
        scores = repo.as_json(review["scores"]) or {}
        weighted = [(weights.get(int(k), 1), float(v)) for k, v in scores.items()]
        total_weight = sum(w for w, _ in weighted)
        if total_weight:
            totals[review["application_id"]].append(sum(w * v for w, v in weighted) / total_weight)
        if review["comment"]:
            comments[review["application_id"]].append(str(review["comment"]))
    by_line = {a.challenge_id: a.id for a in applications}
    for line in history:
        app_id = by_line[line.challenge_id]
        if totals.get(app_id):
            line.mean_score = round(sum(totals[app_id]) / len(totals[app_id]), 1)
        line.comments = comments.get(app_id, [])


# --- watchlist -----------------------------------------------------------------------------


async def _keep(
    ctx: Context,
    model: type[Kept],
    owner: Organization,
    owner_field: str,
    startup_id: int,
    *,
    note: str,
    action: str,
) -> Kept:
    """Put a startup on an organization's list (a watchlist, city picks), or change its note."""
    await visible_profile(startup_id)
    keys: dict[str, Any] = {f"{owner_field}_id": owner.id, "startup_id": startup_id}
    existing = await model.get_or_none(**keys)
    if existing is not None:
        existing.note = note
        await existing.save(update_fields=["note"])
        return existing
    item = await model.create(
        **keys, note=note, created_by_id=ctx.actor.user.id if ctx.actor.user else None
    )
    await audit.record(
        ctx, action, object_type="organization", object_id=startup_id, organization_id=owner.id
    )
    return item


async def _drop(
    ctx: Context,
    model: type[Kept],
    owner: Organization,
    owner_field: str,
    startup_id: int,
    *,
    action: str,
) -> bool:
    keys: dict[str, Any] = {f"{owner_field}_id": owner.id, "startup_id": startup_id}
    removed = await model.filter(**keys).delete()
    if removed:
        await audit.record(
            ctx, action, object_type="organization", object_id=startup_id, organization_id=owner.id
        )
    return bool(removed)


async def watch(ctx: Context, investor: Organization, startup_id: int, *, note: str) -> Watch:
    return await _keep(
        ctx, Watch, investor, "investor", startup_id, note=note, action="investors.watch"
    )


async def unwatch(ctx: Context, investor: Organization, startup_id: int) -> bool:
    return await _drop(ctx, Watch, investor, "investor", startup_id, action="investors.unwatch")


@dataclass
class WatchLine:
    watch: Watch
    name: str
    track: TrackRecord


async def watchlist(
    investor: Organization, *, before_id: int | None = None, limit: int = 200
) -> list[WatchLine]:
    """The investor's watched startups that are still in the deal flow (two statements)."""
    query = Watch.filter(
        investor_id=investor.id,
        startup__startup_profile__dealflow_opt_in=True,
        startup__verified_at__isnull=False,
    )
    if before_id is not None:
        query = query.filter(id__lt=before_id)
    watches = await query.select_related("startup").order_by("-id").limit(limit)
    tracks = await _track_records([w.startup_id for w in watches])
    return [WatchLine(watch=w, name=w.startup.name, track=tracks[w.startup_id]) for w in watches]


async def notify_watchers() -> int:
    """Tell watchers when a watched startup won a challenge or delivered a milestone since
    they started watching. Each event is told once (a unique row per watch and event)."""
    watches = await Watch.all().select_related("startup")
    if not watches:
        return 0
    by_startup: dict[int, list[Watch]] = defaultdict(list)
    for w in watches:
        by_startup[w.startup_id].append(w)
    since = min(w.created_at for w in watches)
    events: list[tuple[int, str, int, datetime, str, Challenge]] = []
    for award in await Award.filter(
        application__organization_id__in=list(by_startup), created_at__gte=since
    ).select_related("application", "challenge"):
        events.append(
            (
                award.application.organization_id,
                "won",
                award.id,
                award.created_at,
                award.challenge.title,
                award.challenge,
            )
        )
    for milestone in await Milestone.filter(
        award__application__organization_id__in=list(by_startup),
        approved_at__gte=since,
    ).select_related("award__application", "award__challenge"):
        assert milestone.approved_at is not None
        events.append(
            (
                milestone.award.application.organization_id,
                "milestone",
                milestone.id,
                milestone.approved_at,
                milestone.title,
                milestone.award.challenge,
            )
        )
    told = 0
    for startup_id, kind, object_id, at, title, challenge in events:
        for w in by_startup[startup_id]:
            if at < w.created_at:
                continue
            _, created = await WatchNotice.get_or_create(
                watch_id=w.id, kind=kind, object_id=object_id
            )
            if not created:
                continue
            told += 1
            await _tell_members(
                w.investor_id,
                "watched_startup_won" if kind == "won" else "watched_startup_delivered",
                f"/investors/{w.investor_id}/startups/{startup_id}",
                challenge=challenge,
                name=w.startup.name,
                title=title,
            )
    return told


# --- intro requests ------------------------------------------------------------------------


async def _members(organization_id: int) -> list[User]:
    return [
        m.user
        for m in await Membership.filter(organization_id=organization_id).select_related("user")
    ]


async def _tell_members(
    organization_id: int, kind: str, link: str, *, challenge: Challenge | None = None, **params: Any
) -> None:
    for user in await _members(organization_id):
        await notifications.notify(user, kind, link=link, challenge=challenge, **params)


def _check_message(message: str, *, name: str, required: bool) -> str:
    text = message.strip()
    if required and not text:
        raise ValidationFailed(fields={name: gettext("This field is required.")})
    if len(text) > 2000:
        raise ValidationFailed(fields={name: gettext("This is too long.")})
    return text


async def open_count(investor_id: int) -> int:
    return await IntroRequest.filter(
        investor_id=investor_id, status=IntroStatus.open, expires_at__gt=datetime.now(UTC)
    ).count()


async def request_intro(
    ctx: Context, investor: Organization, startup_id: int, *, message: str
) -> IntroRequest:
    assert ctx.actor.user is not None
    text = _check_message(message, name="message", required=True)
    profile = await visible_profile(startup_id)
    # The investor's row is the lock that keeps two requests from passing the limit together.
    await Organization.filter(id=investor.id).select_for_update().first()
    now = datetime.now(UTC)
    if await IntroRequest.exists(
        investor_id=investor.id,
        startup_id=startup_id,
        status=IntroStatus.open,
        expires_at__gt=now,
    ):
        raise IntroAlreadyOpen()
    if await open_count(investor.id) >= ctx.settings.intro_open_limit:
        raise IntroLimitReached(
            gettext("Your organization has %(n)s open intro requests, the most allowed.")
            % {"n": ctx.settings.intro_open_limit}
        )
    intro = await IntroRequest.create(
        investor_id=investor.id,
        startup_id=startup_id,
        requested_by_id=ctx.actor.user.id,
        message=text,
        expires_at=now + timedelta(days=ctx.settings.intro_expiry_days),
    )
    await audit.record(
        ctx,
        "investors.intro.request",
        object_type="intro_request",
        object_id=intro.id,
        organization_id=investor.id,
        startup_id=startup_id,
    )
    await _tell_members(
        startup_id,
        "intro_requested",
        f"/startups/{startup_id}/interest",
        investor=investor.name,
        message=text[:500],
    )
    await _tell_members(
        investor.id,
        "intro_sent",
        f"/investors/{investor.id}/intros",
        startup=profile.organization.name,
    )
    return intro


async def answer_intro(
    ctx: Context, intro: IntroRequest, *, accept: bool, reply: str = ""
) -> IntroRequest:
    """Accept or decline; answering the same way again is harmless and changes nothing."""
    assert ctx.actor.user is not None
    text = _check_message(reply, name="reply", required=False)
    locked = await IntroRequest.filter(id=intro.id).select_for_update().first()
    assert locked is not None
    wanted = IntroStatus.accepted if accept else IntroStatus.declined
    if locked.status is wanted:
        return locked
    now = datetime.now(UTC)
    if locked.status is IntroStatus.open and locked.expires_at <= now:
        await _expire(locked)
    if not INTRO_TRANSITIONS.allows(locked.status, wanted):
        raise IntroClosed()
    locked.status = wanted
    locked.reply = text
    locked.answered_by_id = ctx.actor.user.id
    locked.answered_at = now
    await locked.save(update_fields=["status", "reply", "answered_by_id", "answered_at"])
    await audit.record(
        ctx,
        f"investors.intro.{wanted.value}",
        object_type="intro_request",
        object_id=locked.id,
        organization_id=locked.startup_id,
        investor_id=locked.investor_id,
    )
    startup = await Organization.get(id=locked.startup_id)
    await _tell_members(
        locked.investor_id,
        "intro_accepted" if accept else "intro_declined",
        f"/investors/{locked.investor_id}/intros",
        startup=startup.name,
        message=text[:500],
    )
    await _tell_members(
        locked.startup_id, "intro_answered", f"/startups/{locked.startup_id}/interest"
    )
    return locked


async def _expire(intro: IntroRequest) -> None:
    intro.status = IntroStatus.expired
    await intro.save(update_fields=["status"])
    startup = await Organization.get(id=intro.startup_id)
    investor = await Organization.get(id=intro.investor_id)
    await _tell_members(
        intro.investor_id,
        "intro_expired_investor",
        f"/investors/{intro.investor_id}/intros",
        startup=startup.name,
    )
    await _tell_members(
        intro.startup_id,
        "intro_expired_startup",
        f"/startups/{intro.startup_id}/interest",
        investor=investor.name,
    )


async def expire_due() -> int:
    """Close the open requests past their date. Safe to run twice: each row is locked and
    re-checked, and an expired request is not open any more."""
    now = datetime.now(UTC)
    count = 0
    for intro_id in await IntroRequest.filter(
        status=IntroStatus.open, expires_at__lte=now
    ).values_list("id", flat=True):
        intro = (
            await IntroRequest.filter(id=intro_id, status=IntroStatus.open)
            .select_for_update()
            .first()
        )
        if intro is None:
            continue
        await _expire(intro)
        count += 1
    return count


@dataclass
class Contact:
    name: str
    email: str


@dataclass
class IntroLine:
    intro: IntroRequest
    investor_name: str
    startup_name: str
    # Filled only for accepted requests.
    investor_contact: Contact | None
    startup_contact: Contact | None

    @property
    def status(self) -> str:
        intro = self.intro
        if intro.status is IntroStatus.open and intro.expires_at <= datetime.now(UTC):
            return IntroStatus.expired.value
        return intro.status.value


def _line(intro: IntroRequest) -> IntroLine:
    accepted = intro.status is IntroStatus.accepted
    answered_by = intro.answered_by if accepted else None
    return IntroLine(
        intro=intro,
        investor_name=intro.investor.name,
        startup_name=intro.startup.name,
        investor_contact=Contact(intro.requested_by.name, intro.requested_by.email)
        if accepted
        else None,
        startup_contact=Contact(answered_by.name, answered_by.email) if answered_by else None,
    )


async def intro_line(intro: IntroRequest) -> IntroLine:
    await intro.fetch_related("investor", "startup", "requested_by", "answered_by")
    return _line(intro)


async def intros_of_investor(
    investor_id: int, *, before_id: int | None = None, limit: int = 200
) -> list[IntroLine]:
    query = IntroRequest.filter(
        investor_id=investor_id, startup__startup_profile__dealflow_opt_in=True
    )
    if before_id is not None:
        query = query.filter(id__lt=before_id)
    intros = (
        await query.select_related("investor", "startup", "requested_by", "answered_by")
        .order_by("-id")
        .limit(limit)
    )
    return [_line(i) for i in intros]


async def intros_of_startup(
    startup_id: int, *, before_id: int | None = None, limit: int = 200
) -> list[IntroLine]:
    query = IntroRequest.filter(startup_id=startup_id)
    if before_id is not None:
        query = query.filter(id__lt=before_id)
    intros = (
        await query.select_related("investor", "startup", "requested_by", "answered_by")
        .order_by("-id")
        .limit(limit)
    )
    return [_line(i) for i in intros]


async def viewers_of(startup_id: int, *, offset: int = 0, limit: int = 200) -> list[ProfileView]:
    return (
        await ProfileView.filter(startup_id=startup_id)
        .select_related("investor")
        .order_by("-last_viewed_at", "-id")
        .offset(offset)
        .limit(limit)
    )


# --- city picks ----------------------------------------------------------------------------


async def pick(ctx: Context, city: Organization, startup_id: int, *, note: str) -> CityPick:
    text = _check_message(note, name="note", required=False)
    return await _keep(
        ctx, CityPick, city, "city", startup_id, note=text, action="investors.city_pick"
    )


async def unpick(ctx: Context, city: Organization, startup_id: int) -> bool:
    return await _drop(ctx, CityPick, city, "city", startup_id, action="investors.city_unpick")


async def picks_of_city(city: Organization) -> list[CityPick]:
    return (
        await CityPick.filter(
            city_id=city.id,
            startup__startup_profile__dealflow_opt_in=True,
            startup__verified_at__isnull=False,
        )
        .select_related("startup")
        .order_by("-id")
        .limit(100)
    )


async def pickable_for_city(city: Organization) -> list[Organization]:
    """Startups in the deal flow that applied to this city's challenges."""
    ids = await Application.filter(
        challenge__organization_id=city.id,
        organization__startup_profile__dealflow_opt_in=True,
        organization__verified_at__isnull=False,
    ).values_list("organization_id", flat=True)
    return await Organization.filter(id__in=list(set(ids))).order_by("name").limit(200)
