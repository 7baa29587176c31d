"""The machine translators behind one small interface, chosen by the settings.

`ApertiumTranslator` runs the free-software Apertium installed from the distribution's packages
(`apertium`, `apertium-eng-spa`, `apertium-es-pt`) as a subprocess: Spanish and Portuguese
translate well between each other, English and Spanish well enough for the gist, and English and
Portuguese go through Spanish. `HttpTranslator` calls a LibreTranslate or DeepL endpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Protocol

import httpx

from service.config import Settings


class TranslationFailed(Exception):
    """The provider could not translate (missing, timed out, refused): try again later."""


class Translator(Protocol):
    name: str

    def supports(self, source: str, target: str) -> bool: ...

    async def translate(self, text: str, *, source: str, target: str) -> str: ...

    async def translate_many(self, texts: list[str], *, source: str, target: str) -> list[str]: ...


class NoTranslator:
    """Translation turned off: every text is shown as it was written."""

    name = "none"

    def supports(self, source: str, target: str) -> bool:
        return False

    async def translate(self, text: str, *, source: str, target: str) -> str:
        raise TranslationFailed("translation is turned off")

    async def translate_many(self, texts: list[str], *, source: str, target: str) -> list[str]:
        raise TranslationFailed("translation is turned off")


# The language pairs, each as the Apertium modes to run in turn (`apertium -l` lists them).
APERTIUM_ROUTES: dict[tuple[str, str], tuple[str, ...]] = {
    ("en", "es"): ("eng-spa",),
    ("es", "en"): ("spa-eng",),
    ("es", "pt"): ("es-pt",),
    ("pt", "es"): ("pt-es",),
    ("en", "pt"): ("eng-spa", "es-pt"),
    ("pt", "en"): ("pt-es", "spa-eng"),
}


class ApertiumTranslator:
    name = "apertium"

    def __init__(
        self, *, binary: str = "apertium", timeout_seconds: float = 20.0, concurrency: int = 2
    ) -> None:
        self.binary = binary
        self.timeout_seconds = timeout_seconds
        # Each run starts a pipeline of a dozen processes: a few at a time is plenty.
        self._slots = asyncio.Semaphore(concurrency)
        # Runs in progress: English to Spanish and to Portuguese (through Spanish) of the same
        # texts, asked side by side, share one eng-spa run.
        self._running: dict[tuple[str, str], asyncio.Future[str]] = {}

    def supports(self, source: str, target: str) -> bool:
        return (source, target) in APERTIUM_ROUTES

    async def translate(self, text: str, *, source: str, target: str) -> str:
        modes = APERTIUM_ROUTES.get((source, target))
        if modes is None:
            raise TranslationFailed(f"Apertium has no route from {source} to {target}")
        for mode in modes:
            text = await self._run(mode, text)
        return text

    async def translate_many(self, texts: list[str], *, source: str, target: str) -> list[str]:
        """Several texts in one run: starting Apertium costs more than translating a page.

        The texts travel joined by numbered marker lines, which Apertium passes through; if
        the markers do not come back as sent (a text that looks like one), each text goes
        alone.
        """
        if len(texts) < 2:
            return [await self.translate(t, source=source, target=target) for t in texts]
        joined = "".join(f"\n\n[[[{i}]]]\n\n{text}" for i, text in enumerate(texts))
        out = await self.translate(joined, source=source, target=target)
        parts = _MARKER.split(out)
        # split() gives: text before the first marker, then (number, text) pairs.
        numbers, pieces = parts[1::2], parts[2::2]
        if numbers != [str(i) for i in range(len(texts))]:
            return [await self.translate(t, source=source, target=target) for t in texts]
        return [piece.strip() for piece in pieces]

    async def _run(self, mode: str, text: str) -> str:
        key = (mode, text)
        running = self._running.get(key)
        if running is None:
            running = self._running[key] = asyncio.ensure_future(self._run_once(mode, text))
            running.add_done_callback(lambda _: self._running.pop(key, None))
        # Shielded: one caller cancelled does not cancel the run the others wait for.
        return await asyncio.shield(running)

    async def _run_once(self, mode: str, text: str) -> str:
        async with self._slots:
            try:
                # -u: unknown words are left as written, without Apertium's "*" mark.
                process = await asyncio.create_subprocess_exec(
                    self.binary,
                    "-u",
                    mode,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
            except OSError as exc:
                raise TranslationFailed(f"Apertium cannot start: {exc}") from exc
            try:
                out, err = await asyncio.wait_for(
                    process.communicate(text.encode()), self.timeout_seconds
                )
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
                raise TranslationFailed(
                    f"Apertium {mode} took more than {self.timeout_seconds:.0f} s"
                ) from None
        if process.returncode != 0:
            message = err.decode(errors="replace").strip()[:300]
            raise TranslationFailed(f"Apertium {mode} failed ({process.returncode}): {message}")
        return out.decode(errors="replace").strip()


_MARKER = re.compile(r"\s*\[\[\[(\d+)\]\]\]\s*")

# DeepL names English and Portuguese targets by their variant.
DEEPL_TARGETS = {"en": "EN-GB", "pt": "PT-PT"}


class HttpTranslator:
    """A LibreTranslate (`POST /translate`) or DeepL (`POST /v2/translate`) endpoint."""

    def __init__(
        self,
        *,
        flavour: str,
        url: str,
        api_key: str = "",
        timeout_seconds: float = 20.0,
        languages: tuple[str, ...] = ("en", "es", "pt"),
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if flavour not in ("libretranslate", "deepl"):
            raise ValueError(f"unknown translation service {flavour!r}")
        self.name = flavour
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout_seconds = timeout_seconds
        self.languages = languages
        self.transport = transport

    def supports(self, source: str, target: str) -> bool:
        return source != target and source in self.languages and target in self.languages

    async def translate(self, text: str, *, source: str, target: str) -> str:
        if self.name == "deepl":
            path = "/v2/translate"
            body: dict[str, object] = {
                "text": [text],
                "source_lang": source.upper(),
                "target_lang": DEEPL_TARGETS.get(target, target.upper()),
            }
            headers = {"Authorization": f"DeepL-Auth-Key {self.api_key}"}
        else:
            path = "/translate"
            body = {"q": text, "source": source, "target": target, "format": "text"}
            if self.api_key:
                body["api_key"] = self.api_key
            headers = {}
        try:
            async with httpx.AsyncClient(
                timeout=self.timeout_seconds, transport=self.transport
            ) as http:
                response = await http.post(self.url + path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise TranslationFailed(f"{self.name} is unreachable: {exc}") from exc
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if response.status_code != 200:
            detail = answer.get("error", "") if isinstance(answer, dict) else ""
            raise TranslationFailed(f"{self.name} answered {response.status_code}: {detail}")
        try:
            if self.name == "deepl":
                return str(answer["translations"][0]["text"])
            return str(answer["translatedText"])
        except (KeyError, IndexError, TypeError) as exc:
            raise TranslationFailed(f"{self.name} answered without a translation") from exc

    async def translate_many(self, texts: list[str], *, source: str, target: str) -> list[str]:
        return [await self.translate(t, source=source, target=target) for t in texts]


_built: dict[tuple[str, str, str, float], Translator] = {}


def translator_for(settings: Settings) -> Translator:
    """The translator the settings name (one per process and configuration)."""
    key = (
        settings.translator,
        settings.translator_url,
        settings.translator_api_key,
        settings.translator_timeout_seconds,
    )
    if key not in _built:
        kind = settings.translator
        if kind == "apertium":
            _built[key] = ApertiumTranslator(timeout_seconds=settings.translator_timeout_seconds)
        elif kind in ("libretranslate", "deepl"):
            _built[key] = HttpTranslator(
                flavour=kind,
                url=settings.translator_url,
                api_key=settings.translator_api_key,
                timeout_seconds=settings.translator_timeout_seconds,
                languages=tuple(settings.languages),
            )
        else:
            _built[key] = NoTranslator()
    return _built[key]
