from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('civic', '0025_scale_aggregates')]

    initial = False

    operations: list[ops.Operation] = [
    ]
