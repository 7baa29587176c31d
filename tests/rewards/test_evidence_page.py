"""Files of a milestone's evidence on the award page."""

from __future__ import annotations

import httpx

from service.rewards.models import MilestoneFile
from tests import factories
from tests.rewards.helpers import approved, awarded

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


async def test_winner_attaches_a_file_the_city_downloads_it_the_public_never_sees_it(
    client: httpx.AsyncClient,
) -> None:
    a = await awarded(client)
    first = a.milestone_ids[0]
    csrf = await factories.web_signin(client, a.winner.user)
    page = await client.get(f"/awards/{a.award_id}")
    assert f'action="/milestones/{first}/files"' in page.text
    empty = await client.post(
        f"/milestones/{first}/files",
        data={"csrf_token": csrf},
        files={"file": ("", b"", "application/octet-stream")},
    )
    assert empty.status_code == 422 and 'aria-invalid="true"' in empty.text
    sent = await client.post(
        f"/milestones/{first}/files",
        data={"csrf_token": csrf},
        files={"file": ("pilot report.pdf", PDF, "application/pdf")},
    )
    assert sent.status_code == 303, sent.text
    row = await MilestoneFile.get()
    assert row.original_name == "pilot report.pdf"
    page = await client.get(f"/awards/{a.award_id}")
    assert "pilot report.pdf" in page.text
    client.cookies.clear()
    await factories.web_signin(client, a.city.manager.user)
    download = await client.get(f"/milestones/{first}/files/{row.id}")
    assert download.status_code == 200 and download.content == PDF
    client.cookies.clear()
    public = await client.get(f"/awards/{a.award_id}")
    assert public.status_code == 200 and "pilot report.pdf" not in public.text
    assert (await client.get(f"/milestones/{first}/files/{row.id}")).status_code in (401, 404)


async def test_no_files_after_approval(client: httpx.AsyncClient) -> None:
    a = await awarded(client)
    first = a.milestone_ids[0]
    await approved(client, a, first)
    csrf = await factories.web_signin(client, a.winner.user)
    late = await client.post(
        f"/milestones/{first}/files",
        data={"csrf_token": csrf},
        files={"file": ("late.pdf", PDF, "application/pdf")},
    )
    assert late.status_code == 409
    assert not await MilestoneFile.exists()
