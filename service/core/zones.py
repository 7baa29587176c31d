"""Time zones: each organization's (the city's) and each viewer's, IANA names through zoneinfo.

Moments are stored and compared in UTC; a zone only decides how a moment is typed in and
shown. Reading a wall-clock time typed in a form is where zones bite: on the day clocks go
forward an hour of local times never happens (a gap), and on the day they go back an hour
happens twice (a fold). Both are refused with a field error rather than guessed, because a
deadline that silently moves by an hour is worse than a question asked once.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache, lru_cache
from typing import Any

from babel import Locale
from babel.core import get_global
from babel.dates import DateTimePattern, get_timezone_location

from service.core.i18n import N_, gettext

DEFAULT_ZONE = "UTC"
MAX_ZONE = 64

# The countries the product serves, with the zone most of their people live in. Others take
# their only zone when the CLDR knows a single one for the territory, else UTC.
COUNTRY_ZONES = {
    "AR": "America/Argentina/Buenos_Aires",
    "BR": "America/Sao_Paulo",
    "CL": "America/Santiago",
    "CO": "America/Bogota",
    "ES": "Europe/Madrid",
    "GB": "Europe/London",
    "MX": "America/Mexico_City",
    "PT": "Europe/Lisbon",
    "US": "America/New_York",
}


@cache
def known_zones() -> frozenset[str]:
    # Only names the tz database lists: ZoneInfo() alone would also open any path-like key
    # under the zoneinfo folder, and the system's folder also lists the machine's own
    # "localtime" and tzdata's placeholder "Factory", which are not places.
    return frozenset(zoneinfo.available_timezones() - {"localtime", "Factory", "posixrules"})


def zone_for_country(country: str) -> str:
    code = (country or "").upper()
    if code in COUNTRY_ZONES:
        return COUNTRY_ZONES[code]
    candidates = get_global("territory_zones").get(code, [])
    if len(candidates) == 1 and candidates[0] in known_zones():
        return str(candidates[0])
    return DEFAULT_ZONE


def check_zone(name: str) -> str:
    """The IANA name, or a ValueError whose message says what is wanted (for a form field)."""
    text = (name or "").strip()
    if text == DEFAULT_ZONE or (len(text) <= MAX_ZONE and text in known_zones()):
        return text
    raise ValueError(N_("This is not a time zone name. Use one such as America/Santiago."))


@lru_cache(maxsize=512)
def zone(name: str | None) -> zoneinfo.ZoneInfo:
    """The zone of a stored name; an unknown or empty one reads as UTC."""
    if name and (name == DEFAULT_ZONE or name in known_zones()):
        return zoneinfo.ZoneInfo(name)
    return zoneinfo.ZoneInfo(DEFAULT_ZONE)


def choices() -> list[str]:
    """Zone names for a form's list, the served countries' first."""
    first = sorted(set(COUNTRY_ZONES.values()))
    rest = sorted(z for z in known_zones() if z not in first and "/" in z)
    return [*first, DEFAULT_ZONE, *rest]


# --- reading a wall-clock time ---------------------------------------------------------------


class LocalTimeError(ValueError):
    """A wall-clock time that does not name exactly one moment in its zone."""


def to_utc(local: datetime, where: tzinfo) -> datetime:
    """The UTC moment of a naive wall-clock time in `where`.

    Raises LocalTimeError on a gap (the time does not exist that day) and on a fold (it
    exists twice). An aware value is simply converted.
    """
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    first = local.replace(tzinfo=where, fold=0)
    second = local.replace(tzinfo=where, fold=1)
    # A time in a gap does not survive the trip to UTC and back.
    if first.astimezone(UTC).astimezone(where).replace(tzinfo=None) != local:
        raise LocalTimeError(
            gettext(
                "This time does not exist on that day in %(zone)s: the clocks go forward. "
                "Choose a time an hour later or earlier."
            )
            % {"zone": zone_label(where)}
        )
    if first.utcoffset() != second.utcoffset():
        raise LocalTimeError(
            gettext(
                "This time happens twice on that day in %(zone)s: the clocks go back. "
                "Choose a time outside that hour."
            )
            % {"zone": zone_label(where)}
        )
    return first.astimezone(UTC)


def to_local_input(moment: datetime, where: tzinfo) -> str:
    """A moment as the value of a `datetime-local` input in `where`."""
    return moment.astimezone(where).strftime("%Y-%m-%dT%H:%M")


# --- showing a moment -----------------------------------------------------------------------


def offset_label(offset: timedelta | None) -> str:
    """The offset as "UTC-3" (a real minus sign in the text), "UTC+5:30" or "UTC"."""
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes > 0 else "\u2212"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def _key(where: tzinfo) -> str:
    return getattr(where, "key", None) or DEFAULT_ZONE


@lru_cache(maxsize=1024)
def _city(key: str, language: str) -> str:
    # Etc/UTC, Etc/GMT+3, Zulu, EST5EDT... name no place: their offset alone says it.
    if "/" not in key or key.startswith("Etc/"):
        return ""
    return str(get_timezone_location(zone(key), locale=language, return_city=True))


def zone_label(where: tzinfo, language: str | None = None) -> str:
    """The zone's city in the reader's language ("Santiago"), or its IANA name."""
    from service.core.i18n import current_locale

    key = _key(where)
    return _city(key, language or current_locale.get()) or key


@dataclass(frozen=True)
class Formats:
    """One locale's parsed patterns: Babel re-reads CLDR and parses patterns on every call of
    format_datetime, and a page may show a hundred dates."""

    locale: Locale
    date: DateTimePattern
    time: DateTimePattern
    glue: str


@cache
def formats(language: str) -> Formats:
    locale = Locale.parse(language)
    return Formats(
        locale=locale,
        date=locale.date_formats["medium"],
        time=locale.time_formats["short"],
        glue=str(locale.datetime_formats["medium"]),
    )


@lru_cache(maxsize=4096)
def date_text(day: date, language: str) -> str:
    f = formats(language)
    return str(f.date.apply(day, f.locale))


@lru_cache(maxsize=4096)
def _time_text(hour: int, minute: int, language: str) -> str:
    # The short time patterns carry no zone field: the text depends on the clock alone.
    f = formats(language)
    return str(f.time.apply(time(hour, minute), f.locale))


def wall_clock(moment: datetime, where: tzinfo, language: str) -> tuple[str, str]:
    """(date, time) of the moment in the zone, in the language's medium/short forms.

    Both texts are cached by their wall-clock values: a page lists many deadlines on few
    days, and applying a Babel pattern costs tens of microseconds each time."""
    local = moment.astimezone(where)
    return date_text(local.date(), language), _time_text(local.hour, local.minute, language)


def describe(moment: datetime, where: tzinfo, language: str) -> str:
    """E.g. "27 Dec 2026, 18:00 Santiago time (UTC-3)": the zone name and its offset that day."""
    local = moment.astimezone(where)
    day_text, clock = wall_clock(local, where, language)
    f = formats(language)
    stamp = f.glue.replace("{1}", day_text).replace("{0}", clock)
    city = _city(_key(where), language)
    offset = offset_label(local.utcoffset())
    if not city:
        return f"{stamp} {offset}"
    return gettext("%(when)s %(city)s time (%(offset)s)") % {
        "when": stamp,
        "city": city,
        "offset": offset,
    }


def describe_other(moment: datetime, where: tzinfo, language: str, *, than: tzinfo) -> str:
    """The same moment for a viewer elsewhere: "22:00 your time (Madrid, UTC+1)", with the
    date too when it falls on another day there than in `than` (the city's zone)."""
    local = moment.astimezone(where)
    day_text, clock = wall_clock(local, where, language)
    city_day, _ = wall_clock(moment, than, language)
    when = (
        clock
        if day_text == city_day
        else formats(language).glue.replace("{1}", day_text).replace("{0}", clock)
    )
    city = _city(_key(where), language)
    offset = offset_label(local.utcoffset())
    place = f"{city}, {offset}" if city else offset
    return gettext("%(when)s your time (%(place)s)") % {"when": when, "place": place}


def differs(moment: datetime, one: tzinfo, other: tzinfo) -> bool:
    """Whether a reader in `other` sees another wall-clock time than one in `one` (Madrid and
    Paris agree all year: repeating the time would only be noise)."""
    return moment.astimezone(one).utcoffset() != moment.astimezone(other).utcoffset()


def form_moment(values: Mapping[str, Any], name: str, where: tzinfo, errors: dict[str, str]) -> Any:
    """A form's `datetime-local` field, typed in `where`'s wall-clock time, for a schema to
    validate: the aware UTC moment; what was typed when it is no date (the schema then names
    the field); None when empty, or with the reason in `errors[name]` for a time the clocks
    skip or repeat that day."""
    text = str(values.get(name) or "").strip()
    if not text:
        return None
    try:
        typed = datetime.fromisoformat(text)
    except ValueError:
        return text
    try:
        return to_utc(typed, where)
    except LocalTimeError as exc:
        errors[name] = str(exc)
        return None
