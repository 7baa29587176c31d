"""The panel lottery: quotas checked, the maximin distribution found, one panel drawn by seed.

Pure functions, no database. The method is Flanigan et al.'s maximally fair sortition (Nature,
2021) as the `sortition-algorithms` package implements it for individuals, solved with HiGHS:
among all panels that meet the quotas, a lottery that makes the smallest selection probability
of any volunteer as large as possible (maximin).

Volunteers who declared exactly the same features are interchangeable for the quotas, so an
optimal lottery exists that gives them equal chances. The column generation therefore runs over
these groups ("types"): a panel is a count per group, and the drawn panel takes that many
members of each group uniformly at random. A volunteer's probability is then exactly
E[count of the group] / size of the group. With four features a pool of 2,000 has at most a few
hundred groups, which keeps each integer program small; the package's own maximin (one binary
variable per volunteer) gives the same value and serves as the reference in the tests. The
programs are solved by HiGHS (`highspy`) directly; the package's report of the quota relaxation
that would make an impossible quota set feasible names the value that falls short.

Everything a draw depends on is published: the seed, the quotas, the groups under neutral labels
with their anonymous members, the portfolio of panels with their probabilities and each
volunteer's probability. `sample` is the whole lottery: anyone can redo it from those.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np

# Stop the column generation when no panel improves the bound by more than this.
GAP = 1e-7
# Portfolio entries with less probability than this are dropped (and the rest renormalised).
NEGLIGIBLE = 1e-9
SOLVER = "highspy"  # the package's name for HiGHS, for its relaxation report

Quotas = Mapping[str, Mapping[str, tuple[int, int]]]  # feature -> value -> (min, max)
Progress = Callable[[str, int, int | None], None]  # (phase, step, total)


class QuotaShort(ValueError):
    """No panel can meet the quotas; names the feature and value that falls short."""

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        feature: str = "",
        value: str = "",
        needed: int = 0,
        available: int = 0,
    ) -> None:
        super().__init__(message)
        # What falls short, for the message in the reader's language (see panels.service).
        self.kind = kind
        self.message = message
        self.feature = feature
        self.value = value
        self.needed = needed
        self.available = available

    def record(self) -> dict[str, Any]:
        """What falls short, as stored with the panel (the message is built when shown)."""
        return {
            "kind": self.kind,
            "message": self.message,
            "feature": self.feature,
            "value": self.value,
            "needed": self.needed,
            "available": self.available,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> QuotaShort:
        return cls(
            str(record.get("kind", "")),
            str(record.get("message", "")),
            feature=str(record.get("feature", "")),
            value=str(record.get("value", "")),
            needed=int(record.get("needed", 0)),
            available=int(record.get("available", 0)),
        )


@dataclass(frozen=True)
class Distribution:
    """The lottery: groups of interchangeable volunteers and a portfolio of panels."""

    features: list[str]
    groups: list[tuple[str, ...]]  # the feature values of each group, in `features` order
    members: list[list[int]]  # volunteer ids of each group, sorted
    portfolio: list[tuple[tuple[int, ...], float]]  # (count per group, probability)
    maximin: float  # the solver's optimal value
    probabilities: dict[int, float] = field(default_factory=dict)  # volunteer id -> probability
    iterations: int = 0

    def to_public(self, numbers: Mapping[int, int]) -> dict[str, Any]:
        """The distribution as published: groups by neutral label, volunteers by pool number."""
        return {
            "maximin": self.maximin,
            "groups": [
                {"label": f"G{i + 1}", "members": sorted(numbers[v] for v in members)}
                for i, members in enumerate(self.members)
            ],
            "portfolio": [
                {"probability": probability, "counts": list(counts)}
                for counts, probability in self.portfolio
            ],
        }


def counts_per_value(
    features: Sequence[str], volunteers: Mapping[int, Mapping[str, str]]
) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {f: {} for f in features}
    for values in volunteers.values():
        for f in features:
            counts[f][values[f]] = counts[f].get(values[f], 0) + 1
    return counts


def check_quotas(quotas: Quotas, volunteers: Mapping[int, Mapping[str, str]], size: int) -> None:
    """Refuse, naming what is short, quotas that plainly no panel can meet.

    The combined case (each feature possible alone, not together) is found by the solver and
    explained by `explain_infeasible`.
    """
    if size < 1:
        raise QuotaShort("size", "The panel needs at least one member.", needed=1, available=size)
    if len(volunteers) < size:
        raise QuotaShort(
            "pool_small",
            f"The panel needs {size} members and only {len(volunteers)} volunteered.",
            needed=size,
            available=len(volunteers),
        )
    counts = counts_per_value(list(quotas), volunteers)
    for feature, values in quotas.items():
        for value, (low, high) in values.items():
            available = counts[feature].get(value, 0)
            if low > high:
                raise QuotaShort(
                    "min_above_max",
                    f"{feature} = {value}: the minimum {low} is above the maximum {high}.",
                    feature=feature,
                    value=value,
                    needed=low,
                    available=high,
                )
            if available < low:
                raise QuotaShort(
                    "value_short",
                    f"{feature} = {value}: the quota needs at least {low} and only "
                    f"{available} volunteers have it.",
                    feature=feature,
                    value=value,
                    needed=low,
                    available=available,
                )
        unknown = [v for v in counts[feature] if v not in values]
        if unknown:
            raise QuotaShort(
                "unknown_value",
                f"{feature} = {unknown[0]}: volunteers have this value and it has no quota.",
                feature=feature,
                value=unknown[0],
            )
        lows = sum(low for low, _ in values.values())
        highs = sum(min(high, counts[feature].get(v, 0)) for v, (_, high) in values.items())
        if lows > size:
            raise QuotaShort(
                "mins_over",
                f"{feature}: the minimums add up to {lows}, more than the panel's {size} seats.",
                feature=feature,
                needed=lows,
                available=size,
            )
        if highs < size:
            short = max(
                values, key=lambda v: values[v][1] - min(values[v][1], counts[feature].get(v, 0))
            )
            raise QuotaShort(
                "maxes_under",
                f"{feature}: at most {highs} members can be seated within the maximums and the "
                f"pool, fewer than the panel's {size} seats (look at {short}).",
                feature=feature,
                value=short,
                needed=size,
                available=highs,
            )


def _groups(
    features: Sequence[str], volunteers: Mapping[int, Mapping[str, str]]
) -> tuple[list[tuple[str, ...]], list[list[int]]]:
    by_key: dict[tuple[str, ...], list[int]] = {}
    for volunteer_id in sorted(volunteers):
        key = tuple(volunteers[volunteer_id][f] for f in features)
        by_key.setdefault(key, []).append(volunteer_id)
    keys = sorted(by_key)
    return keys, [by_key[k] for k in keys]


def _highs() -> highspy.Highs:
    solver = highspy.Highs()
    solver.setOptionValue("output_flag", False)
    # HiGHS is deterministic for a given model and seed; fixing it keeps a draw reproducible.
    solver.setOptionValue("random_seed", 0)
    # One thread: the programs are small, and a worker shares the machine with the web processes.
    solver.setOptionValue("threads", 1)
    # Solve the pricing programs to optimality, so that the maximin value is exact.
    solver.setOptionValue("mip_rel_gap", 0.0)
    return solver


def _sum(terms: Any) -> Any:
    return highspy.Highs.qsum(terms)


class _PanelProgram:
    """The integer program of one feasible panel as counts per group; its objective changes."""

    def __init__(
        self,
        quotas: Quotas,
        features: list[str],
        groups: list[tuple[str, ...]],
        sizes: list[int],
        size: int,
    ) -> None:
        self.solver = _highs()
        kind = highspy.HighsVarType.kInteger
        self.x = [self.solver.addVariable(lb=0, ub=min(n, size), type=kind) for n in sizes]
        self.index = np.array([x.index for x in self.x], dtype=np.int32)
        self.solver.addConstr(_sum(self.x) == size)
        for position, feature in enumerate(features):
            for value, (low, high) in quotas[feature].items():
                chosen = [x for x, g in zip(self.x, groups, strict=True) if g[position] == value]
                if chosen:
                    self.solver.addConstr(_sum(chosen) >= low)
                    self.solver.addConstr(_sum(chosen) <= high)
                elif low > 0:
                    raise QuotaShort(
                        "value_short",
                        f"{feature} = {value}: the quota needs at least {low} and no volunteer "
                        "has it.",
                        feature=feature,
                        value=value,
                        needed=low,
                    )
        self.solver.changeObjectiveSense(highspy.ObjSense.kMaximize)

    def best(self, weights: Sequence[float]) -> tuple[int, ...] | None:
        costs = np.asarray(weights, dtype=np.float64)
        self.solver.changeColsCost(len(self.x), self.index, costs)
        self.solver.run()
        if self.solver.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        values = self.solver.getSolution().col_value
        return tuple(round(values[i]) for i in self.index)


def _dual(
    columns: list[tuple[int, ...]], covered: list[int], sizes: list[int]
) -> tuple[list[float], float]:
    """min w  s.t.  sum_t y_t c_t / n_t <= w for every known panel c, sum y = 1, y >= 0."""
    solver = _highs()
    w = solver.addVariable(lb=0.0, ub=highspy.kHighsInf)
    y = {t: solver.addVariable(lb=0.0, ub=1.0) for t in covered}
    solver.addConstr(_sum(y.values()) == 1)
    for column in columns:
        solver.addConstr(_sum(y[t] * (column[t] / sizes[t]) for t in covered if column[t]) <= w)
    solver.minimize(w)
    values = solver.getSolution().col_value
    if solver.getModelStatus() != highspy.HighsModelStatus.kOptimal:  # pragma: no cover
        raise RuntimeError(f"HiGHS: {solver.getModelStatus()}")
    weights = [0.0] * len(sizes)
    for t in covered:
        weights[t] = max(values[y[t].index], 0.0)
    return weights, values[w.index]


def _primal(
    columns: list[tuple[int, ...]], covered: list[int], sizes: list[int]
) -> tuple[list[float], float]:
    """max z  s.t.  sum_j p_j c_jt / n_t >= z for every covered group, sum p = 1, p >= 0."""
    solver = _highs()
    p = [solver.addVariable(lb=0.0, ub=1.0) for _ in columns]
    z = solver.addVariable(lb=0.0, ub=1.0)
    solver.addConstr(_sum(p) == 1)
    for t in covered:
        solver.addConstr(_sum(p[j] * (c[t] / sizes[t]) for j, c in enumerate(columns) if c[t]) >= z)
    solver.maximize(z)
    if solver.getModelStatus() != highspy.HighsModelStatus.kOptimal:  # pragma: no cover
        raise RuntimeError(f"HiGHS: {solver.getModelStatus()}")
    values = solver.getSolution().col_value
    return [max(values[v.index], 0.0) for v in p], values[z.index]


def find_distribution(
    quotas: Quotas,
    volunteers: Mapping[int, Mapping[str, str]],
    size: int,
    *,
    progress: Progress | None = None,
) -> Distribution:
    """The maximin lottery over the panels of `size` that meet `quotas`.

    Raises QuotaShort (naming the value) when no panel meets them.
    """
    check_quotas(quotas, volunteers, size)
    report = progress or (lambda phase, step, total: None)
    features = list(quotas)
    groups, members = _groups(features, volunteers)
    sizes = [len(m) for m in members]
    program = _PanelProgram(quotas, features, groups, sizes, size)
    if program.best([1.0] * len(groups)) is None:
        raise explain_infeasible(quotas, volunteers, size)
    # Start with, for every group, a panel that seats as many of it as possible: this finds the
    # groups no panel can include (their probability is 0, as in the package) and gives the
    # master problem columns that cover everyone else.
    columns: list[tuple[int, ...]] = []
    covered: list[int] = []
    for t in range(len(groups)):
        report("cover", t + 1, len(groups))
        weights = [0.0] * len(groups)
        weights[t] = 1.0
        column = program.best(weights)
        assert column is not None
        if column[t] > 0:
            covered.append(t)
        if column not in columns:
            columns.append(column)
    iterations = 0
    while True:
        iterations += 1
        weights, bound = _dual(columns, covered, sizes)
        column = program.best([w / n for w, n in zip(weights, sizes, strict=True)])
        assert column is not None
        value = sum(weights[t] * column[t] / sizes[t] for t in covered)
        report("optimise", iterations, None)
        if value <= bound + GAP or column in columns:
            break
        columns.append(column)
    probabilities, maximin = _primal(columns, covered, sizes)
    kept = [(c, p) for c, p in zip(columns, probabilities, strict=True) if p >= NEGLIGIBLE]
    total = sum(p for _, p in kept)
    portfolio = [(c, p / total) for c, p in kept]
    per_volunteer: dict[int, float] = {}
    for t, group_members in enumerate(members):
        expected = sum(p * c[t] for c, p in portfolio)
        for volunteer_id in group_members:
            per_volunteer[volunteer_id] = expected / sizes[t]
    return Distribution(
        features=features,
        groups=groups,
        members=members,
        portfolio=portfolio,
        maximin=maximin,
        probabilities=per_volunteer,
        iterations=iterations,
    )


def sample(distribution: Distribution, rng: random.Random) -> list[int]:
    """One lottery draw: a panel of the portfolio by its probability, then members uniformly.

    Uses `rng.random()` once, then `rng.sample` on each group in order, so a seed fixes it.
    """
    point = rng.random()
    cumulative = 0.0
    chosen = distribution.portfolio[-1][0]
    for counts, probability in distribution.portfolio:
        cumulative += probability
        if point < cumulative:
            chosen = counts
            break
    drawn: list[int] = []
    for members, count in zip(distribution.members, chosen, strict=True):
        if count:
            drawn.extend(rng.sample(members, count))
    return sorted(drawn)


def draw(distribution: Distribution, seed: int) -> list[int]:
    return sample(distribution, random.Random(seed))


def meets(
    quotas: Quotas, volunteers: Mapping[int, Mapping[str, str]], panel: Sequence[int]
) -> list[str]:
    """The quotas a panel breaks (empty when it meets them all)."""
    broken = []
    for feature, values in quotas.items():
        for value, (low, high) in values.items():
            seated = sum(1 for v in panel if volunteers[v][feature] == value)
            if not low <= seated <= high:
                broken.append(f"{feature} = {value}: {seated} seated, quota {low}-{high}")
    return broken


def remaining_quotas(
    quotas: Quotas, volunteers: Mapping[int, Mapping[str, str]], kept: Sequence[int]
) -> dict[str, dict[str, tuple[int, int]]]:
    """The quotas left for replacements once `kept` members stay seated."""
    left: dict[str, dict[str, tuple[int, int]]] = {}
    for feature, values in quotas.items():
        left[feature] = {}
        for value, (low, high) in values.items():
            seated = sum(1 for v in kept if volunteers[v][feature] == value)
            left[feature][value] = (max(low - seated, 0), max(high - seated, 0))
    return left


def explain_infeasible(
    quotas: Quotas, volunteers: Mapping[int, Mapping[str, str]], size: int
) -> QuotaShort:
    """Name the quota to relax, from the package's own relaxation of an infeasible quota set."""
    from sortition_algorithms.committee_generation.common import setup_committee_generation
    from sortition_algorithms.errors import InfeasibleQuotasError, SortitionBaseError

    features, people = to_package(quotas, volunteers)
    try:
        setup_committee_generation(features, people, size, [], SOLVER)
    except InfeasibleQuotasError as error:
        for feature, values in error.features.items():
            for value, relaxed in values.items():
                low, high = quotas[feature][value]
                if relaxed.min < low:
                    return QuotaShort(
                        "joint_min",
                        f"{feature} = {value}: no panel can seat the minimum {low} together with "
                        f"the other quotas; at most {relaxed.min} can be.",
                        feature=feature,
                        value=value,
                        needed=low,
                        available=relaxed.min,
                    )
                if relaxed.max > high:
                    return QuotaShort(
                        "joint_max",
                        f"{feature} = {value}: no panel can keep to the maximum {high} together "
                        f"with the other quotas; it needs at least {relaxed.max}.",
                        feature=feature,
                        value=value,
                        needed=relaxed.max,
                        available=high,
                    )
    except SortitionBaseError:
        pass
    return QuotaShort("joint", "No panel of this size meets all the quotas together.", needed=size)


def to_package(quotas: Quotas, volunteers: Mapping[int, Mapping[str, str]]) -> tuple[Any, Any]:
    """The same pool in the package's own types (FeatureCollection, People)."""
    from sortition_algorithms.features import FeatureValueMinMax
    from sortition_algorithms.people import People

    features: MutableMapping[str, MutableMapping[str, FeatureValueMinMax]] = {
        # The flex bounds say how far the relaxation report may move a quota: anywhere.
        f: {
            v: FeatureValueMinMax(min=low, max=high, min_flex=0, max_flex=len(volunteers))
            for v, (low, high) in values.items()
        }
        for f, values in quotas.items()
    }
    people = People([])
    for row, volunteer_id in enumerate(sorted(volunteers)):
        people.add(str(volunteer_id), dict(volunteers[volunteer_id]), features, row)
    return features, people
