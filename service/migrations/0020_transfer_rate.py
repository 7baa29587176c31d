from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("civic", "0019_time_zones")]

    initial = False

    operations: list[ops.Operation] = [
        ops.AddField(
            model_name="Payout",
            name="transfer_amount_minor",
            field=fields.BigIntField(null=True),
        ),
        ops.AddField(
            model_name="Payout",
            name="transfer_currency",
            field=fields.CharField(null=True, max_length=3),
        ),
        ops.AddField(
            model_name="Payout",
            name="transfer_rate",
            field=fields.CharField(null=True, max_length=40),
        ),
        ops.AddField(
            model_name="PayoutAccount",
            name="currency",
            field=fields.CharField(null=True, max_length=3),
        ),
    ]
