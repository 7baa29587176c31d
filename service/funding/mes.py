"""The Method of Equal Shares (Peters & Skowron) for approval ballots with cost utilities, its
"add1" completion, and the greedy rule it is compared with. Pure: no database, no IO.

The rule. Every voter starts with an equal share of the budget (`budget / voters`). A candidate
can be bought when its supporters together hold its cost; it is bought at the lowest price per
unit of utility rho: with cost utilities a supporter's utility is the cost, so each supporter
pays `min(their money left, alpha)` where `alpha = rho * cost`, and the payments add up to the
cost exactly. The candidate with the smallest rho (the smallest alpha / cost) is bought first;
its supporters' money goes down; repeat until no candidate is affordable.

Ties. rho is computed exactly (`fractions.Fraction`). When two candidates have exactly the same rho,
the one with more approvals wins, then the cheaper one, then the one listed first in the round.
The greedy rule uses the same order after the number of approvals (more approvals first).

Completion ("add1", as on equalshares.net and pabutools' `exhaustion_by_budget_increase`). Equal
shares usually leaves money unspent. The rule is run again with every share raised by one unit
of the currency (`step`), and again, as long as what it buys still fits in the real budget; the
last outcome that fits is kept (stopping early when it is exhaustive: no other candidate with at
least one approval fits in what is left). What is still left then goes to the remaining
candidates greedily, by approvals. A candidate without approvals is never funded.

How it is computed. Voters holding the same amount of money are interchangeable, so voters are
kept in classes by their exact money left (a `Fraction` per class, a class id per voter in a
numpy array). Each step counts every candidate's supporters per class in one `bincount`, and
finds every candidate's alpha at once in floating point from cumulative sums over the classes
sorted by money. The candidates whose rho is within the floating-point error of the smallest are
then priced exactly, over their classes, and the exact prices decide; affordability within the
error is decided exactly too. The voters who pay move to the class of their new amount.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

# Completion runs at most this many rounds of raised shares (each a full run of the rule);
# reached only when a share is tiny next to the costs. Documented as a limit of the completion.
MAX_COMPLETION_RUNS = 2000
# Relative error bound of the floating-point pass: sums of up to millions of terms stay far
# below it; every decision inside it is taken again with exact fractions.
_FLOAT_SLACK = 1e-9


@dataclass(frozen=True)
class Election:
    """Candidates' costs (minor units, > 0), the budget, and the approvals as pairs."""

    costs: np.ndarray
    budget: int
    voters: int
    # One entry per approval, sorted by candidate: `approvers[starts[j]:starts[j + 1]]` are the
    # voters who approve candidate j.
    approvers: np.ndarray
    starts: np.ndarray
    votes: np.ndarray

    @classmethod
    def build(cls, costs: Sequence[int], budget: int, ballots: Iterable[Iterable[int]]) -> Election:
        voter_of: list[int] = []
        candidate_of: list[int] = []
        n = 0
        for voter, ballot in enumerate(ballots):
            n = voter + 1
            for candidate in set(ballot):
                voter_of.append(voter)
                candidate_of.append(candidate)
        return cls.from_pairs(costs, budget, n, np.array(voter_of), np.array(candidate_of))

    @classmethod
    def from_pairs(
        cls,
        costs: Sequence[int] | np.ndarray,
        budget: int,
        voters: int,
        voter_of: np.ndarray,
        candidate_of: np.ndarray,
    ) -> Election:
        cost_array = np.asarray(costs, dtype=np.int64)
        m = len(cost_array)
        if budget < 0 or (m and int(cost_array.min()) <= 0):
            raise ValueError("costs must be positive and the budget not negative")
        voter_of = np.asarray(voter_of, dtype=np.int64)
        candidate_of = np.asarray(candidate_of, dtype=np.int64)
        if len(candidate_of) and (candidate_of.min() < 0 or candidate_of.max() >= m):
            raise ValueError("an approval names no candidate")
        if len(voter_of) and (voter_of.min() < 0 or voter_of.max() >= voters):
            raise ValueError("an approval names no voter")
        order = np.lexsort((voter_of, candidate_of))
        votes = np.bincount(candidate_of, minlength=m).astype(np.int64)
        starts = np.zeros(m + 1, dtype=np.int64)
        np.cumsum(votes, out=starts[1:])
        return cls(
            costs=cost_array,
            budget=int(budget),
            voters=int(voters),
            approvers=voter_of[order],
            starts=starts,
            votes=votes,
        )

    @property
    def candidates(self) -> int:
        return len(self.costs)

    def supporters(self, candidate: int) -> np.ndarray:
        return self.approvers[self.starts[candidate] : self.starts[candidate + 1]]

    def tie_key(self, candidate: int) -> tuple[int, int, int]:
        """Ties go to more approvals, then the lower cost, then the earlier candidate."""
        return (-int(self.votes[candidate]), int(self.costs[candidate]), candidate)

    def cost_of(self, chosen: Iterable[int]) -> int:
        return sum(int(self.costs[j]) for j in chosen)


