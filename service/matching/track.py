"""A startup's track record, derived from the other areas' data (never typed in by it).

Signals per organization: challenges applied to (submitted, as lead), won (awards), milestones
delivered (approved) and how many on time (submitted by their due date), payouts received (paid),
cities worked with (the challenges it won), and the judges' mean score (only when the startup
consents to share its scores). The score in [0, 1] weighs them with `TRACK_WEIGHTS`, each signal
capped so that a long history does not swamp everything else.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from tortoise.functions import Count

from service.challenges.models import Application, ApplicationStatus, Award, Review
from service.rewards.models import Milestone, Payout, PayoutStatus

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


async def signals_for(
    organization_ids: Iterable[int], *, consenting: Iterable[int] = ()
) -> dict[int, dict[str, Any]]:
    """Each organization's signals (a constant number of queries, whatever the count)."""
    ids = sorted(set(organization_ids))
    result: dict[int, dict[str, Any]] = {
        i: {
            "applied": 0,
            "wins": 0,
            "milestones_delivered": 0,
            "milestones_on_time": 0,
            "payouts": 0,
            "cities": 0,
            "judge_mean": None,
        }
        for i in ids
    }
    if not ids:
        return result
    applied = (
        await Application.filter(organization_id__in=ids, status__in=APPLIED_STATUSES)
        .annotate(n=Count("id"))
        .group_by("organization_id")
        .values_list("organization_id", "n")
    )
    for org_id, n in applied:
        result[int(org_id)]["applied"] = int(n)
    cities: dict[int, set[int]] = defaultdict(set)
    for org_id, city_id in await Award.filter(application__organization_id__in=ids).values_list(
        "application__organization_id", "challenge__organization_id"
    ):
        result[int(org_id)]["wins"] += 1
        cities[int(org_id)].add(int(city_id))
    for org_id, found in cities.items():
        result[org_id]["cities"] = len(found)
    for org_id, submitted_at, due_at in await Milestone.filter(
        award__application__organization_id__in=ids, approved_at__isnull=False
    ).values_list("award__application__organization_id", "submitted_at", "due_at"):
        row = result[int(org_id)]
        row["milestones_delivered"] += 1
        if submitted_at is not None and submitted_at <= due_at:
            row["milestones_on_time"] += 1
    paid = (
        await Payout.filter(organization_id__in=ids, status=PayoutStatus.paid)
        .annotate(n=Count("id"))
        .group_by("organization_id")
        .values_list("organization_id", "n")
    )
    for org_id, n in paid:
        result[int(org_id)]["payouts"] = int(n)
    consent = sorted(set(consenting) & set(ids))
    if consent:
        totals: dict[int, list[float]] = defaultdict(list)
        for org_id, scores in await Review.filter(
            application__organization_id__in=consent, conflict_of_interest=False
        ).values_list("application__organization_id", "scores"):
            for value in (scores or {}).values():
                totals[int(org_id)].append(float(value))
        for org_id, values in totals.items():
            if values:
                result[org_id]["judge_mean"] = round(sum(values) / len(values), 2)
    return result
