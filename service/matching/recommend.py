"""Challenges for an applicant organization, pure and vectorised over the open challenges.

Eligibility is a hard filter (the challenge's organization kinds and regions, when it lists
any). The score in [0, 1] is a weighted sum (settings' `recommendation_weights`, divided by
their sum) of: area (1 when the challenge's area is one of the organization's sectors, 0.5 when
it has none), SDG (shared goals over all goals of the two: the organization's are those of the
challenges it applied to), region (1 for the same region) and text (TF-IDF cosine of the
organization's description and the challenge's title, summary and problem statement).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from service.matching.scoring import NEUTRAL, norm_region
from service.matching.text import TextSpace

RECOMMENDATION_COMPONENTS = ("area", "sdg", "region", "text")


@dataclass(frozen=True)
class ChallengeData:
    id: int
    title: str
    area: str
    sdgs: Sequence[int] = ()
    region: str = ""
    eligible_kinds: Sequence[str] = ()
    eligible_regions: Sequence[str] = ()
    text: str = ""


@dataclass(frozen=True)
class ApplicantData:
    organization_id: int
    kind: str
    sectors: Sequence[str] = ()
    region: str = ""
    sdgs: Sequence[int] = ()
    text: str = ""


@dataclass
class Recommendation:
    challenge: ChallengeData
    score: float
    components: dict[str, float]
    reasons: list[dict[str, Any]] = field(default_factory=list)


def _weights(weights: Mapping[str, float]) -> dict[str, float]:
    total = sum(max(0.0, float(weights.get(n, 0.0))) for n in RECOMMENDATION_COMPONENTS)
    if total <= 0:
        raise ValueError("recommendation weights must have a positive sum")
    return {n: max(0.0, float(weights.get(n, 0.0))) / total for n in RECOMMENDATION_COMPONENTS}


def rank_challenges(
    applicant: ApplicantData,
    challenges: Sequence[ChallengeData],
    weights: Mapping[str, float],
    *,
    limit: int = 10,
) -> list[Recommendation]:
    if not challenges:
        return []
    w = _weights(weights)
    region = norm_region(applicant.region)
    eligible = np.array(
        [
            (not c.eligible_kinds or applicant.kind in c.eligible_kinds)
            and (not c.eligible_regions or region in {norm_region(r) for r in c.eligible_regions})
            for c in challenges
        ],
        dtype=bool,
    )
    sectors = set(applicant.sectors)
    areas = np.array([c.area for c in challenges])
    area = (
        np.isin(areas, sorted(sectors)).astype(np.float64)
        if sectors
        else np.full(len(challenges), NEUTRAL)
    )
    goals = np.zeros((len(challenges), 18), dtype=np.float64)
    for row, c in enumerate(challenges):
        goals[row, [g for g in c.sdgs if 0 < g < 18]] = 1.0
    mine = np.zeros(18, dtype=np.float64)
    mine[[g for g in applicant.sdgs if 0 < g < 18]] = 1.0
    shared = goals @ mine
    union = goals.sum(axis=1) + mine.sum() - shared
    sdg = np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)
    same_region = np.array([norm_region(c.region) for c in challenges]) == region
    region_score = (same_region & bool(region)).astype(np.float64)
    space = TextSpace.fit([c.text for c in challenges] + [applicant.text])
    rows = space.transform([c.text for c in challenges])
    own = space.transform([applicant.text])
    text = np.clip(np.asarray((rows @ own.T).todense()).ravel(), 0.0, 1.0)
    score = w["area"] * area + w["sdg"] * sdg + w["region"] * region_score + w["text"] * text
    keys = np.where(eligible, np.round(score, 10), -1.0)
    ids = np.array([c.id for c in challenges])
    order = [i for i in np.lexsort((ids, -keys)) if keys[i] >= 0][:limit]
    result = []
    for i in order:
        c = challenges[i]
        components = {
            "area": float(area[i]),
            "sdg": float(sdg[i]),
            "region": float(region_score[i]),
            "text": float(text[i]),
        }
        candidates: list[tuple[float, int, dict[str, Any]]] = []
        if components["area"] == 1.0:
            candidates.append((w["area"], 0, {"code": "area", "values": {"area": c.area}}))
        if components["sdg"] > 0:
            goals_shared = sorted(set(c.sdgs) & set(applicant.sdgs))
            candidates.append(
                (w["sdg"] * components["sdg"], 1, {"code": "sdg", "values": {"sdgs": goals_shared}})
            )
        if components["region"] == 1.0:
            candidates.append(
                (w["region"], 2, {"code": "region", "values": {"region": c.region.strip()}})
            )
        terms = space.shared_terms(rows[i], own)
        if components["text"] >= 0.05 and terms:
            candidates.append(
                (
                    w["text"] * components["text"],
                    3,
                    {"code": "description", "values": {"terms": terms}},
                )
            )
        candidates.sort(key=lambda item: (-item[0], item[1]))
        result.append(
            Recommendation(
                challenge=c,
                score=float(score[i]),
                components=components,
                reasons=[reason for _, _, reason in candidates[:3]],
            )
        )
    return result
