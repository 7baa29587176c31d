"""A straightforward, pair-by-pair restatement of the scoring in service/matching/scoring.py.

Written from the rules in that module's docstring, with plain Python loops and no numpy, so
that the vectorised batch can be checked against it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from scipy import sparse

from service.matching.scoring import StartupData, ThesisData
from service.matching.text import TextSpace

STAGES = ["idea", "pre_seed", "seed", "series_a", "series_b", "growth"]


def region_key(region: str) -> str:
    return " ".join(region.casefold().split())


def sector(thesis: ThesisData, startup: StartupData) -> float:
    if not thesis.sectors or not startup.sectors:
        return 0.0
    shared = len(set(thesis.sectors) & set(startup.sectors))
    return shared / min(len(set(thesis.sectors)), len(set(startup.sectors)))


def stage(thesis: ThesisData, startup: StartupData) -> float:
    if startup.stage is None or not thesis.stages:
        return 0.5
    here = STAGES.index(startup.stage)
    distance = min(abs(here - STAGES.index(s)) for s in thesis.stages)
    return max(0.0, 1.0 - distance / 3.0)


def ticket(thesis: ThesisData, startup: StartupData) -> float:
    ask = startup.funding_ask_minor
    if ask is None:
        return 0.5
    low, high = thesis.ticket_min_minor, thesis.ticket_max_minor
    if low is not None and ask < low:
        gap = math.log2(low) - math.log2(ask)
    elif high is not None and ask > high:
        gap = math.log2(ask) - math.log2(high)
    else:
        return 1.0
    return min(1.0, max(0.0, 1.0 - gap / 2.0))


def region(thesis: ThesisData, startup: StartupData) -> float:
    wanted = {region_key(r) for r in thesis.regions} - {""}
    if not wanted:
        return 0.5
    return 1.0 if region_key(startup.region) in wanted else 0.0


def text(space: TextSpace, thesis: ThesisData, startup: StartupData) -> float:
    a = sparse.csr_matrix(space.transform([thesis.text]))
    b = sparse.csr_matrix(space.transform([startup.text]))
    weights_a = dict(zip(a.indices.tolist(), a.data.tolist(), strict=True))
    total = 0.0
    for index, value in zip(b.indices.tolist(), b.data.tolist(), strict=True):
        total += weights_a.get(index, 0.0) * value
    return min(1.0, max(0.0, total))


def allowed(thesis: ThesisData, startup: StartupData) -> bool:
    if not startup.eligible:
        return False
    if thesis.regions_strict and thesis.regions and region(thesis, startup) != 1.0:
        return False
    return not (thesis.stages_strict and thesis.stages and stage(thesis, startup) != 1.0)


def components(space: TextSpace, thesis: ThesisData, startup: StartupData) -> dict[str, float]:
    return {
        "sector": sector(thesis, startup),
        "stage": stage(thesis, startup),
        "ticket": ticket(thesis, startup),
        "region": region(thesis, startup),
        "text": text(space, thesis, startup),
        "track": startup.track_score,
    }


def score(parts: Mapping[str, float], weights: Mapping[str, float]) -> float:
    total = sum(weights.values())
    return sum(weights[name] * parts[name] for name in weights) / total


def ranking(
    space: TextSpace,
    thesis: ThesisData,
    startups: Sequence[StartupData],
    weights: Mapping[str, float],
    k: int,
) -> list[tuple[int, float, dict[str, float]]]:
    """(startup id, score, components) of the best k allowed startups, best first."""
    rows = []
    for startup in startups:
        if not allowed(thesis, startup):
            continue
        parts = components(space, thesis, startup)
        rows.append((startup.organization_id, score(parts, weights), parts))
    rows.sort(key=lambda row: (-round(row[1], 10), row[0]))
    return rows[:k]
