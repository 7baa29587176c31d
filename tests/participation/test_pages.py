"""The proposal page's forms without JavaScript: edit, answer, hide, report, post an update."""

from __future__ import annotations

import httpx

from service.audit.models import AuditEvent
from service.participation.models import Comment, CommentReport, Proposal, Update
from tests import factories
from tests.participation.helpers import city, proposal_body, propose


class TestForms:
    async def test_the_author_edits_through_the_form(self, client: httpx.AsyncClient) -> None:
        author = await factories.person(client)
        created = await propose(client, author)
        csrf = await factories.web_signin(client, author.user)
        url = f"/proposals/{created['id']}/edit"
        form = await client.get(url)
        assert form.status_code == 200
        assert 'value="Broken street lights on Calle Mayor"' in form.text
        body = {**proposal_body(title="Lights out on Calle Mayor"), "csrf_token": csrf}
        body.pop("sdgs")
        bad = await client.post(url, data={**body, "title": "x"})
        assert bad.status_code == 422
        assert 'id="f-title-error"' in bad.text
        saved = await client.post(url, data=body)
        assert saved.status_code == 303
        assert (await Proposal.get(id=created["id"])).title == "Lights out on Calle Mayor"

    async def test_the_city_answers_hides_and_posts_through_the_page(
        self, client: httpx.AsyncClient
    ) -> None:
        the_city = await city(client)
        created = await propose(client, await factories.person(client))
        pid = created["id"]
        troll = await factories.person(client)
        comment = (
            await client.post(
                f"/api/v1/proposals/{pid}/comments",
                json={"text": "Nonsense, all of it."},
                headers=troll.headers,
            )
        ).json()
        csrf = await factories.web_signin(client, the_city.manager.user)
        page = await client.get(f"/proposals/{pid}")
        assert "Adopt into a challenge" in page.text
        assert "Publish the answer" in page.text
        empty = await client.post(
            f"/proposals/{pid}/response",
            data={"csrf_token": csrf, "status": "under_study", "text": ""},
        )
        assert empty.status_code == 422
        assert (await Proposal.get(id=pid)).status.value == "open"
        answered = await client.post(
            f"/proposals/{pid}/response",
            data={"csrf_token": csrf, "status": "under_study", "text": "We will survey it."},
        )
        assert answered.status_code == 303
        assert (await Proposal.get(id=pid)).status.value == "under_study"
        posted = await client.post(
            f"/proposals/{pid}/updates",
            data={"csrf_token": csrf, "title": "Survey booked for Monday", "body": ""},
        )
        assert posted.status_code == 303
        assert await Update.filter(proposal_id=pid, kind="staff").count() == 1
        reported = await client.post(f"/comments/{comment['id']}/report", data={"csrf_token": csrf})
        assert reported.status_code == 303
        assert await CommentReport.all().count() == 1
        no_reason = await client.post(
            f"/comments/{comment['id']}/hide", data={"csrf_token": csrf, "reason": ""}
        )
        assert no_reason.status_code == 422
        hidden = await client.post(
            f"/comments/{comment['id']}/hide",
            data={"csrf_token": csrf, "reason": "Not about the proposal."},
        )
        assert hidden.status_code == 303
        assert (await Comment.get(id=comment["id"])).hidden_reason == "Not about the proposal."
        gone = await client.post(
            f"/proposals/{pid}/hide", data={"csrf_token": csrf, "reason": "Duplicate of #1."}
        )
        assert gone.status_code == 303
        public = await client.get(f"/proposals/{pid}")
        assert "This proposal was hidden by a moderator." in public.text
        assert "Duplicate of #1." in public.text
        assert "Half of the street lights" not in public.text
        assert await AuditEvent.filter(action__startswith="proposal.").count() >= 5

    async def test_citizens_see_no_city_forms(self, client: httpx.AsyncClient) -> None:
        created = await propose(client, await factories.person(client))
        citizen = await factories.make_user()
        csrf = await factories.web_signin(client, citizen)
        page = await client.get(f"/proposals/{created['id']}")
        assert "Adopt into a challenge" not in page.text
        assert "Hide this proposal" not in page.text
        refused = await client.post(
            f"/proposals/{created['id']}/hide", data={"csrf_token": csrf, "reason": "I dislike it"}
        )
        assert refused.status_code == 403
        assert (await Proposal.get(id=created["id"])).hidden_at is None
