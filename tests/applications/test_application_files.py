"""Files on applications: who adds, reads and deletes them, until when, and blind mode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import time_machine

from service import db
from service.accounts.models import OrganizationKind
from service.applications.models import ApplicationAttachment
from service.audit.models import AuditEvent
from service.challenges import service as challenges_service
from service.challenges.models import Challenge, ChallengeStatus
from service.config import Settings
from tests import factories
from tests.challenges.helpers import City
from tests.challenges.test_applications import applicant, draft, open_challenge
from tests.challenges.test_judging_awards import judge, scores_for
from tests.challenges.test_questions_files import EXE, PDF

SECRET_NAME = "Secret Startup pitch.pdf"


async def upload(
    client: httpx.AsyncClient,
    app_id: int,
    person: factories.Person,
    name: str = "plan.pdf",
    content: bytes = PDF,
) -> httpx.Response:
    return await client.post(
        f"/api/v1/applications/{app_id}/attachments",
        files={"file": (name, content, "application/pdf")},
        headers=person.headers,
    )


async def consortium(
    client: httpx.AsyncClient, **changes: object
) -> tuple[City, int, factories.Person, factories.Person, int]:
    """An open challenge with a draft by a startup and a university that accepted to partner."""
    city, challenge_id = await open_challenge(client, **changes)
    lead, lead_org = await applicant(client)
    partner, partner_org = await applicant(client, kind=OrganizationKind.university)
    partners = [{"organization_id": partner_org, "role": "lab", "share_pct": 20}]
    app_id = (await draft(client, challenge_id, lead, lead_org, partners=partners)).json()["id"]
    accepted = await client.post(
        f"/api/v1/applications/{app_id}/partners/{partner_org}/accept", headers=partner.headers
    )
    assert accepted.status_code == 200, accepted.text
    return city, challenge_id, lead, partner, app_id


async def submit_and_close(
    client: httpx.AsyncClient, challenge_id: int, app_id: int, lead: factories.Person
) -> None:
    submitted = await client.post(f"/api/v1/applications/{app_id}/submit", headers=lead.headers)
    assert submitted.status_code == 200, submitted.text
    async with db.transaction(None):
        await Challenge.filter(id=challenge_id).update(
            closes_at=datetime.now(UTC) - timedelta(seconds=1)
        )
        await challenges_service.advance_all(now=datetime.now(UTC))
    assert (await Challenge.get(id=challenge_id)).status is ChallengeStatus.closed


class TestMembers:
    async def test_lead_and_partner_upload_list_download_and_delete(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        _, _, lead, partner, app_id = await consortium(client)
        by_lead = await upload(client, app_id, lead, "../budget plan.pdf")
        assert by_lead.status_code == 201, by_lead.text
        assert by_lead.json()["name"] == "budget plan.pdf"
        assert by_lead.json()["kind"] == "PDF" and by_lead.json()["size"] == len(PDF)
        by_partner = await upload(client, app_id, partner, "lab notes.txt", b"Sensor results\n")
        assert by_partner.status_code == 201, by_partner.text
        assert by_partner.json()["content_type"] == "text/plain"

        listed = (
            await client.get(f"/api/v1/applications/{app_id}", headers=partner.headers)
        ).json()
        assert [f["name"] for f in listed["attachments"]] == ["budget plan.pdf", "lab notes.txt"]
        download = await client.get(listed["attachments"][0]["url"], headers=partner.headers)
        assert download.status_code == 200 and download.content == PDF
        assert download.headers["content-type"] == "application/pdf"
        assert download.headers["content-disposition"].startswith("attachment;")
        assert "budget%20plan.pdf" in download.headers["content-disposition"]
        assert download.headers["x-content-type-options"] == "nosniff"

        file_id = by_partner.json()["id"]
        stored = (await ApplicationAttachment.get(id=file_id)).stored_name
        assert (settings.storage_dir / stored).exists()
        deleted = await client.delete(
            f"/api/v1/applications/{app_id}/attachments/{file_id}", headers=lead.headers
        )
        assert deleted.status_code == 204
        assert not (settings.storage_dir / stored).exists()
        assert [a.original_name for a in await ApplicationAttachment.all()] == ["budget plan.pdf"]
        assert (
            await client.get(
                f"/api/v1/applications/{app_id}/attachments/{file_id}", headers=lead.headers
            )
        ).status_code == 404
        events = await AuditEvent.filter(object_type="application_attachment").order_by("id")
        actions = [e.action for e in events]
        assert actions == ["application.attach", "application.attach", "application.detach"]

    async def test_page_shows_files_uploads_and_deletes(self, client: httpx.AsyncClient) -> None:
        _, _, lead, _, app_id = await consortium(client)
        csrf = await factories.web_signin(client, lead.user)
        posted = await client.post(
            f"/applications/{app_id}/attachments",
            data={"csrf_token": csrf},
            files={"file": ("costs.pdf", PDF, "application/pdf")},
        )
        assert posted.status_code == 303, posted.text
        assert posted.headers["location"] == f"/applications/{app_id}#files"
        file = await ApplicationAttachment.get(application_id=app_id)
        page = (await client.get(f"/applications/{app_id}")).text
        assert "File attached." in page
        assert f'href="/applications/{app_id}/attachments/{file.id}"' in page
        assert f'action="/applications/{app_id}/attachments/{file.id}/delete"' in page
        download = await client.get(f"/applications/{app_id}/attachments/{file.id}")
        assert download.status_code == 200 and download.content == PDF
        # A bad file is refused on the page, with the reason next to the field.
        refused = await client.post(
            f"/applications/{app_id}/attachments",
            data={"csrf_token": csrf},
            files={"file": ("tool.pdf", EXE, "application/pdf")},
        )
        assert refused.status_code == 415
        assert "This kind of file cannot be attached" in refused.text
        assert 'aria-invalid="true"' in refused.text
        deleted = await client.post(
            f"/applications/{app_id}/attachments/{file.id}/delete", data={"csrf_token": csrf}
        )
        assert deleted.status_code == 303
        assert await ApplicationAttachment.all().count() == 0


class TestRefusals:
    async def test_another_applicant_a_visitor_and_a_recused_judge_get_nothing(
        self, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id, lead, _, app_id = await consortium(client)
        file_id = (await upload(client, app_id, lead)).json()["id"]
        path = f"/api/v1/applications/{app_id}/attachments/{file_id}"
        other, other_org = await applicant(client)
        await draft(client, challenge_id, other, other_org)
        assert (await client.get(path, headers=other.headers)).status_code == 404
        assert (await client.delete(path, headers=other.headers)).status_code == 404
        assert (await upload(client, app_id, other)).status_code == 404
        # The city sees no draft, nor its files.
        assert (await client.get(path, headers=city.editor.headers)).status_code == 404
        # A visitor: the API asks to sign in; the page hides the file.
        assert (await client.get(path)).status_code == 401
        anonymous = await client.post(
            f"/api/v1/applications/{app_id}/attachments",
            files={"file": ("x.pdf", PDF, "application/pdf")},
        )
        assert anonymous.status_code == 401
        page = await client.get(f"/applications/{app_id}/attachments/{file_id}")
        assert page.status_code in (401, 404) and PDF not in page.content

        await submit_and_close(client, challenge_id, app_id, lead)
        assert (await client.get(path, headers=city.editor.headers)).status_code == 200
        recused = await judge(client, city, challenge_id)
        cleared = await judge(client, city, challenge_id)
        declared = await client.post(
            f"/api/v1/applications/{app_id}/reviews",
            json={"conflict_of_interest": True},
            headers=recused.headers,
        )
        assert declared.status_code == 200
        assert (await client.get(path, headers=recused.headers)).status_code == 404
        assert (await client.get(path, headers=cleared.headers)).status_code == 200
        # Judges and the city read the files; they neither add nor delete them.
        assert (await upload(client, app_id, cleared)).status_code == 404
        assert (await client.delete(path, headers=city.manager.headers)).status_code == 404
        assert await ApplicationAttachment.all().count() == 1

    async def test_no_upload_or_delete_after_the_deadline(self, client: httpx.AsyncClient) -> None:
        closes = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
        _, _, lead, _, app_id = await consortium(client, closes_at=closes)
        file_id = (await upload(client, app_id, lead)).json()["id"]
        app = await client.get(f"/api/v1/applications/{app_id}", headers=lead.headers)
        challenge = await Challenge.get(id=app.json()["challenge_id"])
        with time_machine.travel(challenge.closes_at, tick=False):
            late = await upload(client, app_id, lead, "late.pdf")
            assert late.status_code == 409 and late.json()["error"] == "DeadlinePassed"
            assert "deadline has passed" in late.json()["detail"]
            gone = await client.delete(
                f"/api/v1/applications/{app_id}/attachments/{file_id}", headers=lead.headers
            )
            assert gone.status_code == 409
            csrf = await factories.web_signin(client, lead.user)
            page = await client.post(
                f"/applications/{app_id}/attachments",
                data={"csrf_token": csrf},
                files={"file": ("late.pdf", PDF, "application/pdf")},
            )
            assert page.status_code == 409
            assert "files can no longer be added to or deleted from it" in page.text
            # The page no longer offers the form.
            assert 'name="file"' not in (await client.get(f"/applications/{app_id}")).text
        assert [a.id for a in await ApplicationAttachment.all()] == [file_id]

    async def test_too_large_and_wrong_kind_are_refused(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        _, _, lead, _, app_id = await consortium(client)
        big = await upload(client, app_id, lead, "big.pdf", PDF + b"0" * settings.max_upload_bytes)
        assert big.status_code == 413
        assert "The file is too large" in big.json()["detail"]
        exe = await upload(client, app_id, lead, "report.pdf", EXE)
        assert exe.status_code == 415 and exe.json()["error"] == "UnsupportedFile"
        empty = await client.post(
            f"/api/v1/applications/{app_id}/attachments",
            files={"other": ("x.pdf", PDF, "application/pdf")},
            headers=lead.headers,
        )
        assert empty.status_code == 422 and "file" in empty.json()["fields"]
        assert await ApplicationAttachment.all().count() == 0
        assert not [p for p in settings.storage_dir.iterdir() if p.name.startswith(".upload")]


class TestBlindMode:
    async def test_judges_never_see_the_file_names(self, client: httpx.AsyncClient) -> None:
        city, challenge_id, lead, _, app_id = await consortium(client, blind_judging=True)
        file_id = (await upload(client, app_id, lead, SECRET_NAME)).json()["id"]
        await submit_and_close(client, challenge_id, app_id, lead)
        j = await judge(client, city, challenge_id)
        api = await client.get(f"/api/v1/applications/{app_id}", headers=j.headers)
        assert api.status_code == 200
        assert api.json()["attachments"][0]["name"] == "File 1 (PDF, 1 kB)"
        download = await client.get(
            f"/api/v1/applications/{app_id}/attachments/{file_id}", headers=j.headers
        )
        assert download.status_code == 200 and download.content == PDF
        disposition = download.headers["content-disposition"]
        assert f"attachment-{file_id}.pdf" in disposition
        bodies = [api.text, disposition]
        await factories.web_signin(client, j.user)
        bodies.append((await client.get(f"/applications/{app_id}")).text)
        csrf = factories.csrf_of(bodies[-1])
        await client.post(
            f"/applications/{app_id}/review", data={"csrf_token": csrf, "declaration": "none"}
        )
        review = await client.get(f"/applications/{app_id}/review")
        assert "File 1 (PDF, 1 kB)" in review.text
        bodies.append(review.text)
        page = await client.get(f"/applications/{app_id}/attachments/{file_id}")
        bodies.append(page.headers["content-disposition"])
        scored = await client.post(
            f"/api/v1/applications/{app_id}/reviews",
            json={"scores": await scores_for(challenge_id, [7, 7])},
            headers=j.headers,
        )
        bodies.append(scored.text)
        for body in bodies:
            assert "Secret" not in body and "pitch" not in body, body[:500]
        # The city still sees the real name.
        staff = await client.get(f"/api/v1/applications/{app_id}", headers=city.editor.headers)
        assert staff.json()["attachments"][0]["name"] == SECRET_NAME

    async def test_names_stay_for_judges_without_blind_mode(
        self, client: httpx.AsyncClient
    ) -> None:
        city, challenge_id, lead, _, app_id = await consortium(client)
        await upload(client, app_id, lead, SECRET_NAME)
        await submit_and_close(client, challenge_id, app_id, lead)
        j = await judge(client, city, challenge_id)
        api = await client.get(f"/api/v1/applications/{app_id}", headers=j.headers)
        assert api.json()["attachments"][0]["name"] == SECRET_NAME
