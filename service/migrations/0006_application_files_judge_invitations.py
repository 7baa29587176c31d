from tortoise import migrations
from tortoise.migrations import operations as ops
from service.applications.models import JudgeInvitationStatus
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('civic', '0005_public_list_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ApplicationAttachment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('application', fields.ForeignKeyField('civic.Application', source_field='application_id', db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.RESTRICT)),
                ('original_name', fields.CharField(max_length=255)),
                ('stored_name', fields.CharField(unique=True, max_length=80)),
                ('content_type', fields.CharField(max_length=100)),
                ('size', fields.BigIntField()),
                ('sha256', fields.CharField(max_length=64)),
                ('uploaded_by_id', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'application_attachments', 'app': 'civic', 'pk_attr': 'id', 'table_description': 'A file of an application: seen by its member organizations, the city and cleared judges.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='JudgeInvitation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('challenge', fields.ForeignKeyField('civic.Challenge', source_field='challenge_id', db_constraint=True, to_field='id', related_name='judge_invitations', on_delete=OnDelete.RESTRICT)),
                ('email', fields.CharField(db_index=True, max_length=254)),
                ('status', fields.CharEnumField(default=JudgeInvitationStatus.pending, description='pending: pending\naccepted: accepted\ndeclined: declined\nrevoked: revoked', enum_type=JudgeInvitationStatus, max_length=20)),
                ('invited_by_id', fields.IntField()),
                ('answered_by_id', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('answered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'judge_invitations', 'app': 'civic', 'pk_attr': 'id', 'table_description': 'An outside expert invited by e-mail to judge, who may not have an account yet.'},
            bases=['Model'],
        ),
    ]
