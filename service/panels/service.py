"""Citizens' panels in the area's words: open a panel, volunteer, draw, withdraw and replace,
score the finalists, hold sessions, recommend, pay stipends.

Services run inside the caller's transaction. The lottery itself is in `draw` (pure); the job
that runs it is in `tasks`. Stipends are paid from the challenge's escrow through the rewards
ledger (one balanced transaction per member, keyed by the member, so never twice).
"""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from service.applications import ranking
from service.applications import service as applications
from service.applications.models import Application, ApplicationStatus
from service.audit import service as audit
from service.challenges.models import Challenge, ChallengeStatus, Criterion
from service.core import i18n, jobs
from service.core.context import Context
from service.core.errors import Conflict, NotFound, ValidationFailed
from service.panels import draw
from service.panels.models import (
    DrawEvent,
    Panel,
    PanelScore,
    PanelSession,
    PanelStatus,
    Stipend,
    Volunteer,
    VolunteerStatus,
    can_move,
)

_ = i18n.gettext
P = PanelStatus
V = VolunteerStatus
MIN_SIZE, MAX_SIZE = 2, 200
RECOMMENDATION_MAX = 20_000


class QuotasUnmet(ValidationFailed):
    """No panel can meet the quotas: the detail names the value that is short."""


class InsufficientEscrow(Conflict):
    pass


def short_message(short: draw.QuotaShort) -> str:
    """Why no panel meets the quotas, in the reader's language, naming the value short."""
    values = {
        "feature": short.feature,
        "value": short.value,
        "needed": short.needed,
        "available": short.available,
    }
    texts = {
        "size": _("The panel needs at least one member."),
        "pool_small": _("The panel needs %(needed)s members and only %(available)s volunteered."),
        "min_above_max": _(
            "%(feature)s = %(value)s: the minimum %(needed)s is above the maximum %(available)s."
        ),
        "value_short": _(
            "%(feature)s = %(value)s: the quota needs at least %(needed)s and only "
            "%(available)s volunteers have it."
        ),
        "unknown_value": _(
            "%(feature)s = %(value)s: volunteers have this value and it has no quota."
        ),
        "mins_over": _(
            "%(feature)s: the minimums add up to %(needed)s, more than the panel's "
            "%(available)s seats."
        ),
        "maxes_under": _(
            "%(feature)s: at most %(available)s members can be seated within the maximums and "
            "the pool, fewer than the panel's %(needed)s seats (look at %(value)s)."
        ),
        "joint_min": _(
            "%(feature)s = %(value)s: no panel can seat the minimum %(needed)s together with the "
            "other quotas; at most %(available)s can be."
        ),
        "joint_max": _(
            "%(feature)s = %(value)s: no panel can keep to the maximum %(available)s together "
            "with the other quotas; it needs at least %(needed)s."
        ),
    }
    text = texts.get(short.kind, _("No panel of this size meets all the quotas together."))
    return text % values


def stored_short(short: draw.QuotaShort) -> str:
    """A refusal as the panel keeps it (`draw_error`): the facts, not one language's words."""
    return json.dumps(short.record(), ensure_ascii=False)


def draw_error_text(stored: str) -> str:
    """The panel's last refused draw, in the reader's language."""
    if not stored.startswith("{"):
        return stored
    try:
        record = json.loads(stored)
    except ValueError:
        return stored
    return short_message(draw.QuotaShort.from_record(record))


def event_detail(detail: Mapping[str, Any]) -> dict[str, Any]:
    """An audit-trail entry for the reader: a refusal's reason in the reader's language."""
    short = detail.get("short")
    if isinstance(short, dict):
        return {**detail, "reason": short_message(draw.QuotaShort.from_record(short))}
    return dict(detail)


# --- opening -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PanelSpec:
    size: int
    features: list[dict[str, Any]]
    recruitment_opens_at: datetime
    recruitment_closes_at: datetime
    stipend_minor: int
    score_share_pct: int


