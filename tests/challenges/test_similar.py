"""While a city drafts a challenge, what already looks like it is offered: challenges and the
region's open citizen proposals with a similar title, whatever language they were written in
(compared through their cached translations). Translations are made for real with Apertium."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
from starlette.applications import Starlette

from service.bootstrap import Deps
from service.challenges.models import Challenge
from service.translation import service as translation
from service.translation import tasks
from service.translation.models import Translation
from tests import factories
from tests.challenges.factories import challenge_body
from tests.challenges.helpers import City, make_city
from tests.challenges.test_typed_amounts import challenge_form
from tests.participation.helpers import REGION, propose
from tests.rewards.test_pages import browser

SPANISH_TITLE = "Retrasos del autobús escolar en el barrio norte"
ENGLISH_TITLE = "The school bus is late in the north"


async def _translate(app: Starlette, kind: str, object_id: int) -> None:
    deps: Deps = app.state.deps
    deps = replace(deps, settings=deps.settings.with_overrides(translator="apertium"))
    assert await tasks.translate(deps, kind=kind, object_id=object_id) > 0


async def _english(text: str) -> str:
    row = await Translation.get(text_hash=translation.text_hash(text), target="en")
    return row.text


def _offered(response: httpx.Response) -> str:
    """The 'these look like yours' part of the form."""
    found = re.search(r'id="similar-challenges"(.*?)name="check_similar"', response.text, re.S)
    assert found, response.text[:2000]
    return found.group(1)


async def _challenge(client: httpx.AsyncClient, city: City, **fields: str) -> int:
    """A draft of the city's editor, opening an hour ago once published."""
    opens_at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    body = challenge_body(city.org, opens_at=opens_at, **fields)
    created = await client.post("/api/v1/challenges", json=body, headers=city.editor.headers)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


class TestTheseLookLikeYours:
    async def test_an_english_title_is_offered_the_spanish_challenge_and_proposal(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        seville, city = await make_city(client), await make_city(client)
        spanish = await _challenge(
            client,
            seville,
            title=SPANISH_TITLE,
            summary="Que el autobús escolar llegue a tiempo.",
            problem_statement="El autobús escolar llega tarde cada mañana.",
            language="es",
        )
        published = await client.post(
            f"/api/v1/challenges/{spanish}/publish", headers=seville.manager.headers
        )
        assert published.status_code == 200, published.text
        await _translate(app, "challenge", spanish)
        unrelated = await _challenge(
            client,
            seville,
            title="Potholes near the old market",
        )
        assert (
            await client.post(
                f"/api/v1/challenges/{unrelated}/publish", headers=seville.manager.headers
            )
        ).status_code == 200
        # Another city's draft is its own: not shown to this city.
        hidden_draft = await _challenge(
            client,
            seville,
            title="Retrasos del autobús escolar en el norte",
            language="es",
        )
        await _translate(app, "challenge", hidden_draft)
        citizen = await factories.person(client)
        proposal = await propose(
            client,
            citizen,
            title="Los autobuses escolares llegan tarde al barrio norte",
            description="Cada mañana el autobús escolar llega tarde.",
            affected="",
        )
        await _translate(app, "proposal", proposal["id"])
        before = await Challenge.all().count()

        async with browser(app, city.editor.user) as b:
            b.http.cookies.set("lang", "en")
            form = challenge_form(
                city.org.id,
                title=ENGLISH_TITLE,
                region=REGION,
                language="en",
                reward_amount="20,000,000",
            )
            looked = await b.post("/challenges/new", check_similar="1", **form)
            assert looked.status_code == 200, looked.text[:2000]
            offered = _offered(looked)
            assert "These look like yours" in offered
            # The Spanish challenge, shown in the reader's language.
            assert f'href="/challenges/{spanish}"' in offered
            assert html.escape(await _english(SPANISH_TITLE)) in offered
            assert f'href="/proposals/{proposal["id"]}"' in offered
            for absent in (unrelated, hidden_draft):
                assert f'href="/challenges/{absent}"' not in offered
            # What was typed is kept, and only looking saves nothing.
            assert f'value="{ENGLISH_TITLE}"' in looked.text
            assert await Challenge.all().count() == before

            nothing = await b.post(
                "/challenges/new",
                check_similar="1",
                **challenge_form(city.org.id, title="Noise from the night clubs", region=REGION),
            )
            assert nothing.status_code == 200
            assert "These look like yours" not in _offered(nothing)
            assert "Nothing similar found" in _offered(nothing)

            # Saved as a draft, its edit page offers them too, never the draft itself.
            saved = await b.post("/challenges/new", **form)
            assert saved.status_code == 303, saved.text[:2000]
            own = await Challenge.get(organization_id=city.org.id)
            edit = await b.get(f"/challenges/{own.id}/edit")
            assert edit.status_code == 200
            offered = _offered(edit)
            assert f'href="/challenges/{spanish}"' in offered
            assert f'href="/challenges/{own.id}"' not in offered
