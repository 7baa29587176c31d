"""How alike two texts are: in words and characters, and in meaning with WordLlama's small
static embeddings.

The model's weights and tokenizer ship inside the `wordllama` wheel: it is loaded from the
package folder with downloads turned off, so nothing is fetched at run time. Loading takes
under a second and is done once per process, on first use.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

# Word overlap or character likeness from which two titles count as alike.
ALIKE = 0.6
# Meaning similarity (cosine of word embeddings) from which two titles count as alike.
ALIKE_MEANING = 0.55


@lru_cache(maxsize=1)
def _model() -> Any:
    import wordllama
    from wordllama import WordLlama

    # The package folder has the layout of WordLlama's cache (weights/, tokenizers/).
    return WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)


def scores(query: str, texts: list[str]) -> list[float]:
    """Cosine similarity (0..1, negatives as 0) of `query` with each of `texts`."""
    if not texts or not query.strip():
        return [0.0] * len(texts)
    model = _model()
    vectors = np.asarray(model.embed([query, *texts], norm=True), dtype=np.float32)
    similarities = vectors[1:] @ vectors[0]
    return [max(0.0, float(s)) for s in similarities]


def lexical(a: str, b: str) -> float:
    """How alike two titles are (0..1): word overlap or character sequence, the higher."""
    wa, wb = set(re.findall(r"\w{3,}", a.lower())), set(re.findall(r"\w{3,}", b.lower()))
    jaccard = len(wa & wb) / len(wa | wb) if wa and wb else 0.0
    return max(jaccard, SequenceMatcher(None, a.lower(), b.lower()).ratio())
