from tortoise import migrations
from tortoise.migrations import operations as ops

class Migration(migrations.Migration):
    dependencies = [('civic', '0008_matching_profiles')]

    initial = False

    operations: list[ops.Operation] = [
    ]
