"""Nothing private in any export, dashboard or map: every public body of the open data area is
searched for what only its owners may see."""

from __future__ import annotations

import httpx

from service import db
from service.challenges.models import Challenge
from service.config import Settings
from tests.challenges.factories import challenge_body
from tests.challenges.helpers import make_city
from tests.challenges.test_applications import applicant, draft, open_challenge
from tests.challenges.test_judging_awards import closed_with_applications, judge, scores_for
from tests.incubation import helpers as incubation
from tests.incubation.test_check_ins import file
from tests.opendata.datasets_bodies import public_bodies
from tests.opendata.test_ocds import pay
from tests.rewards.helpers import bank_account

PRIVATE = (
    "Field tests in two districts",  # a check-in
    "Judge-only remark",  # a judge's comment
    "Draft-only title",  # a draft application
    "Unpublished plan",  # an unpublished challenge
    "Secret proposal text",  # an application's proposal text
    "ES91",  # an IBAN
    "SEPA-",  # a bank reference
    "@example.org",  # e-mail addresses
)


async def test_nothing_private_in_any_export_dashboard_or_map(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await incubation.admitted(client, settings)
    a = world.a
    await bank_account(client, a.winner, a.winner_org)
    await pay(client, a, a.milestone_ids[0])
    checked = await file(client, a.winner, world.place_id, "green")
    assert checked.status_code == 201, checked.text

    city, closed_id, apps = await closed_with_applications(client)
    j = await judge(client, city, closed_id)
    scored = await client.post(
        f"/api/v1/applications/{apps[0][2]}/reviews",
        json={"scores": await scores_for(closed_id, [8, 6]), "comment": "Judge-only remark"},
        headers=j.headers,
    )
    assert scored.status_code == 200, scored.text

    _, open_id = await open_challenge(client)
    person, org_id = await applicant(client)
    created = await draft(
        client, open_id, person, org_id, title="Draft-only title", proposal="Secret proposal text"
    )
    assert created.status_code == 201
    hidden = await make_city(client)
    unpublished = await client.post(
        "/api/v1/challenges",
        json=challenge_body(hidden.org, title="Unpublished plan"),
        headers=hidden.editor.headers,
    )
    assert unpublished.status_code == 201

    async with db.transaction(None):
        public = [c.id for c in await Challenge.filter(published_at__isnull=False)]
    bodies = await public_bodies(client, public, [a.city.org.id, city.org.id, hidden.org.id])
    assert len(bodies) >= 20
    for url, body in bodies.items():
        for private in PRIVATE:
            assert private not in body, (private, url)
    # The searched bodies do hold the public facts, so the search is not vacuous.
    everything = "".join(bodies.values())
    assert "Secret Startup 0" in everything  # who applied is public once the challenge closed
    assert f"/organizations/{a.winner_org}" in everything
