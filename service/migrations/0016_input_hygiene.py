from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('civic', '0015_duties_conflicts')]

    initial = False

    operations: list[ops.Operation] = [
    ]
