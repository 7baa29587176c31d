"""Uploaded files of challenges and applications: streamed to storage, size-limited, checked
by content, and served back as downloads.

Both kinds of upload go through `received_file`: it stores the part named `file` and hands it
to the caller, who records its row (and audit event) in a transaction; if that fails, the
stored file is removed again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio.to_thread
from babel.numbers import format_decimal
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse

from service.audit import service as audit
from service.challenges.models import Attachment, Challenge
from service.core import filetypes, i18n
from service.core.errors import PayloadTooLarge, ValidationFailed
from service.core.i18n import N_, gettext
from service.core.web import context, transaction
from service.integrations.storage import (
    ByteStream,
    FileTooLarge,
    SignedLink,
    StoredFile,
    content_disposition,
)

CHUNK = 64 * 1024


class UnsupportedFile(ValidationFailed):
    status_code = 415
    default_detail = N_(
        "This kind of file cannot be attached: use PDF, images, office documents or text."
    )


@dataclass(frozen=True)
class ReceivedFile:
    stored: StoredFile
    # The uploader's file name, made safe to show and to offer on download.
    name: str


@asynccontextmanager
async def received_file(
    request: Request, *, max_bytes: int | None = None
) -> AsyncIterator[ReceivedFile]:
    """Store the multipart part named `file` (within `max_bytes` when given, else the site's
    upload limit); remove it again when the block fails."""
    storage = request.app.state.deps.storage
    received = await _receive(request, max_bytes)
    try:
        yield received
    except Exception:
        await storage.delete(received.stored.name)
        raise


async def _receive(request: Request, max_bytes: int | None) -> ReceivedFile:
    """Read the multipart body as it arrives, within the size limit and the allowed types."""
    limit = max_bytes or request.app.state.settings.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise PayloadTooLarge(_too_large(limit))
    # python-multipart spools the parts; the limit is enforced again while copying.
    form = await request.form(max_files=1, max_fields=5)
    upload = form.get("file")
    if upload is None or isinstance(upload, str) or not upload.filename:
        raise ValidationFailed(gettext("Choose a file to attach."), fields={"file": "required"})

    if upload.size is not None and upload.size > limit:
        raise PayloadTooLarge(_too_large(limit))
    name = _safe_display_name(upload.filename)
    # The one check of every upload: content and name together (service.core.filetypes).
    try:
        kind = await anyio.to_thread.run_sync(filetypes.identify, upload.file, name)
    except filetypes.FileTypeRefused as exc:
        raise UnsupportedFile(str(exc), fields={"file": str(exc)}) from None

    async def chunks() -> AsyncIterator[bytes]:
        while chunk := await upload.read(CHUNK):
            yield chunk

    storage = request.app.state.deps.storage
    try:
        stored = await storage.save(chunks(), max_bytes=limit, kind=kind)
    except FileTooLarge:
        raise PayloadTooLarge(_too_large(limit)) from None
    return ReceivedFile(stored=stored, name=name)


async def upload(request: Request, challenge: Challenge) -> Attachment:
    async with received_file(request) as received, transaction(request):
        ctx = context(request)
        assert ctx.actor.user is not None
        attachment = await Attachment.create(
            challenge=challenge,
            original_name=received.name,
            stored_name=received.stored.name,
            content_type=received.stored.content_type,
            size=received.stored.size,
            sha256=received.stored.sha256,
            uploaded_by_id=ctx.actor.user.id,
        )
        await audit.record(
            ctx,
            "challenge.attach",
            object_type="attachment",
            object_id=attachment.id,
            organization_id=challenge.organization_id,
            name=received.name,
            size=received.stored.size,
        )
    return attachment


async def file_response(
    request: Request, *, stored_name: str, content_type: str, filename: str, inline: bool = False
) -> Response:
    """The stored file, as a download unless `inline` (only for checked images), never
    sniffed as another type. Called after the route's permission check: a signed link to
    the store is only handed out then, and expires within minutes."""
    storage = request.app.state.deps.storage
    # Rows stored before the allowlist may hold any name or type: offer them under a name
    # that ends in their type's extension, as bytes when the type is not an allowed one.
    known = content_type in filetypes.BY_MIME
    media_type = content_type if known else "application/octet-stream"
    download_name = filetypes.safe_name(filename, content_type)
    try:
        delivery = await storage.deliver(
            stored_name, filename=download_name, content_type=media_type, inline=inline
        )
    except FileNotFoundError:
        return Response(status_code=404)
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"}
    if isinstance(delivery, SignedLink):
        # The link itself must not be cached past its expiry.
        return RedirectResponse(
            delivery.url, status_code=302, headers={"Cache-Control": "no-store"}
        )
    if isinstance(delivery, ByteStream):
        headers["Content-Length"] = str(delivery.size)
        headers["Content-Disposition"] = content_disposition(download_name, inline=inline)
        return StreamingResponse(delivery.chunks, media_type=media_type, headers=headers)
    return FileResponse(
        delivery.path,
        media_type=media_type,
        filename=download_name,
        content_disposition_type="inline" if inline else "attachment",
        headers=headers,
    )


def kind_of(content_type: str) -> str:
    """A short name of the file's type, such as PDF or DOCX."""
    kind = filetypes.BY_MIME.get(content_type)
    return kind.extension.upper() if kind else "FILE"


def neutral_name(file_id: int, content_type: str) -> str:
    """A download name that says nothing of who made the file."""
    return filetypes.safe_name(f"attachment-{file_id}", content_type)


def size_label(size: int) -> str:
    """A file size in the reader's number format: "120 kB", "1.5 MB"."""
    locale = i18n.current_locale.get()
    if size < 1000 * 1000:
        return f"{format_decimal(max(1, round(size / 1000)), locale=locale)} kB"
    return f"{format_decimal(round(size / (1000 * 1000), 1), locale=locale)} MB"


def _too_large(limit: int) -> str:
    return gettext("The file is too large: the limit is %(mb)s MB.") % {
        "mb": limit // (1024 * 1024)
    }


def _safe_display_name(filename: str) -> str:
    """The name shown and offered on download: no path, no control characters."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>')
    return name[:200] or "file"
