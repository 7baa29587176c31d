"""Ranking arithmetic against hand-computed cases."""

from __future__ import annotations

import pytest

from service.applications.ranking import ScoredReview, rank, weighted

WEIGHTS = {1: 60, 2: 40}


def test_weighted_score() -> None:
    assert weighted({1: 8, 2: 6}, WEIGHTS) == pytest.approx(7.2)
    assert weighted({1: 10, 2: 0}, WEIGHTS) == pytest.approx(6.0)


def test_mean_over_judges_with_counts_and_disagreement() -> None:
    reviews = [
        ScoredReview(1, 10, {1: 8, 2: 6}),  # 7.2
        ScoredReview(2, 10, {1: 6, 2: 6}),  # 6.0
        ScoredReview(1, 11, {1: 5, 2: 5}),  # 5.0
        ScoredReview(2, 11, {1: 9, 2: 9}),  # 9.0
    ]
    ranked = rank(reviews, WEIGHTS, [10, 11, 12])
    assert [r.application_id for r in ranked] == [11, 10, 12]
    by_id = {r.application_id: r for r in ranked}
    assert by_id[11].score == pytest.approx(7.0)
    assert by_id[10].score == pytest.approx(6.6)
    assert by_id[11].disagreement is True and by_id[11].spread == pytest.approx(4.0)
    assert by_id[10].disagreement is False
    assert by_id[12].reviews == 0 and by_id[12].rank == 3
    assert by_id[10].per_criterion == {1: 7.0, 2: 6.0}


def test_normalisation_removes_a_judges_generosity() -> None:
    # Judge 1 scores everything high, judge 2 low; both prefer application 20.
    reviews = [
        ScoredReview(1, 20, {1: 10, 2: 10}),  # 10
        ScoredReview(1, 21, {1: 8, 2: 8}),  # 8
        ScoredReview(2, 20, {1: 4, 2: 4}),  # 4
        ScoredReview(2, 21, {1: 2, 2: 2}),  # 2
        ScoredReview(2, 22, {1: 3, 2: 3}),  # 3, seen only by the harsh judge
    ]
    plain = rank(reviews, WEIGHTS, [20, 21, 22])
    assert [r.application_id for r in plain] == [20, 21, 22]
    normalised = {r.application_id: r for r in rank(reviews, WEIGHTS, [20, 21, 22], normalise=True)}
    # Judge 1: mean 9, sd 1 -> 20: +1, 21: -1. Judge 2: mean 3, sd sqrt(2/3) -> 20: +1.2247,
    # 21: -1.2247, 22: 0.
    assert normalised[20].score == pytest.approx((1 + 1.2247449) / 2, abs=1e-4)
    assert normalised[21].score == pytest.approx((-1 - 1.2247449) / 2, abs=1e-4)
    assert normalised[22].score == pytest.approx(0.0)
    assert [r.application_id for r in rank(reviews, WEIGHTS, [20, 21, 22], normalise=True)] == [
        20,
        22,
        21,
    ]


def test_ties_keep_a_stable_order() -> None:
    reviews = [ScoredReview(1, 31, {1: 5, 2: 5}), ScoredReview(1, 30, {1: 5, 2: 5})]
    assert [r.application_id for r in rank(reviews, WEIGHTS, [31, 30])] == [30, 31]
    assert [r.rank for r in rank(reviews, WEIGHTS, [31, 30])] == [1, 2]
