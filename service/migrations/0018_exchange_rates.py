"""Exchange rates, and each challenge's reward in the platform currency for sorting.

The list sorts on COALESCE(reward_reference_minor, -1) so that a reward without a rate comes
last and keyset pagination compares one non-null value; the index is on that expression.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

FORWARD = """
CREATE INDEX IF NOT EXISTS challenges_public_reward_reference
    ON challenges ((COALESCE(reward_reference_minor, -1)) DESC, id DESC)
    WHERE published_at IS NOT NULL;
"""
BACKWARD = "DROP INDEX IF EXISTS challenges_public_reward_reference;"


async def forward(apps, schema_editor):
    from service.config import Settings

    await schema_editor.client.execute_script(FORWARD)
    # Without any rate yet, a reward already in the platform currency is its own reference.
    currency = "".join(c for c in Settings().platform_currency if c.isalpha())[:3]
    await schema_editor.client.execute_script(
        "UPDATE challenges SET reward_reference_minor = reward_amount_minor, "
        f"reward_reference_currency = currency WHERE currency = '{currency}';"
    )


async def backward(apps, schema_editor):
    await schema_editor.client.execute_script(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [('civic', '0017_payout_methods')]

    initial = False

    operations: list[ops.Operation] = [
        ops.CreateModel(
            name='ExchangeRate',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('date', fields.DateField()),
                ('base', fields.CharField(max_length=3)),
                ('quote', fields.CharField(max_length=3)),
                ('rate', fields.DecimalField(max_digits=30, decimal_places=12)),
                ('source', fields.CharField(max_length=60)),
                ('entered_by_id', fields.IntField(null=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'exchange_rates', 'app': 'civic', 'unique_together': (('base', 'quote', 'date'),), 'pk_attr': 'id', 'table_description': 'On `date`, one unit of `base` was worth `rate` units of `quote` (EUR -> USD 1.0523).'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Challenge',
            name='reward_reference_date',
            field=fields.DateField(null=True),
        ),
        ops.AddField(
            model_name='Challenge',
            name='reward_reference_minor',
            field=fields.BigIntField(null=True),
        ),
        ops.AddField(
            model_name='Challenge',
            name='reward_reference_currency',
            field=fields.CharField(default='', max_length=3),
        ),
        ops.AddField(
            model_name='Challenge',
            name='reward_reference_source',
            field=fields.CharField(default='', max_length=120),
        ),
        ops.RunPython(forward, backward),
    ]
