"""The one place the investors area uses the matching area.

Saving a thesis or a profile, counting the startups a thesis would match, and putting a stored
reason ({"code", "values"}) into words. Until matching offers these as service functions, they
are written here against its models; switching means changing only this module.
"""

from __future__ import annotations

from typing import Any

from service.core.i18n import gettext
from service.core.vocab import area_label
from service.investors import repository as repo
from service.matching.models import InvestorThesis, StartupProfile


async def thesis_of(organization_id: int) -> InvestorThesis | None:
    return await InvestorThesis.get_or_none(organization_id=organization_id)


async def profile_of(organization_id: int) -> StartupProfile | None:
    return await StartupProfile.get_or_none(organization_id=organization_id)


async def save_thesis(organization_id: int, **values: Any) -> InvestorThesis:
    thesis = await InvestorThesis.get_or_none(organization_id=organization_id)
    if thesis is None:
        return await InvestorThesis.create(organization_id=organization_id, **values)
    await thesis.update_from_dict(values).save()
    return thesis


async def save_profile(organization_id: int, **values: Any) -> StartupProfile:
    profile = await StartupProfile.get_or_none(organization_id=organization_id)
    if profile is None:
        return await StartupProfile.create(organization_id=organization_id, **values)
    await profile.update_from_dict(values).save()
    return profile


async def preview_count(
    *,
    sectors: list[str],
    stages: list[str],
    stages_strict: bool,
    regions: list[str],
    regions_strict: bool,
    ticket_min_minor: int | None,
    ticket_max_minor: int | None,
) -> int:
    rows = await repo.fetch(
        repo.preview_sql(
            repo.dialect(),
            sectors=sectors,
            stages=stages,
            stages_strict=stages_strict,
            regions=regions,
            regions_strict=regions_strict,
            ticket_min=ticket_min_minor,
            ticket_max=ticket_max_minor,
        )
    )
    return int(rows[0]["n"]) if rows else 0


def _money(value: Any) -> str:
    try:
        amount = int(value) / 100
    except (TypeError, ValueError):
        return str(value)
    if amount >= 1_000_000:
        return f"{amount / 1_000_000:g}M"
    if amount >= 1_000:
        return f"{amount / 1_000:g}k"
    return f"{amount:g}"


def render_reason(reason: dict[str, Any]) -> str:
    """A stored reason in the reader's language."""
    code = str(reason.get("code", ""))
    values = reason.get("values") or {}
    if not isinstance(values, dict):
        values = {}
    sectors = values.get("sectors") or ([values["sector"]] if "sector" in values else [])
    if code in ("same_sector", "sector"):
        return gettext("same sector: %(sectors)s") % {
            "sectors": ", ".join(area_label(str(s)) for s in sectors)
        }
    if code in ("stage", "stage_fit"):
        return gettext("stage: %(stage)s") % {"stage": stage_label(str(values.get("stage", "")))}
    if code in ("ticket", "ticket_fit", "ask_inside"):
        return gettext("asks %(ask)s, inside your %(low)s to %(high)s ticket") % {
            "ask": _money(values.get("ask_minor", values.get("ask"))),
            "low": _money(values.get("min_minor", values.get("min"))),
            "high": _money(values.get("max_minor", values.get("max"))),
        }
    if code in ("region", "same_region"):
        return gettext("region: %(region)s") % {"region": values.get("region", "")}
    if code in ("won", "won_challenges", "track_record"):
        count = int(values.get("count", values.get("won", 0)) or 0)
        return gettext("won %(count)s city challenges") % {"count": count}
    if code in ("delivered", "milestones_delivered"):
        count = int(values.get("count", 0) or 0)
        return gettext("delivered %(count)s milestones") % {"count": count}
    if code in ("text", "similar_text"):
        return gettext("description close to your thesis")
    return code.replace("_", " ")


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
