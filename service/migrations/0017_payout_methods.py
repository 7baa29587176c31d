from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('civic', '0016_input_hygiene')]

    initial = False

    operations: list[ops.Operation] = [
        ops.AddField(
            model_name='PayoutAccount',
            name='details',
            field=fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='PayoutAccount',
            name='method',
            field=fields.CharField(default='', max_length=30),
        ),
    ]
