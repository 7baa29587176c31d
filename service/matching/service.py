"""Matching's operations, for its own API and jobs and for the investors area.

Callers open the transaction (`service.db.transaction`); jobs queued here are sent after it
commits. What other areas may call:

- `save_thesis(ctx, org, data: ThesisIn) -> InvestorThesis`: validates (an investor organization
  only, else `NotAnInvestor`, a 404), stores, audits, and queues `matching.recompute_investor`.
- `save_profile(ctx, org, data: ProfileIn) -> StartupProfile`: the same for a startup,
  university or research centre (`NotAnApplicant` otherwise), queuing `matching.recompute_startup`.
- `get_thesis(org_id)`, `get_profile(org_id)`: the stored rows or None.
- `organization_verified(org)`: queues the recompute its verification calls for (the
  accounts area calls it when an operator verifies an organization).
- `preview_count(data: ThesisIn, *, settings) -> int`: how many startups would pass the thesis's
  hard filters and score at least `settings.matching_preview_floor` (a live preview): the
  number the deal flow lists for that thesis once it is ranked.
- `raises_funds(kind)`, `funding_ask(kind, amount_minor)`: only startups ask for funding.
- `recompute_investor(org_id, *, settings)`, `recompute_startup(org_id, *, settings)`,
  `recompute_all(*, settings)`: the work behind the jobs of the same names (tasks.py) and the
  nightly cron; `refresh_tracks()` re-reads every track record and names the changed ones.
- `matches_page(investor_id, *, after_rank, limit)`: one page of the stored ranking, one query.
- `recommended_challenges(org_id, limit, *, settings)`: (Recommendation, Challenge) pairs;
  `challenges_for_page(org_id, limit, *, settings)`: the same with reasons in words.
- `create_demo_day(ctx, data)`, `schedule_demo_day(demo_day_id, *, settings)`,
  `demo_day_csv(demo_day)`, `demo_day_ics(demo_day, names)`.

A queued recompute's job id is the organization and a time window as long as its delay
(`matching_debounce_seconds`), so that the changes of one window make one job, which runs
after the window and reads the latest data.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from icalendar import Calendar, Event
from tortoise.functions import Count, Max

from service.accounts.models import APPLICANT_KINDS, Organization, OrganizationKind
from service.applications.models import Application, ApplicationStatus
from service.audit import service as audit
from service.challenges.models import Challenge, ChallengeStatus
from service.config import Settings
from service.core import csv_export
from service.core.context import Context
from service.core.errors import NotFound, ValidationFailed
from service.core.i18n import N_, gettext
from service.core.jobs import enqueue
from service.matching import assignment, explain, scoring, track
from service.matching.models import (
    DemoDay,
    DemoDayStatus,
    InvestorThesis,
    Match,
    StartupProfile,
    TextModel,
)
from service.matching.recommend import ApplicantData, ChallengeData, Recommendation, rank_challenges
from service.matching.schemas import DemoDayIn, ProfileIn, ThesisIn
from service.matching.scoring import Corpus, StartupData, ThesisData
from service.matching.text import RowView, TextSpace

DEBOUNCE_SECONDS = 2.0
Progress = Callable[[int], None]


class NotAnInvestor(NotFound):
    default_detail = N_("Only an investor organization keeps a thesis.")


class NotAnApplicant(NotFound):
    default_detail = N_("Only a startup, university or research centre keeps a deal-flow profile.")


# Only startups raise money: a university or a research centre keeps a deal-flow profile but
# asks for no funding, and an ask stored for one before this rule is shown nowhere.
RAISING_KINDS = frozenset({OrganizationKind.startup})


def raises_funds(kind: OrganizationKind | str) -> bool:
    """Whether an organization of this kind may ask investors for funding."""
    return str(kind) in {k.value for k in RAISING_KINDS}


def funding_ask(kind: OrganizationKind | str, amount_minor: int | None) -> int | None:
    """The funding ask shown for an organization: its stored ask if it may ask, else none."""
    return amount_minor if raises_funds(kind) else None


# --- queueing ------------------------------------------------------------------------------


def _job_id(kind: str, organization_id: int) -> str:
    window = int(time.time() // DEBOUNCE_SECONDS)
    return f"matching-{kind}-{organization_id}-{window}"


def queue_investor(organization_id: int) -> None:
    enqueue(
        "matching.recompute_investor",
        job_id=_job_id("investor", organization_id),
        defer_seconds=DEBOUNCE_SECONDS,
        organization_id=organization_id,
    )


def queue_startup(organization_id: int) -> None:
    enqueue(
        "matching.recompute_startup",
        job_id=_job_id("startup", organization_id),
        defer_seconds=DEBOUNCE_SECONDS,
        organization_id=organization_id,
    )


def organization_verified(org: Organization) -> None:
    """An operator verified the organization: its side of the deal flow counts from now on
    (called by the accounts area in the verifying transaction)."""
    if org.kind is OrganizationKind.investor:
        queue_investor(org.id)
    elif org.kind in APPLICANT_KINDS:
        queue_startup(org.id)


# --- theses and profiles -------------------------------------------------------------------


async def get_thesis(organization_id: int) -> InvestorThesis | None:
    return await InvestorThesis.get_or_none(organization_id=organization_id)


async def get_profile(organization_id: int) -> StartupProfile | None:
    return await StartupProfile.get_or_none(organization_id=organization_id)


async def save_thesis(ctx: Context, org: Organization, data: ThesisIn) -> InvestorThesis:
    if org.kind is not OrganizationKind.investor:
        raise NotAnInvestor()
    values: dict[str, Any] = {
        "sectors": [s.value for s in data.sectors],
        "stages": [s.value for s in data.stages],
        "ticket_min_minor": data.ticket_min_minor,
        "ticket_max_minor": data.ticket_max_minor,
        "currency": data.currency,
        "regions": data.regions,
        "regions_strict": data.regions_strict,
        "stages_strict": data.stages_strict,
        "text": data.text,
    }
    thesis = await InvestorThesis.select_for_update().get_or_none(organization_id=org.id)
    if thesis is None:
        thesis = await InvestorThesis.create(organization_id=org.id, **values)
    else:
        await thesis.update_from_dict(values).save()
    await audit.record(
        ctx,
        "matching.thesis.saved",
        object_type="investor_thesis",
        object_id=thesis.id,
        organization_id=org.id,
        sectors=values["sectors"],
        stages=values["stages"],
    )
    queue_investor(org.id)
    return thesis


async def save_profile(ctx: Context, org: Organization, data: ProfileIn) -> StartupProfile:
    if org.kind not in APPLICANT_KINDS:
        raise NotAnApplicant()
    if data.funding_ask_minor is not None and not raises_funds(org.kind):
        raise ValidationFailed(
            fields={"funding_ask_minor": gettext("Only a startup asks investors for funding.")}
        )
    values: dict[str, Any] = {
        "sectors": [s.value for s in data.sectors],
        "stage": data.stage,
        "funding_ask_minor": data.funding_ask_minor,
        "currency": data.currency,
        "region": data.region,
        "text": data.text,
        "dealflow_opt_in": data.dealflow_opt_in,
        "share_scores": data.share_scores,
    }
    profile = await StartupProfile.select_for_update().get_or_none(organization_id=org.id)
    before = (
        (profile.dealflow_opt_in, profile.share_scores) if profile is not None else (False, False)
    )
    signals = (await track.signals_for([org.id], consenting=[org.id] if data.share_scores else []))[
        org.id
    ]
    values["track"] = signals
    values["track_score"] = track.track_score(signals)
    if profile is None:
        profile = await StartupProfile.create(organization_id=org.id, **values)
    else:
        await profile.update_from_dict(values).save()
    # Consent to the deal flow and to sharing judges' scores is what the audit log keeps.
    await audit.record(
        ctx,
        "matching.profile.saved",
        object_type="startup_profile",
        object_id=profile.id,
        organization_id=org.id,
        dealflow_opt_in=data.dealflow_opt_in,
        share_scores=data.share_scores,
        consent_changed=before != (data.dealflow_opt_in, data.share_scores),
    )
    queue_startup(org.id)
    return profile


def thesis_data(thesis: InvestorThesis | ThesisIn, organization_id: int) -> ThesisData:
    return ThesisData(
        organization_id=organization_id,
        sectors=[str(s) for s in thesis.sectors],
        stages=[str(s) for s in thesis.stages],
        ticket_min_minor=thesis.ticket_min_minor,
        ticket_max_minor=thesis.ticket_max_minor,
        regions=list(thesis.regions),
        regions_strict=thesis.regions_strict,
        stages_strict=thesis.stages_strict,
        text=thesis.text,
        currency=thesis.currency,
    )


# --- loading the corpus --------------------------------------------------------------------


async def load_startups() -> list[StartupData]:
    """Every profile, with its eligibility (opted in, organization verified)."""
    rows = (
        await StartupProfile.all()
        .order_by("organization_id")
        .values(
            "organization_id",
            "sectors",
            "stage",
            "funding_ask_minor",
            "currency",
            "region",
            "text",
            "dealflow_opt_in",
            "track",
            "track_score",
            "organization__name",
            "organization__region",
            "organization__kind",
            "organization__verified_at",
        )
    )
    kinds = {k.value for k in APPLICANT_KINDS}
    return [
        StartupData(
            organization_id=int(r["organization_id"]),
            sectors=list(r["sectors"] or []),
            stage=str(r["stage"]) if r["stage"] else None,
            funding_ask_minor=funding_ask(str(r["organization__kind"]), r["funding_ask_minor"]),
            region=r["region"] or r["organization__region"] or "",
            text=r["text"] or "",
            eligible=bool(r["dealflow_opt_in"])
            and r["organization__verified_at"] is not None
            and str(r["organization__kind"]) in kinds,
            track_score=float(r["track_score"] or 0.0),
            track=dict(r["track"] or {}),
            name=r["organization__name"],
            currency=r["currency"],
        )
        for r in rows
    ]


async def load_theses(organization_ids: Sequence[int] | None = None) -> list[ThesisData]:
    """The theses that are ranked: of verified investor organizations."""
    query = InvestorThesis.filter(
        organization__verified_at__isnull=False, organization__kind=OrganizationKind.investor
    )
    if organization_ids is not None:
        query = query.filter(organization_id__in=list(organization_ids))
    return [thesis_data(t, t.organization_id) for t in await query.order_by("organization_id")]


async def text_space(startups: Sequence[StartupData], *, refit: bool) -> TextSpace:
    """The stored TF-IDF model, or a new one fitted on the corpus (and stored)."""
    if not refit:
        stored = await TextModel.all().order_by("-id").first()
        if stored is not None:
            return TextSpace.restore(stored.vocabulary, stored.idf)
    theses = await InvestorThesis.all().values_list("text", flat=True)
    corpus = [s.text for s in startups] + [str(t) for t in theses]
    space = TextSpace.fit(corpus)
    vocabulary, idf = space.dump() if space.size else ({}, [])
    await TextModel.all().delete()
    await TextModel.create(
        vocabulary=vocabulary, idf=idf, documents=len(corpus), fitted_at=datetime.now(UTC)
    )
    return space


# The last corpus built in this process, with the fingerprint of the data it was built from:
# a live preview finds it again as long as no profile, verification or text model changed
# (a profile saved through its model moves its `updated_at`). Jobs always read afresh.
_cached: dict[str, tuple[tuple[Any, ...], Corpus]] = {}


async def _fingerprint() -> tuple[Any, ...]:
    profiles = (
        await StartupProfile.all()
        .annotate(n=Count("id"), last=Max("updated_at"))
        .values_list("n", "last")
    )
    verified = await Organization.filter(
        verified_at__isnull=False, startup_profile__id__isnull=False
    ).count()
    model = await TextModel.all().order_by("-id").values_list("id", flat=True)
    return (tuple(profiles[0]) if profiles else (), verified, model[0] if model else None)


async def load_corpus(*, refit: bool = False, cached: bool = False) -> Corpus:
    if cached and not refit:
        key = await _fingerprint()
        found = _cached.get("corpus")
        if found is not None and found[0] == key:
            return found[1]
    startups = await load_startups()
    corpus = Corpus(startups, await text_space(startups, refit=refit))
    _cached["corpus"] = (await _fingerprint(), corpus)
    return corpus


# --- storing rankings ----------------------------------------------------------------------


def _match_row(
    thesis: ThesisData,
    startup: StartupData,
    corpus: Corpus,
    weights: dict[str, float],
    now: datetime,
    thesis_row: RowView,
    *,
    rank: int,
    score: float,
    components: dict[str, float],
) -> Match:
    reasons = explain.reasons_for(
        thesis,
        startup,
        components,
        weights,
        space=corpus.space,
        thesis_row=thesis_row,
        startup_row=RowView.of(corpus.text, corpus.position[startup.organization_id]),
    )
    return Match(
        investor_id=thesis.organization_id,
        startup_id=startup.organization_id,
        rank=rank,
        score=score,
        components=components,
        reasons=reasons,
        computed_at=now,
    )


def _match_rows(
    thesis: ThesisData,
    ranked: scoring.Ranking,
    corpus: Corpus,
    weights: dict[str, float],
    now: datetime,
) -> list[Match]:
    thesis_row = RowView.of(corpus.space.transform([thesis.text]), 0)
    return [
        _match_row(
            thesis,
            item.startup,
            corpus,
            weights,
            now,
            thesis_row,
            rank=item.rank,
            score=item.score,
            components=item.components,
        )
        for item in ranked
    ]


async def _store(
    results: Sequence[tuple[ThesisData, scoring.Ranking]],
    corpus: Corpus,
    settings: Settings,
) -> int:
    now = datetime.now(UTC)
    weights = scoring.normalised_weights(settings.matching_weights)
    investor_ids = sorted(thesis.organization_id for thesis, _ in results)
    if investor_ids:
        # Two jobs may rank the same investor at once (two workers): each takes the investors'
        # rows first, in id order, so the second deletes what the first stored instead of
        # inserting beside it (which broke the unique key on investor and startup).
        await Organization.select_for_update().filter(id__in=investor_ids).order_by("id")
        await Match.filter(investor_id__in=investor_ids).delete()
    rows: list[Match] = []
    for thesis, ranked in results:
        rows.extend(_match_rows(thesis, ranked, corpus, weights, now))
    for start in range(0, len(rows), 2000):
        await Match.bulk_create(rows[start : start + 2000])
    return len(rows)


def rank_theses(
    theses: Sequence[ThesisData], corpus: Corpus, settings: Settings
) -> list[tuple[ThesisData, scoring.Ranking]]:
    return list(scoring.rank(theses, corpus, settings.matching_weights, k=settings.matching_top_n))


async def recompute_investor(organization_id: int, *, settings: Settings) -> int:
    """Rank every startup for one investor and store its top results (none when it has no
    thesis or is not verified). Returns how many were stored."""
    theses = await load_theses([organization_id])
    if not theses:
        await Match.filter(investor_id=organization_id).delete()
        return 0
    corpus = await load_corpus()
    return await _store(rank_theses(theses, corpus, settings), corpus, settings)


# Investors whose stored rows one query reads (each id is a bound parameter).
ID_CHUNK = 5_000


def _order(key: float, startup_id: int) -> tuple[float, int]:
    """A ranking's order: the rounded score, higher first, then the smaller startup id (as
    scoring._rank_block sorts)."""
    return (-key, startup_id)


async def recompute_startup(organization_id: int, *, settings: Settings) -> int:
    """Bring every investor's stored ranking up to date with one startup's change.

    Only the startup's own place moves, so each stored ranking is edited, not computed again:
    the startup's exact score for every thesis (as a full ranking computes it) decides
    whether it enters a ranking (taking the place of the last one when it is full), moves
    within it, or stays out; the ranks in between are numbered again. Only when it falls to
    the end of a full ranking, or out of it, may a startup that was not stored take its
    place, and that investor alone is ranked again in full. At 5,000 investors and 100,000
    startups, ranking again every investor the startup was stored for took longer than a
    job may run. The result equals a full recompute (tests/matching/test_jobs.py).
    Returns how many investors' rankings changed.
    """
    corpus = await load_corpus()
    theses = await load_theses()
    live = [t.organization_id for t in theses]
    # Matches of investors no longer ranked (unverified since) go with the startup's own.
    await Match.filter(startup_id=organization_id).exclude(investor_id__in=live).delete()
    k = settings.matching_top_n
    if not theses or k <= 0:
        return 0
    # Every ranked investor's row, in id order (as _store takes them), before the stored
    # rankings are read: what is decided below from their counts and last places must not be
    # changed meanwhile by another job (two workers recomputing two startups at once).
    await Organization.select_for_update().filter(id__in=sorted(live)).order_by("id")
    weights = scoring.normalised_weights(settings.matching_weights)
    now = datetime.now(UTC)
    # The startup's key and exact score for each thesis that admits it.
    entering: dict[int, tuple[float, float, dict[str, float]]] = {}
    position = corpus.position.get(organization_id)
    if position is not None:
        for chunk in scoring.blocks(theses, 256):
            rows = np.arange(len(chunk))
            exact = scoring.score_pairs(
                scoring.ThesisBlock(chunk, corpus),
                corpus,
                rows,
                np.full(len(chunk), position),
                settings.matching_weights,
            )
            keys = exact.keys
            for j, thesis in enumerate(chunk):
                if keys[j] > scoring.FILTERED:
                    entering[thesis.organization_id] = (
                        float(keys[j]),
                        float(exact.score[j]),
                        {name: float(values[j]) for name, values in exact.components.items()},
                    )
    counts = dict(
        await Match.annotate(n=Count("id")).group_by("investor_id").values_list("investor_id", "n")
    )
    mine = dict(await Match.filter(startup_id=organization_id).values_list("investor_id", "rank"))
    # The last two of each full ranking: the last one that is not this startup is the line
    # a startup must pass to enter it.
    tails: dict[int, list[tuple[int, int, float, int]]] = {}
    for investor_id, startup_id, score, rank, row_id in await Match.filter(
        rank__gte=k - 1
    ).values_list("investor_id", "startup_id", "score", "rank", "id"):
        tails.setdefault(int(investor_id), []).append(
            (int(rank), int(startup_id), float(score), int(row_id))
        )
    update: dict[int, tuple[float, float, dict[str, float]]] = {}
    insert: dict[int, tuple[float, float, dict[str, float]]] = {}
    remove: list[int] = []  # the startup's rows that go
    evict: list[int] = []  # rows of the last startup, pushed out of a full ranking
    again: list[ThesisData] = []  # rankings to compute in full
    for thesis in theses:
        investor_id = thesis.organization_id
        entry = entering.get(investor_id)
        stored = investor_id in mine
        if int(counts.get(investor_id, 0)) < k:
            # Not full: every startup the thesis admits is stored, none waits outside.
            if entry is not None:
                (update if stored else insert)[investor_id] = entry
            elif stored:
                remove.append(investor_id)
            continue
        others = [t for t in tails.get(investor_id, []) if t[1] != organization_id]
        if not others:
            # A ranking of one, this startup's: whoever comes next is not stored.
            again.append(thesis)
            continue
        last = max(others)
        line = _order(float(np.round(last[2], scoring.RANK_DECIMALS)), last[1])
        if entry is not None and _order(entry[0], organization_id) < line:
            (update if stored else insert)[investor_id] = entry
            if not stored:
                evict.append(last[3])
        elif stored:
            # It falls to the end or out: a startup not stored may come before it.
            again.append(thesis)
    touched = sorted({*update, *insert, *remove})
    if remove:
        await Match.filter(startup_id=organization_id, investor_id__in=remove).delete()
    if evict:
        await Match.filter(id__in=evict).delete()
    by_investor = {t.organization_id: t for t in theses}
    changed = sorted({*update, *insert})
    if changed:
        assert position is not None  # it has an entry, so it is in the corpus
        startup = corpus.startups[position]
        rows = corpus.space.transform([by_investor[i].text for i in changed])
        made = []
        for j, investor_id in enumerate(changed):
            _, score, components = update.get(investor_id) or insert[investor_id]
            made.append(
                _match_row(
                    by_investor[investor_id],
                    startup,
                    corpus,
                    weights,
                    now,
                    RowView.of(rows, j),
                    rank=0,  # numbered below
                    score=score,
                    components=components,
                )
            )
        if update:
            await Match.filter(startup_id=organization_id, investor_id__in=sorted(update)).delete()
        for start in range(0, len(made), 2000):
            await Match.bulk_create(made[start : start + 2000])
    await _number(touched)
    if again:
        await _store(rank_theses(again, corpus, settings), corpus, settings)
    return len(touched) + len(again)


async def _number(investor_ids: Sequence[int]) -> None:
    """Number each investor's stored ranking again from its scores, in the ranking's order;
    only the ranks that change are written."""
    for start in range(0, len(investor_ids), ID_CHUNK):
        chunk = investor_ids[start : start + ID_CHUNK]
        found = await Match.filter(investor_id__in=list(chunk)).values_list(
            "investor_id", "startup_id", "score", "rank", "id"
        )
        if not found:
            continue
        table = np.array([(i, s, sc) for i, s, sc, _, _ in found], dtype=np.float64)
        keys = np.round(table[:, 2], scoring.RANK_DECIMALS)
        order = np.lexsort((table[:, 1], -keys, table[:, 0]))
        moved: list[tuple[int, int]] = []
        previous, rank = None, 0
        for index in order:
            investor_id, _, _, old_rank, row_id = found[index]
            rank = rank + 1 if investor_id == previous else 1
            previous = investor_id
            if old_rank != rank:
                moved.append((rank, row_id))
        if moved:
            connection = Match._meta.db
            mark = ("$1", "$2") if connection.capabilities.dialect == "postgres" else ("?", "?")
            await connection.execute_many(
                f"UPDATE matches SET rank = {mark[0]} WHERE id = {mark[1]}",  # noqa: S608
                [list(pair) for pair in moved],
            )


async def refresh_tracks(organization_ids: Sequence[int] | None = None) -> list[int]:
    """Re-read the track records from the other areas; store and name those that changed."""
    query = StartupProfile.all()
    if organization_ids is not None:
        query = query.filter(organization_id__in=list(organization_ids))
    profiles = await query.only("id", "organization_id", "share_scores", "track", "track_score")
    signals = await track.signals_for(
        [p.organization_id for p in profiles],
        consenting=[p.organization_id for p in profiles if p.share_scores],
    )
    changed = []
    for profile in profiles:
        fresh = signals[profile.organization_id]
        if fresh != profile.track:
            await StartupProfile.filter(id=profile.id).update(
                track=fresh, track_score=track.track_score(fresh), updated_at=datetime.now(UTC)
            )
            changed.append(profile.organization_id)
    return changed


async def recompute_all(
    *, settings: Settings, refit: bool = True, progress: Progress | None = None
) -> int:
    """The nightly recompute: track records, the text model, and every investor's ranking."""
    await refresh_tracks()
    corpus = await load_corpus(refit=refit)
    theses = await load_theses()
    await Match.exclude(investor_id__in=[t.organization_id for t in theses]).delete()
    stored = 0
    for chunk in scoring.blocks(theses, 64):
        stored += await _store(rank_theses(chunk, corpus, settings), corpus, settings)
        if progress is not None:
            progress(len(chunk))
    return stored


