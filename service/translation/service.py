"""Translation in the platform's words: remember a text, translate it, show it, find it.

Areas call `remember(kind, object_id, field=text, ...)` when someone writes or edits a text, in
the same transaction: the text is recorded here and a job is queued for after the commit. The
job (`translate_object`) detects the language and fills the cache for every other language.
Pages call `shown(texts)` to get, for each text, its translation into the reader's language
when one is cached; without one they show the text as written. Searches ask
`matching_object_ids` for objects whose translation contains the words.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery
from tortoise.queryset import ValuesQuery
from tortoise.transactions import in_transaction

from service.core import i18n, jobs, search
from service.core.i18n import N_
from service.translation import detect, similarity
from service.translation.models import TranslatedText, Translation
from service.translation.providers import Translator

log = logging.getLogger(__name__)

LANGUAGE_NAMES = {"en": N_("English"), "es": N_("Spanish"), "pt": N_("Portuguese")}
# The sweeper leaves texts this recent to the job queued at their commit.
SWEEP_GRACE = timedelta(minutes=2)


def language_name(code: str) -> str:
    return i18n.gettext(LANGUAGE_NAMES[code]) if code in LANGUAGE_NAMES else code


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- recording what people write ----------------------------------------------------------


async def remember(kind: str, object_id: int, *, language: str = "", **fields: str) -> None:
    """Record the current text of an object's fields and queue their translation.

    Call it inside the transaction that writes the object. An edited field forgets the
    translations of its former words (unless another text has the same words); an emptied
    field is forgotten. `language` is the writer's declaration, used when detection cannot
    tell (a very short text).
    """
    existing = {
        row.field: row
        for row in await TranslatedText.filter(kind=kind, object_id=object_id).select_for_update()
    }
    changed = False
    stale: set[str] = set()
    for name, text in fields.items():
        row = existing.get(name)
        digest = text_hash(text)
        if not text.strip():
            if row is not None:
                stale.add(row.text_hash)
                await row.delete()
            continue
        if row is None:
            try:
                async with in_transaction():
                    await TranslatedText.create(
                        kind=kind,
                        object_id=object_id,
                        field=name,
                        text=text,
                        text_hash=digest,
                        language=language,
                    )
            except IntegrityError:
                # A concurrent first save of the same object wrote the row: ours follows it.
                await TranslatedText.filter(kind=kind, object_id=object_id, field=name).update(
                    text=text, text_hash=digest, language=language, done_at=None
                )
            changed = True
        elif row.text_hash != digest:
            stale.add(row.text_hash)
            row.text, row.text_hash, row.done_at = text, digest, None
            # The language is detected again: an edit may change it.
            row.language = language
            await row.save(update_fields=["text", "text_hash", "done_at", "language", "updated_at"])
            changed = True
    await _forget(stale)
    if changed and jobs.buffer_active():
        version = text_hash("".join(sorted(text_hash(t) for t in fields.values())))[:16]
        jobs.enqueue(
            "translation.translate",
            job_id=f"translate:{kind}:{object_id}:{version}",
            kind=kind,
            object_id=object_id,
        )


async def _forget(hashes: set[str]) -> None:
    """Drop the cached translations of texts no object shows any more."""
    for digest in hashes:
        if not await TranslatedText.filter(text_hash=digest).exists():
            await Translation.filter(text_hash=digest).delete()


# --- translating --------------------------------------------------------------------------


@dataclass
class Outcome:
    translated: int = 0
    cached: int = 0
    skipped: int = 0


# Texts sent to the provider in one call, at most.
BATCH = 100


async def translate_object(
    kind: str, object_id: int, *, translator: Translator, languages: Iterable[str]
) -> Outcome:
    """Detect the language of an object's texts and cache their translations."""
    rows = await TranslatedText.filter(kind=kind, object_id=object_id).order_by("id")
    return await _translate_rows(rows, translator=translator, languages=tuple(languages))


