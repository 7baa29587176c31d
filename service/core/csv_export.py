"""The one CSV writer of every export (open data, ledgers, deal flow, demo-day schedules).

Names and texts in an export are written by users. A spreadsheet runs a cell that starts with
`=`, `+`, `-` or `@` as a formula (and tab or CR can hide one), so such a text cell gets a
leading apostrophe, which spreadsheets show as text (OWASP "CSV injection"). Numbers, and texts
that are plain numbers such as "-12.5", stay as they are.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response

# The full-width forms too (U+FF1D for "=", ...): some spreadsheets read them as the ASCII ones.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def cell(value: Any) -> Any:
    """A value as written in a cell: never a formula; times in UTC; nothing for None."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, str):
        if value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
            return "'" + value
        return value
    return value


def write(header: Sequence[str], rows: Iterable[Iterable[Any]]) -> str:
    """CSV text (RFC 4180 line ends) with every cell through `cell`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(name) for name in header])
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return out.getvalue()


def response(text: str, filename: str) -> Response:
    """The CSV as a download."""
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
        },
    )
