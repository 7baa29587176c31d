"""ASVS V4.1 / V5.2.1 (bounded input): no request body is read past the route's limit.

Each kind of route gets 50 MB streamed in chunks without a Content-Length, as an attacker
would send it. The server must answer 413 (or refuse before reading) having read at most its
limit plus one chunk, with the process's traced memory and the temporary folder bounded
(both sampled while the body is being sent, since spooled files vanish with the request).
"""

from __future__ import annotations

import os
import tempfile
import tracemalloc
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from service.accounts.models import OrganizationKind, Role
from service.participation.service import PHOTO_MAX_BYTES
from tests.challenges.factories import make_draft_challenge
from tests.factories import PASSWORD, csrf_of, make_org, make_user, token_for, web_signin

MB = 1024 * 1024
CHUNK = 64 * 1024
SENT = 50 * MB
# What a refused request may cost while it is being read: the JSON limit (1 MB) or the upload
# limit, plus one chunk in flight and the parser's own buffers.
MEMORY_BOUND = 4 * MB


def _spooled_bytes(folder: Path) -> int:
    """Bytes in temporary files under `folder`, named or not: on Linux a TemporaryFile has no
    name (O_TMPFILE), so the files this process holds open there are counted too."""
    named = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    unnamed = 0
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
            if target.startswith(str(folder)) and target.endswith("(deleted)"):
                unnamed += os.stat(fd).st_size
        except OSError:
            continue  # closed meanwhile
    return named + unnamed


@dataclass
class Stream:
    """A chunked body that records how much the server pulled and what it cost meanwhile."""

    spool: Path
    prefix: bytes = b""
    sent: int = 0
    peak_memory: int = 0
    peak_spool: int = 0
    baseline: int = field(default=0)

    def _sample(self) -> None:
        current, _ = tracemalloc.get_traced_memory()
        self.peak_memory = max(self.peak_memory, current - self.baseline)
        self.peak_spool = max(self.peak_spool, _spooled_bytes(self.spool))

    async def body(self) -> AsyncIterator[bytes]:
        self.baseline, _ = tracemalloc.get_traced_memory()
        yield self.prefix
        self.sent += len(self.prefix)
        chunk = b"a" * CHUNK
        while self.sent < SENT:
            self._sample()
            yield chunk
            self.sent += CHUNK
        self._sample()


@pytest.fixture
def spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # The multipart parser spools file parts to the temporary folder: point it at one we watch.
    folder = tmp_path / "spool"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def traced() -> AsyncIterator[None]:
    tracemalloc.start()
    yield
    tracemalloc.stop()


def _multipart(boundary: str, csrf: str = "") -> bytes:
    head = ""
    if csrf:
        head += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf}\r\n'
        )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n%PDF-1.4\n"
    )
    return head.encode()


async def _send(
    client: httpx.AsyncClient,
    path: str,
    stream: Stream,
    content_type: str,
    headers: dict[str, str] | None = None,
    method: str = "POST",
) -> httpx.Response:
    return await client.request(
        method,
        path,
        content=stream.body(),
        headers={"Content-Type": content_type, **(headers or {})},
    )


def _assert_bounded(response: httpx.Response, stream: Stream, *, limit: int) -> None:
    assert response.status_code in (413, 403, 415), response.text[:300]
    assert stream.sent <= limit + 2 * CHUNK, f"read {stream.sent} bytes for a limit of {limit}"
    assert stream.peak_memory < max(MEMORY_BOUND, 2 * limit), stream.peak_memory
    assert stream.peak_spool <= limit + 2 * CHUNK, f"spooled {stream.peak_spool} bytes"


