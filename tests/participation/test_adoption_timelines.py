"""Adoption into a prefilled challenge draft, linked both ways; timelines written from the
other areas' events (through their own services); supporters told at each step, in the app
and by e-mail."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from xml.etree import ElementTree

import httpx
from starlette.applications import Starlette

from service import db
from service.challenges.models import Challenge
from service.config import Settings
from service.notifications.models import Notification
from service.participation.models import Proposal, Update
from tests import factories
from tests.participation.helpers import city, propose, support, sync
from tests.rewards.helpers import approved, awarded, bank_account
from tests.smtp import Mailbox

Worker = Callable[[], Awaitable[None]]
ATOM = "{http://www.w3.org/2005/Atom}"


def atom_entries(content: bytes) -> list[ElementTree.Element]:
    root = ElementTree.fromstring(content)  # noqa: S314 - the app's own feed
    return root.findall(f"{ATOM}entry")


async def titles_for(user_id: int) -> list[str]:
    return [n.title for n in await Notification.filter(user_id=user_id).order_by("id")]


class TestAdoption:
    async def test_adoption_prefills_the_draft_links_both_ways_and_tells_everyone(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        app: Starlette,
        mailbox: Mailbox,
        worker_burst: Worker,
    ) -> None:
        the_city = await city(client)
        author = await factories.person(client)
        created = await propose(client, author, sdgs=[11, 7])
        pid = created["id"]
        fans = [await factories.person(client) for _ in range(2)]
        for fan in fans:
            await support(client, fan, pid)
        commenter = await factories.person(client)
        commented = await client.post(
            f"/api/v1/proposals/{pid}/comments",
            json={"text": "Please fix it before winter."},
            headers=commenter.headers,
        )
        assert commented.status_code == 201
        url = f"/api/v1/proposals/{pid}/adopt"
        body = {"organization_id": the_city.org.id}
        assert (await client.post(url, json=body, headers=fans[0].headers)).status_code == 403
        # An editor of the city is not a manager.
        assert (
            await client.post(url, json=body, headers=the_city.editor.headers)
        ).status_code == 403
        adopted = await client.post(url, json=body, headers=the_city.manager.headers)
        assert adopted.status_code == 201, adopted.text
        challenge_id = adopted.json()["challenge_id"]
        again = await client.post(url, json=body, headers=the_city.manager.headers)
        assert again.status_code == 409
        assert await Challenge.all().count() == 1

        challenge = await Challenge.get(id=challenge_id)
        assert challenge.status.value == "draft"
        assert challenge.title == "Broken street lights on Calle Mayor"
        assert challenge.region == "Madrid"
        assert challenge.sdgs == [7, 11]
        assert challenge.area.value == "public_safety"
        assert "Half of the street lights" in challenge.problem_statement
        assert "Everyone walking home after dark." in challenge.problem_statement
        assert challenge.proposal_id == pid
        proposal = await Proposal.get(id=pid)
        assert (proposal.status.value, proposal.challenge_id) == ("adopted", challenge_id)
        detail = (await client.get(f"/api/v1/proposals/{pid}")).json()
        assert detail["challenge_id"] == challenge_id

        # The challenge page shows where it came from (the city sees its draft).
        the_page = await client.get(f"/challenges/{challenge_id}")
        assert the_page.status_code == 404  # a draft is not public
        await factories.web_signin(client, the_city.manager.user)
        page = await client.get(f"/challenges/{challenge_id}")
        assert "Born from a citizen proposal" in page.text
        assert f'href="/proposals/{pid}"' in page.text
        assert "2 supporters" in page.text

        # Supporters, the commenter and the author hear of the adoption, not the manager.
        for person in (*fans, commenter, author):
            assert any("adopted the proposal" in t for t in await titles_for(person.user.id))
        assert await titles_for(the_city.manager.user.id) == []

        published = await client.post(
            f"/api/v1/challenges/{challenge_id}/publish", headers=the_city.manager.headers
        )
        assert published.status_code == 200, published.text
        assert await sync(app) >= 1
        assert await sync(app) == 0  # reading the same events again writes nothing
        for person in (*fans, commenter, author):
            titles = await titles_for(person.user.id)
            assert f"The challenge was published: {challenge.title}" in titles, titles
        mailbox.clear()
        await worker_burst()
        for person in (*fans, commenter):
            subjects = [m["Subject"] for m in mailbox.to(person.user.email)]
            assert f"The challenge was published: {challenge.title}" in subjects, subjects
        link = mailbox.last_link(fans[0].user.email, f"/challenges/{challenge_id}")
        assert link.startswith(settings.base_url)

        # Now public: anyone sees the origin, and the proposal's timeline includes the challenge's.
        client.cookies.clear()
        public = await client.get(f"/challenges/{challenge_id}")
        assert "Born from a citizen proposal" in public.text
        assert "The challenge was published" in public.text
        timeline = (await client.get(f"/api/v1/proposals/{pid}/updates")).json()["items"]
        kinds = [u["kind"] for u in timeline]
        assert "published" in kinds and "adopted" in kinds and "proposed" in kinds

    async def test_a_proposal_of_another_region_is_not_the_citys_to_adopt(
        self, client: httpx.AsyncClient
    ) -> None:
        the_city = await city(client)
        created = await propose(client, await factories.person(client), region="Sevilla")
        adopted = await client.post(
            f"/api/v1/proposals/{created['id']}/adopt",
            json={"organization_id": the_city.org.id},
            headers=the_city.manager.headers,
        )
        # The region's managers alone may answer: Madrid's manager is refused.
        assert adopted.status_code == 403
        assert await Challenge.all().count() == 0
        assert (await Proposal.get(id=created["id"])).status.value == "open"


class TestTimelines:
    async def test_entries_come_from_the_other_areas_and_supporters_hear_of_award_and_payout(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        app: Starlette,
        mailbox: Mailbox,
        worker_burst: Worker,
    ) -> None:
        a = await awarded(client, amounts=(1_000_000,))
        # A proposal born into this challenge (adoption itself is tested above).
        created = await propose(client, await factories.person(client))
        fan = await factories.person(client)
        await support(client, fan, created["id"])
        async with db.transaction(None):
            await Proposal.filter(id=created["id"]).update(challenge_id=a.challenge_id)
        asker = await factories.person(client)
        question = await client.post(
            f"/api/v1/challenges/{a.challenge_id}/questions",
            json={"text": "Is the data of the pilot open?"},
            headers=asker.headers,
        )
        answered = await client.post(
            f"/api/v1/questions/{question.json()['id']}/answer",
            json={"text": "Yes, under an open licence."},
            headers=a.city.editor.headers,
        )
        assert answered.status_code == 200
        await sync(app)
        kinds = [u.kind for u in await Update.filter(challenge_id=a.challenge_id).order_by("at")]
        for kind in ("published", "open", "funded", "closed", "awarded", "question_answered"):
            assert kind in kinds, kinds
        titles = await titles_for(fan.user.id)
        assert any(t.startswith("The challenge was awarded") for t in titles), titles

        await bank_account(client, a.winner, a.winner_org)
        await approved(client, a, a.milestone_ids[0])
        released = await client.post(
            f"/api/v1/milestones/{a.milestone_ids[0]}/release", headers=a.treasurer.headers
        )
        payout_id = released.json()["payouts"][0]["id"]
        paid = await client.post(
            f"/api/v1/payouts/{payout_id}/bank-transfer",
            json={"reference": "SEPA-42"},
            headers=a.treasurer.headers,
        )
        assert paid.json()["status"] == "paid"
        await sync(app)
        kinds = [u.kind for u in await Update.filter(challenge_id=a.challenge_id)]
        assert "milestone_approved" in kinds and "payout" in kinds
        assert kinds.count("payout") == 1
        titles = await titles_for(fan.user.id)
        assert any(t.startswith("A payment was made to a winner") for t in titles), titles
        mailbox.clear()
        await worker_burst()
        subjects = [m["Subject"] for m in mailbox.to(fan.user.email)]
        assert any(s.startswith("A payment was made to a winner") for s in subjects), subjects

        # The city's timeline and its Atom feed hold the same entries.
        city_items = (await client.get(f"/api/v1/organizations/{a.city.org.id}/updates")).json()[
            "items"
        ]
        assert {"payout", "awarded", "published"} <= {i["kind"] for i in city_items}
        feed = await client.get(f"/cities/{a.city.org.id}/updates.atom")
        assert feed.headers["content-type"].startswith("application/atom+xml")
        entries = atom_entries(feed.content)
        assert len(entries) == len(city_items)
        challenge_feed = await client.get(f"/challenges/{a.challenge_id}/updates.atom")
        entry_titles = [e.findtext(f"{ATOM}title") for e in atom_entries(challenge_feed.content)]
        assert any(t and t.startswith("A payment was made") for t in entry_titles)

    async def test_staff_post_updates_and_followers_are_told(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        the_city = await city(client)
        created = await propose(client, await factories.person(client))
        fan = await factories.person(client)
        await support(client, fan, created["id"])
        url = f"/api/v1/proposals/{created['id']}/updates"
        body = {"title": "Survey of the street booked", "body": "Engineers visit on Monday."}
        assert (await client.post(url, json=body, headers=fan.headers)).status_code == 403
        assert (
            await client.post(url, json={"title": ""}, headers=the_city.manager.headers)
        ).status_code == 422
        posted = await client.post(url, json=body, headers=the_city.manager.headers)
        assert posted.status_code == 201
        assert "Survey of the street booked" in await titles_for(fan.user.id)
        feed = await client.get(f"/proposals/{created['id']}/updates.atom")
        assert b"Survey of the street booked" in feed.content
        city_post = await client.post(
            f"/api/v1/organizations/{the_city.org.id}/updates",
            json={"title": "New participation rules", "body": "Threshold is now 150."},
            headers=the_city.editor.headers,
        )
        assert city_post.status_code == 201
        page = await client.get(f"/cities/{the_city.org.id}/updates")
        assert "New participation rules" in page.text
