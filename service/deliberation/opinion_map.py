"""The opinion map of a conversation, computed from its votes with red-dwarf (the Polis math).

Pure: arrays of votes in, a plain `OpinionMapResult` out, no database. red-dwarf does the
mathematics (sparsity-aware PCA, k-means with the number of groups chosen by silhouette,
the per-group statistics, representative statements, priorities and group-aware
consensus); this module builds its vote matrix straight from integer arrays (a million
votes would not fit as a list of dicts in a small worker), and turns its data frames
into what the pages and the API show.

Votes are +1 agree, -1 disagree, 0 pass. Participants are numbered from 1 in each
conversation; the map never sees an account.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic.warnings import UnsupportedFieldAttributeWarning
from scipy.spatial import ConvexHull, QhullError
from sklearn.metrics import silhouette_score

# red-dwarf's own pydantic models (for loading Polis exports, unused here) declare a field
# option that pydantic 2.12 warns about at import; the warning says nothing about our use.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UnsupportedFieldAttributeWarning)
    from reddwarf.sklearn.cluster import PolisKMeans
    from reddwarf.utils.reducer.base import run_reducer
    from reddwarf.utils.stats import (
        calculate_comment_statistics_dataframes,
        is_significant,
        populate_priority_calculations_into_statements_df,
        priority_metric,
        select_representative_statements,
    )

AGREE, DISAGREE, PASS = 1, -1, 0
# Polis clusters only participants with at least this many votes (fewer if there are
# fewer statements): a couple of votes place a person nowhere in particular.
MIN_VOTES = 7
MAX_GROUPS = 5
PICK_MAX = 5
CONFIDENCE = 0.9
# Each consensus statement must be agreed (or disagreed) by at least this share of every group.
CONSENSUS_SHARE = 0.6
SILHOUETTE_SAMPLE = 4000
# A fixed seed: the same votes draw the same map.
SEED = 42


@dataclass(frozen=True)
class Votes:
    """Votes as parallel integer arrays (one vote per participant and statement)."""

    participant: NDArray[np.int64]
    statement: NDArray[np.int64]
    choice: NDArray[np.int8]

    @classmethod
    def of(cls, rows: list[tuple[int, int, int]]) -> Votes:
        data = np.asarray(rows, dtype=np.int64).reshape(-1, 3)
        return cls(data[:, 0], data[:, 1], data[:, 2].astype(np.int8))

    def __len__(self) -> int:
        return int(self.participant.shape[0])


@dataclass
class OpinionMapResult:
    participant_count: int
    vote_count: int
    # Participants placed on the map: [number, x, y, group] (group -1: too few votes to group).
    points: list[list[float]] = field(default_factory=list)
    # One entry per group: id, size, hull (the outline, [[x, y], ...]) and representative
    # statements ({"statement", "direction", "share", "others_share", "repness"}).
    groups: list[dict[str, Any]] = field(default_factory=list)
    # {"statement", "direction", "shares": [share in each group], "score"}.
    consensus: list[dict[str, Any]] = field(default_factory=list)
    # {statement id: {"agree", "disagree", "pass", "priority", "split"}}.
    statements: dict[int, dict[str, float]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "participant_count": self.participant_count,
            "vote_count": self.vote_count,
            "points": self.points,
            "groups": self.groups,
            "consensus": self.consensus,
            "statements": {str(k): v for k, v in self.statements.items()},
        }


def vote_matrix(votes: Votes) -> pd.DataFrame:
    """Participants (rows) by statements (columns), NaN where a person did not vote."""
    people, rows = np.unique(votes.participant, return_inverse=True)
    statements, cols = np.unique(votes.statement, return_inverse=True)
    matrix = np.full((people.size, statements.size), np.nan, dtype=np.float64)
    matrix[rows, cols] = votes.choice
    return pd.DataFrame(
        matrix,
        index=pd.Index(people, name="participant_id"),
        columns=pd.Index(statements, name="statement_id"),
    )


def _hull(points: NDArray[np.float64]) -> list[list[float]]:
    if len(points) < 3:
        return [[round(float(x), 3), round(float(y), 3)] for x, y in points]
    try:
        hull = ConvexHull(points)
    except QhullError:  # all on one line: the two ends outline it
        order = np.lexsort((points[:, 1], points[:, 0]))
        points = points[[order[0], order[-1]]]
        return [[round(float(x), 3), round(float(y), 3)] for x, y in points]
    return [[round(float(x), 3), round(float(y), 3)] for x, y in points[hull.vertices]]


def _groups(points: NDArray[np.float64], max_groups: int) -> NDArray[np.int64]:
    """k-means groups, k from 2 to `max_groups` by the best silhouette.

    The search of red-dwarf's `find_best_kmeans` (its `PolisKMeans` with the Polis start, each
    k scored by its silhouette), fitting each k once where its grid search fits twice. The
    silhouette compares every pair of people, so above `SILHOUETTE_SAMPLE` people (33,547
    would be 1.1 billion pairs per k) each k is scored, as scikit-learn allows, on a fixed
    random sample of that many; the groups themselves are always fitted on everyone.
    """
    sample = SILHOUETTE_SAMPLE if points.shape[0] > SILHOUETTE_SAMPLE else None
    best: tuple[float, NDArray[np.int64]] | None = None
    for k in range(2, max_groups + 1):
        fitted = PolisKMeans(n_clusters=k, init="polis", random_state=SEED).fit(points)
        labels = np.asarray(fitted.labels_, dtype=np.int64)
        if np.unique(labels).size < 2:
            continue
        score = float(silhouette_score(points, labels, sample_size=sample, random_state=SEED))
        if best is None or score > best[0]:
            best = (score, labels)
    assert best is not None
    return best[1]


def compute(votes: Votes) -> OpinionMapResult:
    """The map: positions, groups, each group's statements, consensus and priorities."""
    vote_count = len(votes)
    if vote_count == 0:
        return OpinionMapResult(participant_count=0, vote_count=0)
    raw = vote_matrix(votes)
    result = OpinionMapResult(participant_count=int(raw.shape[0]), vote_count=vote_count)
    counts = _counts(raw)
    threshold = min(MIN_VOTES, raw.shape[1])
    clusterable = raw.notna().sum(axis=1).to_numpy() >= threshold
    if raw.shape[1] < 2 or clusterable.sum() < 4:
        # Too little to place anyone: the counts alone, and the newest first in line.
        result.statements = _plain_priorities(counts)
        return result
    xy, statement_xy, _ = run_reducer(vote_matrix=raw.to_numpy(), reducer="pca", random_state=SEED)
    assert statement_xy is not None
    # k-means needs as many distinct positions as groups (people who voted alike share
    # one), and the silhouette more people than groups.
    distinct = np.unique(np.round(xy[clusterable], 9), axis=0).shape[0]
    max_groups = min(MAX_GROUPS, distinct, int(clusterable.sum()) - 1)
    if max_groups < 2:
        result.statements = _plain_priorities(counts)
        return result
    labels = _groups(xy[clusterable], max_groups)
    group_of = np.full(raw.shape[0], -1, dtype=np.int64)
    group_of[clusterable] = labels
    numbers = raw.index.to_numpy()
    result.points = [
        [int(n), round(float(x), 3), round(float(y), 3), int(g)]
        for n, (x, y), g in zip(numbers, xy, group_of, strict=True)
    ]
    clustered = raw.loc[clusterable]
    grouped, gac = calculate_comment_statistics_dataframes(
        vote_matrix=clustered, cluster_labels=labels
    )
    repness = select_representative_statements(
        grouped_stats_df=grouped, pick_max=PICK_MAX, confidence=CONFIDENCE
    )
    group_ids = sorted(int(g) for g in set(labels.tolist()))
    shares = {gid: grouped.xs(gid, level="group_id")[["na", "nd", "ns"]] for gid in group_ids}
    result.consensus = _consensus(gac, shares, group_ids)
    agreed_by_all = {int(c["statement"]) for c in result.consensus}
    for gid in group_ids:
        members = xy[group_of == gid]
        picked = [_representative(row, gid, shares) for row in repness.get(gid, [])]
        result.groups.append(
            {
                "id": gid,
                "size": int(members.shape[0]),
                "hull": _hull(members),
                # Polis puts the statement a group agrees with most first even when the
                # others agree as much; a group's own statements are only those that set it
                # apart (never a consensus statement).
                "statements": [
                    r
                    for r in picked
                    if r["share"] > r["others_share"] and r["statement"] not in agreed_by_all
                ],
            }
        )
    result.statements = _priorities(raw, statement_xy, counts, shares)
    return result


