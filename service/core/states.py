"""One helper for the state machines of the areas: a table of allowed moves per status.

Each area declares its table next to its model (a challenge's life, an application, a
milestone, a proposal's answer, a panel, an intro request, an incubated project's pilot path)
as `Transitions(Status, {status: {targets}})`. The table is checked when the module loads:
every status of the enum is a key and every target is a status, so a status added to an enum
without a row fails at import, not in production. Services ask `allows` before they move an
object (with their own message, which says why in the area's words) or `check` where a move
that is not in the table can only be a bug. This module owns no table and imports no area.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from enum import Enum
from typing import Generic, TypeVar

from service.core.errors import Conflict
from service.core.i18n import gettext

S = TypeVar("S", bound=Enum)


class TransitionRefused(Conflict):
    """A move the state machine does not allow (answered 409)."""


class Transitions(Generic[S]):
    """The allowed moves between the statuses of one enum."""

    def __init__(self, statuses: type[S], moves: Mapping[S, Iterable[S]]) -> None:
        table = {current: frozenset(targets) for current, targets in moves.items()}
        missing = [s.name for s in statuses if s not in table]
        if missing:
            raise ValueError(f"{statuses.__name__}: no row for {', '.join(missing)}")
        strays = [
            repr(t) for targets in table.values() for t in targets if not isinstance(t, statuses)
        ]
        if strays or any(not isinstance(s, statuses) for s in table):
            raise ValueError(f"{statuses.__name__}: not a status of it: {strays}")
        self.statuses = statuses
        self._table = table

    def allows(self, current: S, target: S) -> bool:
        return target in self._table[current]

    def targets(self, current: S) -> frozenset[S]:
        return self._table[current]

    @property
    def terminal(self) -> frozenset[S]:
        """The statuses nothing leaves."""
        return frozenset(s for s, targets in self._table.items() if not targets)

    def __iter__(self) -> Iterator[S]:
        return iter(self._table)

    def check(self, current: S, target: S) -> S:
        """The target, when the table allows the move; else TransitionRefused (409)."""
        if not self.allows(current, target):
            raise TransitionRefused(
                gettext("This cannot go from “%(current)s” to “%(target)s”.")
                % {"current": current.value, "target": target.value}
            )
        return target
