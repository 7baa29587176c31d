from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('civic', '0021_opinion_maps')]

    initial = False

    operations: list[ops.Operation] = [
    ]
