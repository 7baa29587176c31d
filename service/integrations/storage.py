"""File storage behind one small interface; a local folder by default.

Stored names are random (never the uploader's name), so a file name cannot reach outside
the folder or collide. What may be stored is decided before, by service.core.filetypes; the
stored name ends in the extension of the detected type.
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

from service.core.filetypes import DocumentType


class FileTooLarge(Exception):
    pass


@dataclass(frozen=True)
class StoredFile:
    name: str
    content_type: str
    size: int
    sha256: str


class Storage(Protocol):
    async def save(
        self, chunks: AsyncIterator[bytes], *, max_bytes: int, kind: DocumentType
    ) -> StoredFile: ...

    async def path(self, name: str) -> Path: ...

    async def delete(self, name: str) -> None: ...


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
            name = f"{secrets.token_hex(16)}.{kind.extension}"
            os.replace(temporary, self.root / name)
        finally:
            if temporary.exists():
                temporary.unlink()
        return StoredFile(name=name, content_type=kind.mime, size=size, sha256=digest.hexdigest())

    async def path(self, name: str) -> Path:
        candidate = (self.root / name).resolve()
        if candidate.parent != self.root.resolve():
            raise FileNotFoundError(name)
        return candidate

    async def delete(self, name: str) -> None:
        path = await self.path(name)
        if path.exists():
            path.unlink()
