"""Who may use each page of applications, judging and awards (merged into the matrix)."""

from __future__ import annotations

from collections.abc import Callable

APPLICATION_PAGES: dict[str, Callable[[str], bool]] = {}
