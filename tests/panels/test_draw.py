"""The panel lottery without a database: quotas met, published probabilities matched by the
draws, the maximin value against the package's own algorithm, impossible quotas named."""

from __future__ import annotations

import random

import pytest
from scipy.stats import chi2

from service.applications.ranking import combine
from service.panels import draw
from tests.panels import reference_maximin

FEATURES = {
    "age": ["16-29", "30-44", "45-64", "65+"],
    "gender": ["woman", "man", "other"],
    "district": ["north", "south", "east"],
}


def pool(n: int, seed: int) -> dict[int, dict[str, str]]:
    rng = random.Random(seed)
    # Skewed: the young and the north volunteer more, as they do.
    weights = {"age": [4, 2, 2, 1], "gender": [5, 4, 1], "district": [3, 1, 1]}
    return {
        i: {f: rng.choices(values, weights=weights[f])[0] for f, values in FEATURES.items()}
        for i in range(1, n + 1)
    }


QUOTAS: draw.Quotas = {
    "age": {"16-29": (2, 3), "30-44": (2, 3), "45-64": (2, 4), "65+": (2, 3)},
    "gender": {"woman": (4, 6), "man": (4, 6), "other": (0, 2)},
    "district": {"north": (3, 4), "south": (3, 4), "east": (3, 4)},
}
SIZE = 10


@pytest.fixture(scope="module")
def volunteers() -> dict[int, dict[str, str]]:
    return pool(60, seed=7)


@pytest.fixture(scope="module")
def distribution(volunteers: dict[int, dict[str, str]]) -> draw.Distribution:
    return draw.find_distribution(QUOTAS, volunteers, SIZE)


class TestDistribution:
    def test_every_panel_of_the_portfolio_meets_every_quota(
        self, volunteers: dict[int, dict[str, str]], distribution: draw.Distribution
    ) -> None:
        assert abs(sum(p for _, p in distribution.portfolio) - 1) < 1e-9
        rng = random.Random(1)
        for _ in range(200):
            panel = draw.sample(distribution, rng)
            assert len(panel) == SIZE == len(set(panel))
            assert draw.meets(QUOTAS, volunteers, panel) == []

    def test_minimum_probability_is_the_maximin_value(
        self, volunteers: dict[int, dict[str, str]], distribution: draw.Distribution
    ) -> None:
        probabilities = distribution.probabilities
        assert set(probabilities) == set(volunteers)
        assert abs(min(probabilities.values()) - distribution.maximin) < 1e-7
        # Marginals add up to the panel's size.
        assert abs(sum(probabilities.values()) - SIZE) < 1e-6
        # The same value as an independent computation over groups of interchangeable
        # volunteers (within the package's stopping tolerance).
        reference = reference_maximin.maximin_value(QUOTAS, volunteers, SIZE)
        assert abs(reference - distribution.maximin) < 1e-3
        # Every volunteer can be seated by some panel here: nobody is left at 0.
        assert distribution.maximin > 0

    def test_2000_seeded_draws_match_the_published_probabilities(
        self, volunteers: dict[int, dict[str, str]], distribution: draw.Distribution
    ) -> None:
        rng = random.Random(20260101)
        draws = 2000
        seen = dict.fromkeys(volunteers, 0)
        for _ in range(draws):
            for member in draw.sample(distribution, rng):
                seen[member] += 1
        expected = {v: p * draws for v, p in distribution.probabilities.items()}
        assert min(expected.values()) >= 5
        statistic = sum((seen[v] - expected[v]) ** 2 / expected[v] for v in volunteers)
        # Seats are drawn without replacement, which makes the statistic smaller than a
        # chi-square with n - 1 degrees of freedom: the test is conservative.
        p_value = chi2.sf(statistic, df=len(volunteers) - 1)
        assert p_value > 0.001, (statistic, p_value)
        # And a wrong claim is caught: the same counts against uniform probabilities.
        uniform = SIZE / len(volunteers) * draws
        wrong = sum((seen[v] - uniform) ** 2 / uniform for v in volunteers)
        assert chi2.sf(wrong, df=len(volunteers) - 1) < 0.001

    def test_a_seed_fixes_the_panel(self, distribution: draw.Distribution) -> None:
        assert draw.draw(distribution, 42) == draw.draw(distribution, 42)
        assert len({tuple(draw.draw(distribution, s)) for s in range(20)}) > 1


class TestRefusals:
    def test_each_impossible_quota_set_is_refused_with_what_is_short(
        self, volunteers: dict[int, dict[str, str]]
    ) -> None:
        cases: list[tuple[dict[str, dict[str, tuple[int, int]]], int, str, str]] = []
        few_other = sum(1 for v in volunteers.values() if v["gender"] == "other")
        too_many = {**QUOTAS, "gender": {**QUOTAS["gender"], "other": (few_other + 1, 9)}}
        cases.append((too_many, SIZE, "gender", "other"))
        mins = {**QUOTAS, "district": {"north": (4, 5), "south": (4, 5), "east": (4, 5)}}
        cases.append((mins, SIZE, "district", ""))
        maxes = {**QUOTAS, "age": {k: (0, 2) for k in QUOTAS["age"]}}
        cases.append((maxes, SIZE, "age", ""))
        cases.append((QUOTAS, 61, "", ""))
        # Each feature possible alone, not together: every "other" is a man of the north in
        # this pool, and the quotas want two "other" and no man of... the solver finds it.
        crafted = {
            1: {"age": "16-29", "gender": "other", "district": "north"},
            2: {"age": "16-29", "gender": "other", "district": "north"},
            **{i: {"age": "30-44", "gender": "woman", "district": "south"} for i in range(3, 10)},
        }
        joint = {
            "age": {"16-29": (0, 1), "30-44": (1, 4)},
            "gender": {"woman": (0, 4), "other": (2, 2), "man": (0, 0)},
            "district": {"north": (0, 4), "south": (0, 4)},
        }
        cases.append((joint, 4, "", ""))
        for quotas, size, feature, value in cases:
            pool_ = crafted if quotas is joint else volunteers
            with pytest.raises(draw.QuotaShort) as refused:
                draw.find_distribution(quotas, pool_, size)
            short = refused.value
            assert short.message
            if feature:
                assert short.feature == feature, short.message
            if value:
                assert short.value == value and value in short.message
        # The joint case names a value the package's relaxation would change.
        with pytest.raises(draw.QuotaShort) as refused:
            draw.find_distribution(joint, crafted, 4)
        assert (refused.value.feature, refused.value.value) in {
            ("age", "16-29"),
            ("gender", "other"),
        }, refused.value.message


