"""The one place the investors area uses the matching area.

Saving a thesis or a profile (validated, audited, queuing the recompute), counting the
startups a thesis would match, a startup's track record, who may ask for funding, and putting
a stored reason ({"code", "values"}) into words in the reader's language are matching's
functions; this module adapts the forms' values to them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from service.accounts.models import Organization
from service.config import Settings
from service.core.context import Context
from service.core.errors import ValidationFailed
from service.core.forms import translate_error
from service.core.i18n import gettext
from service.matching import explain, scoring, track
from service.matching import service as matching
from service.matching.models import InvestorThesis, StartupProfile
from service.matching.schemas import ProfileIn, ThesisIn
from service.matching.track import DELIVERED, TrackRecord, Win

__all__ = ["DELIVERED", "TrackRecord", "Win"]

# Form fields named differently from matching's schema fields.
_FORM_NAMES = {"ticket_min_minor": "ticket_min", "ticket_max_minor": "ticket_max"}


async def thesis_of(organization_id: int) -> InvestorThesis | None:
    return await matching.get_thesis(organization_id)


async def profile_of(organization_id: int) -> StartupProfile | None:
    return await matching.get_profile(organization_id)


def _validated(model: type[ThesisIn] | type[ProfileIn], values: dict[str, Any]) -> Any:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        fields: dict[str, str] = {}
        for error in exc.errors():
            key, message = translate_error(dict(error))
            key = key.split(".")[0]
            fields.setdefault(_FORM_NAMES.get(key, key), message)
        raise ValidationFailed(fields=fields) from None


def thesis_in(values: dict[str, Any]) -> ThesisIn:
    data: ThesisIn = _validated(ThesisIn, values)
    return data


async def save_thesis(ctx: Context, org: Organization, **values: Any) -> InvestorThesis:
    return await matching.save_thesis(ctx, org, thesis_in(values))


async def save_profile(ctx: Context, org: Organization, **values: Any) -> StartupProfile:
    data: ProfileIn = _validated(ProfileIn, values)
    return await matching.save_profile(ctx, org, data)


async def preview_count(values: dict[str, Any], *, settings: Settings) -> int:
    return await matching.preview_count(thesis_in(values), settings=settings)


def render_reason(reason: dict[str, Any]) -> str:
    """A stored reason in the reader's language."""
    return explain.render(reason)


def with_track(reason: dict[str, Any], record: TrackRecord) -> dict[str, Any] | None:
    """A stored reason with the startup's track record of today (None: nothing left to say)."""
    return explain.with_track(reason, record.signals())


async def track_records(
    organization_ids: Iterable[int], *, consenting: Iterable[int] = ()
) -> dict[int, TrackRecord]:
    """Each organization's track record, as matching defines it (`track.TrackRecord`)."""
    return await track.track_records(organization_ids, consenting=consenting)


def funding_ask(kind: str, amount_minor: int | None) -> int | None:
    """The ask an organization of this kind shows (only startups ask for funding)."""
    return matching.funding_ask(kind, amount_minor)


RAISING_KINDS = frozenset(str(k) for k in matching.RAISING_KINDS)


def raises_funds(kind: str) -> bool:
    return matching.raises_funds(kind)


def floor_threshold(settings: Settings) -> float:
    """The lowest stored score the deal flow lists: the thesis preview's floor."""
    return scoring.floor_threshold(settings.matching_preview_floor)


def stage_label(stage: str) -> str:
    labels = {
        "idea": gettext("Idea"),
        "pre_seed": gettext("Pre-seed"),
        "seed": gettext("Seed"),
        "series_a": gettext("Series A"),
        "series_b": gettext("Series B"),
        "growth": gettext("Growth"),
    }
    return labels.get(stage, stage)
