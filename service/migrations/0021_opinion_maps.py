from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from service.deliberation.models import ConsensusUse, ConversationStatus, StatementStatus
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('civic', '0020_transfer_rate')]

    initial = False

    operations: list[ops.Operation] = [
        ops.CreateModel(
            name='Conversation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('proposal_id', fields.IntField(null=True, db_index=True)),
                ('challenge_id', fields.IntField(null=True, db_index=True)),
                ('organization_id', fields.IntField(null=True)),
                ('topic', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('status', fields.CharEnumField(default=ConversationStatus.open, description='open: open\nclosed: closed', enum_type=ConversationStatus, max_length=10)),
                ('opened_by', fields.ForeignKeyField('civic.User', source_field='opened_by_id', db_constraint=True, to_field='id', related_name='conversations_opened', on_delete=OnDelete.RESTRICT)),
                ('participant_count', fields.IntField(default=0)),
                ('map_stale_since', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'deliberation_conversations', 'app': 'civic', 'pk_attr': 'id', 'table_description': 'A question put to residents about a proposal or a challenge (one of the two).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Statement',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('conversation', fields.ForeignKeyField('civic.Conversation', source_field='conversation_id', db_constraint=True, to_field='id', related_name='statements', on_delete=OnDelete.RESTRICT)),
                ('author_id', fields.IntField()),
                ('text', fields.CharField(max_length=140)),
                ('seed', fields.BooleanField(default=False)),
                ('status', fields.CharEnumField(default=StatementStatus.published, description='pending: pending\npublished: published\nrejected: rejected', enum_type=StatementStatus, max_length=10)),
                ('moderated_by_id', fields.IntField(null=True)),
                ('moderated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reason', fields.TextField(default='', unique=False)),
                ('agree_count', fields.IntField(default=0)),
                ('disagree_count', fields.IntField(default=0)),
                ('pass_count', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'deliberation_statements', 'app': 'civic', 'ordering': ['id'], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Participant',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('conversation', fields.ForeignKeyField('civic.Conversation', source_field='conversation_id', db_constraint=True, to_field='id', related_name='participants', on_delete=OnDelete.RESTRICT)),
                ('user_id', fields.IntField()),
                ('number', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'deliberation_participants', 'app': 'civic', 'unique_together': (('conversation', 'user_id'), ('conversation', 'number')), 'pk_attr': 'id', 'table_description': "A person's place in one conversation: the number exports show instead of the account."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Vote',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('conversation_id', fields.IntField(db_index=True)),
                ('statement', fields.ForeignKeyField('civic.Statement', source_field='statement_id', db_constraint=True, to_field='id', related_name='votes', on_delete=OnDelete.RESTRICT)),
                ('participant', fields.ForeignKeyField('civic.Participant', source_field='participant_id', db_constraint=True, to_field='id', related_name='votes', on_delete=OnDelete.RESTRICT)),
                ('value', fields.SmallIntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'deliberation_votes', 'app': 'civic', 'unique_together': (('statement', 'participant'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OpinionMap',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('conversation', fields.OneToOneField('civic.Conversation', source_field='conversation_id', db_constraint=True, to_field='id', related_name='opinion_map', on_delete=OnDelete.CASCADE)),
                ('computed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('seconds', fields.FloatField(default=0)),
                ('participant_count', fields.IntField(default=0)),
                ('vote_count', fields.IntField(default=0)),
                ('result', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'deliberation_maps', 'app': 'civic', 'pk_attr': 'id', 'table_description': 'The last map computed for a conversation: replaced whole when the next is ready.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AdoptedConsensus',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('challenge_id', fields.IntField(db_index=True)),
                ('conversation', fields.ForeignKeyField('civic.Conversation', source_field='conversation_id', db_constraint=True, to_field='id', related_name='adoptions', on_delete=OnDelete.RESTRICT)),
                ('statement', fields.ForeignKeyField('civic.Statement', source_field='statement_id', db_constraint=True, to_field='id', related_name='adoptions', on_delete=OnDelete.RESTRICT)),
                ('text', fields.CharField(max_length=140)),
                ('use', fields.CharEnumField(description='problem: problem\ncriterion: criterion', enum_type=ConsensusUse, max_length=10)),
                ('adopted_by_id', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'deliberation_adoptions', 'app': 'civic', 'unique_together': (('challenge_id', 'statement'),), 'pk_attr': 'id', 'table_description': 'A consensus statement a city carried into a challenge, as problem or criterion.'},
            bases=['Model'],
        ),
    ]
