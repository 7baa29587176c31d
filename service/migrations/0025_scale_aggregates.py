"""Figures that stay fast at scale: the ledger's sums by challenge, kind, currency and month,
each award's first payment (filled from the existing ledger), and an index for the public
list of open challenges closing soonest (the home page's list).

Without that index the "closing soonest" list walks the closing-date index from the oldest
deadline and skips every challenge that already closed: at 100,000 challenges, most of them
closed, that is tens of milliseconds of database time for six rows.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from service.rewards.models import TransactionKind

INDEX = """
CREATE INDEX IF NOT EXISTS challenges_public_open_closing
    ON challenges (closes_at, id)
    WHERE published_at IS NOT NULL AND status IN ('open', 'published');
"""
DROP_INDEX = "DROP INDEX IF EXISTS challenges_public_open_closing;"


async def forward(apps, schema_editor):
    from service.rewards import aggregates

    await schema_editor.client.execute_script(INDEX)
    await aggregates.rebuild(schema_editor.client)


async def backward(apps, schema_editor):
    await schema_editor.client.execute_script(DROP_INDEX)


class Migration(migrations.Migration):
    dependencies = [('civic', '0024_translations')]

    initial = False

    operations: list[ops.Operation] = [
        ops.CreateModel(
            name='LedgerMonth',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('challenge_id', fields.IntField(db_index=True)),
                ('city_id', fields.IntField(db_index=True)),
                ('kind', fields.CharEnumField(description='fund: fund\nallocate: allocate\nrelease: release\npayout: payout\npayout_failed: payout_failed\nreversal: reversal\nrefund: refund', enum_type=TransactionKind, max_length=20)),
                ('currency', fields.CharField(max_length=3)),
                ('month', fields.CharField(max_length=7)),
                ('amount_minor', fields.BigIntField(default=0)),
                ('transactions', fields.IntField(default=0)),
            ],
            options={'table': 'ledger_months', 'app': 'civic', 'unique_together': (('challenge_id', 'kind', 'currency', 'month'),), 'pk_attr': 'id', 'table_description': "The ledger's transactions summed by challenge, kind, currency and month (UTC)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AwardPayment',
            fields=[
                ('award_id', fields.IntField(generated=False, primary_key=True, unique=True, db_index=True)),
                ('challenge_id', fields.IntField(db_index=True)),
                ('first_paid_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'award_payments', 'app': 'civic', 'pk_attr': 'award_id', 'table_description': 'When the ledger first posted a payment of each award (kept like `LedgerMonth`).'},
            bases=['Model'],
        ),
        ops.RunPython(forward, backward),
    ]
