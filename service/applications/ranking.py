"""Ranking arithmetic: pure functions, no database.

Each review becomes one weighted score in [0, 10] (criterion weights sum to 100). An
application's score is the mean of its reviews' weighted scores; with normalisation, each
judge's weighted scores are first turned into z-scores over the applications that judge
scored, which removes a judge's habit of scoring high or low. Ties keep a stable order (by
application id). A spread between judges above `DISAGREEMENT` points is flagged.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass

DISAGREEMENT = 3.0


@dataclass(frozen=True)
class ScoredReview:
    judge_id: int
    application_id: int
    scores: dict[int, float]  # criterion id -> 0..10


@dataclass(frozen=True)
class Ranked:
    application_id: int
    rank: int
    score: float
    raw_mean: float
    reviews: int
    spread: float
    disagreement: bool
    per_criterion: dict[int, float]


def weighted(scores: dict[int, float], weights: dict[int, int]) -> float:
    total = sum(weights.values())
    return sum(weights[c] * scores.get(c, 0.0) for c in weights) / total


def _z_scores(values: dict[int, float]) -> dict[int, float]:
    if len(values) < 2:
        return dict.fromkeys(values, 0.0)
    mean = statistics.fmean(values.values())
    spread = statistics.pstdev(values.values())
    if spread == 0:
        return dict.fromkeys(values, 0.0)
    return {key: (value - mean) / spread for key, value in values.items()}


def rank(
    reviews: list[ScoredReview],
    weights: dict[int, int],
    application_ids: list[int],
    *,
    normalise: bool = False,
) -> list[Ranked]:
    by_judge: dict[int, dict[int, float]] = defaultdict(dict)
    for review in reviews:
        by_judge[review.judge_id][review.application_id] = weighted(review.scores, weights)
    adjusted: dict[int, list[float]] = defaultdict(list)
    raw: dict[int, list[float]] = defaultdict(list)
    for values in by_judge.values():
        transformed = _z_scores(values) if normalise else values
        for application_id, value in values.items():
            raw[application_id].append(value)
            adjusted[application_id].append(transformed[application_id])
    criteria: dict[int, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for review in reviews:
        for criterion, value in review.scores.items():
            criteria[review.application_id][criterion].append(value)
    rows = []
    for application_id in application_ids:
        scores = adjusted.get(application_id, [])
        raws = raw.get(application_id, [])
        spread = (max(raws) - min(raws)) if len(raws) > 1 else 0.0
        rows.append(
            (
                application_id,
                statistics.fmean(scores) if scores else float("-inf"),
                statistics.fmean(raws) if raws else 0.0,
                len(raws),
                spread,
                {c: round(statistics.fmean(v), 2) for c, v in criteria[application_id].items()},
            )
        )
    rows.sort(key=lambda row: (-row[1], row[0]))
    return [
        Ranked(
            application_id=app_id,
            rank=position + 1,
            score=round(score, 4) if score != float("-inf") else 0.0,
            raw_mean=round(raw_mean, 4),
            reviews=count,
            spread=round(spread, 2),
            disagreement=spread > DISAGREEMENT,
            per_criterion=per_criterion,
        )
        for position, (app_id, score, raw_mean, count, spread, per_criterion) in enumerate(rows)
    ]


@dataclass(frozen=True)
class Combined:
    """Experts' and a citizens' panel's scores side by side, combined by the panel's share."""

    application_id: int
    rank: int
    experts: float | None
    panel: float | None
    combined: float


def combine(
    experts: dict[int, float],
    panel: dict[int, float],
    application_ids: list[int],
    *,
    panel_share_pct: int,
) -> list[Combined]:
    """combined = (100 - share) % of the experts' mean + share % of the panel's mean.

    Both are weighted scores in [0, 10]. When one side has not scored an application, the
    other side's score stands alone (and the missing side is shown as none). Ties keep the
    order by application id.
    """
    share = panel_share_pct / 100
    rows = []
    for application_id in application_ids:
        expert = experts.get(application_id)
        citizens = panel.get(application_id)
        if expert is not None and citizens is not None:
            value = (1 - share) * expert + share * citizens
        else:
            value = expert if expert is not None else citizens if citizens is not None else 0.0
        rows.append((application_id, expert, citizens, round(value, 4)))
    rows.sort(key=lambda row: (-row[3], row[0]))
    return [
        Combined(
            application_id=app_id,
            rank=position + 1,
            experts=None if expert is None else round(expert, 4),
            panel=None if citizens is None else round(citizens, 4),
            combined=value,
        )
        for position, (app_id, expert, citizens, value) in enumerate(rows)
    ]
