"""Uploaded files through HTTP, the same round trips for both storages: the local folder and
an S3 bucket (moto's S3 server); and the copy of a local folder into a bucket."""

from __future__ import annotations

import asyncio
import hashlib
import tracemalloc
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import httpx
import pytest
from pydantic import ValidationError
from starlette.applications import Starlette
from tqdm import tqdm

from service.__main__ import main
from service.app import create_app
from service.applications.models import ApplicationAttachment
from service.config import Settings
from service.core import filetypes
from service.integrations.s3 import PART_SIZE, BucketUnavailable, S3Storage, copy_folder
from service.integrations.storage import (
    ByteStream,
    FileTooLarge,
    LocalStorage,
    Storage,
    storage_for,
)
from service.participation.models import ProposalPhoto
from tests import factories
from tests.challenges.test_applications import applicant, draft, open_challenge
from tests.integrations.conftest import BUCKET
from tests.participation.helpers import propose
from tests.participation.images import PNG

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200
MIB = 1024 * 1024


def s3_settings(settings: Settings, endpoint: str, prefix: str) -> Settings:
    return settings.with_overrides(
        storage="s3",
        s3_bucket=BUCKET,
        s3_endpoint_url=endpoint,
        s3_access_key_id="test",
        s3_secret_access_key="test",
        s3_prefix=prefix,
    )


@dataclass
class Files:
    """The app served with one storage, and a look into that storage."""

    kind: str
    client: httpx.AsyncClient
    storage: Storage
    settings: Settings

    async def names(self) -> set[str]:
        if isinstance(self.storage, LocalStorage):
            return {p.name for p in self.storage.root.iterdir()}
        assert isinstance(self.storage, S3Storage)
        return {name async for name in self.storage.names()}

    async def pending_uploads(self) -> list[object]:
        """Multipart uploads started and neither completed nor aborted (S3 only)."""
        if not isinstance(self.storage, S3Storage):
            return []
        found = await self.storage.client.list_multipart_uploads(
            Bucket=BUCKET, Prefix=self.storage.prefix
        )
        return list(found.get("Uploads", []))


@pytest.fixture(params=["local", "s3"])
async def files(
    request: pytest.FixtureRequest,
    app: Starlette,
    settings: Settings,
    s3_endpoint: str,
    tmp_path: Path,
) -> AsyncIterator[Files]:
    storage: Storage
    if request.param == "local":
        configured = settings.with_overrides(storage_dir=tmp_path)
        storage = LocalStorage(tmp_path)
    else:
        # Every test has a prefix of its own in the one bucket.
        # An upload folder of the test's own: the app must leave it empty (the session's
        # folder holds other tests' local files).
        own = settings.with_overrides(storage_dir=tmp_path / "uploads")
        configured = s3_settings(own, s3_endpoint, f"{uuid.uuid4().hex}/")
        # Parts are of S3's smallest size (5 MiB): a 6 MiB file goes up in two.
        storage = await S3Storage.open(configured)
        await storage.ensure_bucket()
    served = create_app(configured)
    served.state.deps = replace(app.state.deps, settings=configured, storage=storage)
    transport = httpx.ASGITransport(app=served)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield Files(request.param, http, storage, configured)
    finally:
        await storage.aclose()


async def fetch(files: Files, response: httpx.Response) -> httpx.Response:
    """What the browser ends up with: for S3, the redirect to the signed link followed."""
    if files.kind == "local":
        assert response.status_code == 200, response.text
        return response
    assert response.status_code == 302, response.text
    assert response.headers["cache-control"] == "no-store"
    link = response.headers["location"]
    assert link.startswith(f"{files.storage.client.meta.endpoint_url}/{BUCKET}/")  # type: ignore[attr-defined]
    assert "X-Amz-Expires=120" in link and "X-Amz-Signature=" in link
    async with httpx.AsyncClient() as browser:
        followed = await browser.get(link)
    assert followed.status_code == 200, followed.text
    return followed


