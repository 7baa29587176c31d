"""Files in an S3-compatible bucket (AWS S3, MinIO, Ceph, Cloudflare R2), and the copy of a
local upload folder into one.

The client is aioboto3 (on aiobotocore): the same request signing, retries and error codes
as boto3, so one code path serves every S3-compatible store. Bytes never pile up in
memory: an upload is sent in parts of `part_size` (a multipart upload once it outgrows one
part, aborted if anything fails, so no half file is ever visible), and a download is either
a presigned link or streamed through in chunks.
"""

from __future__ import annotations

import hashlib
import logging
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aioboto3
import anyio
import anyio.to_thread
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from service.core import filetypes
from service.core.filetypes import DocumentType
from service.integrations.storage import (
    ByteStream,
    Delivery,
    FileTooLarge,
    SignedLink,
    StoredFile,
    content_disposition,
    is_stored_name,
    new_name,
)

if TYPE_CHECKING:
    from service.config import Settings

log = logging.getLogger(__name__)

# S3's smallest part but the last: the most an upload holds in memory at once.
PART_SIZE = 5 * 1024 * 1024
CHUNK = 64 * 1024
_MISSING = {"404", "NoSuchKey", "NotFound"}


class BucketUnavailable(RuntimeError):
    pass


def _client_config() -> Config:
    return Config(
        signature_version="s3v4",
        # Path-style addressing: MinIO and Ceph behind one host name have no per-bucket DNS.
        s3={"addressing_style": "path"},
        # botocore >= 1.36 adds CRC checksums to every upload by default, which several
        # S3-compatible stores refuse; send and check them only where S3 requires them.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
    )


def _missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in _MISSING


