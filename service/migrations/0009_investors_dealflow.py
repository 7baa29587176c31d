from tortoise import migrations
from tortoise.migrations import operations as ops
from service.investors.models import IntroStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('civic', '0008_matching_profiles')]

    initial = False

    operations: list[ops.Operation] = [
        ops.CreateModel(
            name='CityPick',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('city', fields.ForeignKeyField('civic.Organization', source_field='city_id', db_constraint=True, to_field='id', related_name='city_picks', on_delete=OnDelete.CASCADE)),
                ('startup', fields.ForeignKeyField('civic.Organization', source_field='startup_id', db_constraint=True, to_field='id', related_name='picked_by', on_delete=OnDelete.CASCADE)),
                ('note', fields.TextField(default='', unique=False)),
                ('created_by_id', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'investor_city_picks', 'app': 'civic', 'unique_together': (('city', 'startup'),), 'pk_attr': 'id', 'table_description': "A city's curators recommend a startup to every investor, with a note."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='IntroRequest',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('investor', fields.ForeignKeyField('civic.Organization', source_field='investor_id', db_constraint=True, to_field='id', related_name='intro_requests_sent', on_delete=OnDelete.CASCADE)),
                ('startup', fields.ForeignKeyField('civic.Organization', source_field='startup_id', db_constraint=True, to_field='id', related_name='intro_requests_received', on_delete=OnDelete.CASCADE)),
                ('requested_by', fields.ForeignKeyField('civic.User', source_field='requested_by_id', db_constraint=True, to_field='id', related_name='intro_requests_made', on_delete=OnDelete.RESTRICT)),
                ('answered_by', fields.ForeignKeyField('civic.User', source_field='answered_by_id', null=True, db_constraint=True, to_field='id', related_name='intro_requests_answered', on_delete=OnDelete.RESTRICT)),
                ('message', fields.TextField(unique=False)),
                ('reply', fields.TextField(default='', unique=False)),
                ('status', fields.CharEnumField(default=IntroStatus.open, description='open: open\naccepted: accepted\ndeclined: declined\nexpired: expired', enum_type=IntroStatus, max_length=20)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('answered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'intro_requests', 'app': 'civic', 'indexes': [Index(fields=['investor_id', 'status']), Index(fields=['startup_id', 'status'])], 'pk_attr': 'id', 'table_description': 'An investor asks a startup for an introduction, contacts shared on accept.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ProfileView',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('investor', fields.ForeignKeyField('civic.Organization', source_field='investor_id', db_constraint=True, to_field='id', related_name='profile_views_made', on_delete=OnDelete.CASCADE)),
                ('startup', fields.ForeignKeyField('civic.Organization', source_field='startup_id', db_constraint=True, to_field='id', related_name='profile_views', on_delete=OnDelete.CASCADE)),
                ('views', fields.IntField(default=1)),
                ('last_viewed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'investor_profile_views', 'app': 'civic', 'unique_together': (('investor', 'startup'),), 'pk_attr': 'id', 'table_description': "An investor looked at a startup's detail page (the last time, and how often)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Watch',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('investor', fields.ForeignKeyField('civic.Organization', source_field='investor_id', db_constraint=True, to_field='id', related_name='watches', on_delete=OnDelete.CASCADE)),
                ('startup', fields.ForeignKeyField('civic.Organization', source_field='startup_id', db_constraint=True, to_field='id', related_name='watched_by', on_delete=OnDelete.CASCADE)),
                ('note', fields.TextField(default='', unique=False)),
                ('created_by_id', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'investor_watches', 'app': 'civic', 'unique_together': (('investor', 'startup'),), 'pk_attr': 'id', 'table_description': "A startup on an investor's watchlist, with the investor's private note."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WatchNotice',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('watch', fields.ForeignKeyField('civic.Watch', source_field='watch_id', db_constraint=True, to_field='id', related_name='notices', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=20)),
                ('object_id', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'investor_watch_notices', 'app': 'civic', 'unique_together': (('watch', 'kind', 'object_id'),), 'pk_attr': 'id', 'table_description': 'One event of a watched startup the watchers were told about (told once).'},
            bases=['Model'],
        ),
    ]
