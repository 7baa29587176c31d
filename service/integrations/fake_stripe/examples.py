"""Stripe's own example object of each resource the fake serves (examples.json).

Copied unchanged from stripe/openapi `openapi/fixtures3.json` (commit f6c2a48fbac2), MIT licence,
Copyright (c) 2011- Stripe, Inc.; the licence text is in LICENSE-examples beside this file. Every
object the fake returns starts as a deep copy of its example, so its shape stays Stripe's.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

PATH = Path(__file__).with_name("examples.json")


@functools.cache
def resources() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = json.loads(PATH.read_text(encoding="utf-8"))["resources"]
    return data


def example(name: str) -> dict[str, Any]:
    """A fresh deep copy of Stripe's example `name` (`"transfer"`, `"account"`, ...)."""
    return copy.deepcopy(resources()[name])
