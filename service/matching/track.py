"""A startup's track record, derived from the other areas' data (never typed in by it).

`track_records` is the one place its figures are defined and read (see `TrackRecord` for each
definition): challenges applied to, won, milestones delivered and how many on time, payouts
received, cities worked with, and the judges' mean score (only when the startup consents to
share its scores). The score in [0, 1] weighs them with `TRACK_WEIGHTS`, each signal
capped so that a long history does not swamp everything else.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tortoise.functions import Count

from service.applications.models import Application, ApplicationStatus, Award, Review
from service.rewards.models import Milestone, MilestoneStatus, Payout, PayoutStatus

# signal -> (weight, cap). Weights sum to 1.
TRACK_WEIGHTS: dict[str, tuple[float, float]] = {
    "wins": (0.30, 3),
    "applied": (0.15, 5),
    "on_time": (0.20, 1),
    "payouts": (0.10, 4),
    "cities": (0.10, 3),
    "judge": (0.15, 10),
}
APPLIED_STATUSES = [
    ApplicationStatus.submitted,
    ApplicationStatus.awarded,
    ApplicationStatus.not_awarded,
]
# A milestone the city approved is delivered (released and paid ones were approved first).
DELIVERED = (MilestoneStatus.approved, MilestoneStatus.released, MilestoneStatus.paid)


def track_score(signals: Mapping[str, Any]) -> float:
    """The track record in [0, 1] from its signals."""
    delivered = int(signals.get("milestones_delivered", 0) or 0)
    values = {
        "wins": float(signals.get("wins", 0) or 0),
        "applied": float(signals.get("applied", 0) or 0),
        "on_time": (int(signals.get("milestones_on_time", 0) or 0) / delivered)
        if delivered
        else 0.0,
        "payouts": float(signals.get("payouts", 0) or 0),
        "cities": float(signals.get("cities", 0) or 0),
        "judge": float(signals.get("judge_mean") or 0.0),
    }
    total = 0.0
    for name, (weight, cap) in TRACK_WEIGHTS.items():
        total += weight * min(values[name], cap) / cap
    return round(total, 12)


@dataclass(frozen=True)
class Win:
    """One challenge the organization won, with the delivered milestones of its award."""

    challenge_id: int
    title: str
    city_id: int
    city_name: str
    delivered: int


@dataclass
class TrackRecord:
    """An organization's track record: every figure the platform shows of it.

    Definitions (the one place they are made; the deal flow's reasons, its cards, the startup
    page, the API, the CSV and the ranking's score all read them from here):

    - applied: challenges it applied to as the lead applicant, the application submitted
      (submitted, awarded or not awarded; drafts and withdrawn ones do not count);
    - wins / challenges_won: challenges in which its application (as lead) was awarded, each
      challenge counted once;
    - milestones_delivered: milestones of those awards the city approved, whether or not
      released or paid since (status approved, released or paid);
    - milestones_on_time: of the delivered ones, those submitted by their due date;
    - payouts: payouts paid to it, from any award (as lead or as a consortium partner);
    - cities: the distinct city organizations whose challenges it won (by id; `city_names`
      gives their names, sorted);
    - judge_mean: the judges' mean score of its applications (out of 10, reviews without a
      conflict of interest), only when it consents to share its scores, else None.
    """

    organization_id: int
    applied: int = 0
    wins: list[Win] = field(default_factory=list)
    milestones_on_time: int = 0
    payouts: int = 0
    judge_mean: float | None = None

    @property
    def challenges_won(self) -> int:
        return len(self.wins)

    @property
    def milestones_delivered(self) -> int:
        return sum(w.delivered for w in self.wins)

    @property
    def cities(self) -> list[str]:
        """The names of the cities whose challenges it won, sorted, each city once."""
        return sorted({w.city_id: w.city_name for w in self.wins}.values())

    def signals(self) -> dict[str, Any]:
        """The figures as the ranking stores them (`StartupProfile.track`) and as a reason
        carries them (`explain.track_phrases`)."""
        return {
            "applied": self.applied,
            "wins": self.challenges_won,
            "milestones_delivered": self.milestones_delivered,
            "milestones_on_time": self.milestones_on_time,
            "payouts": self.payouts,
            "cities": len({w.city_id for w in self.wins}),
            "judge_mean": self.judge_mean,
        }


# Organizations read per round of queries: each query binds their ids, and PostgreSQL's
# protocol carries at most 32,767 parameters (the nightly run reads every startup).
CHUNK = 5_000


async def track_records(
    organization_ids: Iterable[int], *, consenting: Iterable[int] = ()
) -> dict[int, TrackRecord]:
    """Each organization's track record (a constant number of queries per CHUNK
    organizations); `consenting` names those whose judges' scores may be read."""
    ids = sorted(set(organization_ids))
    allowed = set(consenting)
    result: dict[int, TrackRecord] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        result |= await _track_records(chunk, sorted(allowed.intersection(chunk)))
    return result


