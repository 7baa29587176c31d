"""Conversations through HTTP: opening one, statements and their moderation, votes (one per
person, even at once), the map job and pages, the open data (never an account), and the
consensus a city carries into a challenge."""

from __future__ import annotations

import asyncio
import csv
import io
import re

import httpx
from starlette.applications import Starlette

from service import db
from service.accounts.models import Role
from service.applications.models import Application
from service.challenges.models import Challenge, ChallengeStatus, Criterion
from service.deliberation.models import (
    AdoptedConsensus,
    Conversation,
    OpinionMap,
    Participant,
    Statement,
    Vote,
)
from tests import factories
from tests.deliberation.helpers import SEEDS, age, draw_map, open_on_proposal, planted_votes, vote
from tests.participation.helpers import city, propose


async def _statements(client: httpx.AsyncClient, cid: int) -> list[dict[str, object]]:
    response = await client.get(f"/api/v1/conversations/{cid}/statements")
    assert response.status_code == 200
    items: list[dict[str, object]] = response.json()["items"]
    return items


class TestVoting:
    async def test_open_vote_and_read_the_map(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        author = await factories.person(client)
        proposal = await propose(client, author)
        # Bad input: one seed, a seed too long, a stranger: nothing is created.
        for body in ({"seeds": ["Only one."]}, {"seeds": ["x" * 141, "Fine."]}):
            refused = await open_on_proposal(client, author, proposal["id"], **body)
            assert refused.status_code == 422, refused.text
        stranger = await factories.person(client)
        assert (await open_on_proposal(client, stranger, proposal["id"])).status_code == 403
        assert await Conversation.all().count() == 0
        opened = await open_on_proposal(client, author, proposal["id"])
        assert opened.status_code == 201, opened.text
        cid = opened.json()["id"]
        seeds = await _statements(client, cid)
        assert [s["text"] for s in seeds] == SEEDS
        sids = [int(str(s["id"])) for s in seeds]

        voter = await factories.person(client)
        first = await vote(client, voter, cid, sids[0], "agree")
        assert first.status_code == 201 and first.json()["participant"] == 1
        again = await vote(client, voter, cid, sids[0], "disagree")
        assert again.status_code == 409
        for bad in (
            {"statement_id": 999999, "choice": "agree"},
            {"statement_id": sids[1], "choice": "maybe"},
        ):
            response = await client.post(
                f"/api/v1/conversations/{cid}/votes", json=bad, headers=voter.headers
            )
            assert response.status_code == 422
        assert await Vote.all().count() == 1
        assert (
            await client.post(
                f"/api/v1/conversations/{cid}/votes",
                json={"statement_id": sids[1], "choice": "agree"},
            )
        ).status_code == 401
        # The next statement is one the person has not voted on.
        for _ in range(5):
            nxt = (
                await client.get(f"/api/v1/conversations/{cid}/next", headers=voter.headers)
            ).json()
            assert nxt["remaining"] == 3 and nxt["statement"]["id"] in sids[1:]

        # Voting without JavaScript: the page shows one statement and a form.
        csrf = await factories.web_signin(client, voter.user)
        page = await client.get(f"/conversations/{cid}")
        assert page.status_code == 200
        shown = int(re.search(r'name="statement_id" value="(\d+)"', page.text).group(1))  # type: ignore[union-attr]
        assert shown in sids[1:]
        posted = await client.post(
            f"/conversations/{cid}/vote",
            data={"csrf_token": csrf, "statement_id": str(shown), "choice": "disagree"},
        )
        assert posted.status_code == 303
        assert await Vote.filter(statement_id=shown, value=-1).count() == 1
        repeated = await client.post(
            f"/conversations/{cid}/vote",
            data={"csrf_token": csrf, "statement_id": str(shown), "choice": "agree"},
        )
        assert repeated.status_code == 409 and "one vote per person" in repeated.text

        # Two opinion groups and one statement everybody agrees with.
        a, b, c, d = sids
        await planted_votes(
            cid,
            [(14, {a: 1, b: 1, c: -1, d: 1}), (10, {a: 1, b: -1, c: 1, d: -1})],
        )
        assert await draw_map(app, cid) == 2 + 14 * 4 + 10 * 4
        body = (await client.get(f"/api/v1/conversations/{cid}/map")).json()
        assert body["participants"] == 25 and len(body["groups"]) == 2
        assert [c["statement_id"] for c in body["consensus"] if c["direction"] == "agree"] == [a]
        assert not body["stale"]
        # A new vote marks the map stale; the last one is still served.
        late = await factories.person(client)
        assert (await vote(client, late, cid, d, "pass")).status_code == 201
        body = (await client.get(f"/api/v1/conversations/{cid}/map")).json()
        assert body["stale"] and body["participants"] == 25
        mapped = await client.get(f"/conversations/{cid}/map")
        assert mapped.status_code == 200
        assert '<svg xmlns="http://www.w3.org/2000/svg" role="img"' in mapped.text
        assert "<caption>Groups of the map</caption>" in mapped.text
        assert SEEDS[0] in mapped.text and "Group B" in mapped.text
        # The resident who voted twice is drawn, grey, and counted apart from the groups.
        assert (
            '<th scope="row">Not in a group yet (too few votes)</th><td>grey circle</td><td>1</td>'
            in mapped.text
        )
        # Drawn again: the late vote is in.
        assert await draw_map(app, cid) == 2 + 14 * 4 + 10 * 4 + 1
        assert (await OpinionMap.get(conversation_id=cid)).participant_count == 26

    async def test_one_vote_per_person_even_at_once(self, client: httpx.AsyncClient) -> None:
        author = await factories.person(client)
        proposal = await propose(client, author)
        cid = (await open_on_proposal(client, author, proposal["id"])).json()["id"]
        sid = int(str((await _statements(client, cid))[0]["id"]))
        same = await factories.person(client)
        others = [await factories.person(client) for _ in range(5)]
        responses = await asyncio.gather(
            *[vote(client, same, cid, sid, "agree") for _ in range(6)],
            *[vote(client, p, cid, sid, "disagree") for p in others],
        )
        codes = sorted(r.status_code for r in responses[:6])
        assert codes == [201, 409, 409, 409, 409, 409], codes
        assert all(r.status_code == 201 for r in responses[6:])
        assert await Vote.filter(statement_id=sid).count() == 6
        numbers = sorted(
            await Participant.filter(conversation_id=cid).values_list("number", flat=True)
        )
        assert numbers == [1, 2, 3, 4, 5, 6]
        statement = await Statement.get(id=sid)
        assert (statement.agree_count, statement.disagree_count) == (1, 5)


class TestStatements:
    async def test_new_accounts_wait_for_a_moderator(self, client: httpx.AsyncClient) -> None:
        author = await factories.person(client)
        proposal = await propose(client, author)
        cid = (await open_on_proposal(client, author, proposal["id"])).json()["id"]
        url = f"/api/v1/conversations/{cid}/statements"
        newcomer, regular = await factories.person(client), await factories.person(client)
        await age(regular.user)
        held = await client.post(
            url, json={"text": "  Lamps   should be  warm white. "}, headers=newcomer.headers
        )
        assert held.status_code == 201 and held.json()["status"] == "pending"
        assert held.json()["text"] == "Lamps should be warm white."
        published = await client.post(
            url, json={"text": "Fix the dark underpass first."}, headers=regular.headers
        )
        assert published.json()["status"] == "published"
        texts = [s["text"] for s in await _statements(client, cid)]
        assert (
            "Fix the dark underpass first." in texts and "Lamps should be warm white." not in texts
        )
        # Bad input changes nothing: too long, blank, a duplicate (any case).
        for text, code in (("x" * 141, 422), ("  ", 422), ("fix the dark UNDERPASS first.", 409)):
            response = await client.post(url, json={"text": text}, headers=regular.headers)
            assert response.status_code == code, (text, response.text)
        assert await Statement.filter(conversation_id=cid).count() == len(SEEDS) + 2
        # A held statement cannot be voted on; a moderator of the region's city publishes it.
        sid = held.json()["id"]
        assert (await vote(client, regular, cid, sid, "agree")).status_code == 422
        madrid = await city(client)
        pending = await client.get(
            f"/api/v1/conversations/{cid}/pending", headers=madrid.manager.headers
        )
        assert [s["id"] for s in pending.json()["items"]] == [sid]
        moderate = f"/api/v1/statements/{sid}/moderate"
        assert (
            await client.post(moderate, json={"publish": True}, headers=regular.headers)
        ).status_code == 403
        done = await client.post(moderate, json={"publish": True}, headers=madrid.manager.headers)
        assert done.status_code == 200 and done.json()["status"] == "published"
        assert (await vote(client, regular, cid, sid, "agree")).status_code == 201
        # Rate limit: five attempts in ten minutes (the refused duplicate was one), then 429.
        codes = [
            (
                await client.post(
                    url, json={"text": f"Idea number {i} for the street."}, headers=regular.headers
                )
            ).status_code
            for i in range(5)
        ]
        assert codes == [201, 201, 201, 429, 429]
        # Closed: no more statements or votes.
        closed = await client.post(
            f"/api/v1/conversations/{cid}/close", headers=madrid.manager.headers
        )
        assert closed.json()["status"] == "closed"
        seed = (await _statements(client, cid))[1]["id"]
        assert (await vote(client, newcomer, cid, int(str(seed)), "agree")).status_code == 409


class TestOpenDataAndConsensus:
    async def test_exports_name_no_account_and_mark_applicants(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        madrid = await city(client)
        # A conversation on the city's published challenge, and a startup that applied to it.
        async with db.transaction(None):
            from tests.challenges.factories import make_draft_challenge

            challenge = await make_draft_challenge(madrid.org)
        opened = await client.post(
            f"/api/v1/challenges/{challenge.id}/conversations",
            json={"topic": "What should the pilot fix first?", "seeds": SEEDS},
            headers=madrid.manager.headers,
        )
        assert opened.status_code == 201, opened.text
        cid = opened.json()["id"]
        # Not public while the challenge is a draft.
        assert (await client.get(f"/api/v1/conversations/{cid}")).status_code == 404
        from datetime import UTC, datetime

        async with db.transaction(None):
            await Challenge.filter(id=challenge.id).update(
                status=ChallengeStatus.open, published_at=datetime.now(UTC)
            )
        founder = await factories.person(client)
        startup = await factories.make_org(members={founder.user: Role.owner})
        async with db.transaction(None):
            await Application.create(
                challenge=challenge, organization=startup, title="Bright lanes", summary="Lamps."
            )
        resident = await factories.person(client)
        sids = [int(str(s["id"])) for s in await _statements(client, cid)]
        assert (await vote(client, resident, cid, sids[0], "agree")).status_code == 201
        assert (await vote(client, founder, cid, sids[0], "disagree")).status_code == 201
        assert (await vote(client, founder, cid, sids[1], "pass")).status_code == 201
        base = f"/api/v1/conversations/{cid}"
        exports = {
            name: await client.get(f"{base}/{name}")
            for name in ("statements.json", "statements.csv", "votes.json", "votes.csv", "map")
        }
        assert all(r.status_code == 200 for r in exports.values())
        for person in (resident, founder, madrid.manager):
            for response in exports.values():
                assert person.user.email not in response.text
                assert "user_id" not in response.text and "account" not in response.text
        rows = list(csv.DictReader(io.StringIO(exports["votes.csv"].text)))
        assert [
            (r["participant"], r["statement_id"], r["vote"], r["applicant_member"]) for r in rows
        ] == [
            ("1", str(sids[0]), "1", "False"),
            ("2", str(sids[0]), "-1", "True"),
            ("2", str(sids[1]), "0", "True"),
        ]
        as_json = exports["votes.json"].json()
        assert as_json["columns"][:3] == ["participant", "statement_id", "vote"]
        assert [v[0] for v in as_json["votes"]] == [1, 2, 2]
        # No account id anywhere: the participants' numbers are not their accounts' ids.
        account_ids = {str(p.user.id) for p in (resident, founder)}
        assert not account_ids & {r["participant"] for r in rows} or {
            r["participant"] for r in rows
        } == {"1", "2"}
        statements = list(csv.DictReader(io.StringIO(exports["statements.csv"].text)))
        assert [s["text"] for s in statements] == SEEDS and statements[0]["agree"] == "1"

    async def test_a_statement_written_as_a_formula_is_text_in_the_csv(
        self, client: httpx.AsyncClient
    ) -> None:
        author = await factories.person(client)
        proposal = await propose(client, author)
        formula = '=HYPERLINK("http://evil.example","More lamps")'
        opened = await open_on_proposal(client, author, proposal["id"], seeds=[*SEEDS, formula])
        assert opened.status_code == 201, opened.text
        export = await client.get(f"/api/v1/conversations/{opened.json()['id']}/statements.csv")
        assert export.status_code == 200
        texts = [row["text"] for row in csv.DictReader(io.StringIO(export.text))]
        assert texts == [*SEEDS, "'" + formula]

    async def test_the_city_carries_consensus_into_the_adopted_challenge(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        author = await factories.person(client)
        proposal = await propose(client, author)
        cid = (await open_on_proposal(client, author, proposal["id"])).json()["id"]
        a, b, c, d = [int(str(s["id"])) for s in await _statements(client, cid)]
        await planted_votes(cid, [(12, {a: 1, b: 1, c: -1, d: 1}), (9, {a: 1, b: -1, c: 1, d: 1})])
        await draw_map(app, cid)
        madrid = await city(client)
        adopted = await client.post(
            f"/api/v1/proposals/{proposal['id']}/adopt",
            json={"organization_id": madrid.org.id},
            headers=madrid.manager.headers,
        )
        assert adopted.status_code in (200, 201), adopted.text
        challenge = await Challenge.get(proposal_id=proposal["id"])
        url = f"/api/v1/challenges/{challenge.id}/consensus"
        before = challenge.problem_statement
        # Not a consensus statement, a stranger: refused, nothing changes.
        wrong = await client.post(
            url,
            json={"conversation_id": cid, "statement_ids": [b], "use": "problem"},
            headers=madrid.manager.headers,
        )
        assert wrong.status_code == 422
        stranger = await factories.person(client)
        assert (
            await client.post(
                url,
                json={"conversation_id": cid, "statement_ids": [a], "use": "problem"},
                headers=stranger.headers,
            )
        ).status_code == 404
        assert (await Challenge.get(id=challenge.id)).problem_statement == before
        done = await client.post(
            url,
            json={"conversation_id": cid, "statement_ids": [a], "use": "problem"},
            headers=madrid.manager.headers,
        )
        assert done.status_code == 200, done.text
        problem = (await Challenge.get(id=challenge.id)).problem_statement
        assert problem.startswith(before) and f"Residents agreed:\n- {SEEDS[0]}" in problem
        as_criterion = await client.post(
            url,
            json={"conversation_id": cid, "statement_ids": [d], "use": "criterion"},
            headers=madrid.manager.headers,
        )
        assert as_criterion.status_code == 200, as_criterion.text
        criteria = await Criterion.filter(challenge_id=challenge.id)
        assert sum(cr.weight for cr in criteria) == 100
        assert any(cr.name == SEEDS[3] and cr.weight == 10 for cr in criteria)
        assert await AdoptedConsensus.filter(challenge_id=challenge.id).count() == 2
        # The challenge page tells it, with the link to the map.
        await factories.web_signin(client, madrid.manager.user)
        page = await client.get(f"/challenges/{challenge.id}")
        assert "Residents agreed:" in page.text and f"/conversations/{cid}/map" in page.text
        # Once published, the terms are the city's to amend, not this form's.
        async with db.transaction(None):
            await Challenge.filter(id=challenge.id).update(status=ChallengeStatus.open)
        late = await client.post(
            url,
            json={"conversation_id": cid, "statement_ids": [a], "use": "criterion"},
            headers=madrid.manager.headers,
        )
        assert late.status_code == 409


class TestPages:
    async def test_open_and_moderate_through_forms(self, client: httpx.AsyncClient) -> None:
        author = await factories.person(client)
        proposal = await propose(client, author)
        csrf = await factories.web_signin(client, author.user)
        url = f"/proposals/{proposal['id']}/conversations/new"
        form = await client.get(url)
        assert form.status_code == 200 and 'name="seeds"' in form.text
        bad = await client.post(url, data={"csrf_token": csrf, "topic": "Lights?", "seeds": "One"})
        assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
        assert await Conversation.all().count() == 0
        seeds = "\r\n".join(SEEDS[:3]) + "\r\n\r\n"
        made = await client.post(
            url, data={"csrf_token": csrf, "topic": "How should we light it?", "seeds": seeds}
        )
        assert made.status_code == 303
        conversation = await Conversation.get(proposal_id=proposal["id"])
        assert await Statement.filter(conversation_id=conversation.id).count() == 3
        listed = await client.get(f"/proposals/{proposal['id']}/conversations")
        assert f"/conversations/{conversation.id}" in listed.text
        detail = await client.get(f"/proposals/{proposal['id']}")
        assert f"/proposals/{proposal['id']}/conversations" in detail.text
        # The author's own statement (a new account) waits; a city manager publishes it.
        held = await client.post(
            f"/conversations/{conversation.id}/statements",
            data={"csrf_token": csrf, "text": "Paint the railings bright yellow."},
        )
        assert held.status_code == 303
        statement = await Statement.get(text="Paint the railings bright yellow.")
        assert statement.status.value == "pending"
        too_long = await client.post(
            f"/conversations/{conversation.id}/statements",
            data={"csrf_token": csrf, "text": "y" * 141},
        )
        assert too_long.status_code == 422
        madrid = await city(client)
        client.cookies.clear()
        manager_csrf = await factories.web_signin(client, madrid.manager.user)
        queue = await client.get(f"/conversations/{conversation.id}/moderation")
        assert queue.status_code == 200 and "Paint the railings bright yellow." in queue.text
        done = await client.post(
            f"/statements/{statement.id}/moderate",
            data={"csrf_token": manager_csrf, "decision": "reject", "reason": "Off topic."},
        )
        assert done.status_code == 303
        rejected = await Statement.get(id=statement.id)
        assert rejected.status.value == "rejected" and rejected.reason == "Off topic."
        empty_map = await client.get(f"/conversations/{conversation.id}/map")
        assert (
            empty_map.status_code == 200
            and "The map is drawn once people have voted" in empty_map.text
        )