def census_seats(census_pct: float, size: int) -> tuple[int, int]:
    """A value's census share of the seats, rounded down and up: its quota's min and max."""
    seats = census_pct * size / 100
    # A share that gives a whole number of seats (25 % of 40) is that number both ways.
    return math.floor(seats + 1e-9), math.ceil(seats - 1e-9)


def with_census_quotas(spec: PanelSpec) -> PanelSpec:
    """The quotas with every minimum and maximum the city left out computed from the value's
    census share; a value with neither is refused, as are shares that do not add up to 100 %."""
    errors: dict[str, str] = {}
    features = []
    for feature in spec.features:
        values = []
        shares = [v.get("census_pct") for v in feature["values"]]
        given = [s for s in shares if s is not None]
        if given and (len(given) != len(shares) or abs(sum(given) - 100) > 0.5):
            errors["features"] = _(
                "%(feature)s: give the census share of every value, adding up to 100 %%."
            ) % {"feature": feature["name"]}
        for v in feature["values"]:
            v = dict(v)
            pct = v.get("census_pct")
            if pct is None:
                v.pop("census_pct", None)
                if v.get("min") is None or v.get("max") is None:
                    errors["features"] = _(
                        "%(feature)s = %(value)s: give a minimum and a maximum, or the value's "
                        "census share."
                    ) % {"feature": feature["name"], "value": v["value"]}
            else:
                low, high = census_seats(float(pct), spec.size)
                v["min"] = low if v.get("min") is None else v["min"]
                v["max"] = high if v.get("max") is None else v["max"]
            values.append(v)
        features.append({**feature, "values": values})
    if errors:
        raise ValidationFailed(fields=errors)
    return replace(spec, features=features)


def check_spec(spec: PanelSpec) -> None:
    """Quotas that make sense on their own (the pool is checked at the draw)."""
    errors: dict[str, str] = {}
    if not MIN_SIZE <= spec.size <= MAX_SIZE:
        errors["size"] = _("A panel has between %(low)s and %(high)s members.") % {
            "low": MIN_SIZE,
            "high": MAX_SIZE,
        }
    if spec.recruitment_closes_at <= spec.recruitment_opens_at:
        errors["recruitment_closes_at"] = _("Recruitment must close after it opens.")
    if not 0 <= spec.score_share_pct <= 100:
        errors["score_share_pct"] = _("The panel's share is between 0 and 100 percent.")
    if spec.stipend_minor < 0:
        errors["stipend_minor"] = _("The stipend cannot be negative.")
    names = [f["name"] for f in spec.features]
    if not spec.features or len(set(names)) != len(names):
        errors["features"] = _("Name each feature once, at least one.")
    for feature in spec.features:
        values = [v["value"] for v in feature["values"]]
        if len(values) < 2 or len(set(values)) != len(values):
            errors["features"] = _("%(feature)s: give at least two different values.") % {
                "feature": feature["name"]
            }
            continue
        for v in feature["values"]:
            if not 0 <= v["min"] <= v["max"]:
                errors["features"] = _(
                    "%(feature)s = %(value)s: the minimum must be between 0 and the maximum."
                ) % {"feature": feature["name"], "value": v["value"]}
        if "size" not in errors:
            low = sum(v["min"] for v in feature["values"])
            high = sum(v["max"] for v in feature["values"])
            if low > spec.size or high < spec.size:
                errors["features"] = _(
                    "%(feature)s: the minimums (%(low)s) and maximums (%(high)s) must allow "
                    "a panel of %(size)s."
                ) % {"feature": feature["name"], "low": low, "high": high, "size": spec.size}
    if errors:
        raise ValidationFailed(fields=errors)


async def _event(panel: Panel, kind: str, **detail: Any) -> None:
    await DrawEvent.create(panel=panel, kind=kind, detail=detail)