async def preview_count(data: ThesisIn, *, settings: Settings) -> int:
    """How many startups the deal flow would list for this thesis: those that pass its hard
    filters and score at least `settings.matching_preview_floor` (the deal flow lists the
    stored ranking from the same floor), at most the `matching_top_n` a ranking keeps. For a
    live preview while the thesis is edited; nothing is stored."""
    corpus = await load_corpus(cached=True)
    count = scoring.count_above(
        thesis_data(data, 0), corpus, settings.matching_weights, settings.matching_preview_floor
    )
    return min(count, settings.matching_top_n)


async def matches_page(investor_id: int, *, after_rank: int = 0, limit: int = 20) -> list[Match]:
    """One page of an investor's stored ranking, with the startups' organizations."""
    return (
        await Match.filter(investor_id=investor_id, rank__gt=after_rank)
        .order_by("rank")
        .limit(limit)
        .select_related("startup")
    )


# --- challenges for applicants -------------------------------------------------------------

OPEN_FOR_APPLICANTS = [ChallengeStatus.published, ChallengeStatus.open]


async def recommended_challenges(
    organization_id: int, limit: int = 10, *, settings: Settings
) -> list[tuple[Recommendation, Challenge]]:
    """Open (or upcoming) challenges ranked for an applicant organization, each with its
    challenge row; those it already applied to are left out. Other kinds get none."""
    org = await Organization.get_or_none(id=organization_id)
    if org is None or org.kind not in APPLICANT_KINDS:
        return []
    profile = await StartupProfile.get_or_none(organization_id=organization_id)
    history = await Application.filter(organization_id=organization_id).values_list(
        "challenge_id", "challenge__sdgs", "status"
    )
    applied = {int(c) for c, _, status in history if status != ApplicationStatus.withdrawn}
    sdgs = sorted({int(g) for _, goals, _ in history for g in (goals or [])})
    now = datetime.now(UTC)
    challenges = (
        await Challenge.filter(
            status__in=OPEN_FOR_APPLICANTS, published_at__isnull=False, closes_at__gt=now
        )
        .exclude(id__in=sorted(applied) or [0])
        .order_by("closes_at")
        .limit(500)
    )
    if not challenges:
        return []
    applicant = ApplicantData(
        organization_id=org.id,
        kind=org.kind.value,
        sectors=list(profile.sectors) if profile else [],
        region=(profile.region if profile and profile.region else org.region),
        sdgs=sdgs,
        text=profile.text if profile else "",
    )
    data = [
        ChallengeData(
            id=c.id,
            title=c.title,
            area=c.area.value,
            sdgs=list(c.sdgs or []),
            region=c.region,
            eligible_kinds=list(c.eligible_kinds or []),
            eligible_regions=list(c.eligible_regions or []),
            text=f"{c.title}\n{c.summary}\n{c.problem_statement}",
        )
        for c in challenges
    ]
    by_id = {c.id: c for c in challenges}
    ranked = rank_challenges(applicant, data, settings.recommendation_weights, limit=limit)
    return [(r, by_id[r.challenge.id]) for r in ranked]