def _counts(raw: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "agree": (raw == AGREE).sum(axis=0),
            "disagree": (raw == DISAGREE).sum(axis=0),
            "pass": (raw == PASS).sum(axis=0),
        }
    )


def _share(frame: pd.DataFrame, statement: int, direction: str) -> float:
    row = frame.loc[statement]
    seen = int(row["ns"])
    if seen == 0:
        return 0.0
    return float(row["na" if direction == "agree" else "nd"]) / seen


def _representative(
    row: dict[str, Any], gid: int, shares: dict[int, pd.DataFrame]
) -> dict[str, Any]:
    statement = int(row["tid"])
    # The group's best-agreed statement keeps red-dwarf's repful-for of its two ratios,
    # which can say "disagree" for a statement the group agrees with: it is an agreement.
    direction = "agree" if row.get("best-agree") else str(row["repful-for"])
    key = "na" if direction == "agree" else "nd"
    others = [f.loc[statement] for g, f in shares.items() if g != gid]
    seen = sum(int(o["ns"]) for o in others)
    return {
        "statement": statement,
        "direction": direction,
        "share": round(_share(shares[gid], statement, direction), 3),
        "others_share": round(sum(int(o[key]) for o in others) / seen, 3) if seen else 0.0,
        "repness": round(float(row["repness"]), 3),
    }