def takes_panel(challenge: Challenge) -> bool:
    """A cancelled or completed challenge takes no panel (the page shows no form then)."""
    return challenge.status not in (ChallengeStatus.cancelled, ChallengeStatus.completed)


async def open_panel(ctx: Context, challenge: Challenge, spec: PanelSpec) -> Panel:
    spec = with_census_quotas(spec)
    check_spec(spec)
    if not takes_panel(challenge):
        raise Conflict(_("This challenge no longer takes a panel."))
    if await Panel.exists(challenge_id=challenge.id):
        raise Conflict(_("This challenge already has a panel."))
    panel = await Panel.create(
        challenge=challenge,
        organization_id=challenge.organization_id,
        size=spec.size,
        features=spec.features,
        recruitment_opens_at=spec.recruitment_opens_at,
        recruitment_closes_at=spec.recruitment_closes_at,
        stipend_minor=spec.stipend_minor,
        currency=challenge.currency,
        score_share_pct=spec.score_share_pct,
        created_by_id=ctx.actor.user.id if ctx.actor.user else None,
    )
    await _event(
        panel,
        "opened",
        size=spec.size,
        quotas=spec.features,
        score_share_pct=spec.score_share_pct,
        stipend_minor=spec.stipend_minor,
    )
    await audit.record(
        ctx,
        "panel.open",
        object_type="panel",
        object_id=panel.id,
        organization_id=panel.organization_id,
    )
    return panel


# --- volunteering --------------------------------------------------------------------------


def check_features(panel: Panel, declared: Mapping[str, str]) -> dict[str, str]:
    quotas = panel.quotas()
    errors = {}
    for feature, values in quotas.items():
        if declared.get(feature) not in values:
            errors[f"features.{feature}"] = _("Choose one of the listed values.")
    extra = set(declared) - set(quotas)
    if extra:
        errors["features"] = _("Answer only the panel's questions.")
    if errors:
        raise ValidationFailed(fields=errors)
    return {f: declared[f] for f in quotas}


async def volunteer(
    ctx: Context,
    panel: Panel,
    *,
    features: Mapping[str, str],
    first_name: str,
    show_name: bool,
    now: datetime | None = None,
) -> Volunteer:
    now = now or datetime.now(UTC)
    if panel.status is not P.recruiting or not (
        panel.recruitment_opens_at <= now < panel.recruitment_closes_at
    ):
        raise Conflict(_("This panel is not recruiting now."))
    declared = check_features(panel, features)
    user = ctx.actor.user
    assert user is not None
    if await Volunteer.exists(panel_id=panel.id, user_id=user.id):
        raise Conflict(_("You already volunteered for this panel."))
    return await Volunteer.create(
        panel=panel,
        user_id=user.id,
        features=declared,
        first_name=first_name.strip()[:60],
        show_name=show_name and bool(first_name.strip()),
    )


async def pool_of(panel: Panel, *, statuses: tuple[V, ...] = (V.pool, V.member)) -> list[Volunteer]:
    return await Volunteer.filter(panel_id=panel.id, status__in=list(statuses)).order_by("id")


async def pool_counts(panel: Panel) -> dict[str, dict[str, int]]:
    """The pool as the public sees it: counts per value of each feature, nothing more."""
    counts: dict[str, dict[str, int]] = {
        f["name"]: {v["value"]: 0 for v in f["values"]} for f in panel.features
    }
    rows = (
        await Volunteer.filter(panel_id=panel.id)
        .exclude(status=V.withdrawn)
        .values_list("features", flat=True)
    )
    for declared in rows:
        for feature, value in dict(declared).items():
            if value in counts.get(feature, {}):
                counts[feature][value] += 1
    return counts


# --- the draw ------------------------------------------------------------------------------


def _pool_map(volunteers: list[Volunteer]) -> dict[int, dict[str, str]]:
    return {v.id: dict(v.features) for v in volunteers}


