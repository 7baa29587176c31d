"""Comments with replies, for and against; reports; moderators hide with a public reason."""

from __future__ import annotations

import httpx

from service import db
from service.accounts.models import OrganizationKind, Role
from service.audit.models import AuditEvent
from service.participation.models import Comment, CommentReport, Proposal
from tests import factories
from tests.participation.helpers import city, propose


async def _comment(
    client: httpx.AsyncClient, person: factories.Person, proposal_id: int, **body: object
) -> httpx.Response:
    return await client.post(
        f"/api/v1/proposals/{proposal_id}/comments", json=body, headers=person.headers
    )


class TestComments:
    async def test_threaded_comments_for_and_against(self, client: httpx.AsyncClient) -> None:
        created = await propose(client, await factories.person(client))
        pid = created["id"]
        ana, ben = await factories.person(client), await factories.person(client)
        first = await _comment(client, ana, pid, text="Yes, it is pitch dark.", stance="for")
        assert first.status_code == 201
        reply = await _comment(
            client,
            ben,
            pid,
            text="It is fine near the square.",
            stance="against",
            parent_id=first.json()["id"],
        )
        assert reply.status_code == 201
        assert reply.json()["parent_id"] == first.json()["id"]
        listed = (await client.get(f"/api/v1/proposals/{pid}/comments")).json()["items"]
        assert [(c["stance"], c["parent_id"]) for c in listed] == [
            ("for", None),
            ("against", first.json()["id"]),
        ]
        page = await client.get(f"/proposals/{pid}")
        assert page.text.index("pitch dark") < page.text.index("near the square")
        assert "Against" in page.text

    async def test_bad_comments_are_refused(self, client: httpx.AsyncClient) -> None:
        one = await propose(client, await factories.person(client))
        two = await propose(client, await factories.person(client), title="Noisy bars at night")
        ana = await factories.person(client)
        parent = (await _comment(client, ana, one["id"], text="On the first one.")).json()
        elsewhere = await _comment(
            client, ana, two["id"], text="A reply across proposals", parent_id=parent["id"]
        )
        assert elsewhere.status_code == 422
        assert "parent_id" in elsewhere.json()["fields"]
        blank = await _comment(client, ana, one["id"], text="   ")
        assert blank.status_code == 422
        assert "text" in blank.json()["fields"]
        stance = await _comment(client, ana, one["id"], text="Hmm, maybe.", stance="maybe")
        assert stance.status_code == 422
        assert await Comment.all().count() == 1

    async def test_comments_are_rate_limited(self, client: httpx.AsyncClient) -> None:
        created = await propose(client, await factories.person(client))
        ana = await factories.person(client)
        statuses = [
            (await _comment(client, ana, created["id"], text=f"Comment {n}")).status_code
            for n in range(11)
        ]
        assert statuses == [201] * 10 + [429]

    async def test_the_comment_form_keeps_the_text_on_error(
        self, client: httpx.AsyncClient
    ) -> None:
        created = await propose(client, await factories.person(client))
        user = await factories.make_user()
        csrf = await factories.web_signin(client, user)
        # A new account's link is refused, and what was typed is shown again.
        response = await client.post(
            f"/proposals/{created['id']}/comments",
            data={"csrf_token": csrf, "text": "See www.cheap-lamps.com", "stance": "for"},
        )
        assert response.status_code == 422
        assert 'id="comment-error"' in response.text
        assert "See www.cheap-lamps.com" in response.text
        assert await Comment.all().count() == 0


class TestModeration:
    async def test_a_report_then_the_region_manager_hides_with_a_public_reason(
        self, client: httpx.AsyncClient
    ) -> None:
        the_city = await city(client)
        created = await propose(client, await factories.person(client))
        troll, reader = await factories.person(client), await factories.person(client)
        comment = (await _comment(client, troll, created["id"], text="You are all idiots.")).json()
        report = f"/api/v1/comments/{comment['id']}/report"
        for _ in range(2):
            reported = await client.post(report, json={"reason": "insult"}, headers=reader.headers)
            assert reported.status_code == 204
        assert await CommentReport.all().count() == 1
        hide = f"/api/v1/comments/{comment['id']}/hide"
        body = {"reason": "Insults are not allowed."}
        assert (await client.post(hide, json=body, headers=reader.headers)).status_code == 403
        assert (
            await client.post(hide, json={"reason": ""}, headers=the_city.manager.headers)
        ).status_code == 422
        hidden = await client.post(hide, json=body, headers=the_city.manager.headers)
        assert hidden.status_code == 200
        assert hidden.json()["hidden"] is True
        assert hidden.json()["text"] == ""
        listed = (await client.get(f"/api/v1/proposals/{created['id']}/comments")).json()
        assert listed["items"][0]["hidden_reason"] == "Insults are not allowed."
        assert listed["items"][0]["text"] == ""
        page = await client.get(f"/proposals/{created['id']}")
        assert "Insults are not allowed." in page.text
        assert "You are all idiots." not in page.text
        # The content stays in the database, and the audit log says who hid it and why.
        assert (await Comment.get(id=comment["id"])).text == "You are all idiots."
        event = await AuditEvent.get(action="proposal.comment.hide")
        assert event.actor_id == the_city.manager.user.id
        assert event.details["reason"] == "Insults are not allowed."

    async def test_only_the_regions_city_and_operators_hide_a_proposal(
        self, client: httpx.AsyncClient
    ) -> None:
        created = await propose(client, await factories.person(client))
        url = f"/api/v1/proposals/{created['id']}/hide"
        body = {"reason": "This is advertising, not a local problem."}
        elsewhere = await factories.person(client)
        async with db.transaction(None):
            other = await factories.make_org(
                kind=OrganizationKind.government, members={elsewhere.user: Role.manager}
            )
            other.region = "Sevilla"
            await other.save()
        assert (await client.post(url, json=body, headers=elsewhere.headers)).status_code == 403
        operator = await factories.person(client, operator=True, totp=True)
        hidden = await client.post(url, json=body, headers=operator.headers)
        assert hidden.status_code == 200, hidden.text
        assert hidden.json()["hidden"] is True
        assert hidden.json()["description"] == ""
        public = (await client.get(f"/api/v1/proposals/{created['id']}")).json()
        assert public["hidden_reason"] == body["reason"]
        assert (await Proposal.get(id=created["id"])).description.startswith("Half of the")
        assert (await client.get("/api/v1/proposals")).json()["items"] == []
        assert await AuditEvent.filter(action="proposal.hide").count() == 1
        fan = await factories.person(client)
        closed = await client.post(
            f"/api/v1/proposals/{created['id']}/supports", headers=fan.headers
        )
        assert closed.status_code == 409