class S3Storage:
    """The `Storage` of service.integrations.storage, in a bucket (under `prefix`)."""

    def __init__(
        self,
        client: Any,
        *,
        bucket: str,
        prefix: str = "",
        signer: Any = None,
        presign: bool = True,
        link_seconds: int = 120,
        part_size: int = PART_SIZE,
        stack: AsyncExitStack | None = None,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        # Links are signed for the address browsers use, which may differ from the app's.
        self.signer = signer or client
        self.presign = presign
        self.link_seconds = link_seconds
        self.part_size = max(part_size, PART_SIZE)
        self._stack = stack

    @classmethod
    async def open(cls, settings: Settings, *, part_size: int = PART_SIZE) -> S3Storage:
        session = aioboto3.Session(
            aws_access_key_id=settings.s3_access_key_id or None,
            aws_secret_access_key=settings.s3_secret_access_key or None,
            region_name=settings.s3_region or None,
        )
        stack = AsyncExitStack()
        config = _client_config()
        client = await stack.enter_async_context(
            session.client("s3", endpoint_url=settings.s3_endpoint_url or None, config=config)
        )
        signer = client
        if settings.s3_public_url:
            # Signing is local: this client never opens a connection.
            signer = await stack.enter_async_context(
                session.client("s3", endpoint_url=settings.s3_public_url, config=config)
            )
        return cls(
            client,
            bucket=settings.s3_bucket,
            prefix=settings.s3_prefix,
            signer=signer,
            presign=settings.s3_presign,
            link_seconds=settings.s3_link_seconds,
            part_size=part_size,
            stack=stack,
        )

    async def aclose(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()

    def key(self, name: str) -> str:
        if not is_stored_name(name):
            raise FileNotFoundError(name)
        return f"{self.prefix}{name}"

    async def check(self) -> None:
        """Raise BucketUnavailable, saying why, unless the bucket answers."""
        try:
            await self.client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            raise BucketUnavailable(
                f"The bucket {self.bucket!r} cannot be used ({exc}); "
                "`python -m service storage init` creates it."
            ) from None

    async def ensure_bucket(self) -> bool:
        """Create the bucket when it is missing; True when it was created."""
        try:
            await self.client.head_bucket(Bucket=self.bucket)
            return False
        except ClientError as exc:
            if not _missing(exc):
                raise
        region = self.client.meta.region_name
        if region and region != "us-east-1":
            # Outside AWS's first region a bucket is created in a named location.
            await self.client.create_bucket(
                Bucket=self.bucket, CreateBucketConfiguration={"LocationConstraint": region}
            )
        else:
            await self.client.create_bucket(Bucket=self.bucket)
        return True

    async def save(
        self, chunks: AsyncIterator[bytes], *, max_bytes: int, kind: DocumentType
    ) -> StoredFile:
        """Store the bytes of a file already identified as `kind` (service.core.filetypes)."""
        name = new_name(kind)
        size, sha256 = await self._upload(
            self.key(name), chunks, content_type=kind.mime, max_bytes=max_bytes
        )
        return StoredFile(name=name, content_type=kind.mime, size=size, sha256=sha256)

    async def _upload(
        self,
        key: str,
        chunks: AsyncIterator[bytes],
        *,
        content_type: str,
        max_bytes: int | None = None,
        metadata: Mapping[str, str] | None = None,
        on_bytes: Callable[[int], None] | None = None,
    ) -> tuple[int, str]:
        """Send `chunks` as the object `key`, one part in memory at a time; the object
        appears whole or not at all. Returns the size and SHA-256 of what was sent."""
        digest = hashlib.sha256()
        size = 0
        buffer = bytearray()
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        headers = {"ContentType": content_type, "Metadata": dict(metadata or {})}
        try:
            async for chunk in chunks:
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise FileTooLarge()
                digest.update(chunk)
                buffer += chunk
                if len(buffer) >= self.part_size:
                    if upload_id is None:
                        started = await self.client.create_multipart_upload(
                            Bucket=self.bucket, Key=key, **headers
                        )
                        upload_id = started["UploadId"]
                    parts.append(await self._part(key, upload_id, len(parts) + 1, buffer))
                    if on_bytes:
                        on_bytes(len(buffer))
                    buffer = bytearray()
            if upload_id is None:
                await self.client.put_object(
                    Bucket=self.bucket, Key=key, Body=bytes(buffer), **headers
                )
            else:
                if buffer:
                    parts.append(await self._part(key, upload_id, len(parts) + 1, buffer))
                await self.client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
            if on_bytes and (upload_id is None or buffer):
                on_bytes(len(buffer))
        except BaseException:
            if upload_id is not None:
                # Shielded: a cancelled request still frees the parts it had sent.
                with anyio.CancelScope(shield=True):
                    try:
                        await self.client.abort_multipart_upload(
                            Bucket=self.bucket, Key=key, UploadId=upload_id
                        )
                    except (ClientError, BotoCoreError):
                        # A bucket lifecycle rule for incomplete uploads removes it later.
                        log.warning("could not abort the multipart upload of %s", key)
            raise
        return size, digest.hexdigest()

    async def _part(self, key: str, upload_id: str, number: int, data: bytearray) -> dict[str, Any]:
        sent = await self.client.upload_part(
            Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=bytes(data)
        )
        return {"PartNumber": number, "ETag": sent["ETag"]}

    async def head(self, name: str) -> dict[str, Any]:
        """The object's metadata (raises FileNotFoundError when it is not there)."""
        try:
            found: dict[str, Any] = await self.client.head_object(
                Bucket=self.bucket, Key=self.key(name)
            )
        except ClientError as exc:
            if _missing(exc):
                raise FileNotFoundError(name) from None
            raise
        return found

    async def deliver(
        self, name: str, *, filename: str, content_type: str, inline: bool = False
    ) -> Delivery:
        """A signed link for downloads (when presigning is on); the bytes streamed through
        the app otherwise, and always for inline files: pages show those from their own
        origin (the Content-Security-Policy allows images from 'self' only)."""
        key = self.key(name)
        if self.presign and not inline:
            # Checked first: a missing file is a 404 here, not an error page of the store.
            await self.head(name)
            url: str = await self.signer.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": key,
                    "ResponseContentType": content_type,
                    "ResponseContentDisposition": content_disposition(filename),
                    "ResponseCacheControl": "private, no-store",
                },
                ExpiresIn=self.link_seconds,
            )
            return SignedLink(url)
        try:
            found = await self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _missing(exc):
                raise FileNotFoundError(name) from None
            raise
        return ByteStream(size=int(found["ContentLength"]), chunks=_chunks(found["Body"]))

    async def delete(self, name: str) -> None:
        # Deleting a missing object is not an error in S3.
        await self.client.delete_object(Bucket=self.bucket, Key=self.key(name))

    async def names(self) -> AsyncIterator[str]:
        """Every stored name in the bucket (under the prefix)."""
        paginator = self.client.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                yield item["Key"][len(self.prefix) :]


