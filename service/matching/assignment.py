"""Demo-day scheduling: which startup meets which investor, and when (pure functions).

The meetings maximise the total match score under the capacities: an investor has a number
of meeting slots, a startup a maximum number of meetings, and a pair meets at most once.
Capacities are expanded into slots (one row per investor slot, one column per startup meeting)
and solved with scipy's `linear_sum_assignment`. That relaxation could pair the same two
organizations twice; when it does not, its optimum is the answer (it is feasible and nothing
feasible scores more); when it does, the problem is solved as the linear program of a
bipartite b-matching, whose constraint matrix is totally unimodular, so the optimal vertex
HiGHS returns is whole. Pairs scoring 0 (or refused) never meet.

Times: meetings are then laid out in rounds so that nobody is in two places at once, each
meeting taking the earliest round free for both (best scores first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import linear_sum_assignment, linprog


@dataclass(frozen=True)
class Meeting:
    investor: int  # row index into the score matrix
    startup: int  # column index
    score: float
    slot: int = 0


def _relaxed(
    weights: np.ndarray, slots: Sequence[int], caps: Sequence[int]
) -> list[tuple[int, int]]:
    rows = np.repeat(np.arange(weights.shape[0]), np.asarray(slots, dtype=np.intp))
    cols = np.repeat(np.arange(weights.shape[1]), np.asarray(caps, dtype=np.intp))
    if rows.size == 0 or cols.size == 0:
        return []
    expanded = weights[np.ix_(rows, cols)]
    r, c = linear_sum_assignment(expanded, maximize=True)
    return [(int(rows[a]), int(cols[b])) for a, b in zip(r, c, strict=True) if expanded[a, b] > 0]


def _exact(weights: np.ndarray, slots: Sequence[int], caps: Sequence[int]) -> list[tuple[int, int]]:
    pi, ps = np.nonzero(weights > 0)
    if pi.size == 0:
        return []
    n = pi.size
    m_i, m_s = weights.shape
    data = np.ones(2 * n)
    row_idx = np.concatenate([pi, m_i + ps])
    col_idx = np.concatenate([np.arange(n), np.arange(n)])
    a_ub = sparse.csr_matrix((data, (row_idx, col_idx)), shape=(m_i + m_s, n))
    b_ub = np.concatenate([np.asarray(slots, float), np.asarray(caps, float)])
    result = linprog(-weights[pi, ps], A_ub=a_ub, b_ub=b_ub, bounds=(0, 1), method="highs-ds")
    if not result.success:  # pragma: no cover - a bounded feasible LP always solves
        raise RuntimeError(result.message)
    chosen = np.flatnonzero(result.x > 0.5)
    return [(int(pi[k]), int(ps[k])) for k in chosen]


def assign(
    scores: np.ndarray,
    slots: Sequence[int],
    caps: Sequence[int],
) -> list[Meeting]:
    """The meetings that maximise the total score, laid out in rounds (`slot`)."""
    weights = np.where(np.isfinite(scores), np.maximum(scores, 0.0), 0.0).astype(np.float64)
    pairs = _relaxed(weights, slots, caps)
    if len(set(pairs)) != len(pairs):
        pairs = _exact(weights, slots, caps)
    return layout([Meeting(i, s, float(weights[i, s])) for i, s in pairs])


def layout(meetings: Sequence[Meeting]) -> list[Meeting]:
    """Rounds for the meetings: the earliest free for both sides, best scores first."""
    busy_investor: dict[int, set[int]] = {}
    busy_startup: dict[int, set[int]] = {}
    placed = []
    for m in sorted(meetings, key=lambda m: (-m.score, m.investor, m.startup)):
        taken = busy_investor.setdefault(m.investor, set()) | busy_startup.setdefault(
            m.startup, set()
        )
        slot = 0
        while slot in taken:
            slot += 1
        busy_investor[m.investor].add(slot)
        busy_startup[m.startup].add(slot)
        placed.append(Meeting(m.investor, m.startup, m.score, slot))
    return sorted(placed, key=lambda m: (m.slot, m.investor, m.startup))


def total(meetings: Sequence[Meeting]) -> float:
    return float(sum(m.score for m in meetings))
