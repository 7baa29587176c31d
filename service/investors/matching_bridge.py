"""The one place the investors area uses the matching area.

Saving a thesis or a profile (validated, audited, queuing the recompute), counting the
startups a thesis would match, and putting a stored reason ({"code", "values"}) into words
in the reader's language are matching's service functions; this module adapts the forms'
values to them.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from service.accounts.models import Organization
from service.config import Settings
from service.core.context import Context
from service.core.errors import ValidationFailed
from service.core.forms import translate_error
from service.core.i18n import gettext
from service.matching import explain
from service.matching import service as matching
from service.matching.models import InvestorThesis, StartupProfile
from service.matching.schemas import ProfileIn, ThesisIn

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
