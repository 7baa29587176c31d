"""The opinion map's computation on planted groups, and the pure rules around it: which
statement comes next, and how criteria weights make room for residents' consensus."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime

import numpy as np
import pytest

from service.core.errors import ValidationFailed
from service.deliberation import opinion_map
from service.deliberation.models import Statement
from service.deliberation.service import Candidate, choose, rebalance, weights_of


def planted(
    sizes: list[int], statements: int, consensus: set[int], seed: int
) -> tuple[opinion_map.Votes, dict[int, int]]:
    """Synthetic participants in groups: each group has its own stance on every statement
    (opposite for two groups), except the consensus statements, which every group agrees
    with; each person follows their group's stance 90% of the time and skips a few."""
    rng = np.random.default_rng(seed)
    stances = rng.choice([-1, 1], size=(len(sizes), statements + 1))
    stances[1] = -stances[0]
    for s in consensus:
        stances[:, s] = 1
    rows: list[tuple[int, int, int]] = []
    truth: dict[int, int] = {}
    number = 0
    for group, size in enumerate(sizes):
        for _ in range(size):
            number += 1
            truth[number] = group
            for s in range(1, statements + 1):
                if rng.random() < 0.15:
                    continue  # not shown, or not voted yet
                roll = rng.random()
                value = (
                    int(stances[group, s])
                    if roll < 0.9
                    else (0 if roll < 0.95 else -int(stances[group, s]))
                )
                rows.append((number, s, value))
    return opinion_map.Votes.of(rows), truth


def recovered(found: dict[int, int], truth: dict[int, int]) -> float:
    """The share of people placed in the found group that most of their planted group is
    in, when each planted group has its own found group (0 otherwise)."""
    pairs = Counter((truth[n], g) for n, g in found.items())
    best = {}
    for (planted_group, group), count in pairs.most_common():
        best.setdefault(planted_group, (group, count))
    if len({g for g, _ in best.values()}) != len(best):
        return 0.0
    return sum(c for _, c in best.values()) / len(truth)


class TestPlantedGroups:
    @pytest.mark.parametrize(
        ("sizes", "consensus"),
        [([60, 40], {3, 7}), ([50, 35, 25], {2, 5, 11})],
        ids=["two groups", "three groups"],
    )
    def test_groups_and_consensus_are_recovered(
        self, sizes: list[int], consensus: set[int]
    ) -> None:
        votes, truth = planted(sizes, statements=16, consensus=consensus, seed=len(sizes))
        result = opinion_map.compute(votes)
        assert result.participant_count == sum(sizes)
        assert result.vote_count == len(votes)
        assert len(result.groups) == len(sizes)
        found = {int(p[0]): int(p[3]) for p in result.points}
        # A person who strays from their group now and then may land next to another one.
        assert recovered(found, truth) >= 0.97
        agreed = {c["statement"] for c in result.consensus if c["direction"] == "agree"}
        assert agreed == consensus
        for c in result.consensus:
            assert len(c["shares"]) == len(sizes) and min(c["shares"]) >= 0.6
        for group in result.groups:
            assert len(group["hull"]) >= 3
            # What sets a group apart is never something every group agreed on.
            assert group["statements"]
            assert not {r["statement"] for r in group["statements"]} & consensus
            for r in group["statements"]:
                assert r["share"] > r["others_share"]
        # Every voted statement has a priority for choosing what comes next.
        assert set(result.statements) == set(range(1, 17))

    def test_a_large_group_does_not_outvote_a_small_one(self) -> None:
        """A statement the big group loves and the small group rejects is no consensus,
        though most voters agree with it."""
        votes, _ = planted([90, 15], statements=12, consensus={4}, seed=5)
        result = opinion_map.compute(votes)
        agreed = {c["statement"] for c in result.consensus if c["direction"] == "agree"}
        assert agreed == {4}

    def test_unanimous_groups_show_only_what_sets_them_apart(self) -> None:
        """Two groups, each voting as one, both agreeing with statement 1: it is the
        consensus, and never listed as what sets a group apart (Polis puts a group's
        best-agreed statement first even when everyone agrees with it)."""
        rows = []
        stances = [(12, {1: 1, 2: 1, 3: -1, 4: 1}), (9, {1: 1, 2: -1, 3: 1, 4: -1})]
        number = 0
        for size, stance in stances:
            for _ in range(size):
                number += 1
                rows += [(number, s, v) for s, v in stance.items()]
        result = opinion_map.compute(opinion_map.Votes.of(rows))
        assert [(c["statement"], c["direction"]) for c in result.consensus] == [(1, "agree")]
        assert sorted(g["size"] for g in result.groups) == [9, 12]
        for group in result.groups:
            listed = {(r["statement"], r["direction"]) for r in group["statements"]}
            agreed = "agree" if group["size"] == 12 else "disagree"
            rejected = "disagree" if agreed == "agree" else "agree"
            assert listed == {(2, agreed), (4, agreed), (3, rejected)}
            assert all(r["share"] == 1.0 and r["others_share"] == 0.0 for r in group["statements"])

    def test_too_few_votes_give_counts_and_no_groups(self) -> None:
        votes = opinion_map.Votes.of([(1, 1, 1), (1, 2, -1), (2, 1, 1), (3, 2, 0)])
        result = opinion_map.compute(votes)
        assert result.groups == [] and result.consensus == []
        assert result.statements[1]["agree"] == 2 and result.statements[2]["pass"] == 1
        empty = opinion_map.compute(opinion_map.Votes.of([]))
        assert empty.participant_count == 0 and empty.statements == {}


def _statement(sid: int, agree: int = 0, disagree: int = 0) -> Statement:
    return Statement(
        id=sid,
        conversation_id=1,
        author_id=1,
        text=f"Statement {sid}",
        agree_count=agree,
        disagree_count=disagree,
        pass_count=0,
        created_at=datetime.now(UTC),
    )


class TestNextStatement:
    def test_fresh_and_dividing_statements_come_first(self) -> None:
        old, new = _statement(1, agree=300, disagree=300), _statement(2)
        rng = random.Random(3)
        picks = Counter(choose(weights_of([old, new], {}), rng).id for _ in range(400))  # type: ignore[union-attr]
        assert picks[2] > 300
        # With a map: the same counts, one statement splits the groups, the other does not.
        calm, split = _statement(3, agree=20, disagree=20), _statement(4, agree=20, disagree=20)
        stats = {
            "3": {"agree": 20, "disagree": 20, "pass": 0, "priority": 1.0, "split": 0.0},
            "4": {"agree": 20, "disagree": 20, "pass": 0, "priority": 1.0, "split": 0.9},
        }
        weights = {c.statement.id: c.weight for c in weights_of([calm, split], stats)}
        assert weights[4] > weights[3]
        assert choose([], rng) is None
        only = Candidate(calm, 1.0)
        assert choose([only], rng) is calm


class TestRebalance:
    def test_weights_make_room_and_still_add_up(self) -> None:
        cases = [([100], 1), ([50, 50], 2), ([40, 35, 25], 1), ([34, 33, 33], 3), ([1, 99], 2)]
        for weights, added in cases:
            shrunk = rebalance(weights, added)
            assert sum(shrunk) + added * 10 == 100, (weights, added, shrunk)
            assert all(w >= 1 for w in shrunk)
            # The order of importance is kept.
            assert sorted(range(len(weights)), key=lambda i: weights[i]) == sorted(
                range(len(shrunk)), key=lambda i: (shrunk[i], weights[i])
            )
        with pytest.raises(ValidationFailed):
            rebalance([10] * 10, 10)
