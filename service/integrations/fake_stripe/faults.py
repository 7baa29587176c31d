"""Faults injected into the API: what the network and Stripe's edge can do to a request.

A rule names a route pattern (`"POST /v1/transfers"`, `"POST /v1/transfers/*/reversals"`,
`"* /v1/*"`; matched with fnmatch against both the concrete path and the route template such as
`/v1/transfers/{id}/reversals`) and either a scripted queue of faults (one per matching request,
`None` lets a request through) or a fault with a probability. Probabilities draw from a seeded
RNG, so a run can be repeated.

Kinds, and whether the request takes effect (`effect`):

- `error_500`: Stripe's `api_error` with status 500, without effect (with `effect="before"` it
  is `error_500_after`).
- `error_500_after`: the request takes effect and its result is stored under its idempotency key,
  then the client gets a 500 instead: it cannot know that it succeeded.
- `drop`: the connection is closed without a response (the SDK raises `APIConnectionError`);
  no effect, or `effect="before"` to commit first.
- `timeout`: the request hangs for `seconds` (longer than the client's timeout); with
  `effect="after"` (default) it then takes effect and answers a client that has gone, with
  `"before"` it takes effect at once and answers late, with `"none"` it is then dropped.
- `delay`: `seconds` of added latency, then a normal answer.
"""

from __future__ import annotations

import fnmatch
import random
import threading
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

FaultKind = Literal["error_500", "error_500_after", "drop", "timeout", "delay"]
Effect = Literal["none", "before", "after"]
KINDS: tuple[str, ...] = get_args(FaultKind)
_EFFECTS: dict[str, tuple[str, ...]] = {
    "error_500": ("none", "before"),
    "error_500_after": ("before",),
    "drop": ("none", "before"),
    "timeout": ("after", "before", "none"),
    "delay": ("after",),
}
_SECONDS = {"timeout": 10.0, "delay": 0.5}


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    seconds: float = 0.0
    effect: Effect | None = None  # None: the kind's default (its first allowed effect)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(KINDS)}")
        allowed = _EFFECTS[self.kind]
        if self.effect is None:
            object.__setattr__(self, "effect", allowed[0])
        elif self.effect not in allowed:
            raise ValueError(f"a {self.kind} fault has effect {' or '.join(allowed)}")
        if not self.seconds and self.kind in _SECONDS:
            object.__setattr__(self, "seconds", _SECONDS[self.kind])
        if self.seconds < 0:
            raise ValueError("seconds must not be negative")

    @property
    def takes_effect(self) -> bool:
        return self.effect != "none"

    @classmethod
    def of(cls, value: Fault | str | Mapping[str, Any]) -> Fault:
        """A fault from its kind (`"drop"`), a mapping (`{"kind": "timeout", "seconds": 2}`)
        or a Fault."""
        if isinstance(value, Fault):
            return value
        if isinstance(value, str):
            return cls(cast(FaultKind, value))
        unknown = set(value) - {"kind", "seconds", "effect"}
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        return cls(
            kind=cast(FaultKind, value.get("kind")),
            seconds=float(value.get("seconds") or 0.0),
            effect=cast(Effect | None, value.get("effect")),
        )

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "seconds": self.seconds, "effect": self.effect}


@dataclass
class Rule:
    route: str
    script: deque[Fault | None] | None = None
    fault: Fault | None = None
    probability: float = 0.0

    def __post_init__(self) -> None:
        method, _, path = self.route.strip().partition(" ")
        if not path:  # a bare path matches every method
            method, path = "*", method
        self._method, self._path = method.upper(), path.strip()

    def matches(self, method: str, path: str, template: str) -> bool:
        return fnmatch.fnmatchcase(method, self._method) and (
            fnmatch.fnmatchcase(path, self._path) or fnmatch.fnmatchcase(template, self._path)
        )

    @property
    def exhausted(self) -> bool:
        return self.script is not None and not self.script

    def as_json(self) -> dict[str, Any]:
        if self.script is not None:
            return {
                "route": self.route,
                "script": [f.as_json() if f else None for f in self.script],
            }
        assert self.fault is not None
        return {"route": self.route, "fault": self.fault.as_json(), "probability": self.probability}


class FaultPlan:
    """The faults to inject, consulted for every `/v1/` request (thread-safe)."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._rng = random.Random(seed)
        self.injected: Counter[str] = Counter()  # "POST /v1/transfers error_500" -> times

    def add(
        self,
        route: str,
        fault: Fault | str | Mapping[str, Any],
        *,
        times: int = 1,
        probability: float | None = None,
    ) -> None:
        """Inject `fault` into the next `times` requests matching `route`, or, with a
        `probability`, into each matching request with that chance until `clear()`."""
        parsed = Fault.of(fault)
        if probability is not None:
            if not 0.0 <= probability <= 1.0:
                raise ValueError("probability is between 0 and 1")
            rule = Rule(route, fault=parsed, probability=probability)
        else:
            if times < 1:
                raise ValueError("times is at least 1")
            rule = Rule(route, script=deque([parsed] * times))
        with self._lock:
            self._rules.append(rule)

    def script(self, route: str, faults: Iterable[Fault | str | Mapping[str, Any] | None]) -> None:
        """One entry per matching request, in order; `None` lets that request through."""
        queue: deque[Fault | None] = deque(None if f is None else Fault.of(f) for f in faults)
        with self._lock:
            self._rules.append(Rule(route, script=queue))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self.injected.clear()

    def reseed(self, seed: int) -> None:
        with self._lock:
            self._rng = random.Random(seed)

    def pick(self, method: str, path: str, template: str) -> Fault | None:
        """The fault for this request, if any: the first matching rule decides."""
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, path, template):
                    continue
                if rule.script is not None:
                    fault = rule.script.popleft()
                    if rule.exhausted:
                        self._rules.remove(rule)
                elif self._rng.random() < rule.probability:
                    fault = rule.fault
                else:
                    fault = None
                if fault is not None:
                    self.injected[f"{method} {template} {fault.kind}"] += 1
                return fault
            return None

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.as_json() for rule in self._rules]

    def load(self, rules: Iterable[Mapping[str, Any]]) -> None:
        """Rules as the control endpoint takes them:
        `{"route", "fault", "times"?}`, `{"route", "fault", "probability"}`, `{"route", "script"}`.
        """
        for spec in rules:
            unknown = set(spec) - {"route", "fault", "times", "probability", "script"}
            if unknown:
                raise ValueError(f"unknown rule fields: {', '.join(sorted(unknown))}")
            route = spec.get("route")
            if not isinstance(route, str) or not route:
                raise ValueError("a rule needs a route, such as 'POST /v1/transfers'")
            if "script" in spec:
                self.script(route, spec["script"])
            elif "fault" in spec:
                self.add(
                    route,
                    spec["fault"],
                    times=int(spec.get("times", 1)),
                    probability=spec.get("probability"),
                )
            else:
                raise ValueError("a rule needs a fault or a script")
