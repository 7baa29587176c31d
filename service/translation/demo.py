"""The demo's translations: every text of the demo in the platform's other languages.

Runs after the areas' own steps. Residents of Sevilla and Curitiba comment in their own
language on a proposal written in English; then all the demo's texts are translated in a few
batched Apertium runs (one per language pair), so `make run` starts with them cached.
"""

from __future__ import annotations

import time

from service.accounts.actor import Actor
from service.accounts.models import User
from service.config import Settings
from service.core.context import Context
from service.participation import service as participation
from service.participation.models import Proposal, Stance
from service.translation import service as translation
from service.translation.providers import TranslationFailed, translator_for

# (resident's e-mail, comment) on the most supported proposal, each in its writer's language.
COMMENTS = [
    (
        "elena@residents.demo.civic",
        "En Sevilla pasa lo mismo en los barrios altos: los niños llegan tarde a clase.",
    ),
    (
        "diego@residents.demo.civic",
        "Em Curitiba os ônibus escolares também chegam atrasados quando chove.",
    ),
]


async def seed_translations(settings: Settings) -> None:
    proposal = await Proposal.filter(hidden_at=None).order_by("-support_count", "id").first()
    if proposal is not None:
        for email, text in COMMENTS:
            user = await User.get_or_none(email=email)
            if user is None:
                continue
            ctx = Context(actor=Actor(user=user), settings=settings)
            await participation.comment(
                ctx, proposal, text=text, stance=Stance.for_, parent_id=None
            )
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