async def test_round_trips(files: Files) -> None:
    client = files.client
    _, challenge_id = await open_challenge(client)
    lead, org_id = await applicant(client)
    app_id = (await draft(client, challenge_id, lead, org_id)).json()["id"]
    outsider = await factories.person(client)

    async def upload(name: str, content: bytes) -> httpx.Response:
        return await client.post(
            f"/api/v1/applications/{app_id}/attachments",
            files={"file": (name, content, "application/pdf")},
            headers=lead.headers,
        )

    # A small file, and one of 6 MiB (a multipart upload in S3), there and back.
    big = PDF + b"0" * (6 * MIB)
    for name, content in [("budget plan.pdf", PDF), ("annex.pdf", big)]:
        added = await upload(name, content)
        assert added.status_code == 201, added.text
        row = await ApplicationAttachment.get(id=added.json()["id"])
        assert row.sha256 == hashlib.sha256(content).hexdigest() and row.size == len(content)
        assert row.stored_name in await files.names()
        url = added.json()["url"]
        # The permission check comes first: an outsider gets no link and no bytes.
        refused = await client.get(url, headers=outsider.headers)
        assert refused.status_code in (403, 404) and "location" not in refused.headers
        downloaded = await fetch(files, await client.get(url, headers=lead.headers))
        assert downloaded.content == content
        assert downloaded.headers["content-type"] == "application/pdf"
        disposition = downloaded.headers["content-disposition"]
        assert disposition.startswith("attachment;") and name.replace(" ", "%20") in disposition
        if isinstance(files.storage, S3Storage):
            # Without signed links (a store browsers cannot reach), the app streams it.
            files.storage.presign = False
            streamed = await client.get(url, headers=lead.headers)
            files.storage.presign = True
            assert streamed.status_code == 200 and streamed.content == content
            assert streamed.headers["content-length"] == str(len(content))
            assert streamed.headers["content-disposition"] == disposition
            assert streamed.headers["x-content-type-options"] == "nosniff"
    stored = await files.names()
    assert len(stored) == 2

    # Refused by type or size: an answer that says so, and nothing stored.
    assert (await upload("report.pdf", EXE)).status_code == 415
    assert (await upload("huge.pdf", PDF + b"0" * (10 * MIB))).status_code == 413
    assert await files.names() == stored
    assert await ApplicationAttachment.filter(application_id=app_id).count() == 2

    # The storage's own limit, past the first part: the partial upload is abandoned.
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(7):
            yield b"0" * MIB

    with pytest.raises(FileTooLarge):
        await files.storage.save(chunks(), max_bytes=6 * MIB, kind=filetypes.PDF)
    assert await files.names() == stored
    assert await files.pending_uploads() == []

    # A row whose file is gone: 404, for downloads as for inline images.
    missing = await ApplicationAttachment.filter(application_id=app_id).first()
    assert missing is not None
    await files.storage.delete(missing.stored_name)
    gone = await client.get(
        f"/api/v1/applications/{app_id}/attachments/{missing.id}", headers=lead.headers
    )
    assert gone.status_code == 404

    # An inline photo is always served from the site's own origin (its CSP allows no other).
    proposal = await propose(client, lead)
    put = await client.put(
        f"/api/v1/proposals/{proposal['id']}/photo",
        files={"file": ("street.png", PNG, "image/png")},
        data={"alt": "The dark corner of Calle Mayor at night"},
        headers=lead.headers,
    )
    assert put.status_code == 200, put.text
    shown = await client.get(f"/proposals/{proposal['id']}/photo")
    assert shown.status_code == 200 and shown.content == PNG
    assert shown.headers["content-type"] == "image/png"
    assert shown.headers["content-length"] == str(len(PNG))
    assert shown.headers["content-disposition"].startswith("inline")
    assert shown.headers["x-content-type-options"] == "nosniff"
    photo = (await ProposalPhoto.get(proposal_id=proposal["id"])).stored_name
    await files.storage.delete(photo)
    assert (await client.get(f"/proposals/{proposal['id']}/photo")).status_code == 404
    assert photo not in await files.names()
    if files.kind == "s3":
        # With a bucket, no file is kept in the local upload folder.
        folder = files.settings.storage_dir
        assert not folder.exists() or not any(folder.iterdir())


