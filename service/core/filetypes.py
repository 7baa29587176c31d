"""The one list of document types a user may upload, recognised by content and by name together.

Every upload (challenge attachments, application files, milestone evidence, proposal photos)
goes through `identify`. A file is accepted only when its bytes are one of these types AND its
name ends in an extension of that same type: a PDF named `.txt`, a PNG named `.pdf` or a script
named `.hta` are refused. Text is recognised by being valid UTF-8 without NUL bytes, which any
script or page also is; the name decides between CSV, plain text and Markdown, and nothing else
may be text. Stored and downloaded names end in the extension of the detected type.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

import filetype

from service.core.i18n import N_, gettext

HEAD = 8192
CHUNK = 64 * 1024
# The parts read inside an office zip are small; a larger one is a crafted file.
_MAX_MANIFEST = 1024 * 1024


@dataclass(frozen=True)
class DocumentType:
    mime: str
    # The extension stored and offered on download; the first of `extensions`.
    extensions: tuple[str, ...]

    @property
    def extension(self) -> str:
        return self.extensions[0]


PDF = DocumentType("application/pdf", ("pdf",))
PNG = DocumentType("image/png", ("png",))
JPEG = DocumentType("image/jpeg", ("jpg", "jpeg"))
WEBP = DocumentType("image/webp", ("webp",))
GIF = DocumentType("image/gif", ("gif",))
DOCX = DocumentType(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ("docx",)
)
XLSX = DocumentType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ("xlsx",))
PPTX = DocumentType(
    "application/vnd.openxmlformats-officedocument.presentationml.presentation", ("pptx",)
)
ODT = DocumentType("application/vnd.oasis.opendocument.text", ("odt",))
ODS = DocumentType("application/vnd.oasis.opendocument.spreadsheet", ("ods",))
ODP = DocumentType("application/vnd.oasis.opendocument.presentation", ("odp",))
DOC = DocumentType("application/msword", ("doc",))
XLS = DocumentType("application/vnd.ms-excel", ("xls",))
CSV = DocumentType("text/csv", ("csv",))
TEXT = DocumentType("text/plain", ("txt",))
MARKDOWN = DocumentType("text/markdown", ("md",))

DOCUMENT_TYPES: tuple[DocumentType, ...] = (PDF, PNG, JPEG, WEBP, GIF, DOCX, XLSX, PPTX)
DOCUMENT_TYPES += (ODT, ODS, ODP, DOC, XLS, CSV, TEXT, MARKDOWN)
BY_MIME = {t.mime: t for t in DOCUMENT_TYPES}
BY_EXTENSION = {ext: t for t in DOCUMENT_TYPES for ext in t.extensions}

# Recognised by their signature (filetype); the others need a look inside (below).
_BY_SIGNATURE = {t.mime: t for t in (PDF, PNG, JPEG, WEBP, GIF)}
# OOXML: the main part's content type, declared in [Content_Types].xml. A macro-enabled
# document (docm, xlsm) declares another one and is refused.
_OOXML_MAIN = {
    DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    PPTX: "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
}
_ODF = (ODT, ODS, ODP)
_TEXTS = (CSV, TEXT, MARKDOWN)
_ZIP = b"PK\x03\x04"
# Compound File Binary (Office 97-2003); the directory names its streams in UTF-16LE.
_CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CFB_STREAMS = {
    DOC: ("WordDocument".encode("utf-16-le"),),
    XLS: ("Workbook".encode("utf-16-le"), "Book\x00".encode("utf-16-le")),
}
# Text that is really a web page, an SVG image or XML: what a browser would render as such.
_MARKUP = re.compile(rb"^\s*<(?:!doctype\s+html|html|head|body|script|svg|\?xml)\b", re.IGNORECASE)


_ALLOWED_SENTENCE = N_(
    "This kind of file cannot be attached: use a PDF, an image (PNG, JPEG, WebP or GIF), an"
    " office document (DOCX, XLSX, PPTX, ODT, ODS, ODP, DOC or XLS), a CSV file or plain text"
    " (TXT or MD)."
)


class FileTypeRefused(Exception):
    """Why the file cannot be accepted, in a sentence for its uploader."""


def identify(file: BinaryIO, filename: str) -> DocumentType:
    """The document type of `file` (read from its start; left at its start), or
    `FileTypeRefused` with the reason. Blocking: run it in a worker thread."""
    try:
        detected = _by_content(file)
    finally:
        file.seek(0)
    extension = extension_of(filename)
    if extension not in BY_EXTENSION:
        if not extension:
            raise FileTypeRefused(
                gettext("The file's name must end in its type, such as .%(ext)s.")
                % {"ext": detected.extension if detected else "pdf"}
            )
        raise FileTypeRefused(
            gettext(
                "Files ending in .%(ext)s cannot be attached: use a PDF, an image (PNG, JPEG,"
                " WebP or GIF), an office document (DOCX, XLSX, PPTX, ODT, ODS, ODP, DOC or XLS),"
                " a CSV file or plain text (TXT or MD)."
            )
            % {"ext": extension}
        )
    if detected is None:
        raise FileTypeRefused(gettext(_ALLOWED_SENTENCE))
    if detected in _TEXTS:
        # Text is text whatever it holds: the name says which kind, and it must be one.
        named = BY_EXTENSION[extension]
        if named in _TEXTS:
            return named
        detected = TEXT
    if extension not in detected.extensions:
        allowed = [e for t in _TEXTS for e in t.extensions] if detected is TEXT else None
        raise FileTypeRefused(
            gettext(
                "The file's name does not match its content (%(kind)s): its name must end in"
                " %(ext)s."
            )
            % {
                "kind": gettext(N_("text")) if detected is TEXT else detected.extension.upper(),
                "ext": ", ".join(f".{e}" for e in allowed or detected.extensions),
            }
        )
    return detected


def extension_of(filename: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, extension = name.rpartition(".")
    return extension.strip().lower() if dot and stem else ""


def safe_name(filename: str, mime: str) -> str:
    """`filename` ending in an extension of its type (older rows may hold any name)."""
    kind = BY_MIME.get(mime)
    if kind is None:
        return f"{filename.rpartition('.')[0] or filename}.bin"
    if extension_of(filename) in kind.extensions:
        return filename
    stem = filename.rpartition(".")[0] if extension_of(filename) else filename
    return f"{stem or 'file'}.{kind.extension}"


def _by_content(file: BinaryIO) -> DocumentType | None:
    head = file.read(HEAD)
    if head.startswith(_CFB):
        return _compound_document(file, head)
    if head.startswith(_ZIP):
        file.seek(0)
        return _office_zip(file)
    kind = filetype.guess(head)
    if kind is not None:
        return _BY_SIGNATURE.get(str(kind.mime))
    return TEXT if _is_text(file, head) else None


def _is_text(file: BinaryIO, head: bytes) -> bool:
    """Valid UTF-8 throughout, no NUL, and not markup a browser would render."""
    if _MARKUP.match(head.removeprefix(codecs.BOM_UTF8)):
        return False
    decoder = codecs.getincrementaldecoder("utf-8")()
    chunk = head
    try:
        while chunk:
            if b"\x00" in chunk:
                return False
            decoder.decode(chunk)
            chunk = file.read(CHUNK)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _office_zip(file: BinaryIO) -> DocumentType | None:
    """An OOXML or OpenDocument file, by the parts that say what it is."""
    try:
        with zipfile.ZipFile(file) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                declared = _small_part(archive, "mimetype").decode("ascii", "replace").strip()
                return next((t for t in _ODF if t.mime == declared), None)
            if "[Content_Types].xml" in names:
                manifest = _small_part(archive, "[Content_Types].xml")
                for kind, main in _OOXML_MAIN.items():
                    if f'ContentType="{main}"'.encode() in manifest:
                        return kind
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, ValueError, OSError, EOFError):
        return None
    except (RuntimeError, NotImplementedError):  # encrypted or an unknown compression
        return None
    return None


def _small_part(archive: zipfile.ZipFile, name: str) -> bytes:
    if archive.getinfo(name).file_size > _MAX_MANIFEST:
        raise ValueError(name)
    with archive.open(name) as part:
        return part.read(_MAX_MANIFEST)


def _compound_document(file: BinaryIO, head: bytes) -> DocumentType | None:
    """A Word or Excel 97-2003 file, by the name of its main stream in the directory."""
    found: set[DocumentType] = set()
    tail = b""
    chunk = head
    while chunk:
        window = tail + chunk
        for kind, streams in _CFB_STREAMS.items():
            if any(stream in window for stream in streams):
                found.add(kind)
        tail = window[-32:]
        chunk = file.read(CHUNK)
    # A file naming both main streams is not one document type.
    return found.pop() if len(found) == 1 else None
