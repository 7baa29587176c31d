from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from service.core.vocab import Area
from service.participation.models import ProposalStatus, Stance
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('civic', '0009_investors_dealflow')]

    initial = False

    operations: list[ops.Operation] = [
        ops.CreateModel(
            name='Proposal',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('author', fields.ForeignKeyField('civic.User', source_field='author_id', db_constraint=True, to_field='id', related_name='proposals', on_delete=OnDelete.RESTRICT)),
                ('title', fields.CharField(max_length=160)),
                ('description', fields.TextField(unique=False)),
                ('affected', fields.TextField(default='', unique=False)),
                ('region', fields.CharField(db_index=True, max_length=120)),
                ('area', fields.CharEnumField(null=True, description='mobility: mobility\nenergy: energy\nenvironment: environment\nwater: water\nwaste: waste\nhealth: health\neducation: education\nhousing: housing\npublic_safety: public_safety\ndigital_government: digital_government\neconomy: economy\nculture: culture\ntourism: tourism\nagriculture: agriculture\nsocial_inclusion: social_inclusion', enum_type=Area, max_length=30)),
                ('sdgs', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharEnumField(default=ProposalStatus.open, db_index=True, description='open: open\nunder_study: under_study\nadopted: adopted\ndeclined: declined', enum_type=ProposalStatus, max_length=20)),
                ('support_count', fields.IntField(default=0)),
                ('threshold_reached_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('response', fields.TextField(default='', unique=False)),
                ('responded_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('responded_by_id', fields.IntField(null=True)),
                ('challenge', fields.ForeignKeyField('civic.Challenge', source_field='challenge_id', null=True, db_constraint=True, to_field='id', related_name='proposals', on_delete=OnDelete.RESTRICT)),
                ('adopted_by_id', fields.IntField(null=True)),
                ('adopted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('hidden_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('hidden_reason', fields.TextField(default='', unique=False)),
                ('hidden_by_id', fields.IntField(null=True)),
                ('search_text', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'proposals', 'app': 'civic', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Comment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('proposal', fields.ForeignKeyField('civic.Proposal', source_field='proposal_id', db_constraint=True, to_field='id', related_name='comments', on_delete=OnDelete.CASCADE)),
                ('author', fields.ForeignKeyField('civic.User', source_field='author_id', db_constraint=True, to_field='id', related_name='proposal_comments', on_delete=OnDelete.RESTRICT)),
                ('parent_id', fields.IntField(null=True)),
                ('stance', fields.CharEnumField(default=Stance.neutral, description='neutral: neutral\nfor_: for\nagainst: against', enum_type=Stance, max_length=10)),
                ('text', fields.TextField(unique=False)),
                ('report_count', fields.IntField(default=0)),
                ('hidden_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('hidden_reason', fields.TextField(default='', unique=False)),
                ('hidden_by_id', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'proposal_comments', 'app': 'civic', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CommentReport',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('comment', fields.ForeignKeyField('civic.Comment', source_field='comment_id', db_constraint=True, to_field='id', related_name='reports', on_delete=OnDelete.CASCADE)),
                ('user_id', fields.IntField()),
                ('reason', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'proposal_comment_reports', 'app': 'civic', 'unique_together': (('comment', 'user_id'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RegionThreshold',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('region', fields.CharField(unique=True, max_length=120)),
                ('supports', fields.IntField()),
                ('organization_id', fields.IntField()),
                ('set_by_id', fields.IntField()),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'proposal_thresholds', 'app': 'civic', 'pk_attr': 'id', 'table_description': 'How many supports oblige the city of a region to answer formally.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Support',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('proposal', fields.ForeignKeyField('civic.Proposal', source_field='proposal_id', db_constraint=True, to_field='id', related_name='supports', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('civic.User', source_field='user_id', db_constraint=True, to_field='id', related_name='supports', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'proposal_supports', 'app': 'civic', 'unique_together': (('proposal', 'user'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SyncMark',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=40)),
                ('seen_id', fields.IntField(default=0)),
                ('seen_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'participation_sync_marks', 'app': 'civic', 'pk_attr': 'name', 'table_description': 'How far the timeline job has read one source of events.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Update',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=30)),
                ('title', fields.CharField(max_length=200)),
                ('body', fields.TextField(default='', unique=False)),
                ('link', fields.CharField(default='', max_length=300)),
                ('event_key', fields.CharField(null=True, unique=True, max_length=120)),
                ('author_id', fields.IntField(null=True)),
                ('challenge_id', fields.IntField(null=True, db_index=True)),
                ('proposal_id', fields.IntField(null=True, db_index=True)),
                ('organization_id', fields.IntField(null=True, db_index=True)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'public_updates', 'app': 'civic', 'pk_attr': 'id', 'table_description': "One entry of a public timeline (a challenge's, a proposal's, a city's)."},
            bases=['Model'],
        ),
    ]