async def test_copy_folder_into_the_bucket(
    settings: Settings,
    s3_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Cut off half-way through a file, the copy leaves no part of it; the next run copies
    only what is not there yet with the same bytes, with a progress bar in bytes."""
    configured = s3_settings(settings, s3_endpoint, f"{uuid.uuid4().hex}/")
    storage = await S3Storage.open(configured)
    await storage.ensure_bucket()
    folder = tmp_path / "uploads"
    folder.mkdir()
    contents = {
        "a1.pdf": PDF,
        "b2.png": PNG,
        "c3.pdf": PDF + b"1" * (6 * MIB),  # a multipart upload
        "d4.txt": b"already there, put by another tool\n",
        "e5.txt": b"the local, newer bytes\n",
    }
    for name, content in contents.items():
        (folder / name).write_bytes(content)
    (folder / ".upload-0123").write_bytes(b"an upload cut short")  # never copied
    try:
        # As if another tool had sent d4, and e5 with other bytes.
        await storage.client.put_object(
            Bucket=BUCKET, Key=storage.key("d4.txt"), Body=contents["d4.txt"]
        )
        await storage.client.put_object(
            Bucket=BUCKET, Key=storage.key("e5.txt"), Body=b"the older bytes\n"
        )

        # The run is stopped (Ctrl-C, a redeploy) once c3's first part is in the bucket.
        send_part = storage._part
        sent: list[str] = []

        async def part_then_stop(key: str, upload_id: str, number: int, data: bytearray) -> dict:
            found = await send_part(key, upload_id, number, data)
            sent.append(key)
            if key.endswith("c3.pdf"):
                stop.cancel()
            return found

        monkeypatch.setattr(storage, "_part", part_then_stop)
        with anyio.CancelScope() as stop:
            await copy_folder(folder, storage, progress=False)
        assert stop.cancelled_caught and sent == [storage.key("c3.pdf")]
        monkeypatch.undo()
        assert {name async for name in storage.names()} == {"a1.pdf", "b2.png", "d4.txt", "e5.txt"}
        pending = await storage.client.list_multipart_uploads(Bucket=BUCKET, Prefix=storage.prefix)
        assert pending.get("Uploads", []) == []

        capsys.readouterr()
        resumed = await copy_folder(folder, storage, progress=True)
        assert (resumed.copied, resumed.skipped, resumed.failed) == (2, 3, [])
        assert resumed.copied_bytes == len(contents["c3.pdf"]) + len(contents["e5.txt"])
        total = tqdm.format_sizeof(sum(len(content) for content in contents.values()))
        bar = capsys.readouterr().err
        assert "100%" in bar and f"{total}/{total}" in bar, bar

        assert {name async for name in storage.names()} == set(contents)
        for name, content in contents.items():
            delivered = await storage.deliver(name, filename=name, content_type="x/y", inline=True)
            assert isinstance(delivered, ByteStream) and delivered.size == len(content)
            assert b"".join([c async for c in delivered.chunks]) == content
        again = await copy_folder(folder, storage, progress=False)
        assert (again.copied, again.skipped, again.failed) == (0, 5, [])
    finally:
        await storage.aclose()


async def _get_streamed(app: Starlette, path: str, headers: dict[str, str]) -> tuple[int, int, str]:
    """GET `path` from the ASGI app as a server would: each body chunk is hashed and dropped
    (httpx's test transport keeps the whole body). Returns status, size and SHA-256."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")]
        + [(key.lower().encode(), value.encode()) for key, value in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    status, size, digest = 0, 0, hashlib.sha256()
    requested, done = False, anyio.Event()

    async def receive() -> dict[str, object]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        # The client stays connected until the whole response has been sent.
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        nonlocal status, size
        if message["type"] == "http.response.start":
            status = int(message["status"])  # type: ignore[call-overload]
        elif message["type"] == "http.response.body":
            body = message.get("body", b"")
            assert isinstance(body, bytes)
            size += len(body)
            digest.update(body)

    async def send_and_close(message: dict[str, object]) -> None:
        await send(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            done.set()

    await app(scope, receive, send_and_close)  # type: ignore[arg-type]
    return status, size, digest.hexdigest()


async def test_large_file_never_whole_in_memory(
    app: Starlette, settings: Settings, s3_endpoint: str, tmp_path: Path
) -> None:
    """A 64 MiB file uploaded through the API into the bucket and downloaded back through
    the app: at no time does the app hold more than a few parts of it."""
    size = 64 * MIB
    configured = s3_settings(settings, s3_endpoint, f"{uuid.uuid4().hex}/").with_overrides(
        max_upload_bytes=size + MIB, s3_presign=False
    )
    storage = await S3Storage.open(configured)
    await storage.ensure_bucket()
    served = create_app(configured)
    served.state.deps = replace(app.state.deps, settings=configured, storage=storage)
    source = tmp_path / "survey.pdf"
    digest = hashlib.sha256(PDF)
    with source.open("wb") as handle:
        handle.write(PDF)
        block = bytes(range(256)) * 4096
        for _ in range((size - len(PDF)) // len(block)):
            handle.write(block)
            digest.update(block)
    assert source.stat().st_size < size + MIB
    transport = httpx.ASGITransport(app=served)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            _, challenge_id = await open_challenge(client)
            lead, org_id = await applicant(client)
            app_id = (await draft(client, challenge_id, lead, org_id)).json()["id"]
            tracemalloc.start()
            try:
                with source.open("rb") as handle:
                    added = await client.post(
                        f"/api/v1/applications/{app_id}/attachments",
                        files={"file": ("survey.pdf", handle, "application/pdf")},
                        headers=lead.headers,
                    )
                _, uploading = tracemalloc.get_traced_memory()
                tracemalloc.reset_peak()
                status, received, received_sha = await _get_streamed(
                    served, urlsplit(added.json()["url"]).path, lead.headers
                )
                _, downloading = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
    finally:
        await storage.aclose()
    assert added.status_code == 201, added.text
    row = await ApplicationAttachment.get(id=added.json()["id"])
    assert row.size == source.stat().st_size and row.sha256 == digest.hexdigest()
    assert (status, received, received_sha) == (200, row.size, row.sha256)
    print(f"peak memory: upload {uploading / MIB:.1f} MiB, download {downloading / MIB:.1f} MiB")
    # One 5 MiB part is buffered, and copied once as it is sent.
    assert uploading < 4 * PART_SIZE, uploading
    assert downloading < 2 * MIB, downloading


async def test_storage_command(settings: Settings, s3_endpoint: str, tmp_path: Path) -> None:
    """`python -m service storage init` then `copy-to-s3 FOLDER`; refusals (no bucket yet,
    no bucket set, no folder, STORAGE=s3 without a bucket); and the app refuses to start
    without its bucket."""
    with pytest.raises(ValidationError, match="STORAGE=s3 needs S3_BUCKET"):
        Settings(storage="s3", s3_bucket="")
    folder = tmp_path / "uploads"
    folder.mkdir()
    (folder / "f6.pdf").write_bytes(PDF)
    bucket = f"civic-{uuid.uuid4().hex[:12]}"
    # Outside us-east-1, a bucket is created with a location.
    configured = s3_settings(settings, s3_endpoint, "").with_overrides(
        s3_bucket=bucket, s3_region="eu-west-1"
    )
    environment = {
        "STORAGE": "s3",
        "S3_BUCKET": bucket,
        "S3_REGION": "eu-west-1",
        "S3_ENDPOINT_URL": s3_endpoint,
        "S3_ACCESS_KEY_ID": "test",
        "S3_SECRET_ACCESS_KEY": "test",
    }

    async def command(*argv: str) -> int:
        # The command runs its own event loop, as from a shell: in a thread here.
        return await asyncio.to_thread(main, ["storage", *argv])

    with pytest.raises(BucketUnavailable, match=bucket):
        await storage_for(configured)
    with pytest.MonkeyPatch.context() as env:
        for key, value in environment.items():
            env.setenv(key, value)
        assert await command("copy-to-s3", str(folder)) == 2
        assert await command("init") == 0
        assert await command("copy-to-s3", str(folder)) == 0
        assert await command("copy-to-s3", str(tmp_path / "nowhere")) == 2
        env.setenv("STORAGE", "local")
        env.setenv("S3_BUCKET", "")
        assert await command("copy-to-s3", str(folder)) == 2

    storage = await storage_for(configured)
    try:
        assert isinstance(storage, S3Storage)
        assert {name async for name in storage.names()} == {"f6.pdf"}
    finally:
        await storage.aclose()
