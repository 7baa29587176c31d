"""A LibreTranslate server for the tests, on a real socket (uvicorn in a thread).

It speaks the parts of LibreTranslate's API the platform uses (`POST /translate` with JSON
`q`, `source`, `target`, `format`, `api_key`; answers `{"translatedText": ...}` or
`{"error": ...}` with 400 or 403) and DeepL's `POST /v2/translate`, from a small phrase table.
It records the requests it received.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

PHRASES = {
    ("es", "en"): {"Farolas rotas en la calle Mayor": "Broken street lights on Main Street"},
    ("en", "es"): {"Broken street lights": "Farolas rotas"},
    ("es", "pt"): {"Farolas rotas en la calle Mayor": "Candeeiros partidos na rua Maior"},
}
LANGUAGES = {"en", "es", "pt"}


class FakeTranslate:
    def __init__(self, api_key: str = "") -> None:
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.url = ""

    def _lookup(self, text: str, source: str, target: str) -> str:
        # Unknown phrases come back unchanged, as LibreTranslate does with unknown words.
        return PHRASES.get((source, target), {}).get(text, text)

    async def libretranslate(self, request: Request) -> Response:
        body = await request.json()
        with self.lock:
            self.requests.append(body)
        if self.api_key and body.get("api_key") != self.api_key:
            return JSONResponse({"error": "Invalid API key"}, status_code=403)
        source, target = body.get("source"), body.get("target")
        if source not in LANGUAGES or target not in LANGUAGES:
            return JSONResponse({"error": f"{source} is not supported"}, status_code=400)
        if not isinstance(body.get("q"), str):
            return JSONResponse({"error": "Invalid request: missing q parameter"}, status_code=400)
        return JSONResponse({"translatedText": self._lookup(body["q"], source, target)})

    async def deepl(self, request: Request) -> Response:
        body = await request.json()
        with self.lock:
            self.requests.append({**body, "authorization": request.headers.get("authorization")})
        if request.headers.get("authorization") != f"DeepL-Auth-Key {self.api_key}":
            return JSONResponse({"message": "Wrong endpoint"}, status_code=403)
        source = str(body["source_lang"]).lower()
        target = str(body["target_lang"]).split("-")[0].lower()
        return JSONResponse(
            {
                "translations": [
                    {
                        "detected_source_language": source.upper(),
                        "text": self._lookup(t, source, target),
                    }
                    for t in body["text"]
                ]
            }
        )

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/translate", self.libretranslate, methods=["POST"]),
                Route("/v2/translate", self.deepl, methods=["POST"]),
            ]
        )


@contextmanager
def running(api_key: str = "") -> Iterator[FakeTranslate]:
    fake = FakeTranslate(api_key)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(fake.app(), log_level="warning", lifespan="off", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the fake translation server did not start")
        time.sleep(0.01)
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()
