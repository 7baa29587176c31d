"""Demo citizens' panel: on the first demo challenge in judging (else the first public one), a
panel of 12 drawn from 60 resident volunteers balanced by age band, gender and district, with
a 30 % share of the jury's score, two sessions, and nine members' scores of the finalists. The
volunteers sign up through the service within the recruitment window; the draw is the same
maximin lottery as the job's.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from service.accounts.actor import Actor
from service.accounts.models import Membership, Role, User
from service.challenges.models import Challenge, ChallengeStatus, Criterion
from service.config import Settings
from service.core.context import Context
from service.panels import draw
from service.panels import service as panels
from service.panels.models import Panel, PanelStatus, VolunteerStatus

SIZE = 12
VOLUNTEERS = 60
FEATURES: list[dict[str, Any]] = [
    {
        "name": "age",
        "values": [
            {"value": "16-29", "min": 2, "max": 4},
            {"value": "30-49", "min": 3, "max": 5},
            {"value": "50+", "min": 3, "max": 5},
        ],
    },
    {
        "name": "gender",
        "values": [
            {"value": "woman", "min": 5, "max": 7},
            {"value": "man", "min": 5, "max": 7},
            {"value": "other", "min": 0, "max": 1},
        ],
    },
    {
        "name": "district",
        "values": [
            {"value": "Cerro Alegre", "min": 3, "max": 5},
            {"value": "Playa Ancha", "min": 3, "max": 5},
            {"value": "Almendral", "min": 3, "max": 5},
        ],
    },
]
FIRST_NAMES = ["Camila", "Diego", "Valentina", "Matías", "Isidora", "Tomás", "Josefa", "Benjamín"]


async def seed_panel(settings: Settings) -> None:
    challenge = (
        await Challenge.filter(status=ChallengeStatus.judging, published_at__isnull=False)
        .order_by("id")
        .first()
    ) or await Challenge.filter(published_at__isnull=False).order_by("id").first()
    if challenge is None or await Panel.exists(challenge_id=challenge.id):
        return
    manager_row = (
        await Membership.filter(organization_id=challenge.organization_id, role=Role.owner)
        .order_by("id")
        .first()
    )
    assert manager_row is not None
    manager = await User.get(id=manager_row.user_id)
    staff = Context(
        actor=Actor(user=manager, roles={challenge.organization_id: Role.owner}),
        settings=settings,
    )
    now = datetime.now(UTC)
    opens = now - timedelta(days=21)
    panel = await panels.open_panel(
        staff,
        challenge,
        panels.PanelSpec(
            size=SIZE,
            features=FEATURES,
            recruitment_opens_at=opens,
            recruitment_closes_at=now - timedelta(days=7),
            stipend_minor=0,
            score_share_pct=30,
        ),
    )
    rng = random.Random(2026)
    template = await User.get(email="citizen@demo.civic")
    residents = [template]
    for n in range(1, VOLUNTEERS):
        residents.append(
            await User.create(
                email=f"resident{n:02d}@demo.civic",
                name=f"{FIRST_NAMES[n % len(FIRST_NAMES)]} Resident {n}",
                password_hash=template.password_hash,
                email_verified_at=now,
            )
        )
    for n, user in enumerate(residents):
        declared = {
            f["name"]: rng.choices(
                [v["value"] for v in f["values"]],
                weights=[5, 5, 1] if f["name"] == "gender" else [1, 1, 1],
            )[0]
            for f in FEATURES
        }
        await panels.volunteer(
            Context(actor=Actor(user=user), settings=settings),
            panel,
            features=declared,
            first_name=user.name.split()[0],
            show_name=n % 3 == 0,
            now=opens + timedelta(days=1, minutes=n),
        )
    # What the draw job does, without the queue.
    panel.status = PanelStatus.drawing
    panel.seed = str(rng.getrandbits(63))
    await panel.save(update_fields=["status", "seed"])
    pool = {v.id: dict(v.features) for v in await panels.pool_of(panel)}
    distribution = draw.find_distribution(panel.quotas(), pool, panel.size)
    await panels.finish_draw(panel.id, distribution, draw.draw(distribution, int(panel.seed)))
    await panels.add_session(
        staff, panel, starts_at=now - timedelta(days=3), place="Town hall, room 2"
    )
    await panels.add_session(
        staff, panel, starts_at=now + timedelta(days=4), place="Biblioteca Santiago Severín"
    )
    # Most members have scored the finalists already, so the ranking shows the panel's share.
    if challenge.status in panels.SCORING:
        # Within the judging window, however the demo's dates fall against today.
        when = min(now, challenge.judging_ends_at - timedelta(hours=1))
        panel.challenge = challenge
        criteria = await Criterion.filter(challenge_id=challenge.id).order_by("position")
        finalists = await panels.finalists(challenge)
        members = await panels.pool_of(panel, statuses=(VolunteerStatus.member,))
        for member in members[:9]:
            user = await User.get(id=member.user_id)
            for n, application in enumerate(finalists):
                await panels.score(
                    Context(actor=Actor(user=user), settings=settings),
                    panel,
                    member,
                    application,
                    conflict=False,
                    scores={c.id: min(10, max(0, rng.randint(4, 9) + n - 1)) for c in criteria},
                    now=when,
                )
