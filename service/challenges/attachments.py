"""Uploading files to a challenge: streamed to storage, size-limited, checked by content."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import Request

from service.audit import service as audit
from service.challenges.models import Attachment, Challenge
from service.core.errors import PayloadTooLarge, ValidationFailed
from service.core.i18n import N_, gettext
from service.core.web import context, transaction
from service.integrations.storage import FileTooLarge, FileTypeNotAllowed

CHUNK = 64 * 1024


class UnsupportedFile(ValidationFailed):
    status_code = 415
    default_detail = N_(
        "This kind of file cannot be attached: use PDF, images, office documents or text."
    )


async def upload(request: Request, challenge: Challenge) -> Attachment:
    """Read the multipart body as it arrives; store the part named `file`."""
    settings = request.app.state.settings
    limit = settings.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise PayloadTooLarge(_too_large(limit))
    # python-multipart spools the parts; the limit is enforced again while copying.
    form = await request.form(max_files=1, max_fields=5)
    upload = form.get("file")
    if upload is None or isinstance(upload, str) or not upload.filename:
        raise ValidationFailed(gettext("Choose a file to attach."), fields={"file": "required"})

    async def chunks() -> AsyncIterator[bytes]:
        while chunk := await upload.read(CHUNK):
            yield chunk

    storage = request.app.state.deps.storage
    try:
        stored = await storage.save(chunks(), max_bytes=limit, original_name=upload.filename)
    except FileTooLarge:
        raise PayloadTooLarge(_too_large(limit)) from None
    except FileTypeNotAllowed:
        raise UnsupportedFile(gettext(UnsupportedFile.default_detail)) from None
    name = _safe_display_name(upload.filename)
    try:
        async with transaction(request):
            ctx = context(request)
            assert ctx.actor.user is not None
            attachment = await Attachment.create(
                challenge=challenge,
                original_name=name,
                stored_name=stored.name,
                content_type=stored.content_type,
                size=stored.size,
                sha256=stored.sha256,
                uploaded_by_id=ctx.actor.user.id,
            )
            await audit.record(
                ctx,
                "challenge.attach",
                object_type="attachment",
                object_id=attachment.id,
                organization_id=challenge.organization_id,
                name=name,
                size=stored.size,
            )
    except Exception:
        await storage.delete(stored.name)
        raise
    return attachment


def _too_large(limit: int) -> str:
    return gettext("The file is too large: the limit is %(mb)s MB.") % {
        "mb": limit // (1024 * 1024)
    }


def _safe_display_name(filename: str) -> str:
    """The name shown and offered on download: no path, no control characters."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>')
    return name[:200] or "file"
