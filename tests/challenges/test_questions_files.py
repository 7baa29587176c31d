"""Public questions and answers, following, attachments and feeds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
from icalendar import Calendar

from service.challenges.models import Attachment, Follow
from service.config import Settings
from service.notifications.models import Notification
from tests import factories
from tests.challenges.factories import challenge_body
from tests.challenges.helpers import City, make_city

Worker = Callable[[], Awaitable[None]]
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200


async def published(client: httpx.AsyncClient, **changes: object) -> tuple[City, int]:
    from datetime import UTC, datetime, timedelta

    city = await make_city(client)
    body = challenge_body(
        city.org, opens_at=(datetime.now(UTC) - timedelta(hours=1)).isoformat(), **changes
    )
    challenge_id = (
        await client.post("/api/v1/challenges", json=body, headers=city.editor.headers)
    ).json()["id"]
    response = await client.post(
        f"/api/v1/challenges/{challenge_id}/publish", headers=city.manager.headers
    )
    assert response.status_code == 200, response.text
    return city, int(challenge_id)


class TestQuestions:
    async def test_ask_answer_and_the_asker_is_notified(self, client: httpx.AsyncClient) -> None:
        city, challenge_id = await published(client)
        asker = await factories.person(client)
        anonymous = await client.post(
            f"/api/v1/challenges/{challenge_id}/questions",
            json={"text": "Can two startups apply together?"},
        )
        assert anonymous.status_code == 401
        empty = await client.post(
            f"/api/v1/challenges/{challenge_id}/questions",
            json={"text": "   "},
            headers=asker.headers,
        )
        assert empty.status_code == 422
        asked = await client.post(
            f"/api/v1/challenges/{challenge_id}/questions",
            json={"text": "Can two startups apply together?"},
            headers=asker.headers,
        )
        assert asked.status_code == 201
        question_id = asked.json()["id"]
        outsider = await client.post(
            f"/api/v1/questions/{question_id}/answer",
            json={"text": "Yes, as a consortium."},
            headers=asker.headers,
        )
        assert outsider.status_code == 404
        answered = await client.post(
            f"/api/v1/questions/{question_id}/answer",
            json={"text": "Yes, as a consortium."},
            headers=city.editor.headers,
        )
        assert answered.status_code == 200
        public = (await client.get(f"/api/v1/challenges/{challenge_id}/questions")).json()
        assert public["items"][0]["answer"] == "Yes, as a consortium."
        assert await Notification.filter(user_id=asker.user.id).count() == 1

    async def test_follow_is_one_click_and_idempotent(self, client: httpx.AsyncClient) -> None:
        _, challenge_id = await published(client)
        fan = await factories.person(client)
        for _ in range(2):
            response = await client.post(
                f"/api/v1/challenges/{challenge_id}/follow", headers=fan.headers
            )
            assert response.status_code == 204
        assert await Follow.filter(user_id=fan.user.id).count() == 1
        await client.delete(f"/api/v1/challenges/{challenge_id}/follow", headers=fan.headers)
        assert await Follow.filter(user_id=fan.user.id).count() == 0


class TestAttachments:
    async def _upload(
        self, client: httpx.AsyncClient, city: City, challenge_id: int, name: str, content: bytes
    ) -> httpx.Response:
        csrf = await factories.web_signin(client, city.editor.user)
        return await client.post(
            f"/challenges/{challenge_id}/attachments",
            data={"csrf_token": csrf},
            files={"file": (name, content, "application/pdf")},
        )

    async def test_pdf_is_stored_under_a_safe_name_and_served_as_attachment(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        city, challenge_id = await published(client)
        response = await self._upload(client, city, challenge_id, "../../terms of ref.pdf", PDF)
        assert response.status_code == 303, response.text
        attachment = await Attachment.get(challenge_id=challenge_id)
        assert attachment.original_name == "terms of ref.pdf"
        assert attachment.stored_name.endswith(".pdf") and "/" not in attachment.stored_name
        assert (settings.storage_dir / attachment.stored_name).read_bytes() == PDF
        download = await client.get(f"/challenges/{challenge_id}/attachments/{attachment.id}")
        assert download.status_code == 200 and download.content == PDF
        assert download.headers["content-type"] == "application/pdf"
        assert download.headers["content-disposition"].startswith("attachment;")
        assert download.headers["x-content-type-options"] == "nosniff"

    async def test_executable_renamed_pdf_is_refused(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        city, challenge_id = await published(client)
        response = await self._upload(client, city, challenge_id, "report.pdf", EXE)
        assert response.status_code == 415
        assert await Attachment.all().count() == 0
        assert not [p for p in settings.storage_dir.iterdir() if p.name.startswith(".upload")]

    async def test_file_over_the_limit_is_413(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        city, challenge_id = await published(client)
        big = PDF + b"0" * (settings.max_upload_bytes + 1)
        response = await self._upload(client, city, challenge_id, "big.pdf", big)
        assert response.status_code == 413
        assert await Attachment.all().count() == 0

    async def test_citizen_cannot_upload(self, client: httpx.AsyncClient) -> None:
        _, challenge_id = await published(client)
        citizen = await factories.make_user()
        csrf = await factories.web_signin(client, citizen)
        response = await client.post(
            f"/challenges/{challenge_id}/attachments",
            data={"csrf_token": csrf},
            files={"file": ("a.pdf", PDF, "application/pdf")},
        )
        assert response.status_code == 404
        assert await Attachment.all().count() == 0


class TestFeeds:
    async def test_atom_lists_open_challenges_and_ics_their_deadlines(
        self, client: httpx.AsyncClient
    ) -> None:
        _, challenge_id = await published(client, title="Shade for bus stops")
        atom = await client.get("/challenges/feed.atom")
        assert atom.status_code == 200
        assert atom.headers["content-type"].startswith("application/atom+xml")
        assert "Shade for bus stops" in atom.text and f"/challenges/{challenge_id}" in atom.text
        ics = await client.get("/challenges/deadlines.ics")
        calendar = Calendar.from_ical(ics.content)
        events = [c for c in calendar.walk("VEVENT")]
        assert len(events) == 1 and "Shade for bus stops" in str(events[0]["SUMMARY"])
