"""The demo's texts are translated by its last step, in a few batched Apertium runs."""

from __future__ import annotations

import html
import time

import httpx
from starlette.applications import Starlette

from service import db
from service.config import Settings
from service.core.i18n import translations
from service.demo import SetAside, seed_organizations, seed_people
from service.participation.demo import seed_comments_in_their_language, seed_proposals
from service.participation.models import Comment
from service.translation.demo import seed_translations
from service.translation.models import TranslatedText, Translation


async def test_the_demo_reads_in_every_language(
    app: Starlette, client: httpx.AsyncClient, settings: Settings
) -> None:
    # The proposals' steps alone (the challenges' texts go the same way, in the same runs).
    for step in (seed_organizations, seed_people, seed_proposals, seed_comments_in_their_language):
        async with db.transaction(SetAside()):
            await step(settings)
    started = time.monotonic()
    async with db.transaction(SetAside()):
        await seed_translations(settings.with_overrides(translator="apertium"))
    print(f"demo translations: {time.monotonic() - started:.1f} s")
    assert not await TranslatedText.filter(done_at=None).exists()
    assert set(await TranslatedText.all().distinct().values_list("language", flat=True)) == {
        "en",
        "es",
        "pt",
    }
    assert await Translation.filter(target="en", source="es").exists()
    comment = await Comment.get(text__startswith="Em Curitiba")
    page = html.unescape((await client.get(f"/proposals/{comment.proposal_id}?lang=es")).text)
    spanish = translations("es").gettext
    note = spanish("Machine-translated from %(language)s — show original")
    assert note != "Machine-translated from %(language)s — show original"  # a Spanish page
    assert note % {"language": spanish("Portuguese")} in page
    assert note % {"language": spanish("English")} in page  # the proposal itself