async def start_draw(ctx: Context, panel: Panel, *, now: datetime | None = None) -> Panel:
    """Fix the seed, check the quotas against the pool, and queue the lottery job."""
    now = now or datetime.now(UTC)
    panel = await Panel.select_for_update().get(id=panel.id)
    if not can_move(panel.status, P.drawing):
        raise Conflict(_("This panel has been drawn already."))
    if now < panel.recruitment_closes_at:
        raise Conflict(_("The draw takes place once recruitment has closed."))
    pool = _pool_map(await pool_of(panel, statuses=(V.pool,)))
    try:
        draw.check_quotas(panel.quotas(), pool, panel.size)
    except draw.QuotaShort as short:
        message = short_message(short)
        raise QuotasUnmet(message, fields={"quotas": message}) from short
    panel.status = P.drawing
    # The seed is fixed before the draw and published with it.
    panel.seed = str(secrets.randbits(63))
    panel.draw_error = ""
    panel.progress = {"phase": "queued", "step": 0, "total": None}
    await panel.save(update_fields=["status", "seed", "draw_error", "progress", "updated_at"])
    await _event(panel, "draw_started", seed=panel.seed, pool=len(pool))
    jobs.enqueue("panels.draw", job_id=f"panels.draw:{panel.id}:{panel.seed}", panel_id=panel.id)
    await audit.record(
        ctx,
        "panel.draw",
        object_type="panel",
        object_id=panel.id,
        organization_id=panel.organization_id,
    )
    return panel


def publish(
    panel: Panel,
    distribution: draw.Distribution,
    numbers: Mapping[int, int],
    drawn: list[int],
    *,
    seed: str,
) -> dict[str, Any]:
    """What the page and the API publish about one lottery: enough to redo it."""
    return {
        "seed": seed,
        "size": len(drawn),
        "quotas": panel.features,
        "algorithm": "maximin (Flanigan et al. 2021) by sortition-algorithms with HiGHS; "
        "sample: Python random.Random(seed).random() walks the portfolio in order",
        **distribution.to_public(numbers),
        "probabilities": {
            str(numbers[v]): round(p, 10) for v, p in sorted(distribution.probabilities.items())
        },
        "drawn": sorted(numbers[v] for v in drawn),
    }


async def finish_draw(panel_id: int, distribution: draw.Distribution, drawn: list[int]) -> bool:
    """Seat the drawn volunteers and publish the draw; False when it was done already."""
    panel = await Panel.select_for_update().get(id=panel_id)
    if panel.status is not P.drawing:
        return False
    pool = await pool_of(panel, statuses=(V.pool,))
    numbers = {v.id: n for n, v in enumerate(pool, start=1)}
    if set(numbers) != set(distribution.probabilities):
        # The pool changed under the job (a volunteer withdrew): the job computes again.
        raise RuntimeError("the pool changed during the draw")
    published = publish(panel, distribution, numbers, drawn, seed=panel.seed)
    seated = set(drawn)
    for seat, volunteer_id in enumerate(sorted(seated), start=1):
        await Volunteer.filter(id=volunteer_id).update(status=V.member, seat=seat)
    for v in pool:
        await Volunteer.filter(id=v.id).update(
            pool_number=numbers[v.id], probability=distribution.probabilities[v.id]
        )
    panel.status = P.drawn
    panel.draw = {**published, "replacements": []}
    panel.progress = {"phase": "done", "step": 1, "total": 1}
    await panel.save(update_fields=["status", "draw", "progress", "updated_at"])
    await _event(
        panel,
        "drawn",
        seed=panel.seed,
        maximin=distribution.maximin,
        panels_in_portfolio=len(distribution.portfolio),
        drawn=published["drawn"],
    )
    return True


async def fail_draw(panel_id: int, short: draw.QuotaShort) -> None:
    panel = await Panel.select_for_update().get(id=panel_id)
    if panel.status is not P.drawing:
        return
    panel.status = P.recruiting
    panel.draw_error = stored_short(short)
    panel.progress = {}
    await panel.save(update_fields=["status", "draw_error", "progress", "updated_at"])
    await _event(panel, "draw_refused", reason=short.message, short=short.record())


