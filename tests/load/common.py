"""What every locustfile shares: the tally of writes, the count of 5xx answers, the run's plan.

The driver passes two paths in the environment: LOAD_PLAN (JSON it wrote before the run: ids,
deadlines) and LOAD_TALLY (JSON this module writes when the run stops). The tally counts, per
kind of write, the requests the app answered as done (the database must then hold exactly that
many new rows), and every answer with a 5xx status, by request name.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections import Counter
from typing import Any

from locust import events

done: Counter[str] = Counter()
refused: Counter[str] = Counter()
# Requests without an answer (the connection dropped, or the run stopped while they were in
# flight): the app may or may not have done them.
unknown: Counter[str] = Counter()
server_errors: Counter[str] = Counter()
records: list[dict[str, Any]] = []
_lock = threading.Lock()

CSRF_FIELD = re.compile(r'name="csrf_token"\s+value="([^"]+)"')


def plan() -> dict[str, Any]:
    path = os.environ.get("LOAD_PLAN", "")
    if not path:
        return {}
    with open(path, encoding="utf-8") as handle:
        loaded: dict[str, Any] = json.load(handle)
    return loaded


def count(kind: str, *, ok: bool = True, answered: bool = True) -> None:
    with _lock:
        (done if ok else refused if answered else unknown)[kind] += 1


@events.request.add_listener
def _on_request(name: str, response: Any = None, **_: Any) -> None:
    status = getattr(response, "status_code", 0) or 0
    if status >= 500:
        with _lock:
            server_errors[name] += 1


@events.test_stop.add_listener
def _write_tally(**_: Any) -> None:
    path = os.environ.get("LOAD_TALLY", "")
    if not path:
        return
    with _lock, open(path, "w", encoding="utf-8") as handle:
        json.dump(
            {
                "done": dict(done),
                "refused": dict(refused),
                "unknown": dict(unknown),
                "server_errors": dict(server_errors),
                "records": records,
            },
            handle,
        )


def check(response: Any, *expected: int) -> bool:
    """Marks the answer a failure unless its status is one expected; True when it was."""
    if response.status_code in expected:
        response.success()
        return True
    body = (response.text or "")[:200] if response.status_code else str(response.error)
    response.failure(f"{response.status_code}: {body}")
    return False


def count_check(kind: str, response: Any, *expected: int) -> bool:
    """`check`, and the answer counted as a write done (or not) of this kind."""
    ok = check(response, *expected)
    count(kind, ok=ok, answered=bool(response.status_code))
    return ok
