"""ASVS V5.2.2 (file type by content and by extension together) and V5.4.1/V5.4.2 (served as
a download under a safe name, never sniffed): one allowlist for every upload.

The defect these tests reproduce: `evidence.hta`, `run.bat`, `a.js`, `page.html` and `logo.svg`
were accepted as plain text and offered for download under those names.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

import httpx

from service import db
from service.applications.models import ApplicationAttachment
from service.challenges.models import Attachment
from service.config import Settings
from service.rewards.models import MilestoneFile
from tests import factories
from tests.applications.test_application_files import consortium
from tests.challenges.test_questions_files import EXE, PDF, published
from tests.participation.images import PNG
from tests.rewards.helpers import awarded

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x000\x01\x00\x9d\x01\x2a" + b"\x00" * 24


def ooxml(main: str, folder: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/{folder}/main.xml" ContentType="{main}"/></Types>',
        )
        z.writestr("_rels/.rels", "<Relationships/>")
        z.writestr(f"{folder}/main.xml", "<document/>")
    return buffer.getvalue()


def opendocument(mime: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("mimetype", mime, compress_type=zipfile.ZIP_STORED)
        z.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


def compound(stream: str) -> bytes:
    """An Office 97-2003 container whose directory names `stream`."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    return header + stream.encode("utf-16-le") + b"\x00" * 600


OFFICE = "application/vnd.openxmlformats-officedocument"
DOCX = ooxml(f"{OFFICE}.wordprocessingml.document.main+xml", "word")
XLSX = ooxml(f"{OFFICE}.spreadsheetml.sheet.main+xml", "xl")
PPTX = ooxml(f"{OFFICE}.presentationml.presentation.main+xml", "ppt")
DOCM = ooxml("application/vnd.ms-word.document.macroEnabled.main+xml", "word")
ODT = opendocument("application/vnd.oasis.opendocument.text")
ODS = opendocument("application/vnd.oasis.opendocument.spreadsheet")
ODP = opendocument("application/vnd.oasis.opendocument.presentation")


