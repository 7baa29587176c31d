"""The state machines' tables, without a database: each is complete, and a move outside it is
refused with 409 by `check`."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import pytest

from service.applications.models import APPLICATION_TRANSITIONS, ApplicationStatus
from service.challenges.models import TRANSITIONS as CHALLENGE_TRANSITIONS
from service.core.states import TransitionRefused, Transitions
from service.incubation.models import TRANSITIONS as PILOT_PATH
from service.investors.models import INTRO_TRANSITIONS
from service.panels.models import TRANSITIONS as PANEL_TRANSITIONS
from service.participation.models import TRANSITIONS as PROPOSAL_TRANSITIONS
from service.rewards.models import MILESTONE_TRANSITIONS, MilestoneStatus


class Light(StrEnum):
    red = "red"
    green = "green"
    amber = "amber"


ALL: list[Transitions[Any]] = [
    CHALLENGE_TRANSITIONS,
    APPLICATION_TRANSITIONS,
    MILESTONE_TRANSITIONS,
    PROPOSAL_TRANSITIONS,
    PANEL_TRANSITIONS,
    INTRO_TRANSITIONS,
    PILOT_PATH,
]


def test_a_table_without_a_row_for_every_status_is_refused_when_declared() -> None:
    with pytest.raises(ValueError, match="no row for amber"):
        Transitions(Light, {Light.red: {Light.green}, Light.green: {Light.red}})


def test_a_target_that_is_not_a_status_is_refused_when_declared() -> None:
    with pytest.raises(ValueError, match="not a status"):
        Transitions(
            Light,
            {
                Light.red: {Light.green},
                Light.green: {MilestoneStatus.paid},  # type: ignore[arg-type]
                Light.amber: (),
            },
        )


def test_check_returns_an_allowed_target_and_refuses_the_rest_with_409() -> None:
    lights = Transitions(
        Light, {Light.red: {Light.green}, Light.green: {Light.amber}, Light.amber: {Light.red}}
    )
    assert lights.check(Light.red, Light.green) is Light.green
    with pytest.raises(TransitionRefused) as refused:
        lights.check(Light.red, Light.amber)
    assert refused.value.status_code == 409
    assert "red" in refused.value.detail and "amber" in refused.value.detail
    assert lights.terminal == frozenset()


@pytest.mark.parametrize("table", ALL, ids=lambda t: t.statuses.__name__)
def test_every_area_table_covers_its_statuses_and_has_an_end(table: Transitions[Any]) -> None:
    assert set(table) == set(table.statuses)
    # Every status can be reached from the first one, and some status is never left (or, for
    # milestones, every road leads to paid).
    first = next(iter(table.statuses))
    seen, todo = {first}, [first]
    while todo:
        for target in table.targets(todo.pop()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    assert seen == set(table.statuses)
    assert table.terminal or table is MILESTONE_TRANSITIONS


def test_money_moves_in_order() -> None:
    m = MilestoneStatus
    assert not MILESTONE_TRANSITIONS.allows(m.planned, m.approved)  # never without evidence
    assert not MILESTONE_TRANSITIONS.allows(m.submitted, m.released)  # never unapproved
    assert not MILESTONE_TRANSITIONS.allows(m.approved, m.paid)  # never unreleased
    assert MILESTONE_TRANSITIONS.allows(m.paid, m.approved)  # a reversed payout
    a = ApplicationStatus
    assert not APPLICATION_TRANSITIONS.allows(a.draft, a.awarded)
    assert APPLICATION_TRANSITIONS.terminal == {a.withdrawn, a.awarded, a.not_awarded}