async def challenges_for_page(
    organization_id: int, limit: int = 5, *, settings: Settings
) -> list[dict[str, Any]]:
    """ "Challenges for you" on the organization's page: each challenge with its reasons in
    the current language (empty for cities and investors)."""
    return [
        {
            "id": challenge.id,
            "title": challenge.title,
            "summary": challenge.summary,
            "closes_at": challenge.closes_at,
            "reasons": explain.render_all(r.reasons),
        }
        for r, challenge in await recommended_challenges(organization_id, limit, settings=settings)
    ]


# --- demo days -----------------------------------------------------------------------------


async def create_demo_day(ctx: Context, data: DemoDayIn) -> DemoDay:
    ids = [i.organization_id for i in data.investors] + [s.organization_id for s in data.startups]
    kinds = dict(await Organization.filter(id__in=ids).values_list("id", "kind"))
    for i in data.investors:
        if kinds.get(i.organization_id) != OrganizationKind.investor:
            raise ValidationFailed(
                fields={"investors": f"{i.organization_id}: not an investor organization"}
            )
    for s in data.startups:
        if kinds.get(s.organization_id) not in APPLICANT_KINDS:
            raise ValidationFailed(
                fields={"startups": f"{s.organization_id}: not a startup organization"}
            )
    day = await DemoDay.create(
        title=data.title,
        starts_at=data.starts_at,
        slot_minutes=data.slot_minutes,
        investors=[i.model_dump() for i in data.investors],
        startups=[s.model_dump() for s in data.startups],
        created_by_id=ctx.actor.user.id if ctx.actor.user else None,
    )
    await audit.record(ctx, "matching.demo_day.created", object_type="demo_day", object_id=day.id)
    enqueue("matching.schedule_demo_day", job_id=f"demo-day-{day.id}", demo_day_id=day.id)
    return day


