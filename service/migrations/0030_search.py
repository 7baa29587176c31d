"""Search ignores accents and case: "tuberias" finds "Tuberías" (service.core.search).

PostgreSQL: the `unaccent` extension (shipped with PostgreSQL, and trusted: a database owner
may create it) and `civic_fold(text)`, lower(unaccent(text)) declared IMMUTABLE so that the
generated search column of challenges and the indexes of translations and regions can use
it. Its body is SQL-standard (PostgreSQL 14 and later): the dictionary and the function are
resolved when it is created, so it works whatever the search_path of the session calling it.

SQLite registers `civic_fold` on every connection (service.core.sqlite): nothing to create.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

POSTGRES_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    """CREATE OR REPLACE FUNCTION civic_fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN lower(unaccent('unaccent'::regdictionary, $1))""",
    # A generated column cannot change its expression: it is made again (its index with it).
    "ALTER TABLE challenges DROP COLUMN IF EXISTS search_vector",
    """ALTER TABLE challenges ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', civic_fold(coalesce(title, ''))), 'A') ||
    setweight(to_tsvector('simple', civic_fold(coalesce(summary, ''))), 'B') ||
    setweight(to_tsvector('simple', civic_fold(coalesce(problem_statement, ''))), 'C')
) STORED""",
    "CREATE INDEX challenges_search_vector_gin ON challenges USING GIN (search_vector)",
    "DROP INDEX IF EXISTS translations_text_search_gin",
    "CREATE INDEX translations_text_search_gin ON translations "
    "USING GIN (to_tsvector('simple', civic_fold(text)))",
    # The region filters compare folded names.
    "CREATE INDEX challenges_region_folded ON challenges (civic_fold(region))",
    "CREATE INDEX proposals_region_folded ON proposals (civic_fold(region))",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS proposals_region_folded",
    "DROP INDEX IF EXISTS challenges_region_folded",
    "ALTER TABLE challenges DROP COLUMN IF EXISTS search_vector",
    """ALTER TABLE challenges ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', coalesce(title, '')), 'A') ||
    setweight(to_tsvector('simple', coalesce(summary, '')), 'B') ||
    setweight(to_tsvector('simple', coalesce(problem_statement, '')), 'C')
) STORED""",
    "CREATE INDEX challenges_search_vector_gin ON challenges USING GIN (search_vector)",
    "DROP INDEX IF EXISTS translations_text_search_gin",
    "CREATE INDEX translations_text_search_gin ON translations "
    "USING GIN (to_tsvector('simple', text))",
    "DROP FUNCTION IF EXISTS civic_fold(text)",
]


async def forward(apps, schema_editor):
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        for statement in POSTGRES_FORWARD:
            await client.execute_query(statement)


async def backward(apps, schema_editor):
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        for statement in POSTGRES_BACKWARD:
            await client.execute_query(statement)


class Migration(migrations.Migration):
    dependencies = [('civic', '0029_questions_and_views')]

    initial = False

    operations: list[ops.Operation] = [ops.RunPython(forward, backward)]
