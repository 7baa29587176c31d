from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from service.core.vocab import Stage
from service.matching.models import DemoDayStatus
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
                ('track', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('track_score', fields.FloatField(default=0.0)),
            ],
            options={'table': 'startup_profiles', 'app': 'civic', 'pk_attr': 'id', 'table_description': "A startup's, university's or research centre's side of the deal flow."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DemoDay',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=160)),
                ('starts_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('slot_minutes', fields.IntField(default=20)),
                ('investors', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('startups', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharEnumField(default=DemoDayStatus.queued, description='queued: queued\nscheduled: scheduled', enum_type=DemoDayStatus, max_length=20)),
                ('meetings', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('total_score', fields.FloatField(default=0.0)),
                ('created_by_id', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('scheduled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'demo_days', 'app': 'civic', 'pk_attr': 'id', 'table_description': "A demo day's meetings: investors with slots, startups with a maximum of meetings, and"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TextModel',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('vocabulary', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('idf', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('documents', fields.IntField(default=0)),
                ('fitted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'matching_text_models', 'app': 'civic', 'pk_attr': 'id', 'table_description': 'The TF-IDF model of the corpus (descriptions and theses), fitted by the full recompute.'},
            bases=['Model'],
        ),
    ]