@dataclass(frozen=True)
class Purchase:
    """A candidate bought by equal shares: each supporter paid `min(money left, price)`."""

    candidate: int
    price: Fraction
    # rho: the price per unit of utility (price / cost), the order of purchase.
    rho: Fraction
    # Supporters who paid the full price, and those who paid all they had left (and their total).
    full: int = 0
    partial: int = 0
    partial_total: Fraction = Fraction(0)


@dataclass(frozen=True)
class Run:
    share: Fraction
    purchases: list[Purchase]

    @property
    def chosen(self) -> list[int]:
        return [p.candidate for p in self.purchases]


@dataclass(frozen=True)
class Outcome:
    """Equal shares with its completion, and greedy beside it."""

    share: Fraction
    # The share before completion raised it (budget / voters).
    base_share: Fraction
    purchases: list[Purchase]
    # Added by greedy on the money left after the shares, in order.
    completed: list[int]
    # Equal shares alone, without completion.
    plain: list[int]
    greedy: list[int]
    completion_runs: int = 0
    funded: list[int] = field(default_factory=list)


class _Classes:
    """Voters grouped by the money they have left; class 0 holds the voters with none.

    A class is known by the purchases its voters paid the full price of (a 0/1 row of
    `paid`): its money is exactly `share - Σ price` over them. Voters who paid less than a
    price paid all they had and moved to class 0. So exact sums over many classes need only one
    integer product and one fraction per purchase so far.
    """

    def __init__(self, voters: int, share: Fraction, candidates: int) -> None:
        self.share = share
        self.share_f = float(share)
        self.prices: list[Fraction] = []
        self.prices_f = np.zeros(0)
        self.paid = np.zeros((2, max(candidates, 1)), dtype=np.int8)
        self.money_f = np.array([0.0, self.share_f])
        self.of = np.full(voters, 1 if share > 0 else 0, dtype=np.int64)

    def exact_sum(self, classes: np.ndarray, counts: np.ndarray) -> Fraction:
        """Σ count · money over the given classes (none of them class 0), exactly."""
        if not len(classes):
            return Fraction(0)
        voters = int(counts.sum())
        total = self.share * voters
        if self.prices:
            weights = counts.astype(np.int64) @ self.paid[classes, : len(self.prices)]
            for price, weight in zip(self.prices, weights.tolist(), strict=True):
                if weight:
                    total -= price * weight
        return total

    def exact_money(self, cls: int) -> Fraction:
        return self.exact_sum(np.array([cls]), np.array([1]))

    def present(self, supporters: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The classes (with money) among these voters, by money ascending, and their counts."""
        counts = np.bincount(self.of[supporters], minlength=len(self.money_f))
        counts[0] = 0
        ids = np.nonzero(counts)[0]
        order = np.argsort(self.money_f[ids], kind="stable")
        ids = ids[order]
        return ids, counts[ids]

    def pay(self, supporters: np.ndarray, price: Fraction) -> None:
        """Each supporter pays `min(money, price)`."""
        ids, _ = self.present(supporters)
        price_f = float(price)
        money = self.money_f[ids]
        keeps = money > price_f * (1 + _FLOAT_SLACK)
        unsure = np.nonzero(~keeps & (money >= price_f * (1 - _FLOAT_SLACK)))[0]
        for k in unsure:
            keeps[k] = self.exact_money(int(ids[k])) > price
        column = len(self.prices)
        self.prices.append(price)
        self.prices_f = np.append(self.prices_f, price_f)
        remap = np.arange(len(self.money_f))
        remap[ids] = 0
        kept = ids[keeps]
        new_ids = np.arange(len(self.money_f), len(self.money_f) + len(kept))
        remap[kept] = new_ids
        rows = self.paid[kept].copy()
        rows[:, column] = 1
        self.paid = np.concatenate([self.paid, rows])
        self.money_f = np.concatenate(
            [self.money_f, self.share_f - rows[:, : column + 1] @ self.prices_f]
        )
        self.of[supporters] = remap[self.of[supporters]]
        self._compact()

    def _compact(self) -> None:
        """Forget classes nobody is in any more (keeps the per-step work to live classes)."""
        used = np.bincount(self.of, minlength=len(self.money_f)) > 0
        used[0] = True
        if int(used.sum()) * 2 + 64 > len(self.money_f):
            return
        remap = np.cumsum(used) - 1
        self.of = remap[self.of]
        self.paid = self.paid[used]
        self.money_f = self.money_f[used]


@dataclass
class _Priced:
    candidate: int
    rho_f: float
    slack: float


def _float_price(
    election: Election, candidate: int, classes: _Classes
) -> tuple[float, float, float] | None:
    """alpha of a candidate in floating point, with its supporters' money and its error bound;
    None when they surely cannot pay it."""
    ids, counts = classes.present(election.supporters(candidate))
    cost = float(election.costs[candidate])
    if not len(ids):
        return None
    money = classes.money_f[ids]
    held = counts.astype(np.float64)
    spend = held * money
    total = float(spend.sum())
    slack = _FLOAT_SLACK * (1.0 + total / cost)
    if total < cost * (1 - slack):
        return None
    rich = np.cumsum(held[::-1])[::-1]
    poor = np.cumsum(spend) - spend
    alpha = (cost - poor) / rich
    fits = alpha <= money * (1 + slack)
    price = float(alpha[int(fits.argmax())]) if fits.any() else float(money[-1])
    return price, total, slack


def _exact_price(election: Election, candidate: int, classes: _Classes) -> Fraction | None:
    """alpha of one candidate exactly: the unique alpha with Σ min(money, alpha) = cost over its
    supporters; None when they cannot pay the cost."""
    ids, counts = classes.present(election.supporters(candidate))
    cost = Fraction(int(election.costs[candidate]))
    if not len(ids) or classes.exact_sum(ids, counts) < cost:
        return None
    money = classes.money_f[ids]
    held = counts.astype(np.float64)
    spend = held * money
    rich_f = np.cumsum(held[::-1])[::-1]
    alpha = (float(cost) - (np.cumsum(spend) - spend)) / rich_f
    fits = alpha <= money
    k = int(fits.argmax()) if fits.any() else len(ids) - 1
    # Classes below position k pay all they have, the others pay alpha; positions are only as
    # good as floats, so move k until the exact alpha sits between the two neighbours.
    while True:
        poor = classes.exact_sum(ids[:k], counts[:k])
        price = (cost - poor) / int(counts[k:].sum())
        if k > 0 and classes.exact_money(int(ids[k - 1])) > price:
            k -= 1
        elif k < len(ids) - 1 and classes.exact_money(int(ids[k])) < price:
            k += 1
        else:
            return price


def equal_shares(
    election: Election, share: Fraction | None = None, *, exclude: Iterable[int] = ()
) -> Run:
    """One run of the rule, every voter starting with `share` (default budget / voters).

    Candidates wait in a heap by a lower bound of their rho (rho only grows as voters spend):
    each step prices only those whose bound is below the best price found, as pabutools does.
    """
    if share is None:
        share = Fraction(election.budget, max(election.voters, 1))
    m = election.candidates
    purchases: list[Purchase] = []
    if election.voters == 0 or m == 0 or share <= 0:
        return Run(share, purchases)
    excluded = set(exclude)
    classes = _Classes(election.voters, share, m)
    heap: list[tuple[float, tuple[int, int, int], int]] = [
        (1.0 / float(election.votes[j]) * (1 - _FLOAT_SLACK), election.tie_key(j), j)
        for j in range(m)
        if election.votes[j] > 0 and j not in excluded
    ]
    heapq.heapify(heap)
    while heap:
        priced: list[_Priced] = []
        best = float("inf")
        while heap and heap[0][0] <= best:
            _, _, j = heapq.heappop(heap)
            found = _float_price(election, j, classes)
            if found is None:
                continue
            price_f, _, slack = found
            rho = price_f / float(election.costs[j])
            priced.append(_Priced(j, rho, slack))
            best = min(best, rho * (1 + slack))
        contenders: list[tuple[Fraction, tuple[int, int, int], int]] = []
        for item in priced:
            if item.rho_f * (1 - item.slack) <= best:
                price = _exact_price(election, item.candidate, classes)
                if price is None:
                    continue
                rho_exact = price / int(election.costs[item.candidate])
                contenders.append((rho_exact, election.tie_key(item.candidate), item.candidate))
            else:
                bound = item.rho_f * (1 - item.slack)
                heapq.heappush(heap, (bound, election.tie_key(item.candidate), item.candidate))
        if not contenders:
            continue
        contenders.sort()
        rho_exact, _, chosen = contenders[0]
        for rho_other, key, other in contenders[1:]:
            heapq.heappush(heap, (float(rho_other) * (1 - _FLOAT_SLACK), key, other))
        price = rho_exact * int(election.costs[chosen])
        supporters = election.supporters(chosen)
        ids, counts = classes.present(supporters)
        money_f = classes.money_f[ids]
        # Who pays the full price and who pays all they have left (exact at the boundary).
        full_mask = money_f >= float(price) * (1 + _FLOAT_SLACK)
        for k in np.nonzero(~full_mask & (money_f >= float(price) * (1 - _FLOAT_SLACK)))[0]:
            full_mask[k] = classes.exact_money(int(ids[k])) >= price
        partial_total = classes.exact_sum(ids[~full_mask], counts[~full_mask])
        purchases.append(
            Purchase(
                candidate=chosen,
                price=price,
                rho=rho_exact,
                full=int(counts[full_mask].sum()),
                partial=int(counts[~full_mask].sum()),
                partial_total=partial_total,
            )
        )
        classes.pay(supporters, price)
    return Run(share, purchases)


def exhaustive(election: Election, chosen: Iterable[int]) -> bool:
    """No candidate with an approval, not chosen, fits in what the chosen ones leave."""
    chosen_set = set(chosen)
    left = election.budget - election.cost_of(chosen_set)
    return not any(
        election.votes[j] > 0 and int(election.costs[j]) <= left
        for j in range(election.candidates)
        if j not in chosen_set
    )


def complete_add1(election: Election, step: int) -> tuple[Run, int]:
    """Equal shares with every share raised by `step` (minor units) while the outcome fits.

    Returns the kept run and how many runs it took.
    """
    voters = max(election.voters, 1)
    base = Fraction(election.budget, voters)
    previous = equal_shares(election, base)
    runs = 1
    if step <= 0 or exhaustive(election, previous.chosen):
        return previous, runs
    raise_by = 1
    # pabutools' bound: the budget may grow to budget * (voters + 1).
    while election.budget + raise_by * step * voters <= election.budget * (voters + 1):
        if runs >= MAX_COMPLETION_RUNS:
            break
        run = equal_shares(election, base + raise_by * step)
        runs += 1
        if election.cost_of(run.chosen) > election.budget:
            return previous, runs
        if exhaustive(election, run.chosen):
            return run, runs
        previous = run
        raise_by += 1
    return previous, runs


def greedy(
    election: Election, *, start: Sequence[int] = (), budget: int | None = None
) -> list[int]:
    """Candidates by approvals (ties as above), each taken when it fits in what is left.

    With `start`, only the other candidates are considered, in the money the start leaves.
    """
    left = (election.budget if budget is None else budget) - election.cost_of(start)
    taken = set(start)
    chosen: list[int] = []
    for j in sorted(range(election.candidates), key=election.tie_key):
        if j in taken or election.votes[j] == 0:
            continue
        if int(election.costs[j]) <= left:
            chosen.append(j)
            left -= int(election.costs[j])
    return chosen


def outcome(election: Election, *, step: int) -> Outcome:
    """Equal shares completed by add1 then greedy; plain equal shares and greedy beside it."""
    base = Fraction(election.budget, max(election.voters, 1))
    plain = equal_shares(election, base)
    kept, runs = complete_add1(election, step)
    completed = greedy(election, start=kept.chosen)
    return Outcome(
        share=kept.share,
        base_share=base,
        purchases=kept.purchases,
        completed=completed,
        plain=plain.chosen,
        greedy=greedy(election),
        completion_runs=runs,
        funded=kept.chosen + completed,
    )


def payments(
    run_share: Fraction, purchases: Sequence[Purchase], ballot: Iterable[int]
) -> list[tuple[int, Fraction]]:
    """What one voter with `ballot` paid towards each purchase (in order), replayed exactly."""
    approved = set(ballot)
    money = run_share
    paid: list[tuple[int, Fraction]] = []
    for purchase in purchases:
        if purchase.candidate in approved:
            amount = min(money, purchase.price)
            if amount > 0:
                money -= amount
                paid.append((purchase.candidate, amount))
    return paid
