"""Models of the translation area: the texts people wrote, and the cache of their translations.

A `TranslatedText` row names one field of one object ("proposal" 12, "description") with the
hash of its current text and the language it is written in; a `Translation` row is the cache,
keyed by (text hash, source language, target language). Pages look translations up by the hash
of the text they show, so an edited text never shows the translation of its former words.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class TranslatedText(Model):
    """One field of one object that is offered in the other languages."""

    id = fields.IntField(primary_key=True)
    # What the object is ("proposal", "comment", "challenge", "question") and which field.
    kind = fields.CharField(max_length=30)
    object_id = fields.IntField()
    field = fields.CharField(max_length=40)
    # The words as written (the translation job reads them here, not in the owning area).
    text = fields.TextField()
    text_hash = fields.CharField(max_length=64, db_index=True)
    # Detected by the job ("" until then); the object's fields share one language.
    language = fields.CharField(max_length=8, default="")
    # Set when every target language has a translation (or needs none); cleared on edit.
    done_at = fields.DatetimeField(null=True, db_index=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "translated_texts"
        unique_together = (("kind", "object_id", "field"),)


class Translation(Model):
    """The cache: a text (by its hash) put from one language into another."""

    id = fields.IntField(primary_key=True)
    text_hash = fields.CharField(max_length=64)
    source = fields.CharField(max_length=8)
    target = fields.CharField(max_length=8)
    text = fields.TextField()
    provider = fields.CharField(max_length=40)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "translations"
        unique_together = (("text_hash", "source", "target"),)