async def schedule_demo_day(demo_day_id: int, *, settings: Settings) -> int:
    """Compute and store a demo day's meetings (scores from the current profiles and
    theses, whether or not the startups opted in to the deal flow). Returns their count."""
    day = await DemoDay.select_for_update().get_or_none(id=demo_day_id)
    if day is None:
        return 0
    investor_ids = [int(i["organization_id"]) for i in day.investors]
    startup_ids = [int(s["organization_id"]) for s in day.startups]
    corpus = await load_corpus()
    theses = {t.organization_id: t for t in await load_theses(investor_ids)}
    columns = [corpus.position[s] for s in startup_ids if s in corpus.position]
    sub = corpus.take(columns)
    scores = np.zeros((len(investor_ids), len(startup_ids)), dtype=np.float64)
    column_of = {sid: n for n, sid in enumerate(startup_ids)}
    rows = [n for n, i in enumerate(investor_ids) if i in theses]
    if rows and len(sub):
        block = scoring.ThesisBlock([theses[investor_ids[n]] for n in rows], corpus)
        scored = scoring.score_block(block, sub, settings.matching_weights)
        cols = [column_of[int(s)] for s in sub.ids]
        scores[np.ix_(rows, cols)] = scored.score
    meetings = assignment.assign(
        scores,
        [int(i["slots"]) for i in day.investors],
        [int(s["max_meetings"]) for s in day.startups],
    )
    day.meetings = [
        {
            "investor_id": investor_ids[m.investor],
            "startup_id": startup_ids[m.startup],
            "slot": m.slot,
            "score": round(m.score, 6),
        }
        for m in meetings
    ]
    day.total_score = round(assignment.total(meetings), 6)
    day.status = DemoDayStatus.scheduled
    day.scheduled_at = datetime.now(UTC)
    await day.save()
    return len(meetings)