def _consensus(
    gac: pd.DataFrame, shares: dict[int, pd.DataFrame], group_ids: list[int]
) -> list[dict[str, Any]]:
    """Statements every group agrees with (or every group rejects), ranked by group-aware
    consensus: the product over groups of each group's (smoothed) probability of that vote,
    so a large group cannot outvote a small one."""
    found: list[dict[str, Any]] = []
    for direction, column, key in (
        ("agree", "group-aware-consensus-agree", "na"),
        ("disagree", "group-aware-consensus-disagree", "nd"),
    ):
        for statement, score in gac[column].sort_values(ascending=False).items():
            tid = int(statement)
            per_group = []
            for gid in group_ids:
                row = shares[gid].loc[tid]
                seen, hits = int(row["ns"]), int(row[key])
                # One-proportion z-test of Polis: is this group's majority significant?
                z = 2 * np.sqrt(seen + 1) * ((hits + 1) / (seen + 1) - 0.5)
                if seen == 0 or hits / seen < CONSENSUS_SHARE or not is_significant(z, CONFIDENCE):
                    break
                per_group.append(round(hits / seen, 3))
            else:
                found.append(
                    {
                        "statement": tid,
                        "direction": direction,
                        "shares": per_group,
                        "score": round(float(score), 4),
                    }
                )
            if sum(1 for f in found if f["direction"] == direction) >= PICK_MAX:
                break
    return found


def _priorities(
    raw: pd.DataFrame,
    statement_xy: NDArray[np.float64],
    counts: pd.DataFrame,
    shares: dict[int, pd.DataFrame],
) -> dict[int, dict[str, float]]:
    """Which statements to show next: red-dwarf's Polis priority (few votes and statements
    that move people apart score high) and how far the groups' agreement differs."""
    frame = pd.DataFrame(index=raw.columns)
    # Where one virtual agree-voter per statement lands (as Polis does): its extremity.
    frame["x"], frame["y"] = statement_xy[:, 0], statement_xy[:, 1]
    frame["is_meta"] = False
    frame = populate_priority_calculations_into_statements_df(frame, vote_matrix=raw)
    agree_shares = np.vstack(
        [
            (f["na"] / f["ns"].where(f["ns"] > 0)).reindex(raw.columns).to_numpy(dtype=float)
            for f in shares.values()
        ]
    )
    with np.errstate(invalid="ignore"):
        split = np.nan_to_num(np.nanmax(agree_shares, axis=0) - np.nanmin(agree_shares, axis=0))
    out: dict[int, dict[str, float]] = {}
    for i, tid in enumerate(raw.columns):
        out[int(tid)] = {
            "agree": int(counts.at[tid, "agree"]),
            "disagree": int(counts.at[tid, "disagree"]),
            "pass": int(counts.at[tid, "pass"]),
            "priority": round(float(frame.at[tid, "priority"]), 4),
            "split": round(float(split[i]), 3),
        }
    return out


def _plain_priorities(counts: pd.DataFrame) -> dict[int, dict[str, float]]:
    total = counts.sum(axis=1)
    prio = priority_metric(
        is_meta=np.zeros(len(counts), dtype=bool),
        n_agree=counts["agree"].to_numpy(),
        n_disagree=counts["disagree"].to_numpy(),
        n_total=total.to_numpy(),
        extremity=np.zeros(len(counts)),
    )
    return {
        int(tid): {
            "agree": int(counts.at[tid, "agree"]),
            "disagree": int(counts.at[tid, "disagree"]),
            "pass": int(counts.at[tid, "pass"]),
            "priority": round(float(p), 4),
            "split": 0.0,
        }
        for tid, p in zip(counts.index, prio, strict=True)
    }


def unseen_priority(agree: int, disagree: int, passed: int) -> float:
    """The priority of a statement the last map has not seen (new since): Polis's metric with
    no extremity known yet, so its newness counts most."""
    value = priority_metric(
        is_meta=False,
        n_agree=agree,
        n_disagree=disagree,
        n_total=agree + disagree + passed,
        extremity=0.0,
    )
    return float(np.asarray(value))
