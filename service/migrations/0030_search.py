from tortoise import migrations
from tortoise.migrations import operations as ops

class Migration(migrations.Migration):
    dependencies = [('civic', '0029_questions_and_views')]

    initial = False

    operations: list[ops.Operation] = [
    ]
