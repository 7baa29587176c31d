"""An independent computation of the maximin value, for the tests: column generation over
groups of interchangeable volunteers on HiGHS.

Volunteers who declared exactly the same features are interchangeable for the quotas, so an
optimal lottery exists that gives them equal chances: a panel is then a count per group, and a
volunteer's probability is E[count of the group] / size of the group. With few features the
integer programs are small. The lottery itself is computed by `sortition-algorithms` over
individuals (service.panels.draw); the tests check that its smallest probability equals the
value found here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import highspy
import numpy as np

from service.panels.draw import Quotas, QuotaShort

# Stop the column generation when no panel improves the bound by more than this.
GAP = 1e-7


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
    # No thread count: HiGHS's scheduler is per process, and the package has started it.
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


def maximin_value(quotas: Quotas, volunteers: Mapping[int, Mapping[str, str]], size: int) -> float:
    """The largest smallest selection probability any lottery over the panels can give."""
    features = list(quotas)
    groups, members = _groups(features, volunteers)
    sizes = [len(m) for m in members]
    program = _PanelProgram(quotas, features, groups, sizes, size)
    assert program.best([1.0] * len(groups)) is not None, "no panel meets the quotas"
    columns: list[tuple[int, ...]] = []
    covered: list[int] = []
    for t in range(len(groups)):
        weights = [0.0] * len(groups)
        weights[t] = 1.0
        column = program.best(weights)
        assert column is not None
        if column[t] > 0:
            covered.append(t)
        if column not in columns:
            columns.append(column)
    while True:
        weights, bound = _dual(columns, covered, sizes)
        column = program.best([w / n for w, n in zip(weights, sizes, strict=True)])
        assert column is not None
        value = sum(weights[t] * column[t] / sizes[t] for t in covered)
        if value <= bound + GAP or column in columns:
            break
        columns.append(column)
    return _primal(columns, covered, sizes)[1]
