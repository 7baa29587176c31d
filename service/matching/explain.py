"""Reasons: the strongest components of a match, as codes with values, and their words.

A reason is stored as `{"code": <component>, "values": {...}}` and put into words only when it is
shown (`render`), in the viewer's language. `reasons_for` picks the two or three components that
add the most to the score among those worth saying (a shared sector, the exact stage, an ask
inside the ticket, the same region, shared words, a track record).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from service.core.i18n import gettext, ngettext
from service.core.money import to_major
from service.core.vocab import area_label
from service.matching.scoring import COMPONENTS, SECTORS, StartupData, ThesisData, norm_region
from service.matching.text import Row, TextSpace

MAX_REASONS = 3
TEXT_WORTH_SAYING = 0.05


def stage_label(stage: str) -> str:
    labels = {
        "idea": gettext("idea"),
        "pre_seed": gettext("pre-seed"),
        "seed": gettext("seed"),
        "series_a": gettext("series A"),
        "series_b": gettext("series B"),
        "growth": gettext("growth"),
    }
    return labels.get(stage, stage)


def compact_amount(amount_minor: int, currency: str = "EUR") -> str:
    """300000_00 -> "300k", 1_000_000_00 -> "1M", 2_500_000_00 -> "2.5M"."""
    major = to_major(amount_minor, currency)
    for size, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if major >= size:
            text = f"{major / size:.1f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    return f"{major:.0f}"


def track_phrases(values: Mapping[str, Any]) -> list[str]:
    """The track record's signals worth saying, strongest first."""
    phrases = []
    wins = int(values.get("wins", 0) or 0)
    if wins:
        phrases.append(
            ngettext("won %(n)d city challenge", "won %(n)d city challenges", wins) % {"n": wins}
        )
    delivered = int(values.get("milestones_delivered", 0) or 0)
    on_time = int(values.get("milestones_on_time", 0) or 0)
    if delivered:
        phrases.append(
            ngettext(
                "%(on_time)d of %(n)d milestone delivered on time",
                "%(on_time)d of %(n)d milestones delivered on time",
                delivered,
            )
            % {"on_time": on_time, "n": delivered}
        )
    judge = values.get("judge_mean")
    if judge is not None:
        phrases.append(gettext("judges scored it %(score).1f of 10") % {"score": float(judge)})
    cities = int(values.get("cities", 0) or 0)
    if cities > 1:
        phrases.append(
            ngettext("worked with %(n)d city", "worked with %(n)d cities", cities) % {"n": cities}
        )
    applied = int(values.get("applied", 0) or 0)
    if applied and not wins:
        phrases.append(
            ngettext("applied to %(n)d challenge", "applied to %(n)d challenges", applied)
            % {"n": applied}
        )
    return phrases


def render(reason: Mapping[str, Any]) -> str:
    """A reason in the current language's words."""
    code = reason.get("code")
    values: Mapping[str, Any] = reason.get("values") or {}
    if code == "sector":
        names = ", ".join(area_label(s) for s in values.get("sectors", []))
        return gettext("same sector: %(sectors)s") % {"sectors": names}
    if code == "stage":
        return gettext("stage: %(stage)s") % {"stage": stage_label(str(values.get("stage", "")))}
    if code == "ticket":
        currency = str(values.get("currency", "EUR"))
        ask = compact_amount(int(values["ask_minor"]), currency)
        low, high = values.get("min_minor"), values.get("max_minor")
        if low is not None and high is not None:
            return gettext("asks %(ask)s, inside your %(min)s–%(max)s ticket") % {  # noqa: RUF001
                "ask": ask,
                "min": compact_amount(int(low), currency),
                "max": compact_amount(int(high), currency),
            }
        if low is not None:
            return gettext("asks %(ask)s, above your %(min)s minimum ticket") % {
                "ask": ask,
                "min": compact_amount(int(low), currency),
            }
        if high is not None:
            return gettext("asks %(ask)s, inside your ticket of up to %(max)s") % {
                "ask": ask,
                "max": compact_amount(int(high), currency),
            }
        return gettext("asks %(ask)s") % {"ask": ask}
    if code == "region":
        return gettext("same region: %(region)s") % {"region": values.get("region", "")}
    if code == "text":
        return gettext("close to your thesis: %(terms)s") % {
            "terms": ", ".join(values.get("terms", []))
        }
    if code == "track":
        return "; ".join(track_phrases(values)[:2])
    if code == "area":
        return gettext("in your sector: %(area)s") % {"area": area_label(str(values.get("area")))}
    if code == "sdg":
        goals = ", ".join(str(g) for g in values.get("sdgs", []))
        return gettext("goals you worked on: SDG %(sdgs)s") % {"sdgs": goals}
    if code == "description":
        return gettext("close to your description: %(terms)s") % {
            "terms": ", ".join(values.get("terms", []))
        }
    return str(code)


def with_track(reason: Mapping[str, Any], signals: Mapping[str, Any]) -> dict[str, Any] | None:
    """A stored reason with today's track record: a "track" reason carries the figures of the
    ranking's day, which may be older than what the card beside it reads, so it is given
    `signals` (`track.TrackRecord.signals()`) instead; None when they no longer say anything.
    Any other reason is returned as stored."""
    if reason.get("code") != "track":
        return dict(reason)
    if not track_phrases(signals):
        return None
    return {**reason, "values": dict(signals)}


def render_all(reasons: Sequence[Mapping[str, Any]]) -> list[str]:
    return [text for text in (render(r) for r in reasons) if text]


def _worth_saying(
    name: str,
    value: float,
    thesis: ThesisData,
    startup: StartupData,
    terms: list[str],
) -> dict[str, Any] | None:
    if name == "sector" and value > 0:
        shared = set(thesis.sectors) & set(startup.sectors)
        return {"sectors": [s for s in SECTORS if s in shared]}
    if name == "stage" and value == 1.0 and startup.stage:
        return {"stage": startup.stage}
    if name == "ticket" and value == 1.0 and startup.funding_ask_minor is not None:
        return {
            "ask_minor": startup.funding_ask_minor,
            "min_minor": thesis.ticket_min_minor,
            "max_minor": thesis.ticket_max_minor,
            "currency": thesis.currency,
        }
    if name == "region" and value == 1.0 and norm_region(startup.region):
        return {"region": startup.region.strip()}
    if name == "text" and value >= TEXT_WORTH_SAYING and terms:
        return {"terms": terms}
    if name == "track" and value > 0 and track_phrases(startup.track):
        return dict(startup.track)
    return None


def reasons_for(
    thesis: ThesisData,
    startup: StartupData,
    components: Mapping[str, float],
    weights: Mapping[str, float],
    *,
    space: TextSpace | None = None,
    thesis_row: Row | None = None,
    startup_row: Row | None = None,
) -> list[dict[str, Any]]:
    """The two or three components that add most to the score, among those worth saying."""
    terms: list[str] = []
    worth = float(components.get("text", 0.0)) >= TEXT_WORTH_SAYING
    if worth and space is not None and thesis_row is not None and startup_row is not None:
        terms = space.shared_terms(thesis_row, startup_row)
    candidates = []
    for position, name in enumerate(COMPONENTS):
        value = float(components.get(name, 0.0))
        values = _worth_saying(name, value, thesis, startup, terms)
        if values is not None:
            contribution = float(weights.get(name, 0.0)) * value
            candidates.append((-contribution, position, name, values))
    candidates.sort(key=lambda c: (c[0], c[1]))
    return [{"code": name, "values": values} for _, _, name, values in candidates[:MAX_REASONS]]
