from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('civic', '0013_two_factor')]

    initial = False

    operations: list[ops.Operation] = [
        ops.CreateModel(
            name='ApiToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('civic.User', source_field='user_id', db_constraint=True, to_field='id', related_name='api_tokens', on_delete=OnDelete.RESTRICT)),
                ('jti', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('last_seen_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('version', fields.IntField(default=0)),
                ('mfa', fields.BooleanField(default=False)),
                ('ip', fields.CharField(default='', max_length=64)),
                ('user_agent', fields.CharField(default='', max_length=255)),
                ('device', fields.CharField(default='', max_length=120)),
                ('place', fields.CharField(default='', max_length=8)),
            ],
            options={'table': 'api_tokens', 'app': 'civic', 'pk_attr': 'id', 'table_description': "A bearer token issued at sign-in, listed on its owner's account page."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='WebSession',
            name='device',
            field=fields.CharField(default='', max_length=120),
        ),
        ops.AddField(
            model_name='WebSession',
            name='last_seen_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='WebSession',
            name='place',
            field=fields.CharField(default='', max_length=8),
        ),
        ops.AddField(
            model_name='WebSession',
            name='user_agent',
            field=fields.CharField(default='', max_length=255),
        ),
    ]