async def _translate_rows(
    rows: list[TranslatedText], *, translator: Translator, languages: tuple[str, ...]
) -> Outcome:
    """Detect each object's language, then translate what the cache lacks, a batch per pair.

    Holds no transaction while the provider works: each translation is written on its own,
    and the unique (hash, source, target) key keeps a second run from writing it twice.
    """
    outcome = Outcome()
    objects: dict[tuple[str, int], list[TranslatedText]] = {}
    for row in rows:
        objects.setdefault((row.kind, row.object_id), []).append(row)
    sources: dict[int, str] = {}
    for same in objects.values():
        declared = next((r.language for r in same if r.language), "")
        # One language per object, told from all its words (a title alone is often too short).
        joined = "\n".join(r.text for r in same)
        source = detect.detect(joined, languages, default=declared or languages[0])
        for row in same:
            sources[row.id] = source
    # (source, target) -> {hash: text} still to translate
    work: dict[tuple[str, str], dict[str, str]] = {}
    for row in rows:
        source = sources[row.id]
        for target in languages:
            if target == source:
                continue
            if not translator.supports(source, target):
                outcome.skipped += 1
                continue
            work.setdefault((source, target), {})[row.text_hash] = row.text
    batches: list[tuple[str, str, list[tuple[str, str]]]] = []
    for (source, target), texts in work.items():
        cached = set(
            await Translation.filter(
                text_hash__in=list(texts), source=source, target=target
            ).values_list("text_hash", flat=True)
        )
        outcome.cached += len(cached)
        todo = [(h, t) for h, t in texts.items() if h not in cached]
        batches += [(source, target, todo[i : i + BATCH]) for i in range(0, len(todo), BATCH)]
    # The pairs run side by side (the provider bounds how many at once).
    results = await asyncio.gather(
        *(
            translator.translate_many([t for _, t in chunk], source=source, target=target)
            for source, target, chunk in batches
        )
    )
    for (source, target, chunk), out in zip(batches, results, strict=True):
        for (digest, _), text in zip(chunk, out, strict=True):
            try:
                async with in_transaction():
                    await Translation.create(
                        text_hash=digest,
                        source=source,
                        target=target,
                        text=text,
                        provider=translator.name,
                    )
                outcome.translated += 1
            except IntegrityError:
                outcome.cached += 1  # another run wrote it first
    now = datetime.now(UTC)
    for row in rows:
        # Marked done only if the text is still the one translated (no edit meanwhile).
        await TranslatedText.filter(id=row.id, text_hash=row.text_hash).update(
            language=sources[row.id], done_at=now
        )
    return outcome


async def pending(limit: int = 200, *, now: datetime | None = None) -> list[TranslatedText]:
    """Texts still waiting for translations (past the grace left to their own job), with
    the other fields of their objects."""
    before = (now or datetime.now(UTC)) - SWEEP_GRACE
    keys = (
        await TranslatedText.filter(done_at=None, updated_at__lt=before)
        .order_by("id")
        .limit(limit)
        .values_list("kind", "object_id")
    )
    if not keys:
        return []
    where = Q()
    for kind, object_id in dict.fromkeys(keys):
        where |= Q(kind=kind, object_id=object_id)
    return await TranslatedText.filter(where).order_by("id")


async def translate_pending(
    *, translator: Translator, languages: Iterable[str], limit: int = 200, wait: bool = True
) -> Outcome:
    """Translate what is waiting (the sweeper, and the demo with `wait=False`)."""
    now = datetime.now(UTC) + (timedelta(0) if wait else SWEEP_GRACE)
    rows = await pending(limit, now=now)
    return await _translate_rows(rows, translator=translator, languages=tuple(languages))


# --- showing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """A text as a reader sees it: translated (with where it came from), or as written."""

    original: str
    text: str
    source: str = ""
    target: str = ""

    @property
    def translated(self) -> bool:
        return bool(self.source)

    @property
    def source_name(self) -> str:
        return language_name(self.source)


class Readings(dict[str, Shown]):
    """The texts of a page as its reader sees them, keyed by the text as written."""

    def first(self, *texts: str | None) -> Shown | None:
        """The first of `texts` that is shown translated (for one note on several fields)."""
        for text in texts:
            found = self.get(text) if text else None
            if found is not None and found.translated:
                return found
        return None


async def shown(texts: Iterable[str | None], target: str | None = None) -> Readings:
    """For each text, its cached translation into `target` (the reader's language by default).

    One query for the page. A text with no translation (not yet made, or written in the
    reader's language) maps to itself.
    """
    target = target or i18n.current_locale.get()
    wanted = {t for t in texts if t and t.strip()}
    by_hash = {text_hash(t): t for t in wanted}
    result = Readings({t: Shown(original=t, text=t) for t in wanted})
    if not by_hash:
        return result
    rows = await Translation.filter(text_hash__in=list(by_hash), target=target).values(
        "text_hash", "source", "text"
    )
    for row in rows:
        original = by_hash[row["text_hash"]]
        if row["source"] != target:
            result[original] = Shown(original, row["text"], row["source"], target)
    return result


# --- searching ----------------------------------------------------------------------------


