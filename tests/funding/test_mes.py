"""The Method of Equal Shares: hand-computed instances (ties included), equality with pabutools
on random instances, and the shares' budget constraint. Pure: no database."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from pabutools.election import ApprovalBallot, ApprovalProfile, Cost_Sat, Instance, Project
from pabutools.rules import (
    exhaustion_by_budget_increase,
    greedy_utilitarian_welfare,
    method_of_equal_shares,
)
from pabutools.tiebreaking import TieBreakingRule

from service.funding import mes


def test_equal_shares_funds_the_minority_that_greedy_leaves_out() -> None:
    """10 voters, share 10. Six approve X1 and X2 (50 each), four approve Y (50).

    X1 and X2 tie at rho = 1/6 (approvals and costs equal): X1 is listed first. After X1 the six
    have 10 - 50/6 = 5/3 each, so X2 is out; Y's four hold 40 < 50. Completion raises the
    shares by 1: at 13 Y's four hold 52 and buy it at 12.5 each; X1 + Y = 100 is exhaustive.
    Greedy takes X1 and X2 (six approvals each).
    """
    ballots = [[0, 1]] * 6 + [[2]] * 4
    election = mes.Election.build([50, 50, 50], 100, ballots)
    plain = mes.equal_shares(election)
    assert plain.chosen == [0]
    assert plain.purchases[0].price == Fraction(25, 3)
    assert plain.purchases[0].rho == Fraction(1, 6)
    result = mes.outcome(election, step=1)
    assert result.plain == [0]
    assert [p.candidate for p in result.purchases] == [0, 2]
    assert result.share == 13
    assert result.completion_runs == 4
    assert result.purchases[1].price == Fraction(25, 2)
    assert result.greedy == [0, 1]
    assert result.completed == []
    # X1 and X2 are alike: whichever is listed first wins the tie.
    assert mes.equal_shares(mes.Election.build([50, 50, 50], 100, ballots)).chosen == [0]


def test_ties_go_to_more_approvals_then_lower_cost_then_the_list() -> None:
    # Cost: 4 voters, share 10. A (20) by v1, v2 and B (10) by v1, v3 both have rho = 1/2 and
    # two approvals: the cheaper B wins. Then A's supporters hold 5 + 10 < 20. C (10) by v4.
    election = mes.Election.build([20, 10, 10], 40, [[0, 1], [0], [1], [2]])
    run = mes.equal_shares(election)
    assert run.chosen == [1, 2]
    assert [p.rho for p in run.purchases] == [Fraction(1, 2), Fraction(1)]
    # Approvals: 8 voters, share 10. F (40) by v1, v6, v7, v8 goes first (rho 1/4) and empties
    # v1. Then D (20) by v1, v2, v3 costs 10 each to v2 and v3 (rho 1/2) and ties with E (20)
    # by v4, v5 (rho 1/2): D has three approvals to E's two, so D goes before E although E is
    # listed first.
    e, d, f = 0, 1, 2
    ballots = [[f, d], [d], [d], [e], [e], [f], [f], [f]]
    election = mes.Election.build([20, 20, 40], 80, ballots)
    run = mes.equal_shares(election)
    assert run.chosen == [f, d, e]
    assert [p.rho for p in run.purchases] == [Fraction(1, 4), Fraction(1, 2), Fraction(1, 2)]
    d_purchase = run.purchases[1]
    assert (d_purchase.full, d_purchase.partial, d_purchase.partial_total) == (2, 0, 0)
    # A voter's payments replay exactly: v1 paid all 10 to F, so nothing to D.
    assert mes.payments(run.share, run.purchases, ballots[0]) == [(f, 10)]
    assert mes.payments(run.share, run.purchases, ballots[1]) == [(d, 10)]


def test_unaffordable_and_unapproved_candidates_are_never_bought() -> None:
    # A (30) is approved by one voter holding 10; B (5) by nobody. Greedy skips B too.
    election = mes.Election.build([30, 5, 10], 30, [[0], [2], [2]])
    result = mes.outcome(election, step=1)
    assert result.plain == [2]
    assert 1 not in result.funded and 1 not in result.greedy
    # Completion: at share 30 the lone supporter of A could pay, but A + C = 40 > 30, so
    # the last outcome that fits (C alone) stays and greedy adds nothing that fits.
    assert result.funded == [2]
    with pytest.raises(ValueError, match="positive"):
        mes.Election.build([0], 10, [[0]])
    with pytest.raises(ValueError, match="no candidate"):
        mes.Election.build([5], 10, [[3]])
    assert mes.equal_shares(mes.Election.build([5], 10, [])).chosen == []


def _pabutools(
    costs: list[int], budget: int, ballots: list[list[int]], step: int
) -> tuple[list[int], list[int], list[int], list[int]]:
    """Plain MES, MES + add1, that completed by greedy, and greedy, by pabutools."""
    votes = [sum(1 for b in ballots if j in b) for j in range(len(costs))]
    projects = [Project(str(j), c) for j, c in enumerate(costs)]
    # Candidates nobody approved are left out: our completion never counts them (see mes).
    approved = [p for p in projects if votes[int(p.name)] > 0]
    instance = Instance(approved, budget_limit=budget)
    profile = ApprovalProfile([ApprovalBallot({projects[j] for j in b}) for b in ballots])
    ties = TieBreakingRule(lambda _i, _p, p: (-votes[int(p.name)], p.cost, int(p.name)))
    plain = method_of_equal_shares(instance, profile, sat_class=Cost_Sat, tie_breaking=ties)
    add1 = exhaustion_by_budget_increase(
        instance,
        profile,
        method_of_equal_shares,
        {"sat_class": Cost_Sat, "tie_breaking": ties},
        budget_step=step * len(ballots),
    )
    completed = greedy_utilitarian_welfare(
        instance, profile, sat_class=Cost_Sat, tie_breaking=ties, initial_budget_allocation=add1
    )
    greedy = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat, tie_breaking=ties)

    def ids(alloc: list[Project]) -> list[int]:
        return sorted(int(p.name) for p in alloc)

    return ids(plain), ids(add1), ids(completed), ids(greedy)


def _check_shares(election: mes.Election, run: mes.Run, ballots: list[list[int]]) -> None:
    """Every purchase is paid exactly; nobody pays more than the price or their share."""
    paid_for: dict[int, Fraction] = {p.candidate: Fraction(0) for p in run.purchases}
    price = {p.candidate: p.price for p in run.purchases}
    for ballot in ballots:
        paid = mes.payments(run.share, run.purchases, ballot)
        assert sum((a for _, a in paid), Fraction(0)) <= run.share
        for candidate, amount in paid:
            assert 0 <= amount <= price[candidate]
            assert candidate in ballot
            paid_for[candidate] += amount
    for candidate, total in paid_for.items():
        assert total == int(election.costs[candidate])


def test_same_funded_sets_as_pabutools_on_200_random_instances() -> None:
    rng = random.Random(20261207)
    for case in range(200):
        m = rng.randint(1, 7)
        n = rng.randint(1, 18)
        # Few distinct costs and shared ballots make exact ties frequent.
        costs = [rng.choice([10, 20, 30, 40, 60, 90]) for _ in range(m)]
        budget = rng.choice([40, 60, 100, 150])
        density = rng.choice([0.2, 0.4, 0.7])
        pool = [[j for j in range(m) if rng.random() < density] for _ in range(rng.randint(1, 5))]
        ballots = [list(rng.choice(pool)) for _ in range(n)]
        election = mes.Election.build(costs, budget, ballots)
        result = mes.outcome(election, step=1)
        plain, add1, completed, greedy = _pabutools(costs, budget, ballots, 1)
        kept = sorted(p.candidate for p in result.purchases)
        mine = (sorted(result.plain), kept, sorted(result.funded), sorted(result.greedy))
        assert mine == (plain, add1, completed, greedy), (case, costs, budget, ballots)
        _check_shares(election, mes.Run(result.share, result.purchases), ballots)
        assert election.cost_of(result.funded) <= budget
