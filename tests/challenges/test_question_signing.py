"""Public questions do not tell who asked, often a likely bidder: they read "a participant
asked" unless the asker chooses to show their organization's name, on the page and in the API."""

from __future__ import annotations

import re

import httpx
from starlette.applications import Starlette

from service import db
from service.accounts.models import Organization, User
from service.challenges.models import Question
from tests import factories
from tests.challenges.test_applications import applicant
from tests.challenges.test_questions_files import published
from tests.rewards.test_pages import browser, text_of


class TestQuestionSigning:
    async def test_unsigned_by_default_signed_by_choice(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        _, challenge_id = await published(client)
        person, org_id = await applicant(client)
        async with db.transaction(None):
            await Organization.filter(id=org_id).update(name="Likely Bidder SL")
            await User.filter(id=person.user.id).update(name="Ana Bidder")
        page_url = f"/challenges/{challenge_id}"
        api_url = f"/api/v1/challenges/{challenge_id}/questions"
        async with browser(app, person.user) as web:
            form = await web.get(page_url)
            # Off by default.
            checkbox = re.search(r'<input type="checkbox" name="signed"[^>]*>', form.text)
            assert checkbox is not None and "checked" not in checkbox.group(0)
            assert "Show my organization's name" in text_of(form)
            asked = await web.post(f"{page_url}/questions", text="Is open data required here?")
            assert asked.status_code == 303, asked.text
        public = await client.get(page_url)
        text = text_of(public)
        assert "A participant asked: Is open data required here?" in text
        assert "Likely Bidder" not in text and "Ana Bidder" not in text
        listed = await client.get(api_url)
        assert listed.json()["items"][0]["asked_by"] is None
        assert listed.json()["items"][0]["signed"] is False
        assert "Likely Bidder" not in listed.text and "Ana Bidder" not in listed.text

        # Signed by choice, on the page and through the API.
        async with browser(app, person.user) as web:
            signed = await web.post(
                f"{page_url}/questions", text="Can a consortium apply?", signed="1"
            )
            assert signed.status_code == 303, signed.text
        by_api = await client.post(
            api_url, json={"text": "Who owns the data?", "signed": True}, headers=person.headers
        )
        assert by_api.status_code == 201, by_api.text
        assert by_api.json()["asked_by"] == "Likely Bidder SL"
        text = text_of(await client.get(page_url))
        assert "Likely Bidder SL asked: Can a consortium apply?" in text
        assert "A participant asked: Is open data required here?" in text
        assert "Ana Bidder" not in text
        items = (await client.get(api_url)).json()["items"]
        assert [(i["asked_by"], i["signed"]) for i in items] == [
            (None, False),
            ("Likely Bidder SL", True),
            ("Likely Bidder SL", True),
        ]

    async def test_a_person_without_an_organization_cannot_sign(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        _, challenge_id = await published(client)
        citizen = await factories.person(client)
        async with browser(app, citizen.user) as web:
            page = await web.get(f"/challenges/{challenge_id}")
            assert "Ask a public question" in text_of(page)
            assert "Show my organization's name" not in text_of(page)
        refused = await client.post(
            f"/api/v1/challenges/{challenge_id}/questions",
            json={"text": "Who owns the data?", "signed": True},
            headers=citizen.headers,
        )
        assert refused.status_code == 422
        assert "signed" in refused.json()["fields"]
        assert not await Question.exists(challenge_id=challenge_id)
