"""Text search that ignores accents and case ("tuberias" finds "Tuberías"), on both databases.

Both sides of a comparison are folded: lower-cased, accents and other marks taken off, a few
letters that are not a base letter plus a mark spelt out (æ as ae, ø as o).

- In SQL the fold is the function `civic_fold(text)`. On PostgreSQL it is
  `lower(unaccent(text))`, created by migration 0030 and declared IMMUTABLE so that indexes and
  generated columns may use it (`unaccent` itself is only STABLE, since its dictionary could
  change). On SQLite it is `fold` below, registered on every connection (service.core.sqlite).
- In Python, `fold` folds a query before it meets a column through the ORM, where the value
  cannot be wrapped in SQL; raw statements fold both sides in SQL (`FOLD` around the value).
"""

from __future__ import annotations

import unicodedata
from typing import Any, overload

from pypika_tortoise import functions as sql_functions
from tortoise.expressions import Function

FOLD = "civic_fold"
# Words of a query that count; the rest are ignored (each word costs a LIKE per row).
MAX_WORDS = 8
# Letters with no decomposition into a base letter and a mark, as unaccent's rules spell them.
_SPELT_OUT = str.maketrans(
    {
        "æ": "ae",
        "œ": "oe",
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "\u0131": "i",
        "ħ": "h",
    }
)


@overload
def fold(text: str) -> str: ...
@overload
def fold(text: None) -> None: ...
def fold(text: str | None) -> str | None:
    """`text` lower-cased and without accents (None stays None, as SQL's NULL does)."""
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_SPELT_OUT))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(query: str) -> list[str]:
    """The folded words of a search query, at most MAX_WORDS."""
    return fold(query).split()[:MAX_WORDS]


def contains_pattern(word: str) -> str:
    """A LIKE pattern (with `ESCAPE '\\'`) matching text that contains `word` as it is."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class _FoldTerm(sql_functions.Function):
    def __init__(self, term: Any, alias: str | None = None) -> None:
        super().__init__(FOLD, term, alias=alias)


class Fold(Function):
    """`civic_fold(field)` for the ORM: `Model.annotate(f=Fold("name")).filter(f__contains=...)`
    with a value folded by `fold`."""

    database_func = _FoldTerm


async def install_sqlite(connection: Any) -> None:
    """Register `civic_fold` on an aiosqlite connection (deterministic: usable in indexes)."""
    await connection.create_function(FOLD, 1, fold, deterministic=True)
