"""Which of the platform's languages a text is written in (lingua-language-detector).

Lingua tells languages apart on short texts better than n-gram profile detectors (a proposal's
title is a handful of words), and it runs offline with its models inside the wheel. The
detector only weighs the platform's languages, so it never answers with one nobody reads here.
"""

from __future__ import annotations

from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

# Below this confidence the text is too short or too mixed to tell: the caller's guess stands.
MIN_CONFIDENCE = 0.5


@lru_cache(maxsize=8)
def _detector(languages: tuple[str, ...]) -> LanguageDetector:
    chosen = [
        Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in languages
    ]
    return LanguageDetectorBuilder.from_languages(*chosen).build()


def detect(text: str, languages: tuple[str, ...], *, default: str = "") -> str:
    """The language code of `text` among `languages`, or `default` when it cannot be told."""
    if not text.strip() or len(languages) < 2:
        return default
    values = _detector(tuple(sorted(languages))).compute_language_confidence_values(text)
    if not values or values[0].value < MIN_CONFIDENCE:
        return default
    code = values[0].language.iso_code_639_1.name.lower()
    return code if code in languages else default