@pytest.mark.usefixtures("traced")
class TestUnboundedBodies:
    """ASVS V4.1.x: a 50 MB chunked body to each kind of route is cut at the route's limit."""

    async def test_anonymous_multipart_to_sign_in(self, client: httpx.AsyncClient, spool: Path):
        page = await client.get("/signin")
        stream = Stream(spool, prefix=_multipart("b0undary", csrf_of(page.text)))
        response = await _send(client, "/signin", stream, "multipart/form-data; boundary=b0undary")
        _assert_bounded(response, stream, limit=MB)

    async def test_anonymous_form_without_a_form_session(
        self, client: httpx.AsyncClient, spool: Path
    ) -> None:
        # No CSRF token was ever handed out: nothing of the body needs to be read.
        stream = Stream(spool, prefix=b"email=a%40b.org&password=")
        response = await _send(client, "/signin", stream, "application/x-www-form-urlencoded")
        assert response.status_code == 403
        assert stream.sent <= 2 * CHUNK

    async def test_anonymous_json_to_token(self, client: httpx.AsyncClient, spool: Path) -> None:
        stream = Stream(spool, prefix=b'{"email": "a@b.org", "password": "')
        response = await _send(client, "/api/v1/auth/token", stream, "application/json")
        assert response.status_code == 413
        assert response.json()["error"] == "PayloadTooLarge"
        _assert_bounded(response, stream, limit=MB)

    async def test_declared_length_over_the_limit_is_refused_unread(
        self, client: httpx.AsyncClient, spool: Path
    ) -> None:
        stream = Stream(spool, prefix=b"{")
        response = await _send(
            client,
            "/api/v1/auth/token",
            stream,
            "application/json",
            headers={"Content-Length": str(SENT)},
        )
        assert response.status_code == 413
        assert stream.sent <= CHUNK

    async def test_signed_in_json(self, client: httpx.AsyncClient, spool: Path) -> None:
        user = await make_user()
        token = await token_for(client, user)
        stream = Stream(spool, prefix=b'{"name": "Civic", "kind": "startup", "region": "')
        response = await _send(
            client,
            "/api/v1/organizations",
            stream,
            "application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 413
        _assert_bounded(response, stream, limit=MB)

    async def test_signed_in_page_form(self, client: httpx.AsyncClient, spool: Path) -> None:
        user = await make_user()
        csrf = await web_signin(client, user)
        stream = Stream(spool, prefix=f"csrf_token={csrf}&name=".encode())
        response = await _send(
            client, "/organizations/new", stream, "application/x-www-form-urlencoded"
        )
        _assert_bounded(response, stream, limit=MB)

    async def test_upload_api(self, client: httpx.AsyncClient, spool: Path) -> None:
        user = await make_user()
        token = await token_for(client, user)
        headers = {"Authorization": f"Bearer {token}"}
        created = await client.post(
            "/api/v1/proposals",
            json={
                "title": "Shade for the bus stops of the north district",
                "description": "Waiting in the sun for twenty minutes is hard on older people.",
                "region": "Madrid",
            },
            headers=headers,
        )
        assert created.status_code == 201, created.text
        stream = Stream(spool, prefix=_multipart("b0undary"))
        response = await _send(
            client,
            f"/api/v1/proposals/{created.json()['id']}/photo",
            stream,
            "multipart/form-data; boundary=b0undary",
            headers=headers,
            method="PUT",
        )
        assert response.status_code == 413
        _assert_bounded(response, stream, limit=PHOTO_MAX_BYTES + CHUNK)

    async def test_upload_page(self, app: Starlette, client: httpx.AsyncClient, spool: Path):
        user = await make_user()
        org = await make_org(kind=OrganizationKind.government, members={user: Role.owner})
        challenge = await make_draft_challenge(org)
        csrf = await web_signin(client, user)
        stream = Stream(spool, prefix=_multipart("b0undary", csrf))
        response = await _send(
            client,
            f"/challenges/{challenge.id}/attachments",
            stream,
            "multipart/form-data; boundary=b0undary",
        )
        assert response.status_code == 413
        limit = app.state.settings.max_upload_bytes + CHUNK
        _assert_bounded(response, stream, limit=limit)


class TestDeepJson:
    """ASVS V5.2 (input that exhausts the parser): a 5,000-deep JSON body answers 400."""

    async def test_deeply_nested_body(self, client: httpx.AsyncClient) -> None:
        body = '{"email": ' + "[" * 5000 + "]" * 5000 + ', "password": "x"}'
        response = await client.post(
            "/api/v1/auth/token",
            content=body,
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 400, response.text[:300]
        assert response.json()["error"] == "BadRequest"

    async def test_ordinary_body_still_signs_in(self, client: httpx.AsyncClient) -> None:
        user = await make_user()
        response = await client.post(
            "/api/v1/auth/token", json={"email": user.email, "password": PASSWORD}
        )
        assert response.status_code == 200
