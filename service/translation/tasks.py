"""Jobs of the translation area: translate a text after its commit, and catch up."""

from __future__ import annotations

import logging

from service.core.jobs import TaskDeps, cron, task
from service.translation import service as translation
from service.translation.providers import translator_for

log = logging.getLogger(__name__)


@task("translation.translate", max_tries=5, timeout_seconds=180)
async def translate(deps: TaskDeps, *, kind: str, object_id: int) -> int:
    """Translate an object's texts into the platform's other languages, once committed.

    Running it twice is harmless: it reads the texts as they are now, skips what the cache
    holds, and the cache's unique (text hash, source, target) key refuses a second copy. A
    provider failure raises, so arq tries again; the sweeper below catches what is left.
    """
    translator = translator_for(deps.settings)
    if translator.name == "none":
        return 0
    outcome = await translation.translate_object(
        kind, object_id, translator=translator, languages=deps.settings.languages
    )
    return outcome.translated


@cron("translation.sweep", minute=set(range(0, 60, 5)), second={40})
async def sweep(deps: TaskDeps) -> int:
    """Translate texts whose job was lost (a worker down, a provider failing for long).

    It looks at the data (texts not marked done) rather than at past runs, so it catches up
    after downtime; running it twice is harmless for the same reasons as `translate`.
    """
    translator = translator_for(deps.settings)
    if translator.name == "none":
        return 0
    outcome = await translation.translate_pending(
        translator=translator, languages=deps.settings.languages
    )
    if outcome.translated:
        log.info("translations caught up", extra={"translated": outcome.translated})
    return outcome.translated
