"""Panel lottery benchmark: `python -m tests.panels.bench [--pool N] [--size K]`.

On a synthetic pool (2,000 volunteers by default, skewed as volunteering is: the young, women
and one district sign up more) with four features (age band, gender, district, housing) and
quotas from census shares, it prints the time `sortition-algorithms` takes (with HiGHS) to find
the maximin distribution of a panel of 40 (the whole job but the database writes), the
portfolio's size, the maximin value against the uniform share K/N and against an independent
computation over groups of interchangeable volunteers, and the time of 2,000 seeded draws from
the distribution with a check that every one meets every quota. `--pool 500` is a smaller run.
"""

from __future__ import annotations

import argparse
import random
import time

from service.panels import draw
from tests.panels import reference_maximin

CENSUS = {
    "age": {"16-29": 0.22, "30-44": 0.26, "45-64": 0.32, "65+": 0.20},
    "gender": {"woman": 0.51, "man": 0.48, "other": 0.01},
    "district": {f"district {i}": 0.125 for i in range(1, 9)},
    "housing": {"owner": 0.55, "tenant": 0.45},
}
# How much more often each first value volunteers than the census says.
SKEW = 1.8


def synthetic_pool(n: int, seed: int = 1) -> dict[int, dict[str, str]]:
    rng = random.Random(seed)
    pool = {}
    for i in range(1, n + 1):
        person = {}
        for feature, shares in CENSUS.items():
            values = list(shares)
            weights = [s * (SKEW if j == 0 else 1) for j, s in enumerate(shares.values())]
            person[feature] = rng.choices(values, weights=weights)[0]
        pool[i] = person
    return pool


def census_quotas(size: int) -> dict[str, dict[str, tuple[int, int]]]:
    """Quotas around the census share: floor and ceiling of the share, widened by one."""
    quotas: dict[str, dict[str, tuple[int, int]]] = {}
    for feature, shares in CENSUS.items():
        quotas[feature] = {}
        for value, share in shares.items():
            target = share * size
            quotas[feature][value] = (max(int(target) - 1, 0), int(target) + 2)
    return quotas


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pool", type=int, default=2000)
    parser.add_argument("--size", type=int, default=40)
    parser.add_argument("--draws", type=int, default=2000)
    args = parser.parse_args()
    pool = synthetic_pool(args.pool)
    quotas = census_quotas(args.size)
    started = time.perf_counter()
    distribution = draw.find_distribution(quotas, pool, args.size)
    solve = time.perf_counter() - started
    print(f"panel lottery: pool {args.pool}, 4 features, panel of {args.size}")
    print(f"  maximin distribution: {solve:.1f} s (budget 300 s)")
    print(f"  panels in the portfolio: {len(distribution.portfolio)}")
    started = time.perf_counter()
    reference = reference_maximin.maximin_value(quotas, pool, args.size)
    print(
        f"  the same value computed over groups of interchangeable volunteers: {reference:.5f} "
        f"({time.perf_counter() - started:.1f} s)"
    )
    print(
        f"  smallest chance (maximin): {distribution.maximin:.5f}; "
        f"uniform share K/N: {args.size / args.pool:.5f}; "
        f"largest chance: {max(distribution.probabilities.values()):.5f}"
    )
    rng = random.Random(2026)
    started = time.perf_counter()
    broken = 0
    for _ in range(args.draws):
        broken += bool(draw.meets(quotas, pool, draw.sample(distribution, rng)))
    sampled = time.perf_counter() - started
    print(f"  {args.draws} seeded draws: {sampled:.2f} s; draws breaking a quota: {broken}")


if __name__ == "__main__":
    main()
