"""The panel lottery: quotas checked, the maximin distribution found, one panel drawn by seed.

Pure functions, no database. The method is Flanigan et al.'s maximally fair sortition (Nature,
2021): among all panels that meet the quotas, a lottery that makes the smallest selection
probability of any volunteer as large as possible (maximin). The distribution is computed by the
`sortition-algorithms` package (the Sortition Foundation's code, with Paul Gölz's algorithms),
a dependency under the GPL-3.0 that is never copied here, with the open HiGHS solver
(`highspy`), never Gurobi. This module turns our pool and quotas into the package's types,
reads its report of the quota relaxation that would make an impossible quota set feasible (to
name the value that falls short), and draws one panel from the distribution by a seed.

Everything a draw depends on is published: the seed, the quotas, the portfolio of panels (their
members by anonymous pool number) with their probabilities, and each volunteer's probability.
`sample` is the whole lottery: anyone can redo it from those. The package's search itself uses
fresh randomness, so two computations may find different optimal portfolios with the same
maximin value; the draw is reproducible from the published portfolio, not from the pool.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import highspy
from sortition_algorithms.committee_generation import (
    common,
    find_distribution_maximin,
    maximin,
    standardize_distribution,
)
from sortition_algorithms.committee_generation.solver import (
    HighsSolver,
    Solver,
    SolverSense,
    SolverStatus,
)
from sortition_algorithms.errors import InfeasibleQuotasError
from sortition_algorithms.features import FeatureValueMinMax
from sortition_algorithms.people import People

SOLVER = "highspy"  # the package's name for HiGHS

# HiGHS options for the package's integer programs. Each one picks a panel of a few dozen out of
# thousands of volunteers under a few quota rows; the LP relaxation is nearly integral and HiGHS
# proves the optimum at the root node. Its defaults spend most of a solve around that: presolve
# (reductions on a model that has almost none), the feasibility-jump heuristic before the first
# LP, and a restart after presolve. Off, a solve of the pool of 2,000 takes 0.023 s instead of
# 0.13 s, to the same optimality tolerance (the MIP gap is left at HiGHS' 0.01%).
HIGHS_OPTIONS: dict[str, Any] = {
    "presolve": "off",
    "mip_heuristic_run_feasibility_jump": False,
    "mip_allow_restart": False,
}

Quotas = Mapping[str, Mapping[str, tuple[int, int]]]  # feature -> value -> (min, max)
Progress = Callable[[str, int, int | None], None]  # (phase, step, total)

# The package's phases under the names the panel's page shows (see panels.pages.phase_label).
PHASES = {"multiplicative_weights": "cover", "maximin_optimization": "optimise"}


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
    """The lottery: a portfolio of panels that meet the quotas, each with its probability."""

    portfolio: list[tuple[tuple[int, ...], float]]  # (volunteer ids of a panel, probability)
    maximin: float  # the smallest probability of a volunteer some panel can seat
    probabilities: dict[int, float] = field(default_factory=dict)  # volunteer id -> probability

    def to_public(self, numbers: Mapping[int, int]) -> dict[str, Any]:
        """The distribution as published, volunteers by pool number, in the order `sample`
        walks it."""
        return {
            "maximin": self.maximin,
            "portfolio": [
                {"probability": probability, "members": sorted(numbers[v] for v in members)}
                for members, probability in self.portfolio
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


class _Reporter:
    """The package's progress reporter, passed on as (phase, step, total)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.phase = "start"
        self.total: int | None = None

    def start_phase(
        self, name: str, total: int | None = None, *, message: str | None = None
    ) -> None:
        self.phase = PHASES.get(name, name)
        self.total = total
        self.progress(self.phase, 0, total)

    def update(self, current: int, *, message: str | None = None) -> None:
        self.progress(self.phase, current, self.total)

    def end_phase(self) -> None:
        pass


