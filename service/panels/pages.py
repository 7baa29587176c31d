"""Web pages of the citizens' panels area: the public panel page (quotas, pool as counts,
members, sessions, recommendation, the published draw and its audit trail), the city managers'
form that opens a panel, the staff's pool of volunteers and draw button, a member's scoring of
the finalists, and the challenge page's section.

Handlers have the shape of the API's; on an error the page is shown again with the message and
what was typed kept.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from babel.numbers import format_percent
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from service.accounts.models import Organization
from service.accounts.permissions import PERMISSIONS, actor_of, guard, loaded, path_int
from service.applications.models import Application
from service.challenges import permissions as challenge_perms
from service.challenges.models import Challenge, ChallengeStatus, Criterion
from service.challenges.permissions import is_public
from service.challenges.sections import Section
from service.core import i18n, zones
from service.core.amounts import format_amount_input, read_amount
from service.core.errors import NotFound, ServiceError
from service.core.forms import form_values, redirect, render, translate_error
from service.core.i18n import gettext
from service.core.money import minor_units
from service.core.web import context, transaction
from service.panels import permissions as perms
from service.panels import routes as api
from service.panels import service as panels
from service.panels.models import (
    Panel,
    PanelScore,
    PanelStatus,
    Stipend,
    Volunteer,
    VolunteerStatus,
)
from service.panels.schemas import PanelIn


def status_label(status: str) -> str:
    labels = {
        "recruiting": gettext("Recruiting volunteers"),
        "drawing": gettext("Drawing the panel"),
        "drawn": gettext("Panel drawn"),
        "closed": gettext("Recommendation given"),
    }
    return labels.get(status, status)


def event_label(kind: str) -> str:
    labels = {
        "opened": gettext("Panel opened with its quotas"),
        "draw_started": gettext("Draw started, seed fixed"),
        "drawn": gettext("Panel drawn"),
        "draw_refused": gettext("Draw refused: the quotas cannot be met"),
        "withdrawn": gettext("A member withdrew"),
        "replaced": gettext("Seat re-drawn"),
        "replacement_refused": gettext("Seat not re-drawn: the quotas cannot be met"),
    }
    return labels.get(kind, kind)


def phase_label(phase: str) -> str:
    labels = {
        "queued": gettext("waiting for its turn"),
        "start": gettext("starting"),
        "cover": gettext("looking for varied panels that seat every volunteer, round"),
        "optimise": gettext("evening out the chances, round"),
    }
    return labels.get(phase, phase)


def _may_open(request: Request, challenge: Challenge) -> bool:
    """Whether the viewer passes the rule of opening a panel (the city's managers)."""
    try:
        PERMISSIONS["panels.open"].enforce(actor_of(request), challenge)
    except ServiceError:
        return False
    return True


async def challenge_section(request: Request, challenge: Challenge) -> Section | None:
    """The panel of a public challenge for everyone; for the city's managers of a challenge
    without one, the way to open it."""
    may_open = _may_open(request, challenge) and challenge.status not in CLOSED
    if not (is_public(challenge) or may_open):
        return None
    panel = await panels.panel_of_challenge(challenge.id)
    if panel is None:
        if not may_open:
            return None
        return Section(
            template="panels/_challenge_section.html",
            slot="bottom",
            values={"panel": None, "open_url": f"/challenges/{challenge.id}/panel/new"},
        )
    if not is_public(challenge):
        return None
    return Section(
        template="panels/_challenge_section.html",
        slot="bottom",
        values={"panel": panel, "status": status_label(panel.status.value)},
    )


async def _render_panel(
    request: Request,
    status_code: int = 200,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    view: perms.PanelView | None = None,
) -> Response:
    """The panel's page: of `view`, or else of the panel the guard loaded."""
    view = view if view is not None else loaded(request, perms.PanelView)
    panel = view.panel
    out = await api.panel_out(panel)
    actor = actor_of(request)
    staff = perms.is_staff(actor, panel)
    seated: list[tuple[Any, str, bool]] = []
    if staff:
        paid = set(await Stipend.filter(panel_id=panel.id).values_list("volunteer_id", flat=True))
        members = await panels.pool_of(panel, statuses=(VolunteerStatus.member,))
        seated = [
            (m, panels.member_label(m), m.id in paid)
            for m in sorted(members, key=lambda m: m.seat or 0)
        ]
    return render(
        request,
        "panels/panel.html",
        status_code=status_code,
        panel=panel,
        challenge=panel.challenge,
        out=out,
        staff=staff,
        seated=seated,
        mine=view.mine,
        scoring_open=panel.challenge.status in panels.SCORING
        and datetime.now(UTC) < panel.challenge.judging_ends_at,
        can_volunteer=actor.signed_in
        and view.mine is None
        and panel.status is PanelStatus.recruiting,
        status_label=status_label,
        event_label=event_label,
        phase_label=phase_label,
        probabilities=sorted(
            ((int(k), p) for k, p in panel.draw.get("probabilities", {}).items()),
        ),
        values=values or {},
        errors=errors or {},
    )


@guard("panels.view", load=perms.load_panel)
async def panel_page(request: Request) -> Response:
    return await _render_panel(request)


@guard("panels.volunteer", load=perms.load_panel)
async def volunteer_submit(request: Request) -> Response:
    panel = loaded(request, perms.PanelView).panel
    values = form_values(await request.form())
    declared = {f["name"]: str(values.get(f"feature_{f['name']}", "")) for f in panel.features}
    try:
        async with transaction(request):
            await panels.volunteer(
                context(request),
                panel,
                features=declared,
                first_name=str(values.get("first_name", "")),
                show_name=values.get("show_name") == "on",
            )
    except ServiceError as exc:
        errors = {k.replace("features.", "feature_"): v for k, v in exc.fields.items()}
        return await _render_panel(
            request, exc.status_code, values=values, errors=errors or {"__root__": exc.detail}
        )
    return redirect(
        request,
        f"/panels/{panel.id}",
        notice=gettext("Thank you: you are in the pool. The draw takes place after recruitment."),
    )


@guard("panels.staff", load=perms.load_panel)
async def draw_submit(request: Request) -> Response:
    panel = loaded(request, perms.PanelView).panel
    try:
        async with transaction(request):
            await panels.start_draw(context(request), panel)
    except ServiceError as exc:
        return await _render_panel(request, exc.status_code, errors={"draw": exc.detail})
    return redirect(request, f"/panels/{panel.id}", notice=gettext("The draw has started."))


@guard("panels.staff", load=perms.load_panel)
async def session_submit(request: Request) -> Response:
    """The staff add a session (date and time in the city's time zone, and the place)."""
    panel = loaded(request, perms.PanelView).panel
    values = form_values(await request.form())
    city = await Organization.get(id=panel.organization_id)
    errors: dict[str, str] = {}
    starts_at = None
    text = str(values.get("starts_at") or "")
    try:
        starts_at = zones.to_utc(datetime.fromisoformat(text), zones.zone(city.time_zone or "UTC"))
    except zones.LocalTimeError as exc:
        errors["starts_at"] = str(exc)
    except ValueError:
        errors["starts_at"] = gettext("Enter a date and time.")
    if starts_at is None:
        return await _render_panel(request, 422, values=values, errors=errors)
    try:
        async with transaction(request):
            await panels.add_session(
                context(request), panel, starts_at=starts_at, place=str(values.get("place", ""))
            )
    except ServiceError as exc:
        return await _render_panel(
            request, exc.status_code, values=values, errors=exc.fields or {"__root__": exc.detail}
        )
    return redirect(request, f"/panels/{panel.id}", notice=gettext("The session is added."))


@guard("panels.staff.volunteer", load=api.load_volunteer)
async def withdraw_submit(request: Request) -> Response:
    """The staff record that a member left; the seat is re-drawn by the same lottery."""
    view = loaded(request, perms.PanelVolunteer)
    panel = view.panel
    try:
        async with transaction(request):
            await panels.withdraw(context(request), panel, view.volunteer)
    except ServiceError as exc:
        return await _render_panel(
            request, exc.status_code, errors={"__root__": exc.detail}, view=view.panel_view
        )
    return redirect(
        request,
        f"/panels/{panel.id}",
        notice=gettext("The withdrawal is recorded; the seat is being re-drawn."),
    )


@guard("panels.staff.volunteer", load=api.load_volunteer)
async def stipend_submit(request: Request) -> Response:
    """The staff record a member's stipend paid by transfer: posted once from the escrow."""
    view = loaded(request, perms.PanelVolunteer)
    panel = view.panel
    values = form_values(await request.form())
    try:
        async with transaction(request):
            await panels.pay_stipend(
                context(request), panel, view.volunteer, reference=str(values.get("reference", ""))
            )
    except ServiceError as exc:
        message = exc.fields.get("reference") or exc.detail
        return await _render_panel(
            request, exc.status_code, errors={"__root__": message}, view=view.panel_view
        )
    return redirect(
        request, f"/panels/{panel.id}", notice=gettext("The stipend is recorded in the ledger.")
    )


@guard("panels.staff", load=perms.load_panel)
async def recommendation_submit(request: Request) -> Response:
    """The staff publish the panel's recommendation, as the panel wrote it."""
    panel = loaded(request, perms.PanelView).panel
    values = form_values(await request.form())
    try:
        async with transaction(request):
            await panels.recommend(context(request), panel, text=str(values.get("text", "")))
    except ServiceError as exc:
        return await _render_panel(
            request, exc.status_code, values=values, errors=exc.fields or {"__root__": exc.detail}
        )
    return redirect(
        request, f"/panels/{panel.id}", notice=gettext("The recommendation is published.")
    )


async def _render_scoring(
    request: Request,
    status_code: int = 200,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    view = loaded(request, perms.PanelView)
    panel = view.panel
    challenge = panel.challenge
    finalists = await panels.finalists(challenge)
    recused = await panels.recused_from(challenge, view.member)
    mine = {s.application_id: s for s in await PanelScore.filter(volunteer_id=view.member.id)}
    criteria = await Criterion.filter(challenge_id=challenge.id).order_by("position", "id")
    if not challenge.blind_judging:
        await Application.fetch_for_list(finalists, "organization")
    return render(
        request,
        "panels/score.html",
        status_code=status_code,
        panel=panel,
        challenge=challenge,
        finalists=[a for a in finalists if a.id not in recused],
        blind=challenge.blind_judging,
        criteria=criteria,
        mine=mine,
        errors=errors or {},
        values=values or {},
    )


@guard("panels.member", load=perms.load_panel)
async def scoring_page(request: Request) -> Response:
    return await _render_scoring(request)


@guard("panels.member", load=perms.load_panel)
async def score_submit(request: Request) -> Response:
    view = loaded(request, perms.PanelView)
    panel = view.panel
    application = await Application.get_or_none(id=path_int(request, "application_id"))
    if application is None:
        raise NotFound()
    values = form_values(await request.form())
    conflict = values.get("declaration") == "conflict"
    scores: dict[int, int] = {}
    errors: dict[str, str] = {}
    if not conflict:
        for criterion in await Criterion.filter(challenge_id=panel.challenge_id):
            raw = str(values.get(f"c{criterion.id}", "")).strip()
            if not raw.isdigit() or not 0 <= int(raw) <= 10:
                errors[f"a{application.id}"] = gettext("Give every criterion a score from 0 to 10.")
                break
            scores[criterion.id] = int(raw)
    if not errors:
        try:
            async with transaction(request):
                await panels.score(
                    context(request),
                    panel,
                    view.member,
                    application,
                    conflict=conflict,
                    scores=None if conflict else scores,
                )
        except ServiceError as exc:
            errors[f"a{application.id}"] = next(iter(exc.fields.values()), exc.detail)
    if errors:
        return await _render_scoring(
            request, 422, errors=errors, values={"application_id": application.id, **values}
        )
    return redirect(
        request,
        f"/panels/{panel.id}/score#a{application.id}",
        notice=gettext("Your scores are saved."),
    )


@guard("panels.staff", load=perms.load_panel)
async def ranking_page(request: Request) -> Response:
    """Experts' and the panel's scores side by side, combined by the published share."""
    panel = loaded(request, perms.PanelView).panel
    rows = await panels.combined_ranking(panel, panel.challenge)
    titles = dict(
        await Application.filter(challenge_id=panel.challenge_id).values_list("id", "title")
    )
    return render(
        request,
        "panels/ranking.html",
        panel=panel,
        challenge=panel.challenge,
        rows=[(r, titles.get(r.application_id, "")) for r in rows],
    )


# --- opening a panel -----------------------------------------------------------------------

# Challenges that no longer take a panel (the service refuses them too).
CLOSED = (ChallengeStatus.cancelled, ChallengeStatus.completed)
# Fieldsets for the features to balance: pages work without JavaScript, so a fixed number.
FEATURE_ROWS = 4
# One quota line's right-hand side: "22%", "2-5" or both ("22%, 2-5"). A census share may be
# written with a decimal comma (Spanish, Portuguese) as well as a point.
_QUOTA = re.compile(
    r"(?:(?P<pct>\d{1,3}(?:[.,]\d{1,4})?)\s*%)?\s*[,;]?\s*"
    r"(?:(?P<min>\d{1,4})\s*[-\u2013]\s*(?P<max>\d{1,4}))?"
)


def read_quotas(text: str) -> list[dict[str, Any]]:
    """A feature's values as the form's textarea holds them, one per line: `value: 22%`
    (census share), `value: 2-5` (minimum and maximum seats) or `value: 22%, 2-5`.

    Raises ValueError naming the first line that is none of these."""
    quotas: list[dict[str, Any]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        # The last colon: a value may hold one ("10:00 shift"), a quota never does.
        value, colon, spec = line.rpartition(":")
        found = _QUOTA.fullmatch(spec.strip()) if colon else None
        if not value.strip() or found is None or not (found["pct"] or found["min"]):
            raise ValueError(
                gettext(
                    "Line %(line)s: write the value, a colon, then its census share or its "
                    "seats, such as “16-29: 22%%” or “16-29: 2-5”."
                )
                % {"line": number}
            )
        pct = found["pct"]
        quotas.append(
            {
                "value": value.strip(),
                "census_pct": float(pct.replace(",", ".")) if pct else None,
                "min": int(found["min"]) if found["min"] else None,
                "max": int(found["max"]) if found["max"] else None,
            }
        )
    return quotas


def quota_lines(values: list[dict[str, Any]]) -> str:
    """Quotas written back the way `read_quotas` reads them."""
    lines = []
    for v in values:
        parts = []
        if v.get("census_pct") is not None:
            parts.append(f"{v['census_pct']:g}%")
        if v.get("min") is not None and v.get("max") is not None:
            parts.append(f"{v['min']}-{v['max']}")
        lines.append(f"{v['value']}: {', '.join(parts)}")
    return "\n".join(lines)


def example_features() -> list[tuple[str, str]]:
    """The form's first fieldsets, so a city sees the format: census shares, seats, both."""
    # Feature names are identifiers (lowercase letters, digits and _) in every language.
    return [
        (
            gettext("age_band"),
            "16-29: 22%\n30-44: 26%\n45-64: 32%\n65+: 20%, 4-6",
        ),
        (
            gettext("gender"),
            quota_lines(
                [
                    {"value": gettext("woman"), "census_pct": 51},
                    {"value": gettext("man"), "census_pct": 49},
                ]
            ),
        ),
        (
            gettext("district"),
            quota_lines(
                [
                    {"value": gettext("north"), "min": 6, "max": 10},
                    {"value": gettext("centre"), "min": 5, "max": 9},
                    {"value": gettext("south"), "min": 8, "max": 12},
                ]
            ),
        ),
    ]


def _open_defaults(where: tzinfo) -> dict[str, Any]:
    # Recruitment from the next full hour for four weeks, in the city's time.
    start = (datetime.now(UTC) + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    values: dict[str, Any] = {
        "size": "24",
        "recruitment_opens_at": zones.to_local_input(start, where),
        "recruitment_closes_at": zones.to_local_input(start + timedelta(weeks=4), where),
        "stipend": "",
        "score_share_pct": "0",
    }
    for n, (name, lines) in enumerate(example_features()):
        values[f"feature_name_{n}"] = name
        values[f"feature_values_{n}"] = lines
    return values


def _form_key(key: str, rows: list[int], features: list[dict[str, Any]]) -> tuple[str, str]:
    """Where a schema error goes on the form, and a prefix naming the value it is about."""
    parts = key.split(".")
    if parts[0] == "stipend_minor":
        return "stipend", ""
    if parts[0] != "features" or len(parts) < 3 or not parts[1].isdigit():
        return parts[0], ""
    index = int(parts[1])
    if index >= len(rows):
        return "features", ""
    row = rows[index]
    if parts[2] == "name":
        return f"feature_name_{row}", ""
    if len(parts) > 4 and parts[3].isdigit() and int(parts[3]) < len(features[index]["values"]):
        return f"feature_values_{row}", f"{features[index]['values'][int(parts[3])]['value']}: "
    return f"feature_values_{row}", ""


def panel_from_form(
    values: dict[str, Any], where: tzinfo, currency: str
) -> tuple[PanelIn | None, dict[str, str]]:
    """The form as the API's `PanelIn` (the same checks), or the errors by form field."""
    errors: dict[str, str] = {}
    features: list[dict[str, Any]] = []
    rows: list[int] = []  # the fieldset of each feature given
    for n in range(FEATURE_ROWS):
        name = str(values.get(f"feature_name_{n}") or "").strip()
        text = str(values.get(f"feature_values_{n}") or "")
        if not name and not text.strip():
            continue
        try:
            quotas = read_quotas(text)
        except ValueError as exc:
            errors[f"feature_values_{n}"] = str(exc)
            quotas = []
        features.append({"name": name, "values": quotas})
        rows.append(n)
    if not features:
        errors["features"] = gettext("Give at least one feature to balance, with its values.")
    stipend = read_amount(values, "stipend", currency, errors, required=False)
    data = {
        "size": str(values.get("size") or "").strip() or None,
        "features": features,
        "recruitment_opens_at": zones.form_moment(values, "recruitment_opens_at", where, errors),
        "recruitment_closes_at": zones.form_moment(values, "recruitment_closes_at", where, errors),
        "stipend_minor": stipend or 0,
        "score_share_pct": str(values.get("score_share_pct") or "").strip() or 0,
    }
    try:
        spec = PanelIn.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            key, message = translate_error(dict(error))
            field, prefix = _form_key(key, rows, features)
            kind = error.get("type")
            if field.startswith("feature_values_") and kind == "too_short" and not prefix:
                message = gettext("Give at least two values, one per line.")
            elif field.startswith("feature_name_") and kind == "string_pattern_mismatch":
                message = gettext(
                    "Write the name in lowercase letters, digits and _, starting with a "
                    "letter (such as age_band)."
                )
            errors.setdefault(field, prefix + message)
        return None, errors
    return (None, errors) if errors else (spec, {})


async def _render_open(
    request: Request,
    challenge: Challenge,
    status_code: int = 200,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    city = await Organization.get(id=challenge.organization_id)
    where = zones.zone(city.time_zone or "UTC")
    currency = challenge.currency
    # "150.50" as the viewer writes amounts ("150" where the currency has no cents).
    digits = minor_units(currency)
    minor = 150 * 10**digits + (5 * 10 ** (digits - 1) if digits else 0)
    example = format_amount_input(minor, currency, i18n.current_locale.get())
    return render(
        request,
        "panels/open.html",
        status_code=status_code,
        challenge=challenge,
        takes_panel=panels.takes_panel(challenge),
        zone=gettext("Time zone: %(zone)s") % {"zone": zones.zone_label(where)},
        currency=currency,
        stipend_example=example,
        rows=range(FEATURE_ROWS),
        values=values if values is not None else _open_defaults(where),
        errors=errors or {},
    )


@guard("panels.open", load=challenge_perms.load_challenge)
async def open_page(request: Request) -> Response:
    """The form that opens a citizens' panel for a challenge (the city's managers)."""
    challenge: Challenge = request.state.obj
    panel = await panels.panel_of_challenge(challenge.id)
    if panel is not None:
        return redirect(
            request, f"/panels/{panel.id}", notice=gettext("This challenge already has a panel.")
        )
    return await _render_open(request, challenge)


@guard("panels.open", load=challenge_perms.load_challenge)
async def open_submit(request: Request) -> Response:
    """Open the panel from the form: the API's schema and service, so the same checks."""
    challenge: Challenge = request.state.obj
    values = form_values(await request.form())
    city = await Organization.get(id=challenge.organization_id)
    where = zones.zone(city.time_zone or "UTC")
    spec, errors = panel_from_form(values, where, challenge.currency)
    if spec is None:
        return await _render_open(request, challenge, 422, values=values, errors=errors)
    try:
        async with transaction(request):
            panel = await panels.open_panel(
                context(request),
                challenge,
                api.spec_of(spec),
            )
    except ServiceError as exc:
        found = {
            {"stipend_minor": "stipend"}.get(key, key): message
            for key, message in exc.fields.items()
        }
        return await _render_open(
            request,
            challenge,
            exc.status_code,
            values=values,
            errors=found or {"__root__": exc.detail},
        )
    return redirect(
        request,
        f"/panels/{panel.id}",
        notice=gettext(
            "The citizens' panel is open: volunteers can sign up once recruitment opens."
        ),
    )


# --- the pool, for the panel's staff -------------------------------------------------------


def volunteer_status_label(status: str) -> str:
    labels = {
        "pool": gettext("In the pool"),
        "member": gettext("Member"),
        "withdrawn": gettext("Has withdrawn"),
    }
    return labels.get(status, status)


def pool_name(volunteer: Volunteer) -> str:
    """How the staff see a volunteer: a member as the panel names them, another by the first
    name they gave (never their e-mail)."""
    if volunteer.status is VolunteerStatus.member:
        return panels.member_label(volunteer)
    return volunteer.first_name or "—"


def chance_text(probability: float | None) -> str:
    """A selection probability as a percentage in the viewer's language ("12.5 %")."""
    if probability is None:
        return ""
    return format_percent(probability, format="#,##0.0 %", locale=i18n.current_locale.get())


async def _pool_counts(
    panel: Panel, status: VolunteerStatus | None
) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Volunteers per status, and per declared value among those listed (one query)."""
    per_status = {s.value: 0 for s in VolunteerStatus}
    per_value: dict[str, dict[str, int]] = {
        f["name"]: {v["value"]: 0 for v in f["values"]} for f in panel.features
    }
    rows = await Volunteer.filter(panel_id=panel.id).values_list("status", "features")
    for row_status, declared in rows:
        key = str(getattr(row_status, "value", row_status))
        per_status[key] = per_status.get(key, 0) + 1
        if status is not None and key != status.value:
            continue
        for feature, value in dict(declared).items():
            if feature in per_value:
                per_value[feature][value] = per_value[feature].get(value, 0) + 1
    return per_status, per_value


@guard("panels.staff", load=perms.load_panel)
async def pool_page(request: Request) -> Response:
    """The volunteers with what they declared, a page at a time, filtered by status."""
    panel = loaded(request, perms.PanelView).panel
    text = request.query_params.get("status", "")
    status = VolunteerStatus(text) if text in VolunteerStatus.__members__ else None
    raw = request.query_params.get("cursor", "")
    cursor = int(raw) if raw.isdigit() and 0 < int(raw) < 2**31 else None
    rows, next_cursor = await api.pool_page(panel, cursor=cursor, status=status)
    per_status, per_value = await _pool_counts(panel, status)
    query = f"status={status.value}&" if status is not None else ""
    return render(
        request,
        "panels/pool.html",
        panel=panel,
        challenge=panel.challenge,
        features=[f["name"] for f in panel.features],
        rows=[(v, pool_name(v), chance_text(v.probability)) for v in rows],
        status=status.value if status is not None else "",
        statuses=[(s.value, volunteer_status_label(s.value)) for s in VolunteerStatus],
        per_status=[
            (gettext("In the pool"), per_status["pool"]),
            (gettext("Seated members"), per_status["member"]),
            (gettext("Withdrawals"), per_status["withdrawn"]),
        ],
        per_value=per_value,
        status_label=volunteer_status_label,
        first_page=cursor is None,
        page_url=f"/panels/{panel.id}/pool" + (f"?status={status.value}" if status else ""),
        next_url=(
            f"/panels/{panel.id}/pool?{query}cursor={next_cursor}"
            if next_cursor is not None
            else ""
        ),
    )


routes: list[BaseRoute] = [
    Route("/challenges/{challenge_id:int}/panel/new", open_page, methods=["GET"]),
    Route("/challenges/{challenge_id:int}/panel", open_submit, methods=["POST"]),
    Route("/panels/{panel_id:int}/pool", pool_page, methods=["GET"]),
    Route("/panels/{panel_id:int}/ranking", ranking_page, methods=["GET"]),
    Route("/panels/{panel_id:int}", panel_page, methods=["GET"]),
    Route("/panels/{panel_id:int}/volunteer", volunteer_submit, methods=["POST"]),
    Route("/panels/{panel_id:int}/draw", draw_submit, methods=["POST"]),
    Route("/panels/{panel_id:int}/sessions", session_submit, methods=["POST"]),
    Route("/panels/{panel_id:int}/recommendation", recommendation_submit, methods=["POST"]),
    Route(
        "/panels/{panel_id:int}/volunteers/{volunteer_id:int}/withdraw",
        withdraw_submit,
        methods=["POST"],
    ),
    Route(
        "/panels/{panel_id:int}/volunteers/{volunteer_id:int}/stipend",
        stipend_submit,
        methods=["POST"],
    ),
    Route("/panels/{panel_id:int}/score", scoring_page, methods=["GET"]),
    Route("/panels/{panel_id:int}/score/{application_id:int}", score_submit, methods=["POST"]),
]
