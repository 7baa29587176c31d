from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from service.panels.models import PanelStatus, VolunteerStatus
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('civic', '0021_opinion_maps')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Panel',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('challenge', fields.OneToOneField('civic.Challenge', source_field='challenge_id', db_constraint=True, to_field='id', related_name='panel', on_delete=OnDelete.RESTRICT)),
                ('organization_id', fields.IntField(db_index=True)),
                ('size', fields.IntField()),
                ('features', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('recruitment_opens_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('recruitment_closes_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('stipend_minor', fields.BigIntField(default=0)),
                ('currency', fields.CharField(max_length=3)),
                ('score_share_pct', fields.IntField(default=0)),
                ('status', fields.CharEnumField(default=PanelStatus.recruiting, description='recruiting: recruiting\ndrawing: drawing\ndrawn: drawn\nclosed: closed', enum_type=PanelStatus, max_length=20)),
                ('recommendation', fields.TextField(default='', unique=False)),
                ('seed', fields.CharField(default='', max_length=40)),
                ('draw', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('draw_error', fields.TextField(default='', unique=False)),
                ('progress', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_by_id', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'panels', 'app': 'civic', 'pk_attr': 'id', 'table_description': "A citizens' panel for one challenge, with its quotas and its published draw."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DrawEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('panel', fields.ForeignKeyField('civic.Panel', source_field='panel_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharField(max_length=30)),
                ('detail', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'panel_draw_events', 'app': 'civic', 'pk_attr': 'id', 'table_description': "The audit trail of a panel's lottery, published as it is."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PanelSession',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('panel', fields.ForeignKeyField('civic.Panel', source_field='panel_id', db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.RESTRICT)),
                ('starts_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('place', fields.CharField(max_length=200)),
            ],
            options={'table': 'panel_sessions', 'app': 'civic', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Volunteer',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('panel', fields.ForeignKeyField('civic.Panel', source_field='panel_id', db_constraint=True, to_field='id', related_name='volunteers', on_delete=OnDelete.RESTRICT)),
                ('user_id', fields.IntField()),
                ('features', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('first_name', fields.CharField(default='', max_length=60)),
                ('show_name', fields.BooleanField(default=False)),
                ('status', fields.CharEnumField(default=VolunteerStatus.pool, description='pool: pool\nmember: member\nwithdrawn: withdrawn', enum_type=VolunteerStatus, max_length=20)),
                ('pool_number', fields.IntField(null=True)),
                ('seat', fields.IntField(null=True)),
                ('probability', fields.FloatField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('withdrawn_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'panel_volunteers', 'app': 'civic', 'unique_together': (('panel', 'user_id'),), 'pk_attr': 'id', 'table_description': 'A resident who volunteered, a member once drawn.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PanelScore',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('panel', fields.ForeignKeyField('civic.Panel', source_field='panel_id', db_constraint=True, to_field='id', related_name='scores', on_delete=OnDelete.RESTRICT)),
                ('volunteer', fields.ForeignKeyField('civic.Volunteer', source_field='volunteer_id', db_constraint=True, to_field='id', related_name='scores', on_delete=OnDelete.RESTRICT)),
                ('application_id', fields.IntField()),
                ('scores', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('conflict_of_interest', fields.BooleanField(default=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'panel_scores', 'app': 'civic', 'unique_together': (('volunteer', 'application_id'),), 'pk_attr': 'id', 'table_description': "A member's scores of one finalist on the challenge's criteria, or a declared conflict."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Stipend',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('panel', fields.ForeignKeyField('civic.Panel', source_field='panel_id', db_constraint=True, to_field='id', related_name='stipends', on_delete=OnDelete.RESTRICT)),
                ('volunteer', fields.OneToOneField('civic.Volunteer', source_field='volunteer_id', db_constraint=True, to_field='id', related_name='stipend', on_delete=OnDelete.RESTRICT)),
                ('amount_minor', fields.BigIntField()),
                ('currency', fields.CharField(max_length=3)),
                ('reference', fields.CharField(max_length=120)),
                ('paid_by_id', fields.IntField()),
                ('paid_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'panel_stipends', 'app': 'civic', 'pk_attr': 'id', 'table_description': "A member's stipend, paid once from the challenge's escrow through the ledger."},
            bases=['Model'],
        ),
    ]