async def withdraw(ctx: Context, panel: Panel, member: Volunteer) -> Volunteer:
    """A volunteer leaves; a seated member's seat is re-drawn the same way (queued)."""
    member = await Volunteer.select_for_update().get(id=member.id)
    if member.status is V.withdrawn:
        raise Conflict(_("Already withdrawn."))
    if panel.status is P.drawing:
        raise Conflict(_("The draw is running: try again in a few minutes."))
    was_member = member.status is V.member
    member.status = V.withdrawn
    member.withdrawn_at = datetime.now(UTC)
    await member.save(update_fields=["status", "withdrawn_at"])
    if was_member and panel.status is P.drawn:
        seed = str(secrets.randbits(63))
        await _event(panel, "withdrawn", seat=member.seat, replacement_seed=seed)
        jobs.enqueue(
            "panels.replace",
            job_id=f"panels.replace:{member.id}",
            panel_id=panel.id,
            seat=member.seat,
            seed=seed,
        )
    await audit.record(
        ctx,
        "panel.withdraw",
        object_type="panel",
        object_id=panel.id,
        organization_id=panel.organization_id,
    )
    return member


async def replacement_problem(
    panel: Panel,
) -> tuple[dict[str, dict[str, tuple[int, int]]], dict[int, dict[str, str]], int]:
    """Quotas left, the pool not seated, and the number of seats to fill."""
    members = await pool_of(panel, statuses=(V.member,))
    everyone = _pool_map(members + await pool_of(panel, statuses=(V.pool,)))
    kept = [m.id for m in members]
    left = draw.remaining_quotas(panel.quotas(), everyone, kept)
    pool = {k: v for k, v in everyone.items() if k not in kept}
    return left, pool, panel.size - len(members)


async def finish_replacement(
    panel_id: int, seat: int, seed: str, distribution: draw.Distribution, drawn: list[int]
) -> bool:
    panel = await Panel.select_for_update().get(id=panel_id)
    done = [r for r in panel.draw.get("replacements", []) if r["seed"] == seed]
    if done or not drawn:
        return False
    numbers = dict(
        await Volunteer.filter(
            panel_id=panel.id, id__in=list(distribution.probabilities)
        ).values_list("id", "pool_number")
    )
    for volunteer_id in drawn:
        await Volunteer.filter(id=volunteer_id, status=V.pool).update(status=V.member, seat=seat)
    entry = {
        "seat": seat,
        **publish(panel, distribution, numbers, drawn, seed=seed),
    }
    panel.draw = {**panel.draw, "replacements": [*panel.draw.get("replacements", []), entry]}
    panel.draw_error = ""
    await panel.save(update_fields=["draw", "draw_error", "updated_at"])
    await _event(panel, "replaced", seat=seat, seed=seed, drawn=entry["drawn"])
    return True


async def fail_replacement(panel_id: int, seat: int, seed: str, short: draw.QuotaShort) -> None:
    """No volunteer left can fill the seat within the quotas: the staff see why."""
    panel = await Panel.select_for_update().get(id=panel_id)
    panel.draw_error = stored_short(short)
    await panel.save(update_fields=["draw_error", "updated_at"])
    await _event(
        panel,
        "replacement_refused",
        seat=seat,
        seed=seed,
        reason=short.message,
        short=short.record(),
    )


# --- sessions and recommendation -----------------------------------------------------------


async def add_session(
    ctx: Context, panel: Panel, *, starts_at: datetime, place: str
) -> PanelSession:
    if not place.strip():
        raise ValidationFailed(fields={"place": _("Say where the session takes place.")})
    return await PanelSession.create(panel=panel, starts_at=starts_at, place=place.strip()[:200])