def meeting_start(day: DemoDay, slot: int) -> datetime:
    return day.starts_at + timedelta(minutes=day.slot_minutes * slot)


def demo_day_csv(day: DemoDay, names: dict[int, str]) -> str:
    rows = []
    for m in day.meetings:
        start = meeting_start(day, int(m["slot"]))  # type: ignore[call-overload]
        rows.append(
            [
                m["slot"],
                start.isoformat(),
                (start + timedelta(minutes=day.slot_minutes)).isoformat(),
                names.get(int(m["investor_id"]), str(m["investor_id"])),  # type: ignore[call-overload]
                names.get(int(m["startup_id"]), str(m["startup_id"])),  # type: ignore[call-overload]
                m["score"],
            ]
        )
    return csv_export.write(["slot", "starts_at", "ends_at", "investor", "startup", "score"], rows)


def demo_day_ics(day: DemoDay, names: dict[int, str], *, host: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Civic Challenges//Demo day//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", day.title)
    for m in day.meetings:
        investor = names.get(int(m["investor_id"]), str(m["investor_id"]))  # type: ignore[call-overload]
        startup = names.get(int(m["startup_id"]), str(m["startup_id"]))  # type: ignore[call-overload]
        start = meeting_start(day, int(m["slot"]))  # type: ignore[call-overload]
        event = Event()
        event.add("uid", f"demo-day-{day.id}-{m['investor_id']}-{m['startup_id']}@{host}")
        event.add("summary", f"{day.title}: {investor} and {startup}")
        event.add("dtstart", start.astimezone(UTC))
        event.add("dtend", (start + timedelta(minutes=day.slot_minutes)).astimezone(UTC))
        event.add("dtstamp", (day.scheduled_at or day.created_at).astimezone(UTC))
        calendar.add_component(event)
    return calendar.to_ical()
