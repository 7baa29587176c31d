"""The demo's translations: every text of the demo in the platform's other languages.

Runs after the areas' own steps (the last of them, participation's, has residents of Sevilla
and Curitiba comment in their own language on a proposal written in English); all the demo's
texts are translated in a few batched Apertium runs (one per language pair), so `make run`
starts with them cached.
"""

from __future__ import annotations

import time

from service.config import Settings
from service.translation import service as translation
from service.translation.providers import TranslationFailed, translator_for


async def seed_translations(settings: Settings) -> None:
    translator = translator_for(settings)
    if translator.name == "none":
        return
    started = time.monotonic()
    try:
        outcome = await translation.translate_pending(
            translator=translator, languages=settings.languages, limit=10_000, wait=False
        )
    except TranslationFailed as exc:
        # The demo stays usable in the languages it was written in; the sweeper retries.
        print(f"demo data: texts not translated ({exc}); they will be when the worker runs")
        return
    print(
        f"demo data: {outcome.translated} translations made by {translator.name} "
        f"in {time.monotonic() - started:.1f} s"
    )
