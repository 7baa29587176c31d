"""File storage behind one small interface; a local folder by default.

Stored names are random (never the uploader's name), so a file name cannot reach outside
the folder or collide. Types are checked by content (filetype's signatures), not by name.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import anyio
import filetype

# What may be attached, by detected type; text is accepted only when it decodes as UTF-8.
ALLOWED_TYPES = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.oasis.opendocument.text": "odt",
    "text/plain": "txt",
    "text/csv": "csv",
}


class FileTooLarge(Exception):
    pass


class FileTypeNotAllowed(Exception):
    pass


@dataclass(frozen=True)
class StoredFile:
    name: str
    content_type: str
    size: int
    sha256: str


class Storage(Protocol):
    async def save(
        self, chunks: AsyncIterator[bytes], *, max_bytes: int, original_name: str
    ) -> StoredFile: ...

    async def path(self, name: str) -> Path: ...

    async def delete(self, name: str) -> None: ...


def detect(head: bytes, original_name: str) -> str:
    kind = filetype.guess(head)
    if kind is not None:
        mime = str(kind.mime)
        return mime if mime in ALLOWED_TYPES else ""
    if b"\x00" in head:
        return ""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        if exc.start < len(head) - 4:
            return ""
    return "text/csv" if original_name.lower().endswith(".csv") else "text/plain"


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    async def save(
        self, chunks: AsyncIterator[bytes], *, max_bytes: int, original_name: str
    ) -> StoredFile:
        await anyio.Path(self.root).mkdir(parents=True, exist_ok=True)
        temporary = self.root / f".upload-{secrets.token_hex(8)}"
        digest = hashlib.sha256()
        size = 0
        head = b""
        try:
            async with await anyio.open_file(temporary, "wb") as handle:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise FileTooLarge()
                    if len(head) < 8192:
                        head += chunk[: 8192 - len(head)]
                    digest.update(chunk)
                    await handle.write(chunk)
            content_type = detect(head, original_name)
            if not content_type:
                raise FileTypeNotAllowed()
            name = f"{secrets.token_hex(16)}.{ALLOWED_TYPES[content_type]}"
            os.replace(temporary, self.root / name)
        finally:
            if temporary.exists():
                temporary.unlink()
        return StoredFile(
            name=name, content_type=content_type, size=size, sha256=digest.hexdigest()
        )

    async def path(self, name: str) -> Path:
        candidate = (self.root / name).resolve()
        if candidate.parent != self.root.resolve():
            raise FileNotFoundError(name)
        return candidate

    async def delete(self, name: str) -> None:
        path = await self.path(name)
        if path.exists():
            path.unlink()
