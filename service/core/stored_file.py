"""The columns every uploaded file's row shares, as an abstract Tortoise model.

A challenge's documents, an application's files and a milestone's evidence are each a table of
their own (each with its owner's foreign key and its own visibility rule), but a stored file is
described the same way in all of them: the name the uploader gave, the name it is stored under
(random, unique), its checked content type, its size, its SHA-256 and who uploaded it when. The
bytes themselves are in the storage (`service.integrations.storage`), never in the database.
This module owns no table and must not import any area.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class StoredFile(Model):
    original_name = fields.CharField(max_length=255)
    # Random and unique: the key in the storage, never derived from the original name.
    stored_name = fields.CharField(max_length=80, unique=True)
    content_type = fields.CharField(max_length=100)
    size = fields.BigIntField()
    sha256 = fields.CharField(max_length=64)
    uploaded_by_id = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        abstract = True
