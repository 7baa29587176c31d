from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

# Translations are searched like challenges: a GIN index on their words (PostgreSQL only;
# SQLite matches with LIKE on the table itself).
FORWARD = """
CREATE INDEX translations_text_search_gin ON translations
    USING GIN (to_tsvector('simple', text));
"""
BACKWARD = "DROP INDEX IF EXISTS translations_text_search_gin;"


async def forward(apps, schema_editor):
    if schema_editor.client.capabilities.dialect == "postgres":
        await schema_editor.client.execute_script(FORWARD)


async def backward(apps, schema_editor):
    if schema_editor.client.capabilities.dialect == "postgres":
        await schema_editor.client.execute_script(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [('civic', '0023_funding_rounds')]

    initial = False

    operations: list[ops.Operation] = [
        ops.CreateModel(
            name='TranslatedText',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=30)),
                ('object_id', fields.IntField()),
                ('field', fields.CharField(max_length=40)),
                ('text', fields.TextField(unique=False)),
                ('text_hash', fields.CharField(max_length=64, db_index=True)),
                ('language', fields.CharField(default='', max_length=8)),
                ('done_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'translated_texts', 'app': 'civic', 'unique_together': (('kind', 'object_id', 'field'),), 'pk_attr': 'id', 'table_description': 'One field of one object that is offered in the other languages.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Translation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('text_hash', fields.CharField(max_length=64)),
                ('source', fields.CharField(max_length=8)),
                ('target', fields.CharField(max_length=8)),
                ('text', fields.TextField(unique=False)),
                ('provider', fields.CharField(max_length=40)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'translations', 'app': 'civic', 'unique_together': (('text_hash', 'source', 'target'),), 'pk_attr': 'id', 'table_description': 'The cache: a text (by its hash) put from one language into another.'},
            bases=['Model'],
        ),
        ops.RunPython(forward, backward),
    ]