async def recommend(ctx: Context, panel: Panel, *, text: str) -> Panel:
    if panel.status not in (P.drawn, P.closed):
        raise Conflict(_("The panel recommends once it has been drawn."))
    if len(text.strip()) < 10:
        raise ValidationFailed(
            fields={"text": _("Write the recommendation (at least 10 characters).")}
        )
    if len(text.strip()) > RECOMMENDATION_MAX:
        raise ValidationFailed(
            fields={
                "text": _("The recommendation is limited to %(max)s characters.")
                % {"max": RECOMMENDATION_MAX}
            }
        )
    panel.recommendation = text.strip()
    await panel.save(update_fields=["recommendation", "updated_at"])
    await audit.record(
        ctx,
        "panel.recommend",
        object_type="panel",
        object_id=panel.id,
        organization_id=panel.organization_id,
    )
    return panel


def member_label(volunteer: Volunteer) -> str:
    if volunteer.show_name and volunteer.first_name:
        return volunteer.first_name
    return _("Member %(seat)s") % {"seat": volunteer.seat}


# --- the panel on the jury -----------------------------------------------------------------

SCORING = (ChallengeStatus.closed, ChallengeStatus.judging)


async def finalists(challenge: Challenge) -> list[Application]:
    return await Application.filter(
        challenge_id=challenge.id, status=ApplicationStatus.submitted
    ).order_by("id")


async def recused_from(challenge: Challenge, member: Volunteer) -> set[int]:
    """Finalists the member may not score: a member of an applicant, as for judges."""
    member_of = (await applications.memberships_of([member.user_id]))[member.user_id]
    found = applications.recusals(
        member_of, await applications.applicant_orgs(challenge.id), recuse_from_all=False
    )
    return set(found)


async def score(
    ctx: Context,
    panel: Panel,
    member: Volunteer,
    application: Application,
    *,
    conflict: bool,
    scores: Mapping[int, int] | None,
    now: datetime | None = None,
) -> PanelScore:
    now = now or datetime.now(UTC)
    challenge = panel.challenge
    if panel.score_share_pct == 0:
        raise Conflict(_("This panel does not score the finalists."))
    if challenge.status not in SCORING or now >= challenge.judging_ends_at:
        raise Conflict(_("Scores can be given once the challenge has closed, until judging ends."))
    if (
        application.challenge_id != challenge.id
        or application.status is not ApplicationStatus.submitted
    ):
        raise NotFound()
    if application.id in await recused_from(challenge, member):
        raise NotFound(
            _(
                "You are recused from this application: you are a member of an "
                "organization that applied."
            )
        )
    existing = await PanelScore.select_for_update().get_or_none(
        volunteer_id=member.id, application_id=application.id
    )
    if existing is not None and existing.conflict_of_interest:
        raise Conflict(_("You declared a conflict of interest for this application."))
    criteria = {c.id for c in await Criterion.filter(challenge_id=challenge.id)}
    if conflict:
        values: dict[str, Any] = {"conflict_of_interest": True, "scores": {}}
    else:
        given = dict(scores or {})
        if set(given) != criteria:
            raise ValidationFailed(fields={"scores": _("Give a score for every criterion.")})
        if any(not 0 <= v <= 10 for v in given.values()):
            raise ValidationFailed(fields={"scores": _("Scores are from 0 to 10.")})
        values = {
            "conflict_of_interest": False,
            "scores": {str(k): int(v) for k, v in given.items()},
        }
    if existing is None:
        return await PanelScore.create(
            panel=panel, volunteer=member, application_id=application.id, **values
        )
    for key, value in values.items():
        setattr(existing, key, value)
    await existing.save()
    return existing