def matching_object_ids(kind: str, word: str) -> ValuesQuery[Any]:
    """A subquery of the ids of `kind` objects whose translation contains `word` (accents and
    case aside: service.core.search)."""
    hashes = (
        Translation.annotate(folded=search.Fold("text"))
        .filter(folded__contains=search.fold(word))
        .values("text_hash")
    )
    return TranslatedText.filter(kind=kind, text_hash__in=Subquery(hashes)).values("object_id")


def matching_q(kind: str, word: str, column: str = "id") -> Q:
    """A filter on the owning model: its `column` is an object whose translation has `word`."""
    where: dict[str, Any] = {f"{column}__in": Subquery(matching_object_ids(kind, word))}
    return Q(**where)


def search_sql(kind: str, q: str, *, dialect: str, param: Any, column: str = "c.id") -> str:
    """The same search in SQL for an area whose list is one raw statement.

    `param(value)` adds a bound parameter and returns its placeholder. PostgreSQL matches the
    query as its full-text search does (`websearch_to_tsquery` on the 'simple' configuration,
    on the GIN index of migration 0030); SQLite matches every word as a substring. Accents and
    case do not count on either (service.core.search).
    """
    fold = search.FOLD
    ids = "SELECT s.object_id FROM translated_texts s JOIN translations t "
    ids += f"ON t.text_hash = s.text_hash WHERE s.kind = {param(kind)} AND "
    if dialect == "postgres":
        ids += (
            f"to_tsvector('simple', {fold}(t.text)) "
            f"@@ websearch_to_tsquery('simple', {fold}({param(q)}))"
        )
        # An array computed once: `id = ANY(...)` can be OR-ed with an index scan of the
        # owner's own search (a bitmap OR) where `IN (subquery)` would scan every row.
        return f"{column} = ANY(ARRAY({ids}))"
    ids += " AND ".join(
        f"{fold}(t.text) LIKE {param(search.contains_pattern(w))} ESCAPE '\\'"
        for w in search.words(q) or [""]
    )
    return f"{column} IN ({ids})"


# --- similar texts across languages -------------------------------------------------------


async def versions(kind: str, object_ids: list[int], field: str) -> dict[int, list[str]]:
    """Each object's field in every language cached for it (translations, not the original)."""
    if not object_ids:
        return {}
    sources = await TranslatedText.filter(kind=kind, object_id__in=object_ids, field=field).values(
        "object_id", "text_hash"
    )
    ids_by_hash: dict[str, list[int]] = {}
    for row in sources:
        ids_by_hash.setdefault(row["text_hash"], []).append(row["object_id"])
    out: dict[int, list[str]] = {}
    if ids_by_hash:
        for found in await Translation.filter(text_hash__in=list(ids_by_hash)).values(
            "text_hash", "text"
        ):
            for object_id in ids_by_hash[found["text_hash"]]:
                out.setdefault(object_id, []).append(found["text"])
    return out


def closest(query: str, texts_by_id: dict[int, list[str]]) -> dict[int, float]:
    """For each object, the best meaning similarity (0..1) of `query` with any of its texts.

    The query is written in one language; each object brings its text in every language it
    has, so the comparison is made between texts of one language (the query's).
    """
    flat = [(object_id, text) for object_id, texts in texts_by_id.items() for text in texts]
    best: dict[int, float] = dict.fromkeys(texts_by_id, 0.0)
    for (object_id, _), score in zip(
        flat, similarity.scores(query, [t for _, t in flat]), strict=True
    ):
        best[object_id] = max(best[object_id], score)
    return best


async def most_alike(
    kind: str, query: str, titles: dict[int, str], *, field: str = "title", limit: int = 5
) -> list[int]:
    """The ids (at most `limit`, best first) whose text is like `query`, whatever its language.

    Each object is compared by its text as written and by its cached translations: by words
    and characters (`similarity.lexical`), and by meaning (`closest`, word embeddings); it
    counts as alike when either measure reaches its threshold.
    """
    if len(query.strip()) < 4 or not titles:
        return []
    translated = await versions(kind, list(titles), field)
    texts = {i: [title, *translated.get(i, [])] for i, title in titles.items()}
    meaning = closest(query, texts)
    scale = similarity.ALIKE / similarity.ALIKE_MEANING
    scored = [
        (max(max(similarity.lexical(query, t) for t in texts[i]), meaning[i] * scale), i)
        for i in titles
    ]
    ranked = sorted(scored, key=lambda s: -s[0])
    return [i for score, i in ranked if score >= similarity.ALIKE][:limit]
