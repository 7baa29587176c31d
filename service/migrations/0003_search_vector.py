"""Full-text search of challenges on PostgreSQL: a generated tsvector column and its GIN index.

SQLite has no such column; the search there falls back to LIKE on `search_text`.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

FORWARD = """
ALTER TABLE challenges ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', coalesce(title, '')), 'A') ||
    setweight(to_tsvector('simple', coalesce(summary, '')), 'B') ||
    setweight(to_tsvector('simple', coalesce(problem_statement, '')), 'C')
) STORED;
CREATE INDEX challenges_search_vector_gin ON challenges USING GIN (search_vector);
CREATE INDEX challenges_sdgs_gin ON challenges USING GIN ((sdgs::jsonb));
"""
BACKWARD = """
DROP INDEX IF EXISTS challenges_sdgs_gin;
DROP INDEX IF EXISTS challenges_search_vector_gin;
ALTER TABLE challenges DROP COLUMN IF EXISTS search_vector;
"""


async def forward(apps, schema_editor):
    if schema_editor.client.capabilities.dialect == "postgres":
        await schema_editor.client.execute_script(FORWARD)


async def backward(apps, schema_editor):
    if schema_editor.client.capabilities.dialect == "postgres":
        await schema_editor.client.execute_script(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("civic", "0002_challenges")]

    initial = False

    operations = [ops.RunPython(forward, backward)]