class _TunedHighs(HighsSolver):
    """The package's HiGHS wrapper with HIGHS_OPTIONS, solving once per objective and reading
    each solution once.

    The package sets an objective and then optimizes; its wrapper sets the objective through
    highspy's maximize()/minimize(), which already solve, so every program was solved twice.
    Here setting the objective only sets it; `optimize` solves.
    """

    def __init__(
        self,
        verbose: bool = False,
        seed: int | None = None,
        time_limit: float | None = None,
        mip_gap: float | None = None,
    ) -> None:
        super().__init__(verbose=verbose, seed=seed, time_limit=time_limit, mip_gap=mip_gap)
        for name, value in HIGHS_OPTIONS.items():
            self._h.setOptionValue(name, value)
        self._solution: list[float] | None = None

    def optimize(self) -> SolverStatus:
        self._solution = None
        return super().optimize()

    def get_value(self, var: Any) -> float:
        # highspy's val() copies the whole solution for each variable it is asked about, and
        # the package asks about every volunteer after each solve: the solution is read once
        # per solve here (2,000 reads of 2,000 values made the warm start quadratic).
        if not isinstance(var, highspy.highs_var):
            return super().get_value(var)
        if self._solution is None:
            self._solution = list(self._h.getSolution().col_value)
        return float(self._solution[var.index])

    def set_objective(self, expr: Any, sense: SolverSense) -> None:
        self._objective_sense = sense
        senses = highspy.ObjSense
        direction = senses.kMaximize if sense == SolverSense.MAXIMIZE else senses.kMinimize
        self._h.setObjective(expr, direction)


_solver_factory = threading.Lock()


@contextmanager
def _tuned_solvers() -> Iterator[None]:
    """The package's solvers built as _TunedHighs while the lottery is computed.

    The package builds its solvers through create_solver(backend=...), named in the two modules
    the maximin computation uses; they are swapped for the time of one computation (one at a
    time), and given back after.
    """

    def create(
        backend: str = SOLVER,
        verbose: bool = False,
        seed: int | None = None,
        time_limit: float | None = None,
        mip_gap: float | None = None,
    ) -> Solver:
        if backend != SOLVER:
            raise ValueError(f"The panel lottery solves with HiGHS only, not {backend}.")
        return _TunedHighs(verbose=verbose, seed=seed, time_limit=time_limit, mip_gap=mip_gap)

    with _solver_factory:
        saved = common.create_solver, maximin.create_solver
        common.create_solver = maximin.create_solver = create
        try:
            yield
        finally:
            common.create_solver, maximin.create_solver = saved


def find_distribution(
    quotas: Quotas,
    volunteers: Mapping[int, Mapping[str, str]],
    size: int,
    *,
    progress: Progress | None = None,
) -> Distribution:
    """The maximin lottery over the panels of `size` that meet `quotas`, found by the package.

    Raises QuotaShort (naming the value) when no panel meets them.
    """
    check_quotas(quotas, volunteers, size)
    features, people = to_package(quotas, volunteers)
    reporter = _Reporter(progress or (lambda phase, step, total: None))
    try:
        with _tuned_solvers():
            committees, weights, _ = find_distribution_maximin(
                features, people, size, [], SOLVER, progress_reporter=reporter
            )
    except InfeasibleQuotasError as error:
        raise relaxation_short(quotas, error, size) from error
    committees, weights = standardize_distribution(committees, weights)
    # The package returns a set's order, which varies between processes: sorted, the
    # published portfolio is walked in the same order by anyone who redoes the draw.
    portfolio = sorted(
        (tuple(sorted(int(person) for person in committee)), weight)
        for committee, weight in zip(committees, weights, strict=True)
    )
    per_volunteer = dict.fromkeys(volunteers, 0.0)
    for members, weight in portfolio:
        for volunteer_id in members:
            per_volunteer[volunteer_id] += weight
    # A volunteer no panel can seat has probability 0 in every lottery (the package reports
    # them); the maximin value is over the others.
    seatable = [p for p in per_volunteer.values() if p > 0]
    return Distribution(
        portfolio=portfolio,
        maximin=min(seatable) if seatable else 0.0,
        probabilities=per_volunteer,
    )


def sample(distribution: Distribution, rng: random.Random) -> list[int]:
    """One lottery draw: a panel of the portfolio, chosen by its probability.

    Uses `rng.random()` once, walking the portfolio in its published order, so a seed fixes it.
    """
    point = rng.random()
    cumulative = 0.0
    chosen = distribution.portfolio[-1][0]
    for members, probability in distribution.portfolio:
        cumulative += probability
        if point < cumulative:
            chosen = members
            break
    return sorted(chosen)


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


def relaxation_short(quotas: Quotas, error: InfeasibleQuotasError, size: int) -> QuotaShort:
    """Name the quota to relax, from the package's relaxation of an infeasible quota set."""
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
    return QuotaShort("joint", "No panel of this size meets all the quotas together.", needed=size)


def to_package(quotas: Quotas, volunteers: Mapping[int, Mapping[str, str]]) -> tuple[Any, Any]:
    """The same pool in the package's own types (FeatureCollection, People)."""
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