def _zip_of(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(name, data)
    return buffer.getvalue()


HTA = b'<html><head><HTA:APPLICATION ID="x"/><script>new ActiveXObject("WScript.Shell")'
HTA += b'.Run("calc")</script></head></html>'


@dataclass(frozen=True)
class Sample:
    name: str
    content: bytes
    mime: str = ""  # the type served back; empty when refused

    @property
    def accepted(self) -> bool:
        return bool(self.mime)


ACCEPTED = [
    Sample("plan.pdf", PDF, "application/pdf"),
    Sample("site.png", PNG, "image/png"),
    Sample("photo.jpg", JPEG, "image/jpeg"),
    Sample("photo.JPEG", JPEG, "image/jpeg"),
    Sample("map.webp", WEBP, "image/webp"),
    Sample("chart.gif", GIF, "image/gif"),
    Sample("budget.docx", DOCX, f"{OFFICE}.wordprocessingml.document"),
    Sample("budget.xlsx", XLSX, f"{OFFICE}.spreadsheetml.sheet"),
    Sample("pitch.pptx", PPTX, f"{OFFICE}.presentationml.presentation"),
    Sample("plan.odt", ODT, "application/vnd.oasis.opendocument.text"),
    Sample("costs.ods", ODS, "application/vnd.oasis.opendocument.spreadsheet"),
    Sample("slides.odp", ODP, "application/vnd.oasis.opendocument.presentation"),
    Sample("old.doc", compound("WordDocument"), "application/msword"),
    Sample("old.xls", compound("Workbook"), "application/vnd.ms-excel"),
    Sample("rows.csv", "name,amount\nSão Paulo,12\n".encode(), "text/csv"),
    Sample("notes.txt", "Notas: 30 € por día\n".encode(), "text/plain"),
    Sample("README.md", b"# Plan\n\n- one\n- two\n", "text/markdown"),
]
REFUSED = [
    # The five names of the report, with what such files hold.
    Sample("evidence.hta", HTA),
    Sample("run.bat", b"@echo off\r\ndel /q C:\\*\r\n"),
    Sample("a.js", b"fetch('/api/v1/me').then(r => r.text()).then(alert)\n"),
    Sample("page.html", b"<!doctype html><script>alert(document.cookie)</script>"),
    Sample("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    # Right content, wrong name, and the other way round.
    Sample("report.txt", PDF),
    Sample("photo.pdf", PNG),
    Sample("tool.pdf", EXE),
    Sample("notes.pdf", b"just words\n"),
    Sample("costs.xlsx", DOCX),
    Sample("budget.docx", DOCM),
    Sample("archive.docx", _zip_of("payload.exe", EXE)),
    Sample("data.zip", _zip_of("notes.txt", b"words")),
    Sample("old.doc", compound("Workbook")),
    # Text that is a page or an image in disguise, or not text at all.
    Sample("page.txt", b"  <!DOCTYPE html><html><script>alert(1)</script></html>"),
    Sample("logo.md", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'),
    Sample("binary.txt", b"hello\x00world"),
    Sample("latin1.csv", "Bogotá;12\n".encode("latin-1")),
    Sample("invoice.pdf.exe", EXE),
    Sample("README", b"no extension at all\n"),
]
SAMPLES = ACCEPTED + REFUSED
_FIVE = {"evidence.hta", "run.bat", "a.js", "page.html", "logo.svg"}


async def _app_upload(client: httpx.AsyncClient) -> tuple[int, factories.Person]:
    _, _, lead, _, app_id = await consortium(client)
    return app_id, lead


class TestASVS_V5_2_2_ApplicationFilesAPI:
    """ASVS V5.2.2: content and extension checked together on the application files API."""

    async def test_allowlist(self, client: httpx.AsyncClient, settings: Settings) -> None:
        # One application for the whole table (at most 17 files are accepted, under its 20).
        app_id, lead = await _app_upload(client)
        settings.storage_dir.mkdir(parents=True, exist_ok=True)
        wrong: list[str] = []
        for sample in SAMPLES:
            before = set(settings.storage_dir.iterdir())
            response = await client.post(
                f"/api/v1/applications/{app_id}/attachments",
                # The type the browser claims is never believed.
                files={"file": (sample.name, sample.content, "application/pdf")},
                headers=lead.headers,
            )
            stored = [p.name for p in set(settings.storage_dir.iterdir()) - before]
            if not sample.accepted:
                if response.status_code != 415 or "file" not in response.json()["fields"]:
                    wrong.append(f"{sample.name}: {response.status_code} {response.text}")
                if stored:
                    wrong.append(f"{sample.name}: left {stored} in the storage")
                continue
            if response.status_code != 201:
                wrong.append(f"{sample.name}: {response.status_code} {response.text}")
                continue
            row = await ApplicationAttachment.get(id=response.json()["id"])
            extension = sample.name.rsplit(".", 1)[1].lower()
            canonical = "jpg" if extension == "jpeg" else extension
            download = await client.get(response.json()["url"], headers=lead.headers)
            served = (
                row.content_type,
                stored == [row.stored_name] and row.stored_name.endswith(f".{canonical}"),
                download.status_code,
                download.content == sample.content,
                download.headers["content-type"].split(";")[0],
                download.headers["content-disposition"],
                download.headers["x-content-type-options"],
            )
            disposition = f'attachment; filename="{sample.name}"'
            expected = (sample.mime, True, 200, True, sample.mime, disposition, "nosniff")
            if served != expected:
                wrong.append(f"{sample.name}: {served} instead of {expected}")
        assert wrong == []
        accepted = await ApplicationAttachment.filter(application_id=app_id).count()
        assert accepted == len(ACCEPTED)

    async def test_a_refusal_names_the_reason(self, client: httpx.AsyncClient) -> None:
        app_id, lead = await _app_upload(client)
        url = f"/api/v1/applications/{app_id}/attachments"
        hta = await client.post(url, files={"file": ("evidence.hta", HTA)}, headers=lead.headers)
        assert ".hta cannot be attached" in hta.json()["fields"]["file"]
        renamed = await client.post(url, files={"file": ("photo.pdf", PNG)}, headers=lead.headers)
        assert "(PNG): its name must end in .png" in renamed.json()["fields"]["file"]

    async def test_files_stored_before_are_downloaded_under_a_safe_name(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        """Rows from before the allowlist keep their name in the list, not on the download."""
        app_id, lead = await _app_upload(client)
        settings.storage_dir.mkdir(parents=True, exist_ok=True)
        (settings.storage_dir / "0123456789abcdef.txt").write_bytes(HTA)
        async with db.transaction(None):
            row = await ApplicationAttachment.create(
                application_id=app_id,
                original_name="evidence.hta",
                stored_name="0123456789abcdef.txt",
                content_type="text/html",
                size=len(HTA),
                sha256="0" * 64,
                uploaded_by_id=lead.user.id,
            )
        download = await client.get(
            f"/api/v1/applications/{app_id}/attachments/{row.id}", headers=lead.headers
        )
        assert download.status_code == 200
        assert download.headers["content-type"] == "application/octet-stream"
        assert 'filename="evidence.bin"' in download.headers["content-disposition"]
        assert download.headers["x-content-type-options"] == "nosniff"


class TestASVS_V5_2_2_MilestoneEvidenceAPI:
    """ASVS V5.2.2: the same allowlist on milestone evidence."""

    async def test_allowlist(self, client: httpx.AsyncClient) -> None:
        a = await awarded(client)
        first = a.milestone_ids[0]
        outcomes = {}
        for sample in [s for s in SAMPLES if s.name in _FIVE or s.name == "budget.xlsx"]:
            response = await client.post(
                f"/api/v1/milestones/{first}/files",
                files={"file": (sample.name, sample.content, "text/plain")},
                headers=a.winner.headers,
            )
            outcomes[sample.name] = response.status_code
        assert outcomes == {n: 415 for n in _FIVE} | {"budget.xlsx": 201}
        kept = await MilestoneFile.filter(milestone_id=first).values_list("content_type", flat=True)
        assert kept == [f"{OFFICE}.spreadsheetml.sheet"]


class TestASVS_V5_2_2_ChallengeAttachmentsPage:
    """ASVS V5.2.2: the same allowlist on the challenge's attachments form, reason shown."""

    async def test_allowlist(self, client: httpx.AsyncClient) -> None:
        city, challenge_id = await published(client)
        csrf = await factories.web_signin(client, city.editor.user)
        for sample in [s for s in SAMPLES if s.name in _FIVE]:
            refused = await client.post(
                f"/challenges/{challenge_id}/attachments",
                data={"csrf_token": csrf},
                files={"file": (sample.name, sample.content, "text/plain")},
            )
            assert refused.status_code == 415, sample.name
            assert "cannot be attached" in refused.text
        assert await Attachment.filter(challenge_id=challenge_id).count() == 0
        renamed = await client.post(
            f"/challenges/{challenge_id}/attachments",
            data={"csrf_token": csrf},
            files={"file": ("terms.txt", PDF, "text/plain")},
        )
        assert renamed.status_code == 415
        assert "its name must end in .pdf" in renamed.text
        accepted = await client.post(
            f"/challenges/{challenge_id}/attachments",
            data={"csrf_token": csrf},
            files={"file": ("plan.odt", ODT, "text/plain")},
        )
        assert accepted.status_code == 303, accepted.text
        attachment = await Attachment.get(challenge_id=challenge_id)
        assert attachment.content_type == "application/vnd.oasis.opendocument.text"
        download = await client.get(f"/challenges/{challenge_id}/attachments/{attachment.id}")
        assert download.headers["content-disposition"] == 'attachment; filename="plan.odt"'
        assert download.headers["x-content-type-options"] == "nosniff"