async def panel_means(panel: Panel, challenge: Challenge) -> dict[int, float]:
    """Each finalist's panel score: the mean over members of their weighted scores (0-10).

    Scores of members who have since withdrawn, or who are now members of an applicant, are
    left out.
    """
    weights = {c.id: c.weight for c in await Criterion.filter(challenge_id=challenge.id)}
    rows = await PanelScore.filter(
        panel_id=panel.id, conflict_of_interest=False, volunteer__status=V.member
    ).select_related("volunteer")
    by_app: dict[int, list[float]] = {}
    recused: dict[int, set[int]] = {}
    for row in rows:
        if row.volunteer_id not in recused:
            recused[row.volunteer_id] = await recused_from(challenge, row.volunteer)
        if row.application_id in recused[row.volunteer_id] or not row.scores:
            continue
        value = ranking.weighted({int(k): float(v) for k, v in row.scores.items()}, weights)
        by_app.setdefault(row.application_id, []).append(value)
    return {app: sum(v) / len(v) for app, v in by_app.items()}


async def combined_ranking(panel: Panel, challenge: Challenge) -> list[ranking.Combined]:
    judged = await applications.judged(challenge, normalise=False)
    experts = {r.application_id: r.score for r in judged.rows if r.reviews}
    return ranking.combine(
        experts,
        await panel_means(panel, challenge),
        [r.application_id for r in judged.rows],
        panel_share_pct=panel.score_share_pct,
    )


# --- stipends ------------------------------------------------------------------------------


async def pay_stipend(ctx: Context, panel: Panel, member: Volunteer, *, reference: str) -> Stipend:
    """Record a member's stipend paid by bank transfer, from the challenge's escrow.

    One ledger transaction keyed by the member: a second click finds the stipend and changes
    nothing.
    """
    from service.rewards import ledger
    from service.rewards.models import AccountKind, TransactionKind

    member = await Volunteer.select_for_update().get(id=member.id)
    if member.panel_id != panel.id or member.status is not V.member:
        raise NotFound()
    if panel.stipend_minor <= 0:
        raise Conflict(_("This panel pays no stipend."))
    if not reference.strip():
        raise ValidationFailed(fields={"reference": _("Give the bank transfer's reference.")})
    existing = await Stipend.get_or_none(volunteer_id=member.id)
    if existing is not None:
        return existing
    escrow = await ledger.account(
        AccountKind.escrow, panel.currency, challenge_id=panel.challenge_id
    )
    if await ledger.balance(escrow) < panel.stipend_minor:
        raise InsufficientEscrow(
            _("The challenge's escrow does not hold this stipend: fund it first.")
        )
    paid = await ledger.account(
        AccountKind.paid_out, panel.currency, organization_id=panel.organization_id
    )
    await ledger.move(
        f"panel-stipend:{member.id}",
        TransactionKind.payout,
        escrow,
        paid,
        panel.stipend_minor,
        challenge_id=panel.challenge_id,
        city_id=panel.organization_id,
        counterpart_id=None,
        memo=f"Citizens' panel stipend, seat {member.seat}",
    )
    stipend = await Stipend.create(
        panel=panel,
        volunteer=member,
        amount_minor=panel.stipend_minor,
        currency=panel.currency,
        reference=reference.strip()[:120],
        paid_by_id=ctx.actor.user.id if ctx.actor.user else 0,
    )
    await audit.record(
        ctx,
        "panel.stipend",
        object_type="panel",
        object_id=panel.id,
        organization_id=panel.organization_id,
        seat=member.seat,
    )
    return stipend


async def stipend_totals(panel: Panel) -> tuple[int, int]:
    """(members paid, total paid) for the public page."""
    rows = await Stipend.filter(panel_id=panel.id).values_list("amount_minor", flat=True)
    return len(rows), sum(int(r) for r in rows)  # type: ignore[call-overload]


async def events_of(panel: Panel) -> list[DrawEvent]:
    return await DrawEvent.filter(panel_id=panel.id).order_by("id")


async def panel_of_challenge(challenge_id: int) -> Panel | None:
    return await Panel.get_or_none(challenge_id=challenge_id)
