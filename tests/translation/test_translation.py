"""Translations made by a job after the commit, shown with their original, kept in a cache that
an edit invalidates, found by search, and used to spot similar proposals across languages.

The suite's settings turn translation off (other areas' jobs translate nothing); these tests
run the job with Apertium, for real, on short texts.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
from markupsafe import escape
from starlette.applications import Starlette

from service.bootstrap import Deps
from service.challenges.models import Challenge
from service.translation import service as translation
from service.translation import tasks
from service.translation.models import TranslatedText, Translation
from tests import factories
from tests.challenges.factories import challenge_body
from tests.challenges.helpers import make_city
from tests.deliberation.helpers import draw_map, open_on_proposal, planted_votes
from tests.participation.helpers import REGION, city, propose

NOTE_ES = "Machine-translated from Spanish — show original"


def _with_apertium(app: Starlette) -> Deps:
    deps: Deps = app.state.deps
    return replace(deps, settings=deps.settings.with_overrides(translator="apertium"))


async def _translate(app: Starlette, kind: str, object_id: int) -> int:
    """Run the job as the worker would, with Apertium."""
    return int(await tasks.translate(_with_apertium(app), kind=kind, object_id=object_id))


async def _cached(text: str, target: str) -> str:
    row = await Translation.get(text_hash=translation.text_hash(text), target=target)
    return row.text


async def _queued(app: Starlette, pattern: str) -> list[str]:
    deps: Deps = app.state.deps
    match = f"arq:job:{deps.settings.queue_name}:{pattern}"
    return [key async for key in deps.redis.scan_iter(match=match)]


class TestProposals:
    async def test_translated_after_commit_shown_with_original_searched_and_edited(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        author = await factories.person(client)
        title = "Farolas rotas en la calle Mayor"
        description = "Las farolas de la calle Mayor no funcionan desde marzo."
        proposal = await propose(client, author, title=title, description=description, affected="")
        pid = proposal["id"]
        other = await propose(
            client,
            author,
            title="Potholes near the old market",
            description="The road by the market has deep holes.",
            affected="",
        )
        # The job left after the commit, one per version of the texts.
        assert len(await _queued(app, f"translate:proposal:{pid}:*")) == 1
        page = await client.get(f"/proposals/{pid}?lang=en")
        assert title in page.text and NOTE_ES not in page.text  # nothing cached yet

        assert await _translate(app, "proposal", pid) == 4  # 2 fields x (en, pt)
        assert await _translate(app, "proposal", pid) == 0  # twice is harmless
        assert await Translation.filter(text_hash=translation.text_hash(title)).count() == 2
        assert {r.language for r in await TranslatedText.filter(object_id=pid)} == {"es"}
        english = await _cached(description, "en")
        assert "street" in english.lower(), english
        page = await client.get(f"/proposals/{pid}?lang=en")
        assert html.escape(english) in page.text
        assert NOTE_ES in page.text
        assert f'<div lang="es"><p>{title}</p><p>{description}</p></div>' in page.text
        assert 'lang="en"' in page.text
        portuguese = await _cached(description, "pt")
        assert html.escape(portuguese) in (await client.get(f"/proposals/{pid}?lang=pt")).text
        spanish = (await client.get(f"/proposals/{pid}?lang=es")).text
        assert description in spanish and "translation-note" not in spanish

        # Found by a word of its translation, on the page and in the API; not by others.
        listed = await client.get("/proposals?q=street&lang=en")
        assert f"/proposals/{pid}" in listed.text and f"/proposals/{other['id']}" not in listed.text
        found = (await client.get("/api/v1/proposals", params={"q": "street"})).json()
        assert [i["id"] for i in found["items"]] == [pid]
        assert (await client.get("/api/v1/proposals", params={"q": "zzqx"})).json()["items"] == []

        # An edit forgets the translations of the words it replaced, and queues a new job.
        new_description = "Las fuentes del parque no tienen agua."
        edited = await client.patch(
            f"/api/v1/proposals/{pid}",
            json={"title": title, "description": new_description, "region": REGION},
            headers=author.headers,
        )
        assert edited.status_code == 200, edited.text
        assert not await Translation.filter(text_hash=translation.text_hash(description)).exists()
        assert await Translation.filter(text_hash=translation.text_hash(title)).count() == 2
        assert len(await _queued(app, f"translate:proposal:{pid}:*")) == 2
        page = (await client.get(f"/proposals/{pid}?lang=en")).text
        assert new_description in page and html.escape(english) not in page
        assert (await client.get("/api/v1/proposals", params={"q": "street"})).json()["items"]
        assert await _translate(app, "proposal", pid) == 2  # the new description only
        assert (
            html.escape(await _cached(new_description, "en"))
            in (await client.get(f"/proposals/{pid}?lang=en")).text
        )

        # A comment in Portuguese reads in English, with its own note.
        comment_text = "Os candeeiros da minha rua também estão apagados."
        commented = await client.post(
            f"/api/v1/proposals/{pid}/comments",
            json={"text": comment_text, "stance": "for"},
            headers=author.headers,
        )
        assert commented.status_code == 201, commented.text
        assert await _translate(app, "comment", commented.json()["id"]) == 2
        page = (await client.get(f"/proposals/{pid}?lang=en")).text
        assert html.escape(await _cached(comment_text, "en")) in page
        assert "Machine-translated from Portuguese — show original" in page
        assert f'<div lang="pt"><p>{comment_text}</p></div>' in page


class TestChallenges:
    async def test_challenge_and_its_questions_read_and_found_in_other_languages(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        city = await make_city(client)
        title = "Sombra para las paradas de autobús"
        body = challenge_body(
            city.org,
            title=title,
            summary="Queremos paradas de autobús frescas en verano.",
            problem_statement="Esperar el autobús al sol es duro para los mayores.",
            language="es",
            opens_at=(datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        )
        created = await client.post("/api/v1/challenges", json=body, headers=city.editor.headers)
        assert created.status_code == 201, created.text
        cid = created.json()["id"]
        published = await client.post(
            f"/api/v1/challenges/{cid}/publish", headers=city.manager.headers
        )
        assert published.status_code == 200, published.text
        assert await _translate(app, "challenge", cid) == 6
        asker = await factories.person(client)
        question = "As empresas estrangeiras podem participar?"
        asked = await client.post(
            f"/api/v1/challenges/{cid}/questions", json={"text": question}, headers=asker.headers
        )
        assert asked.status_code == 201, asked.text
        question_id = asked.json()["id"]
        answer = "Sí, con un socio local."
        answered = await client.post(
            f"/api/v1/questions/{question_id}/answer",
            json={"text": answer},
            headers=city.editor.headers,
        )
        assert answered.status_code == 200, answered.text
        # The question and the city's answer are in different languages: each is told apart.
        assert await _translate(app, "question", question_id) == 2
        assert await _translate(app, "answer", question_id) == 2

        page = (await client.get(f"/challenges/{cid}?lang=en")).text
        english_title = await _cached(title, "en")
        assert html.escape(english_title) in page and NOTE_ES in page
        assert html.escape(await _cached(question, "en")) in page
        assert "Machine-translated from Portuguese — show original" in page
        assert html.escape(await _cached(answer, "en")) in page
        assert f'<div lang="es"><p>{answer}</p></div>' in page
        spanish = (await client.get(f"/challenges/{cid}?lang=es")).text
        assert title in spanish and NOTE_ES not in spanish
        # "bus" is in the English translation only; the challenge is found by it.
        assert "bus" in english_title.lower() and "bus " not in title.lower()
        for dialect_q in ("bus", "bus stops"):
            found = (await client.get("/api/v1/challenges", params={"q": dialect_q})).json()
            assert [i["id"] for i in found["items"]] == [cid], dialect_q
        listed = await client.get("/challenges", params={"q": "bus", "lang": "en"})
        assert f"/challenges/{cid}" in listed.text


class TestSimilarAcrossLanguages:
    async def test_a_title_typed_in_english_finds_a_spanish_proposal(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        author = await factories.person(client)
        spanish = await propose(
            client,
            author,
            title="Retrasos del autobús escolar en el barrio norte",
            description="El autobús escolar llega tarde cada mañana.",
            affected="",
        )
        await propose(
            client,
            author,
            title="Potholes near the old market",
            description="The road by the market has deep holes.",
            affected="",
        )
        # The job of the first was lost: the sweeper translates it.
        await TranslatedText.filter(object_id=spanish["id"], kind="proposal").update(
            updated_at=datetime.now(UTC) - timedelta(hours=1)
        )
        outcome = await translation.translate_pending(
            translator=tasks.translator_for(_with_apertium(app).settings),
            languages=("en", "es", "pt"),
        )
        assert outcome.translated == 4
        assert await TranslatedText.filter(object_id=spanish["id"], done_at=None).count() == 0

        async def similar(title: str) -> list[int]:
            response = await client.get(
                "/api/v1/proposals/similar", params={"region": REGION, "title": title}
            )
            assert response.status_code == 200, response.text
            return [item["id"] for item in response.json()["items"]]

        assert await similar("The school bus is late in the north") == [spanish["id"]]
        assert await similar("Atrasos do ônibus escolar no bairro norte") == [spanish["id"]]
        assert await similar("Noise from the night clubs") == []
        # Publishing without confirming shows it, in the reader's language.
        user = author.user
        csrf = await factories.web_signin(client, user)
        form = {
            "csrf_token": csrf,
            "title": "The school bus is late in the north",
            "description": "Every morning the bus arrives late.",
            "region": REGION,
        }
        response = await client.post("/proposals/new?lang=en", data=form)
        assert response.status_code == 422
        english = await _cached("Retrasos del autobús escolar en el barrio norte", "en")
        assert html.escape(english) in response.text


class TestStatements:
    async def test_spanish_statements_read_in_english_and_portuguese_with_the_original(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        author = await factories.person(client)
        proposal = await propose(client, author)
        topic = "¿Cómo debemos iluminar la calle Mayor por la noche?"
        seeds = [
            "Las farolas de la calle deben arreglarse antes del invierno.",
            "Las lámparas de bajo consumo valen su precio más alto.",
            "Los vecinos deben elegir dónde se ponen las nuevas farolas.",
            "Los autobuses nocturnos importan más que las farolas.",
        ]
        opened = await open_on_proposal(client, author, proposal["id"], topic=topic, seeds=seeds)
        assert opened.status_code == 201, opened.text
        cid = opened.json()["id"]
        listed = (await client.get(f"/api/v1/conversations/{cid}/statements")).json()["items"]
        sids = [int(s["id"]) for s in listed]
        text_of = {int(s["id"]): str(s["text"]) for s in listed}
        # One job per statement and one for the question, left after the commit.
        for sid in sids:
            assert len(await _queued(app, f"translate:statement:{sid}:*")) == 1
        assert len(await _queued(app, f"translate:conversation:{cid}:*")) == 1
        page = (await client.get(f"/conversations/{cid}?lang=en")).text
        assert NOTE_ES not in page  # nothing cached yet: shown as written

        for sid in sids:
            assert await _translate(app, "statement", sid) == 2  # en, pt
        assert await _translate(app, "conversation", cid) == 2  # the question; no description
        assert {r.language for r in await TranslatedText.filter(kind="statement")} == {"es"}

        # The statement to vote on, in the reader's language, with its original.
        voter = await factories.person(client)
        await factories.web_signin(client, voter.user)
        page = (await client.get(f"/conversations/{cid}?lang=en")).text
        shown = int(re.search(r'name="statement_id" value="(\d+)"', page).group(1))  # type: ignore[union-attr]
        english = await _cached(text_of[shown], "en")
        assert english != text_of[shown]
        assert f'<p id="statement-text"><span lang="en">{escape(english)}</span></p>' in page
        assert f'<div lang="es"><p>{escape(text_of[shown])}</p></div>' in page
        assert NOTE_ES in page
        assert f'<span lang="en">{escape(await _cached(topic, "en"))}</span>' in page
        spanish = (await client.get(f"/conversations/{cid}?lang=es")).text
        assert "translation-note" not in spanish

        # A resident's own statement is translated after the commit like the seeds.
        added = await client.post(
            f"/api/v1/conversations/{cid}/statements",
            json={"text": "Las calles oscuras dan miedo a los mayores."},
            headers=voter.headers,
        )
        assert added.status_code == 201, added.text
        assert len(await _queued(app, f"translate:statement:{added.json()['id']}:*")) == 1
        assert await _translate(app, "statement", added.json()["id"]) == 2
        assert "streets" in (await _cached("Las calles oscuras dan miedo a los mayores.", "en"))

        # The map: the consensus and each group's statements, translated, originals at hand.
        a, b, c, d = sids
        await planted_votes(
            cid, [(14, {a: 1, b: 1, c: -1, d: 1}), (10, {a: 1, b: -1, c: 1, d: -1})]
        )
        await draw_map(app, cid)
        for lang in ("en", "pt"):
            mapped = await client.get(f"/conversations/{cid}/map?lang={lang}")
            assert mapped.status_code == 200
            for sid in sids:
                cached = await _cached(text_of[sid], lang)
                cell = f'<td class="break"><span lang="{lang}">{escape(cached)}</span>'
                assert cell in mapped.text
                assert f'<div lang="es"><p>{escape(text_of[sid])}</p></div>' in mapped.text
            assert (NOTE_ES in mapped.text) is (lang == "en")

        # The city reads the consensus it may carry into the challenge, and the challenge
        # page what residents agreed, in its language.
        madrid = await city(client)
        adopted = await client.post(
            f"/api/v1/proposals/{proposal['id']}/adopt",
            json={"organization_id": madrid.org.id},
            headers=madrid.manager.headers,
        )
        assert adopted.status_code in (200, 201), adopted.text
        challenge = await Challenge.get(proposal_id=proposal["id"])
        await factories.web_signin(client, madrid.manager.user)
        english_a = escape(await _cached(text_of[a], "en"))
        choose = (await client.get(f"/challenges/{challenge.id}/consensus?lang=en")).text
        assert f'<span lang="en">{english_a}</span>' in choose
        assert f'<div lang="es"><p>{escape(text_of[a])}</p></div>' in choose
        done = await client.post(
            f"/api/v1/challenges/{challenge.id}/consensus",
            json={"conversation_id": cid, "statement_ids": [a], "use": "criterion"},
            headers=madrid.manager.headers,
        )
        assert done.status_code == 200, done.text
        page = (await client.get(f"/challenges/{challenge.id}?lang=en")).text
        assert f'<li><span lang="en">{english_a}</span>' in page
        assert f'<div lang="es"><p>{escape(text_of[a])}</p></div>' in page