async def _track_records(ids: list[int], consent: list[int]) -> dict[int, TrackRecord]:
    result = {i: TrackRecord(organization_id=i) for i in ids}
    if not ids:
        return result
    applied = (
        await Application.filter(organization_id__in=ids, status__in=APPLIED_STATUSES)
        .annotate(n=Count("challenge_id", distinct=True))
        .group_by("organization_id")
        .values_list("organization_id", "n")
    )
    for org_id, n in applied:
        result[int(org_id)].applied = int(n)
    delivered: dict[int, int] = defaultdict(int)
    for award_id, org_id, submitted_at, due_at in await Milestone.filter(
        award__application__organization_id__in=ids, status__in=list(DELIVERED)
    ).values_list("award_id", "award__application__organization_id", "submitted_at", "due_at"):
        delivered[int(award_id)] += 1
        if submitted_at is not None and submitted_at <= due_at:
            result[int(org_id)].milestones_on_time += 1
    won: dict[int, set[int]] = defaultdict(set)
    for row in (
        await Award.filter(application__organization_id__in=ids)
        .order_by("id")
        .values(
            "id",
            "challenge_id",
            "application__organization_id",
            "challenge__title",
            "challenge__organization_id",
            "challenge__organization__name",
        )
    ):
        org_id, challenge_id = int(row["application__organization_id"]), int(row["challenge_id"])
        if challenge_id in won[org_id]:
            continue
        won[org_id].add(challenge_id)
        result[org_id].wins.append(
            Win(
                challenge_id=challenge_id,
                title=str(row["challenge__title"]),
                city_id=int(row["challenge__organization_id"]),
                city_name=str(row["challenge__organization__name"]),
                delivered=delivered[int(row["id"])],
            )
        )
    paid = (
        await Payout.filter(organization_id__in=ids, status=PayoutStatus.paid)
        .annotate(n=Count("id"))
        .group_by("organization_id")
        .values_list("organization_id", "n")
    )
    for org_id, n in paid:
        result[int(org_id)].payouts = int(n)
    if consent:
        totals: dict[int, list[float]] = defaultdict(list)
        for org_id, scores in await Review.filter(
            application__organization_id__in=consent, conflict_of_interest=False
        ).values_list("application__organization_id", "scores"):
            for value in (scores or {}).values():
                totals[int(org_id)].append(float(value))
        for org_id, values in totals.items():
            if values:
                result[org_id].judge_mean = round(sum(values) / len(values), 2)
    return result


async def signals_for(
    organization_ids: Iterable[int], *, consenting: Iterable[int] = ()
) -> dict[int, dict[str, Any]]:
    """Each organization's track record as the ranking stores it (see `TrackRecord`)."""
    records = await track_records(organization_ids, consenting=consenting)
    return {org_id: record.signals() for org_id, record in records.items()}
