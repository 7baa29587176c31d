from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from service.applications.models import ApplicationStatus, PartnerStatus
from service.rewards.models import MilestoneStatus
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('civic', '0003_search_vector')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Application',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('challenge', fields.ForeignKeyField('civic.Challenge', source_field='challenge_id', db_constraint=True, to_field='id', related_name='applications', on_delete=OnDelete.RESTRICT)),
                ('organization', fields.ForeignKeyField('civic.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='applications', on_delete=OnDelete.RESTRICT)),
                ('title', fields.CharField(max_length=160)),
                ('summary', fields.TextField(unique=False)),
                ('proposal', fields.TextField(default='', unique=False)),
                ('team', fields.TextField(default='', unique=False)),
                ('budget_minor', fields.BigIntField(default=0)),
                ('lead_share_pct', fields.IntField(default=100)),
                ('status', fields.CharEnumField(default=ApplicationStatus.draft, description='draft: draft\nsubmitted: submitted\nwithdrawn: withdrawn\nawarded: awarded\nnot_awarded: not_awarded', enum_type=ApplicationStatus, max_length=20)),
                ('created_by_id', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('submitted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('withdrawn_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'applications', 'app': 'civic', 'unique_together': (('challenge', 'organization'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ApplicationPartner',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('application', fields.ForeignKeyField('civic.Application', source_field='application_id', db_constraint=True, to_field='id', related_name='partners', on_delete=OnDelete.CASCADE)),
                ('organization', fields.ForeignKeyField('civic.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='partnerships', on_delete=OnDelete.RESTRICT)),
                ('role', fields.CharField(max_length=120)),
                ('share_pct', fields.IntField()),
                ('status', fields.CharEnumField(default=PartnerStatus.invited, description='invited: invited\naccepted: accepted\ndeclined: declined', enum_type=PartnerStatus, max_length=20)),
                ('answered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'application_partners', 'app': 'civic', 'unique_together': (('application', 'organization'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Award',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('challenge', fields.ForeignKeyField('civic.Challenge', source_field='challenge_id', db_constraint=True, to_field='id', related_name='awards', on_delete=OnDelete.RESTRICT)),
                ('application', fields.OneToOneField('civic.Application', source_field='application_id', db_constraint=True, to_field='id', related_name='award', on_delete=OnDelete.RESTRICT)),
                ('amount_minor', fields.BigIntField()),
                ('currency', fields.CharField(max_length=3)),
                ('rationale', fields.TextField(unique=False)),
                ('created_by_id', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'awards', 'app': 'civic', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='JudgeAssignment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('challenge', fields.ForeignKeyField('civic.Challenge', source_field='challenge_id', db_constraint=True, to_field='id', related_name='judges', on_delete=OnDelete.RESTRICT)),
                ('user', fields.ForeignKeyField('civic.User', source_field='user_id', db_constraint=True, to_field='id', related_name='judging', on_delete=OnDelete.RESTRICT)),
                ('assigned_by_id', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'judge_assignments', 'app': 'civic', 'unique_together': (('challenge', 'user'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Milestone',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('award', fields.ForeignKeyField('civic.Award', source_field='award_id', db_constraint=True, to_field='id', related_name='milestones', on_delete=OnDelete.RESTRICT)),
                ('title', fields.CharField(max_length=160)),
                ('amount_minor', fields.BigIntField()),
                ('currency', fields.CharField(max_length=3)),
                ('due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('position', fields.IntField(default=0)),
                ('status', fields.CharEnumField(default=MilestoneStatus.planned, description='planned: planned\nsubmitted: submitted\napproved: approved\nreleased: released\npaid: paid', enum_type=MilestoneStatus, max_length=20)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'milestones', 'app': 'civic', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Review',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('judge', fields.ForeignKeyField('civic.JudgeAssignment', source_field='judge_id', db_constraint=True, to_field='id', related_name='reviews', on_delete=OnDelete.RESTRICT)),
                ('application', fields.ForeignKeyField('civic.Application', source_field='application_id', db_constraint=True, to_field='id', related_name='reviews', on_delete=OnDelete.RESTRICT)),
                ('conflict_of_interest', fields.BooleanField(default=False)),
                ('scores', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('comment', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'reviews', 'app': 'civic', 'unique_together': (('judge', 'application'),), 'pk_attr': 'id', 'table_description': "A judge's conflict declaration and, without a conflict, their scores for one application."},
            bases=['Model'],
        ),
    ]
