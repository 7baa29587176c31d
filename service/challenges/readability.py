"""Readability of plain-language texts, in the challenge's language.

Flesch reading ease for English, its Fernández-Huerta adaptation for Spanish and the
Martins et al. adaptation for Portuguese. Syllables are counted from pyphen's hyphenation
dictionaries (an approximation that is stable across texts). Higher is easier; under 50 is
hard to read for most adults.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import pyphen

THRESHOLD = 50.0
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?…]+(?:\s|$)")
_DICTIONARIES = {"en": "en_US", "es": "es", "pt": "pt_BR"}


@dataclass(frozen=True)
class Readability:
    score: float
    words: int
    sentences: int
    hard: bool


@cache
def _dictionary(language: str) -> pyphen.Pyphen:
    return pyphen.Pyphen(lang=_DICTIONARIES.get(language, "en_US"))


def syllables(word: str, language: str) -> int:
    return max(1, len(_dictionary(language).positions(word.lower())) + 1)


def score(text: str, language: str) -> Readability | None:
    words = _WORD.findall(text)
    if not words:
        return None
    sentences = max(1, len(_SENTENCE_END.findall(text.strip() + " ")))
    per_sentence = len(words) / sentences
    per_word = sum(syllables(w, language) for w in words) / len(words)
    if language == "es":
        value = 206.84 - 60 * per_word - 1.02 * per_sentence
    elif language == "pt":
        value = 248.835 - 1.015 * per_sentence - 84.6 * per_word
    else:
        value = 206.835 - 1.015 * per_sentence - 84.6 * per_word
    value = round(max(0.0, min(100.0, value)), 1)
    return Readability(value, len(words), sentences, value < THRESHOLD)
