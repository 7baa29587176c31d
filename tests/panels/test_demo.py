"""The demo's citizens' panel: drawn, quotas met, shown on its page and the challenge's."""

from __future__ import annotations

import httpx

from service import db
from service.config import Settings
from service.demo import SetAside, seed_organizations, seed_people
from service.panels import draw
from service.panels.demo import seed_panel
from service.panels.models import Panel, PanelScore, Volunteer


async def test_demo_panel_is_drawn_within_its_quotas(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    from service.applications.demo import seed_applications
    from service.challenges.demo import seed_challenges
    from service.rewards.demo import seed_escrow

    for step in (
        seed_organizations,
        seed_people,
        seed_challenges,
        seed_escrow,
        seed_applications,
        seed_panel,
        seed_panel,
    ):
        async with db.transaction(SetAside()):
            await step(settings)
    (panel,) = await Panel.all()
    assert panel.status.value == "drawn"
    pool = {v.id: v.features for v in await Volunteer.filter(panel_id=panel.id)}
    members = [v.id for v in await Volunteer.filter(panel_id=panel.id, status="member")]
    assert len(members) == 12 and len(pool) == 60
    assert draw.meets(panel.quotas(), pool, members) == []
    # Nine members have scored every finalist: the ranking shows the panel's share.
    scored = await PanelScore.filter(volunteer_id__in=members).values_list(
        "volunteer_id", flat=True
    )
    assert len(set(scored)) == 9 and len(scored) % 9 == 0 and scored
    page = await client.get(f"/panels/{panel.id}")
    assert page.status_code == 200 and panel.draw["seed"] in page.text
    challenge = await client.get(f"/challenges/{panel.challenge_id}")
    assert "Citizens&#39; panel" in challenge.text or "Citizens' panel" in challenge.text
