"""Feeds: an Atom feed of newly opened challenges and an iCalendar feed of deadlines."""

from __future__ import annotations

from datetime import UTC, datetime

from feedgen.feed import FeedGenerator
from icalendar import Calendar, Event
from starlette.requests import Request
from starlette.responses import Response

from service.accounts.permissions import guard
from service.challenges import repository
from service.core import zones

FEED_SIZE = 50


@guard("public")
async def atom(request: Request) -> Response:
    base = request.app.state.settings.base_url
    page = await repository.list_public(
        repository.ChallengeFilters(statuses=["open"], sort="newest"), limit=FEED_SIZE
    )
    feed = FeedGenerator()
    feed.id(f"{base}/challenges/feed.atom")
    feed.title("Civic Challenges: open challenges")
    feed.link(href=f"{base}/challenges", rel="alternate")
    feed.link(href=f"{base}/challenges/feed.atom", rel="self")
    feed.updated(max((r["published_at"] for r in page.items), default=datetime.now(UTC)))
    for row in reversed(page.items):
        entry = feed.add_entry()
        entry.id(f"{base}/challenges/{row['id']}")
        entry.title(row["title"])
        entry.link(href=f"{base}/challenges/{row['id']}")
        entry.summary(row["summary"])
        entry.author(name=row["organization_name"])
        entry.published(row["published_at"])
        entry.updated(row["published_at"])
    return Response(feed.atom_str(pretty=True), media_type="application/atom+xml")


@guard("public")
async def calendar(request: Request) -> Response:
    base = request.app.state.settings.base_url
    page = await repository.list_public(
        repository.ChallengeFilters(statuses=["published", "open"], sort="closing"), limit=200
    )
    cal = Calendar()
    cal.add("prodid", "-//Civic Challenges//deadlines//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Civic Challenges deadlines")
    for row in page.items:
        # In the city's zone (TZID, with its VTIMEZONE added below): a calendar shows the
        # deadline at the right moment wherever it is read, and says which clock set it.
        closes = row["closes_at"].astimezone(zones.zone(row.get("organization_time_zone")))
        event = Event()
        event.add("uid", f"challenge-{row['id']}-closes@civic-challenges")
        event.add("summary", f"Deadline: {row['title']}")
        event.add("dtstart", closes)
        event.add("dtend", closes)
        event.add("dtstamp", row["published_at"].astimezone(UTC))
        event.add("url", f"{base}/challenges/{row['id']}")
        event.add("description", row["summary"])
        cal.add_component(event)
    cal.add_missing_timezones()
    return Response(cal.to_ical(), media_type="text/calendar; charset=utf-8")
