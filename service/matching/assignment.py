"""Demo-day scheduling: which startup meets which investor, and when (pure functions).

The meetings maximise the total match score under the capacities: an investor has a number
of meeting slots, a startup a maximum number of meetings, and a pair meets at most once.
Capacities are expanded into slots (one row per investor slot, one column per startup meeting)
and solved with scipy's `linear_sum_assignment`. When one side meets once that is exact; else
the relaxation could pair the same two organizations twice; when it does not, its optimum is
the answer (it is feasible and nothing feasible scores more); when it does (or the problem is
large, where it nearly always does and the relaxation alone costs seconds), the problem is
solved as the linear program of a bipartite b-matching, whose constraint matrix is totally
unimodular, so the optimal vertex HiGHS returns is whole (by column generation from each
side's best candidates). Pairs scoring 0 (or refused) never meet.

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


def _solve(
    weights: np.ndarray, pi: np.ndarray, ps: np.ndarray, slots: Sequence[int], caps: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The b-matching LP on the candidate pairs (pi, ps): chosen flags and the duals."""
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
    duals = -np.asarray(result.ineqlin.marginals)
    return result.x > 0.5, duals[:m_i], duals[m_i:]


def _exact(weights: np.ndarray, slots: Sequence[int], caps: Sequence[int]) -> list[tuple[int, int]]:
    """The b-matching LP, by column generation: solved on each side's best candidates, then
    pairs whose score beats their two duals (so could improve the total) are added until
    none does, which proves the optimum over all pairs."""
    m_i, m_s = weights.shape
    positive = weights > 0
    if not positive.any():
        return []
    candidates = np.zeros_like(positive)
    width = min(m_s, max(slots) + max(caps) + 5)
    best = np.argpartition(-weights, width - 1, axis=1)[:, :width] if width < m_s else None
    if best is None:
        candidates[:] = True
    else:
        candidates[np.arange(m_i)[:, None], best] = True
    height = min(m_i, max(caps) + 5)
    if height < m_i:
        top = np.argpartition(-weights, height - 1, axis=0)[:height, :]
        candidates[top, np.arange(m_s)[None, :]] = True
    else:
        candidates[:] = True
    candidates &= positive
    while True:
        pi, ps = np.nonzero(candidates)
        chosen, u, v = _solve(weights, pi, ps, slots, caps)
        gain = weights - u[:, None] - v[None, :]
        missing = positive & ~candidates & (gain > 1e-9)
        if not missing.any():
            return [(int(pi[k]), int(ps[k])) for k in np.flatnonzero(chosen)]
        candidates |= missing


def assign(
    scores: np.ndarray,
    slots: Sequence[int],
    caps: Sequence[int],
) -> list[Meeting]:
    """The meetings that maximise the total score, laid out in rounds (`slot`)."""
    weights = np.where(np.isfinite(scores), np.maximum(scores, 0.0), 0.0).astype(np.float64)
    if max(slots, default=1) <= 1 or max(caps, default=1) <= 1:
        # One side meets once: the expansion cannot pair anyone twice, so it is exact.
        pairs = _relaxed(weights, slots, caps)
    else:
        pairs = _relaxed(weights, slots, caps) if weights.size <= 10_000 else []
        if not pairs or len(set(pairs)) != len(pairs):
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
