from tortoise import migrations
from tortoise.migrations import operations as ops

class Migration(migrations.Migration):
    dependencies = [('civic', '0007_rewards_ledger_payouts')]

    initial = False

    operations: list[ops.Operation] = [
    ]
