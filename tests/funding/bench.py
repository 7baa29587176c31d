"""Funding rounds benchmark: `python -m tests.funding.bench [--voters N] [--candidates M]`.

On a synthetic round (100,000 voters x 100 candidates by default: each voter approves 1 to 10
candidates, popularity skewed, costs from 5,000 to 200,000 €, budget 30% of their total) it
prints the time of the whole outcome (equal shares, add1 completion, greedy completion and
greedy beside it), how many runs the completion took and what it funded; then our plain rule
and pabutools' `method_of_equal_shares` on a smaller instance (20,000 x 40 by default), beside
each other, and whether they fund the same set. Figures only: nothing is asserted on time.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from service.funding import mes


def synthetic(voters: int, candidates: int, seed: int) -> mes.Election:
    rng = np.random.default_rng(seed)
    popularity = rng.dirichlet(np.full(candidates, 0.7))
    sizes = rng.integers(1, 11, size=voters)
    voter_of = np.repeat(np.arange(voters), sizes)
    candidate_of = rng.choice(candidates, size=int(sizes.sum()), p=popularity)
    pairs = np.unique(voter_of * candidates + candidate_of)
    costs = rng.integers(5, 200, size=candidates) * 1000_00
    budget = int(costs.sum() * 0.3)
    return mes.Election.from_pairs(costs, budget, voters, pairs // candidates, pairs % candidates)


def pabutools_time(election: mes.Election) -> tuple[float, list[int]]:
    from pabutools.election import ApprovalBallot, ApprovalProfile, Cost_Sat, Instance, Project
    from pabutools.rules import method_of_equal_shares
    from pabutools.tiebreaking import TieBreakingRule

    projects = [Project(str(j), int(c)) for j, c in enumerate(election.costs)]
    instance = Instance(projects, budget_limit=election.budget)
    ballots: list[set[Project]] = [set() for _ in range(election.voters)]
    for j in range(election.candidates):
        for voter in election.supporters(j):
            ballots[int(voter)].add(projects[j])
    profile = ApprovalProfile([ApprovalBallot(b) for b in ballots])
    votes = [int(v) for v in election.votes]
    ties = TieBreakingRule(lambda _i, _p, p: (-votes[int(p.name)], p.cost, int(p.name)))
    start = time.perf_counter()
    chosen = method_of_equal_shares(instance, profile, sat_class=Cost_Sat, tie_breaking=ties)
    return time.perf_counter() - start, sorted(int(p.name) for p in chosen)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=100_000)
    parser.add_argument("--candidates", type=int, default=100)
    parser.add_argument("--small-voters", type=int, default=20_000)
    parser.add_argument("--small-candidates", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    election = synthetic(args.voters, args.candidates, args.seed)
    start = time.perf_counter()
    result = mes.outcome(election, step=100)
    elapsed = time.perf_counter() - start
    spent = election.cost_of(result.funded)
    print(
        f"funding outcome, {args.voters:,} voters x {args.candidates} candidates "
        f"({len(election.approvers):,} approvals): {elapsed:.2f} s "
        f"(equal shares + add1 in {result.completion_runs} runs + greedy; target < 30 s)"
    )
    print(
        f"  funded {len(result.purchases)} by the shares + {len(result.completed)} from the "
        f"leftover, {spent / election.budget:.1%} of the budget; greedy alone funds "
        f"{len(result.greedy)}"
    )

    small = synthetic(args.small_voters, args.small_candidates, args.seed + 1)
    start = time.perf_counter()
    ours = mes.equal_shares(small)
    ours_time = time.perf_counter() - start
    print(
        f"equal shares alone, {args.small_voters:,} voters x {args.small_candidates} "
        f"candidates: ours {ours_time:.2f} s",
        flush=True,
    )
    try:
        theirs_time, theirs = pabutools_time(small)
    except ImportError:
        print("  pabutools is not installed (make install adds it): no comparison")
        return 0
    same = "same funded set" if theirs == sorted(ours.chosen) else "DIFFERENT funded sets"
    print(f"  pabutools 1.2.3: {theirs_time:.2f} s ({theirs_time / ours_time:.0f}x); {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