class TestSolvers:
    def test_the_package_gets_its_own_solver_factory_back(
        self, volunteers: dict[int, dict[str, str]]
    ) -> None:
        """The tuned HiGHS solvers are lent to the package only while a lottery is computed,
        also when the computation ends in a refusal."""
        from sortition_algorithms.committee_generation import common, maximin

        own = common.create_solver, maximin.create_solver
        seen: list[object] = []

        def progress(phase: str, step: int, total: int | None) -> None:
            seen.append(common.create_solver)

        draw.find_distribution(QUOTAS, volunteers, SIZE, progress=progress)
        assert seen and all(factory is not own[0] for factory in seen)
        assert (common.create_solver, maximin.create_solver) == own
        crafted = {i: {"age": "16-29", "gender": "other", "district": "north"} for i in range(9)}
        short = {**QUOTAS, "age": {"16-29": (0, 9)}, "gender": {"other": (0, 9)}}
        short = {**short, "district": {"north": (0, 2)}}
        with pytest.raises(draw.QuotaShort):
            draw.find_distribution(short, crafted, 4)
        assert (common.create_solver, maximin.create_solver) == own

    def test_one_solve_per_objective(self) -> None:
        """Setting an objective does not solve (highspy's maximize() would): only optimize does."""
        import highspy
        from sortition_algorithms.committee_generation.solver import HighsSolver, SolverSense

        # The package's own wrapper solves as soon as the objective is set.
        theirs = HighsSolver()
        a = theirs.add_binary_var()
        theirs.set_objective(a, SolverSense.MAXIMIZE)
        assert theirs._h.getModelStatus() == highspy.HighsModelStatus.kOptimal

        solver = draw._TunedHighs()
        x = solver.add_binary_var()
        y = solver.add_binary_var()
        solver.add_constr(x + y <= 1)
        solver.set_objective(2 * x + y, SolverSense.MAXIMIZE)
        assert solver._h.getModelStatus() == highspy.HighsModelStatus.kNotset  # not solved yet
        solver.optimize()
        assert (solver.get_value(x), solver.get_value(y)) == (1.0, 0.0)
        solver.set_objective(x + 3 * y, SolverSense.MAXIMIZE)
        solver.optimize()
        assert (solver.get_value(x), solver.get_value(y)) == (0.0, 1.0)
        for name, value in draw.HIGHS_OPTIONS.items():
            assert solver._h.getOptionValue(name)[1] == value

    def test_replacement_keeps_the_quotas(
        self, volunteers: dict[int, dict[str, str]], distribution: draw.Distribution
    ) -> None:
        panel = draw.draw(distribution, 5)
        rest = {k: v for k, v in volunteers.items() if k not in panel}
        # The portfolio differs between computations (the package's search is randomised),
        # so the panel does too: the member who leaves is one whom somebody in the rest of the
        # pool can replace (the same features), as a re-draw that can succeed needs.
        leaving = next(m for m in panel if volunteers[m] in rest.values())
        kept = [m for m in panel if m != leaving]
        left = draw.remaining_quotas(QUOTAS, volunteers, kept)
        again = draw.find_distribution(left, rest, 1)
        new = draw.draw(again, 9)
        assert len(new) == 1 and new[0] != leaving and new[0] not in kept
        assert draw.meets(QUOTAS, volunteers, kept + new) == []


class TestCombine:
    def test_hand_computed_weights(self) -> None:
        # Experts 8.0 and 6.0; the panel 5.0 and 9.0; panel share 30 %:
        # A: 0.7 * 8 + 0.3 * 5 = 7.1; B: 0.7 * 6 + 0.3 * 9 = 6.9; C: experts only, 7.0.
        rows = combine({1: 8.0, 2: 6.0, 3: 7.0}, {1: 5.0, 2: 9.0}, [1, 2, 3], panel_share_pct=30)
        assert [(r.application_id, r.rank, r.combined) for r in rows] == [
            (1, 1, 7.1),
            (3, 2, 7.0),
            (2, 3, 6.9),
        ]
        assert rows[1].panel is None and rows[0].experts == 8.0 and rows[0].panel == 5.0
        # With a share of 60 % the panel turns the order of A and B round.
        rows = combine({1: 8.0, 2: 6.0}, {1: 5.0, 2: 9.0}, [1, 2], panel_share_pct=60)
        assert [(r.application_id, r.combined) for r in rows] == [(2, 7.8), (1, 6.2)]
