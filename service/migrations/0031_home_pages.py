from tortoise import migrations
from tortoise.migrations import operations as ops

class Migration(migrations.Migration):
    dependencies = [('civic', '0030_search')]

    initial = False

    operations: list[ops.Operation] = [
    ]
