from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from service.core.vocab import Stage
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('civic', '0007_rewards_ledger_payouts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='InvestorThesis',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.OneToOneField('civic.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='investor_thesis', on_delete=OnDelete.RESTRICT)),
                ('sectors', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('stages', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('ticket_min_minor', fields.BigIntField(null=True)),
                ('ticket_max_minor', fields.BigIntField(null=True)),
                ('currency', fields.CharField(default='EUR', max_length=3)),
                ('regions', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('regions_strict', fields.BooleanField(default=False)),
                ('stages_strict', fields.BooleanField(default=False)),
                ('text', fields.TextField(default='', unique=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'investor_theses', 'app': 'civic', 'pk_attr': 'id', 'table_description': "An investor organization's thesis: what it funds."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Match',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('investor', fields.ForeignKeyField('civic.Organization', source_field='investor_id', db_constraint=True, to_field='id', related_name='matches_as_investor', on_delete=OnDelete.CASCADE)),
                ('startup', fields.ForeignKeyField('civic.Organization', source_field='startup_id', db_constraint=True, to_field='id', related_name='matches_as_startup', on_delete=OnDelete.CASCADE)),
                ('rank', fields.IntField()),
                ('score', fields.FloatField()),
                ('components', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('reasons', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('computed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'matches', 'app': 'civic', 'unique_together': (('investor', 'startup'),), 'indexes': [Index(fields=['investor_id', 'rank'])], 'pk_attr': 'id', 'table_description': "One startup in one investor's stored ranking (the top results only)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StartupProfile',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.OneToOneField('civic.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='startup_profile', on_delete=OnDelete.RESTRICT)),
                ('sectors', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('stage', fields.CharEnumField(null=True, description='idea: idea\npre_seed: pre_seed\nseed: seed\nseries_a: series_a\nseries_b: series_b\ngrowth: growth', enum_type=Stage, max_length=20)),
                ('funding_ask_minor', fields.BigIntField(null=True)),
                ('currency', fields.CharField(default='EUR', max_length=3)),
                ('region', fields.CharField(default='', max_length=120)),
                ('text', fields.TextField(default='', unique=False)),
                ('dealflow_opt_in', fields.BooleanField(default=False, db_index=True)),
                ('share_scores', fields.BooleanField(default=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'startup_profiles', 'app': 'civic', 'pk_attr': 'id', 'table_description': "A startup's, university's or research centre's side of the deal flow."},
            bases=['Model'],
        ),
    ]
