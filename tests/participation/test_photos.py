"""A proposal's optional photo: added, replaced and removed by its author until the first
support; images only, within 5 MB; shown with its description; gone with a hidden proposal."""

from __future__ import annotations

import httpx

from service import db
from service.audit.models import AuditEvent
from service.participation.models import Proposal, ProposalPhoto
from tests import factories
from tests.participation.helpers import propose, support
from tests.participation.images import PNG


async def put_photo(
    client: httpx.AsyncClient,
    person: factories.Person,
    proposal_id: int,
    content: bytes = PNG,
    alt: str = "The dark corner of Calle Mayor at night",
) -> httpx.Response:
    return await client.put(
        f"/api/v1/proposals/{proposal_id}/photo",
        files={"file": ("street.png", content, "image/png")},
        data={"alt": alt},
        headers=person.headers,
    )


class TestPhoto:
    async def test_the_author_adds_replaces_and_removes_it(self, client: httpx.AsyncClient) -> None:
        author = await factories.person(client)
        proposal = await propose(client, author)
        added = await put_photo(client, author, proposal["id"])
        assert added.status_code == 200, added.text
        assert added.json()["alt"] == "The dark corner of Calle Mayor at night"
        assert added.json()["content_type"] == "image/png"
        served = await client.get(f"/proposals/{proposal['id']}/photo")
        assert served.status_code == 200
        assert served.content == PNG
        assert served.headers["content-type"] == "image/png"
        assert served.headers["content-disposition"].startswith("inline")
        assert served.headers["x-content-type-options"] == "nosniff"
        page = await client.get(f"/proposals/{proposal['id']}")
        assert 'alt="The dark corner of Calle Mayor at night"' in page.text
        first = (await ProposalPhoto.get(proposal_id=proposal["id"])).stored_name

        replaced = await put_photo(client, author, proposal["id"], alt="The same corner by day")
        assert replaced.status_code == 200
        photo = await ProposalPhoto.get(proposal_id=proposal["id"])
        assert photo.alt == "The same corner by day"
        storage = client._transport.app.state.deps.storage  # type: ignore[attr-defined]
        assert not (storage.root / first).exists(), "the replaced file is deleted"

        removed = await client.delete(
            f"/api/v1/proposals/{proposal['id']}/photo", headers=author.headers
        )
        assert removed.status_code == 204
        assert not await ProposalPhoto.filter(proposal_id=proposal["id"]).exists()
        assert (await client.get(f"/proposals/{proposal['id']}/photo")).status_code == 404
        again = await client.delete(
            f"/api/v1/proposals/{proposal['id']}/photo", headers=author.headers
        )
        assert again.status_code == 404
        assert await AuditEvent.filter(action="proposal.photo").count() == 2
        assert await AuditEvent.filter(action="proposal.photo_remove").count() == 1

    async def test_refusals_change_nothing(self, client: httpx.AsyncClient) -> None:
        author = await factories.person(client)
        other = await factories.person(client)
        proposal = await propose(client, author)
        assert (await put_photo(client, author, proposal["id"])).status_code == 200
        before = await ProposalPhoto.get(proposal_id=proposal["id"])
        storage = client._transport.app.state.deps.storage  # type: ignore[attr-defined]
        files_before = {p.name for p in storage.root.iterdir()}

        not_an_image = await put_photo(client, author, proposal["id"], content=b"%PDF-1.4 x")
        assert not_an_image.status_code == 415
        text = await put_photo(client, author, proposal["id"], content=b"just some words")
        assert text.status_code == 415
        too_large = await put_photo(
            client, author, proposal["id"], content=PNG + b"\0" * (5 * 1024 * 1024)
        )
        assert too_large.status_code == 413
        no_words = await put_photo(client, author, proposal["id"], alt="   ")
        assert no_words.status_code == 422
        assert "alt" in no_words.json()["fields"]
        by_another = await put_photo(client, other, proposal["id"])
        assert by_another.status_code in (403, 404)
        anonymous = await client.put(
            f"/api/v1/proposals/{proposal['id']}/photo",
            files={"file": ("street.png", PNG, "image/png")},
            data={"alt": "x"},
        )
        assert anonymous.status_code in (401, 404)

        after = await ProposalPhoto.get(proposal_id=proposal["id"])
        assert (after.id, after.stored_name, after.alt) == (
            before.id,
            before.stored_name,
            before.alt,
        )
        assert {p.name for p in storage.root.iterdir()} == files_before, "refused files are gone"

    async def test_locked_after_the_first_support(self, client: httpx.AsyncClient) -> None:
        author = await factories.person(client)
        backer = await factories.person(client)
        proposal = await propose(client, author)
        assert (await put_photo(client, author, proposal["id"])).status_code == 200
        await support(client, backer, proposal["id"])
        late = await put_photo(client, author, proposal["id"], alt="Another one")
        assert late.status_code == 409
        remove = await client.delete(
            f"/api/v1/proposals/{proposal['id']}/photo", headers=author.headers
        )
        assert remove.status_code == 409
        assert (await ProposalPhoto.get(proposal_id=proposal["id"])).alt.startswith("The dark")

    async def test_a_hidden_proposal_shows_no_photo(self, client: httpx.AsyncClient) -> None:
        author = await factories.person(client)
        proposal = await propose(client, author)
        assert (await put_photo(client, author, proposal["id"])).status_code == 200
        async with db.transaction(None):
            await Proposal.filter(id=proposal["id"]).update(
                hidden_at=(await Proposal.get(id=proposal["id"])).created_at,
                hidden_reason="Personal data",
            )
        assert (await client.get(f"/proposals/{proposal['id']}/photo")).status_code == 404
        page = await client.get(f"/proposals/{proposal['id']}")
        assert f"/proposals/{proposal['id']}/photo" not in page.text

    async def test_the_page_form_uploads_and_shows_errors(self, client: httpx.AsyncClient) -> None:
        author = await factories.person(client)
        proposal = await propose(client, author)
        csrf = await factories.web_signin(client, author.user)
        url = f"/proposals/{proposal['id']}/photo"
        page = await client.get(f"/proposals/{proposal['id']}")
        assert 'enctype="multipart/form-data"' in page.text
        refused = await client.post(
            url,
            data={"csrf_token": csrf, "alt": "A street"},
            files={"file": ("notes.txt", b"just some words", "text/plain")},
        )
        assert refused.status_code == 415
        assert 'role="alert"' in refused.text
        assert not await ProposalPhoto.filter(proposal_id=proposal["id"]).exists()
        saved = await client.post(
            url,
            data={"csrf_token": csrf, "alt": "A street"},
            files={"file": ("street.png", PNG, "image/png")},
        )
        assert saved.status_code == 303
        assert (await ProposalPhoto.get(proposal_id=proposal["id"])).alt == "A street"
        removed = await client.post(f"{url}/remove", data={"csrf_token": csrf})
        assert removed.status_code == 303
        assert not await ProposalPhoto.filter(proposal_id=proposal["id"]).exists()
