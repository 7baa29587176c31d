from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('civic', '0027_notification_events')]

    initial = False

    operations: list[ops.Operation] = [
        ops.AddField(
            model_name='User',
            name='deleted_at',
            field=fields.DatetimeField(null=True),
        ),
    ]
