from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from service.challenges.models import ChallengeStatus
from service.core.vocab import Area
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('civic', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Challenge',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('civic.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='challenges', on_delete=OnDelete.RESTRICT)),
                ('title', fields.CharField(max_length=160)),
                ('summary', fields.CharField(max_length=200)),
                ('problem_statement', fields.TextField(unique=False)),
                ('language', fields.CharField(default='en', max_length=2)),
                ('area', fields.CharEnumField(db_index=True, description='mobility: mobility\nenergy: energy\nenvironment: environment\nwater: water\nwaste: waste\nhealth: health\neducation: education\nhousing: housing\npublic_safety: public_safety\ndigital_government: digital_government\neconomy: economy\nculture: culture\ntourism: tourism\nagriculture: agriculture\nsocial_inclusion: social_inclusion', enum_type=Area, max_length=30)),
                ('sdgs', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('region', fields.CharField(db_index=True, max_length=120)),
                ('eligible_kinds', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('eligible_regions', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('reward_amount_minor', fields.BigIntField()),
                ('currency', fields.CharField(max_length=3)),
                ('opens_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('closes_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('judging_ends_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('status', fields.CharEnumField(default=ChallengeStatus.draft, db_index=True, description='draft: draft\npublished: published\nopen: open\nclosed: closed\njudging: judging\nawarded: awarded\nin_delivery: in_delivery\ncompleted: completed\ncancelled: cancelled', enum_type=ChallengeStatus, max_length=20)),
                ('blind_judging', fields.BooleanField(default=False)),
                ('proposal_id', fields.IntField(null=True)),
                ('search_text', fields.TextField(default='', unique=False)),
                ('created_by_id', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('cancelled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('cancel_reason', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'challenges', 'app': 'civic', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Amendment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('challenge', fields.ForeignKeyField('civic.Challenge', source_field='challenge_id', db_constraint=True, to_field='id', related_name='amendments', on_delete=OnDelete.CASCADE)),
                ('author_id', fields.IntField()),
                ('reason', fields.TextField(unique=False)),
                ('changes', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'challenge_amendments', 'app': 'civic', 'pk_attr': 'id', 'table_description': "A public record of a change to a published challenge's terms."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Attachment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('challenge', fields.ForeignKeyField('civic.Challenge', source_field='challenge_id', db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.RESTRICT)),
                ('original_name', fields.CharField(max_length=255)),
                ('stored_name', fields.CharField(unique=True, max_length=80)),
                ('content_type', fields.CharField(max_length=100)),
                ('size', fields.BigIntField()),
                ('sha256', fields.CharField(max_length=64)),
                ('uploaded_by_id', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'challenge_attachments', 'app': 'civic', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Criterion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('challenge', fields.ForeignKeyField('civic.Challenge', source_field='challenge_id', db_constraint=True, to_field='id', related_name='criteria', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=120)),
                ('description', fields.TextField(default='', unique=False)),
                ('weight', fields.IntField()),
                ('position', fields.IntField(default=0)),
            ],
            options={'table': 'challenge_criteria', 'app': 'civic', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Follow',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('challenge', fields.ForeignKeyField('civic.Challenge', source_field='challenge_id', db_constraint=True, to_field='id', related_name='follows', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('civic.User', source_field='user_id', db_constraint=True, to_field='id', related_name='follows', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'challenge_follows', 'app': 'civic', 'unique_together': (('challenge', 'user'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Question',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('challenge', fields.ForeignKeyField('civic.Challenge', source_field='challenge_id', db_constraint=True, to_field='id', related_name='questions', on_delete=OnDelete.CASCADE)),
                ('author', fields.ForeignKeyField('civic.User', source_field='author_id', db_constraint=True, to_field='id', related_name='questions', on_delete=OnDelete.RESTRICT)),
                ('text', fields.TextField(unique=False)),
                ('answer', fields.TextField(default='', unique=False)),
                ('answered_by_id', fields.IntField(null=True)),
                ('answered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'challenge_questions', 'app': 'civic', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StatusChange',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('challenge', fields.ForeignKeyField('civic.Challenge', source_field='challenge_id', db_constraint=True, to_field='id', related_name='status_changes', on_delete=OnDelete.CASCADE)),
                ('from_status', fields.CharField(max_length=20)),
                ('to_status', fields.CharField(max_length=20)),
                ('actor_id', fields.IntField(null=True)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'challenge_status_changes', 'app': 'civic', 'unique_together': (('challenge', 'to_status'),), 'pk_attr': 'id', 'table_description': "The challenge's history: who (or the scheduler) moved it, and when."},
            bases=['Model'],
        ),
    ]