async def _chunks(body: Any) -> AsyncIterator[bytes]:
    try:
        while chunk := await body.read(CHUNK):
            yield chunk
    finally:
        body.close()


# --- copying a local upload folder into the bucket ----------------------------------------


@dataclass
class CopyReport:
    copied: int = 0
    skipped: int = 0
    copied_bytes: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


def _digests(path: Path) -> tuple[str, str]:
    sha256, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            sha256.update(chunk)
            md5.update(chunk)
    return sha256.hexdigest(), md5.hexdigest()


def _stored_files(root: Path) -> list[tuple[Path, int]]:
    return sorted(
        (p, p.stat().st_size) for p in root.iterdir() if p.is_file() and is_stored_name(p.name)
    )


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as handle:
        while chunk := await handle.read(CHUNK):
            yield chunk


async def _already_there(storage: S3Storage, name: str, size: int, sha256: str, md5: str) -> bool:
    try:
        found = await storage.head(name)
    except FileNotFoundError:
        return False
    if int(found.get("ContentLength", -1)) != size:
        return False
    recorded = found.get("Metadata", {}).get("sha256")
    if recorded:
        return bool(recorded == sha256)
    # Put by another tool: a single-part object's ETag is the MD5 of its bytes.
    etag = str(found.get("ETag", "")).strip('"')
    return "-" not in etag and etag == md5


async def copy_folder(
    root: Path,
    storage: S3Storage,
    *,
    progress: bool = True,
    on_file: Callable[[str], None] | None = None,
) -> CopyReport:
    """Copy every stored file of the folder `root` into the bucket, under the same name.

    Safe to run again, and to interrupt: a file already in the bucket with the same size
    and SHA-256 is skipped, a file interrupted half-way leaves no object (its multipart
    upload is aborted), and a file that fails is reported and left for the next run.
    """
    from tqdm import tqdm

    report = CopyReport()
    files = await anyio.to_thread.run_sync(_stored_files, root)
    total = sum(size for _, size in files)
    with tqdm(total=total, unit="B", unit_scale=True, disable=not progress) as bar:
        for path, size in files:
            try:
                sha256, md5 = await anyio.to_thread.run_sync(_digests, path)
                if await _already_there(storage, path.name, size, sha256, md5):
                    report.skipped += 1
                    bar.update(size)
                    continue
                kind = filetypes.BY_EXTENSION.get(filetypes.extension_of(path.name))
                sent_size, sent_sha = await storage._upload(
                    storage.key(path.name),
                    _file_chunks(path),
                    content_type=kind.mime if kind else "application/octet-stream",
                    metadata={"sha256": sha256},
                    on_bytes=bar.update,
                )
                if (sent_size, sent_sha) != (size, sha256):
                    # Changed while being copied: the bucket's copy may be neither version.
                    await storage.delete(path.name)
                    raise OSError("the file changed while it was being copied")
                report.copied += 1
                report.copied_bytes += size
            except (OSError, ClientError, BotoCoreError) as exc:
                report.failed.append((path.name, str(exc)))
            if on_file:
                on_file(path.name)
    return report


async def command(settings: Settings, action: str, *, source: Path | None = None) -> int:
    """`python -m service storage init|copy-to-s3`: exit status 0 when all went well."""
    if not settings.s3_bucket:
        print("Set S3_BUCKET (and S3_ENDPOINT_URL outside AWS) first.", file=sys.stderr)
        return 2
    storage = await S3Storage.open(settings)
    try:
        if action == "init":
            created = await storage.ensure_bucket()
            print(f"Bucket {storage.bucket} {'created' if created else 'already there'}.")
            return 0
        try:
            await storage.check()
        except BucketUnavailable as exc:
            print(exc, file=sys.stderr)
            return 2
        folder = source or settings.storage_dir
        if not await anyio.Path(folder).is_dir():
            print(f"No folder {folder}: nothing to copy.", file=sys.stderr)
            return 2
        report = await copy_folder(folder, storage, progress=sys.stderr.isatty())
    finally:
        await storage.aclose()
    print(
        f"{report.copied} file(s) copied ({report.copied_bytes} bytes), "
        f"{report.skipped} already in the bucket, {len(report.failed)} failed."
    )
    for name, reason in report.failed:
        print(f"  {name}: {reason}", file=sys.stderr)
    # Failed files are left for the next run, which skips the ones copied.
    return 1 if report.failed else 0
