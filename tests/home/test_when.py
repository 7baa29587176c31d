"""How the role homes say when something is due: never a bare "past"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.home.views import days_left

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_a_moment_gone_reads_how_long_ago() -> None:
    assert days_left(NOW - timedelta(days=3, hours=2), NOW) == "3 days ago"
    assert days_left(NOW - timedelta(days=1), NOW) == "1 day ago"
    assert days_left(NOW - timedelta(hours=5), NOW) == "earlier today"
    assert days_left(NOW + timedelta(hours=5), NOW) == "today"
    assert days_left(NOW + timedelta(days=2, hours=1), NOW) == "in 2 days"
    assert days_left(None, NOW) == ""
