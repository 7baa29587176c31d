"""Demo-day assignment: capacities respected, total equal to a brute-force optimum."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from service.matching import assignment


def brute_force(scores: np.ndarray, slots: list[int], caps: list[int]) -> float:
    pairs = [(i, s) for i in range(scores.shape[0]) for s in range(scores.shape[1])]
    best = 0.0
    for chosen in itertools.product((0, 1), repeat=len(pairs)):
        per_investor = [0] * len(slots)
        per_startup = [0] * len(caps)
        total = 0.0
        for take, (i, s) in zip(chosen, pairs, strict=True):
            if take:
                per_investor[i] += 1
                per_startup[s] += 1
                total += max(scores[i, s], 0.0)
        if all(a <= b for a, b in zip(per_investor, slots, strict=True)) and all(
            a <= b for a, b in zip(per_startup, caps, strict=True)
        ):
            best = max(best, total)
    return best


def check_capacities(meetings: list[assignment.Meeting], slots: list[int], caps: list[int]) -> None:
    pairs = [(m.investor, m.startup) for m in meetings]
    assert len(set(pairs)) == len(pairs), "a pair meets twice"
    for i, limit in enumerate(slots):
        assert sum(1 for m in meetings if m.investor == i) <= limit
    for s, limit in enumerate(caps):
        assert sum(1 for m in meetings if m.startup == s) <= limit
    # Nobody is in two meetings in the same round.
    for key in ("investor", "startup"):
        seen = [(getattr(m, key), m.slot) for m in meetings]
        assert len(set(seen)) == len(seen)


@pytest.mark.parametrize("seed", range(12))
def test_total_equals_brute_force_optimum(seed: int) -> None:
    rng = random.Random(seed)
    n_i, n_s = rng.randint(1, 3), rng.randint(1, 4)
    scores = np.array([[rng.choice([0.0, rng.random()]) for _ in range(n_s)] for _ in range(n_i)])
    slots = [rng.randint(1, 3) for _ in range(n_i)]
    caps = [rng.randint(1, 3) for _ in range(n_s)]
    meetings = assignment.assign(scores, slots, caps)
    check_capacities(meetings, slots, caps)
    assert assignment.total(meetings) == pytest.approx(brute_force(scores, slots, caps))
    assert all(m.score > 0 for m in meetings)


def test_the_same_pair_never_meets_twice_even_when_it_would_pay() -> None:
    # One investor and one startup far better than the rest, both with room for two meetings:
    # the relaxation pairs them twice; the exact solution must not.
    scores = np.array([[0.9, 0.1], [0.2, 0.1]])
    slots, caps = [2, 2], [2, 2]
    meetings = assignment.assign(scores, slots, caps)
    check_capacities(meetings, slots, caps)
    assert assignment.total(meetings) == pytest.approx(brute_force(scores, slots, caps))


def test_larger_case_respects_capacities() -> None:
    rng = np.random.default_rng(3)
    scores = rng.random((40, 60))
    slots = rng.integers(1, 6, 40).tolist()
    caps = rng.integers(1, 4, 60).tolist()
    meetings = assignment.assign(scores, slots, caps)
    check_capacities(meetings, slots, caps)
    assert len(meetings) == min(sum(slots), sum(caps))


def test_column_generation_reaches_the_optimum_over_all_pairs() -> None:
    # Large enough that candidates are restricted; the LP over every pair is the yardstick.
    from scipy import sparse
    from scipy.optimize import linprog

    rng = np.random.default_rng(8)
    scores = rng.random((120, 150)) ** 3
    scores[:, :5] += 0.5  # popular startups: the best candidates are not enough
    slots = rng.integers(1, 5, 120).tolist()
    caps = rng.integers(1, 4, 150).tolist()
    meetings = assignment.assign(scores, slots, caps)
    check_capacities(meetings, slots, caps)
    pi, ps = np.nonzero(scores > 0)
    n = pi.size
    a_ub = sparse.csr_matrix(
        (np.ones(2 * n), (np.concatenate([pi, 120 + ps]), np.tile(np.arange(n), 2))),
        shape=(270, n),
    )
    full = linprog(-scores[pi, ps], A_ub=a_ub, b_ub=np.array(slots + caps, float), bounds=(0, 1))
    assert assignment.total(meetings) == pytest.approx(-full.fun, abs=1e-6)
