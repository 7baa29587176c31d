from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

from service.notifications.kinds import EmailMode

# Notices and public timeline entries keep their kind and the event's parameters, written
# out in the reader's language when read; the rows written before keep their English text,
# which is still shown for them (no data to convert).


class Migration(migrations.Migration):
    dependencies = [('civic', '0026_object_storage')]

    initial = False

    operations: list[ops.Operation] = [
        ops.AddField(
            model_name='Notification',
            name='kind',
            field=fields.CharField(default='', max_length=60),
        ),
        ops.AddField(
            model_name='Notification',
            name='params',
            field=fields.JSONField(null=True),
        ),
        ops.AddField(
            model_name='Notification',
            name='challenge_id',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Notification',
            name='proposal_id',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Notification',
            name='email_state',
            field=fields.CharField(default='', max_length=10, db_index=True),
        ),
        ops.AddField(
            model_name='OutboxEmail',
            name='unsubscribe_url',
            field=fields.CharField(default='', max_length=500),
        ),
        ops.AddField(
            model_name='Update',
            name='params',
            field=fields.JSONField(null=True),
        ),
        ops.CreateModel(
            name='NotificationSetting',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user_id', fields.IntField(db_index=True)),
                ('group', fields.CharField(max_length=30)),
                ('email', fields.CharEnumField(description='off: off\nimmediate: immediate\ndaily: daily', enum_type=EmailMode, max_length=10)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'notification_settings', 'app': 'civic', 'unique_together': (('user_id', 'group'),), 'pk_attr': 'id', 'table_description': "How one person hears of one group of notice kinds by e-mail (none: the group's default)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='NotificationDigest',
            fields=[
                ('user_id', fields.IntField(primary_key=True, unique=True, db_index=True)),
                ('sent_on', fields.DateField()),
            ],
            options={'table': 'notification_digests', 'app': 'civic', 'pk_attr': 'user_id', 'table_description': 'The day of a person\'s last digest e-mail: one a day, however often the job runs.'},
            bases=['Model'],
        ),
    ]
