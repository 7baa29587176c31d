"""File storage behind one small interface: a local folder (the default, for `make run`) or
an S3-compatible bucket (service.integrations.s3), chosen by `STORAGE`.

Stored names are random (never the uploader's name), so a file name cannot reach outside
the folder or the bucket, nor collide. What may be stored is decided before, by
service.core.filetypes; the stored name ends in the extension of the detected type.

Reading a file back is a `Delivery`: the caller (after its permission check) turns it into
a response. A local file is sent from disk; a bucket's file is either streamed through the
app or, for downloads, handed out as a short-lived signed link.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote

import anyio

from service.core.filetypes import DocumentType

if TYPE_CHECKING:
    from service.config import Settings


class FileTooLarge(Exception):
    pass


@dataclass(frozen=True)
class StoredFile:
    name: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class LocalFile:
    """A file on this machine's disk, sent as it is."""

    path: Path


@dataclass(frozen=True)
class SignedLink:
    """A short-lived link the browser is sent to; the store answers with the file under the
    name and type given when the link was signed."""

    url: str


@dataclass(frozen=True)
class ByteStream:
    """The file's bytes as they arrive from the store."""

    size: int
    chunks: AsyncIterator[bytes]


Delivery = LocalFile | SignedLink | ByteStream


class Storage(Protocol):
    async def save(
        self, chunks: AsyncIterator[bytes], *, max_bytes: int, kind: DocumentType
    ) -> StoredFile: ...

    async def deliver(
        self, name: str, *, filename: str, content_type: str, inline: bool = False
    ) -> Delivery:
        """How to send the stored file `name` (raises FileNotFoundError when it is not
        there). `filename` and `content_type` are what the browser is told."""
        ...

    async def delete(self, name: str) -> None: ...

    async def aclose(self) -> None: ...


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """The Content-Disposition header value, with a UTF-8 name when it is not plain ASCII
    (RFC 6266), as Starlette's FileResponse writes it."""
    kind = "inline" if inline else "attachment"
    quoted = quote(filename)
    if quoted != filename:
        return f"{kind}; filename*=utf-8''{quoted}"
    return f'{kind}; filename="{filename}"'


def is_stored_name(name: str) -> bool:
    """A name this module could have given: no folder, not hidden (temporaries are)."""
    return bool(name) and "/" not in name and "\\" not in name and not name.startswith(".")


def new_name(kind: DocumentType) -> str:
    return f"{secrets.token_hex(16)}.{kind.extension}"


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    async def save(
        self, chunks: AsyncIterator[bytes], *, max_bytes: int, kind: DocumentType
    ) -> StoredFile:
        """Store the bytes of a file already identified as `kind` (service.core.filetypes)."""
        await anyio.Path(self.root).mkdir(parents=True, exist_ok=True)
        temporary = self.root / f".upload-{secrets.token_hex(8)}"
        digest = hashlib.sha256()
        size = 0
        try:
            async with await anyio.open_file(temporary, "wb") as handle:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise FileTooLarge()
                    digest.update(chunk)
                    await handle.write(chunk)
            name = new_name(kind)
            os.replace(temporary, self.root / name)
        finally:
            if temporary.exists():
                temporary.unlink()
        return StoredFile(name=name, content_type=kind.mime, size=size, sha256=digest.hexdigest())

    async def path(self, name: str) -> Path:
        candidate = (self.root / name).resolve()
        if not is_stored_name(name) or candidate.parent != self.root.resolve():
            raise FileNotFoundError(name)
        return candidate

    async def deliver(
        self, name: str, *, filename: str, content_type: str, inline: bool = False
    ) -> Delivery:
        path = await self.path(name)
        if not await anyio.Path(path).is_file():
            raise FileNotFoundError(name)
        return LocalFile(path)

    async def delete(self, name: str) -> None:
        path = await self.path(name)
        if path.exists():
            path.unlink()

    async def aclose(self) -> None:
        return None


async def storage_for(settings: Settings) -> Storage:
    """The storage `settings.storage` names, ready to use (close it with `aclose`). A bucket
    that does not answer stops the start with the reason, rather than the first upload."""
    if settings.storage == "s3":
        from service.integrations.s3 import S3Storage

        bucket = await S3Storage.open(settings)
        try:
            await bucket.check()
        except BaseException:
            await bucket.aclose()
            raise
        return bucket
    return LocalStorage(settings.storage_dir)
