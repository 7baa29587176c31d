"""The baseline of the page figures: a bare Starlette route answering recorded bytes.

The harness fetches each measured path from the app once, writes the answers to a JSON file
(path and query -> status, content type, body in base64) and names that file in
BENCH_RECORDED. This server answers each recorded path with exactly those bytes, so a figure
compares the app with the cheapest possible server of the same page: what is left is the
app's own work (routing, middleware, queries, templates).
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def _load(path: Path) -> dict[str, tuple[int, str, bytes]]:
    recorded = json.loads(path.read_text())
    return {
        key: (int(value["status"]), str(value["content_type"]), base64.b64decode(value["body"]))
        for key, value in recorded.items()
    }


def write(path: Path, answers: dict[str, tuple[int, str, bytes]]) -> None:
    """Records answers for this server (the harness's side)."""
    path.write_text(
        json.dumps(
            {
                key: {
                    "status": status,
                    "content_type": content_type,
                    "body": base64.b64encode(body).decode(),
                }
                for key, (status, content_type, body) in answers.items()
            }
        )
    )


_ANSWERS = _load(Path(os.environ["BENCH_RECORDED"])) if os.environ.get("BENCH_RECORDED") else {}


async def recorded(request: Request) -> Response:
    query = request.scope["query_string"].decode("latin-1")
    key = request.scope["path"] + (f"?{query}" if query else "")
    found = _ANSWERS.get(key)
    if found is None:
        return Response(b"not recorded", status_code=404, media_type="text/plain")
    status, content_type, body = found
    return Response(body, status_code=status, headers={"content-type": content_type})


app = Starlette(routes=[Route("/{path:path}", recorded)])
