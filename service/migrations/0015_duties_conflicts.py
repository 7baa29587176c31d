from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('civic', '0014_sessions_sign_in')]

    initial = False

    operations: list[ops.Operation] = [
        ops.AddField(
            model_name='JudgeAssignment',
            name='recuse_from_all',
            field=fields.BooleanField(default=False),
        ),
    ]
