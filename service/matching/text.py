"""Text similarity: TF-IDF over descriptions and theses in Spanish, Portuguese and English.

The model is fitted on the corpus (every startup description and investor thesis) by the full
recompute and stored (`TextModel`); incremental work transforms texts with the stored model.
Rows are L2-normalised, so the cosine of two texts is the dot product of their rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

# Small lists of the commonest function words; accents are stripped before matching.
STOP_WORDS_EN = """a about above after again all also an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from further
had has have having he her here hers him his how i if in into is it its itself just me more most my
no nor not now of off on once only or other our ours out over own same she should so some such than
that the their theirs them then there these they this those through to too under until up very was
we were what when where which while who whom why will with would you your yours""".split()
STOP_WORDS_ES = """a al algo algun alguna algunas alguno algunos ante antes aqui asi aun cada como
con contra cual cuando de del desde donde dos el ella ellas ello ellos en entre era eran es esa esas
ese eso esos esta estaba estado estan estar este esto estos fue fueron ha hacia han hasta hay la las
le les lo los mas me mi mientras muy nada ni no nos nosotros o otra otras otro otros para pero poco
por porque que quien se sea segun ser si sido sin sobre solo son su sus tambien tan tanto te tiene
tienen todo todos tu un una unas uno unos usted y ya yo""".split()
STOP_WORDS_PT = """a ao aos aquela aquele aqueles aquilo as ate com como da das de dela dele deles
depois do dos e ela elas ele eles em entre era essa esse esta este eu foi foram ha isso isto ja la
lhe mais mas me mesmo meu minha muito na nao nas nem no nos nossa nosso num numa o os ou para pela
pelas pelo pelos por qual quando que quem sao se sem ser seu seus sobre sua suas tambem te tem todo
todos tu um uma umas uns voce voces""".split()
STOP_WORDS = sorted(set(STOP_WORDS_EN) | set(STOP_WORDS_ES) | set(STOP_WORDS_PT))


def _vectorizer(vocabulary: dict[str, int] | None = None) -> TfidfVectorizer:
    return TfidfVectorizer(
        strip_accents="unicode",
        lowercase=True,
        stop_words=STOP_WORDS,
        # Words of three letters or more: "bus", "agua", not "de" or "km".
        token_pattern=r"(?u)\b[^\W\d_]{3,}\b",  # noqa: S106 - not a secret
        sublinear_tf=True,
        norm="l2",
        dtype=np.float64,
        vocabulary=vocabulary,
    )


class Row(Protocol):
    """A sparse row: its column indices (sorted) and their values."""

    @property
    def indices(self) -> np.ndarray: ...

    @property
    def data(self) -> np.ndarray: ...


@dataclass(frozen=True)
class RowView:
    """A row of a CSR matrix, without scipy's indexing (it is read thousands of times)."""

    indices: np.ndarray
    data: np.ndarray

    @classmethod
    def of(cls, matrix: sparse.csr_matrix, row: int) -> RowView:
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        return cls(matrix.indices[start:end], matrix.data[start:end])


class TextSpace:
    """A fitted TF-IDF model: turns texts into L2-normalised sparse rows."""

    def __init__(self, vectorizer: TfidfVectorizer) -> None:
        self.vectorizer = vectorizer
        self.terms = np.asarray(vectorizer.get_feature_names_out()) if self.size else None

    @property
    def size(self) -> int:
        return len(getattr(self.vectorizer, "vocabulary_", None) or {})

    @classmethod
    def fit(cls, corpus: Sequence[str]) -> TextSpace:
        vectorizer = _vectorizer()
        try:
            vectorizer.fit([text for text in corpus if text])
        except ValueError:
            # No words at all in the corpus: every text is empty to the model.
            vectorizer = _vectorizer({"_": 0})
            vectorizer.fit(["_"])
            vectorizer.idf_ = np.zeros(1)
        return cls(vectorizer)

    @classmethod
    def restore(cls, vocabulary: dict[str, int], idf: list[float]) -> TextSpace:
        if not vocabulary:
            return cls.fit([])
        vectorizer = _vectorizer(vocabulary)
        vectorizer.fit(list(vocabulary))  # sets up the fixed vocabulary; idf replaced below
        vectorizer.idf_ = np.asarray(idf, dtype=np.float64)
        return cls(vectorizer)

    def dump(self) -> tuple[dict[str, int], list[float]]:
        vocabulary = {str(k): int(v) for k, v in self.vectorizer.vocabulary_.items()}
        return vocabulary, [float(x) for x in self.vectorizer.idf_]

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        matrix = self.vectorizer.transform(list(texts))
        return sparse.csr_matrix(matrix, dtype=np.float64)

    def shared_terms(self, a: Row, b: Row, limit: int = 3) -> list[str]:
        """The words that weigh most in the similarity of two rows."""
        if self.terms is None:
            return []
        common, in_a, in_b = np.intersect1d(
            a.indices, b.indices, assume_unique=True, return_indices=True
        )
        if common.size == 0:
            return []
        weights = a.data[in_a] * b.data[in_b]
        order = np.argsort(-weights, kind="stable")[:limit]
        return [str(self.terms[common[i]]) for i in order]
