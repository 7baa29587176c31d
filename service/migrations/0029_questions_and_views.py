"""Questions are signed only when the asker chooses to (with their organization's name), and a
startup's detail counts one view per viewer and day, however often it is reloaded."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('civic', '0028_account_changes')]

    initial = False

    operations: list[ops.Operation] = [
        ops.AddField(
            model_name='Question',
            name='signed',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='Question',
            name='signed_organization_id',
            field=fields.IntField(null=True),
        ),
        ops.CreateModel(
            name='ProfileViewDay',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('investor_id', fields.IntField()),
                ('startup_id', fields.IntField()),
                ('viewer', fields.CharField(max_length=64)),
                ('day', fields.DateField()),
            ],
            options={'table': 'investor_profile_view_days', 'app': 'civic', 'unique_together': (('startup_id', 'investor_id', 'viewer', 'day'),), 'pk_attr': 'id', 'table_description': "Who viewed a startup's detail on a day: a reload counts once per viewer and day."},
            bases=['Model'],
        ),
    ]
