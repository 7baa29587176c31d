from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from service.incubation.models import AlertKind, Cadence, Light, MentorStatus, PlaceStatus, ProjectStatus
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('civic', '0010_participation')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Programme',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('civic.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='programmes', on_delete=OnDelete.RESTRICT)),
                ('partner', fields.ForeignKeyField('civic.Organization', source_field='partner_id', null=True, db_constraint=True, to_field='id', related_name='partner_programmes', on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(max_length=160)),
                ('description', fields.TextField(default='', unique=False)),
                ('created_by_id', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'incubation_programmes', 'app': 'civic', 'pk_attr': 'id', 'table_description': 'An incubation programme run by a city (or by a university or incubator it names).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Cohort',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('programme', fields.ForeignKeyField('civic.Programme', source_field='programme_id', db_constraint=True, to_field='id', related_name='cohorts', on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(max_length=160)),
                ('starts_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('capacity', fields.IntField()),
                ('space_name', fields.CharField(default='', max_length=160)),
                ('space_address', fields.CharField(default='', max_length=300)),
                ('remote', fields.BooleanField(default=False)),
                ('cadence', fields.CharEnumField(default=Cadence.fortnightly, description='weekly: weekly\nfortnightly: fortnightly\nmonthly: monthly', enum_type=Cadence, max_length=20)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'incubation_cohorts', 'app': 'civic', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Mentor',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cohort', fields.ForeignKeyField('civic.Cohort', source_field='cohort_id', db_constraint=True, to_field='id', related_name='mentors', on_delete=OnDelete.RESTRICT)),
                ('email', fields.CharField(max_length=254)),
                ('user', fields.ForeignKeyField('civic.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='mentoring', on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(default='', max_length=120)),
                ('expertise', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('capacity', fields.IntField(default=2)),
                ('status', fields.CharEnumField(default=MentorStatus.invited, description='invited: invited\nactive: active\ndeclined: declined', enum_type=MentorStatus, max_length=20)),
                ('invited_by_id', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('answered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'incubation_mentors', 'app': 'civic', 'unique_together': (('cohort', 'email'),), 'pk_attr': 'id', 'table_description': 'A person invited by e-mail to mentor a cohort, with their expertise and capacity.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Place',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cohort', fields.ForeignKeyField('civic.Cohort', source_field='cohort_id', db_constraint=True, to_field='id', related_name='places', on_delete=OnDelete.RESTRICT)),
                ('organization', fields.ForeignKeyField('civic.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='cohort_places', on_delete=OnDelete.RESTRICT)),
                ('award', fields.ForeignKeyField('civic.Award', source_field='award_id', null=True, db_constraint=True, to_field='id', related_name='cohort_places', on_delete=OnDelete.RESTRICT)),
                ('challenge', fields.ForeignKeyField('civic.Challenge', source_field='challenge_id', null=True, db_constraint=True, to_field='id', related_name='cohort_places', on_delete=OnDelete.RESTRICT)),
                ('status', fields.CharEnumField(description='offered: offered\napplied: applied\nadmitted: admitted\ndeclined: declined\nrefused: refused', enum_type=PlaceStatus, max_length=20)),
                ('pitch', fields.TextField(default='', unique=False)),
                ('sectors', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('reason', fields.TextField(default='', unique=False)),
                ('decided_by_id', fields.IntField(null=True)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_by_id', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'incubation_places', 'app': 'civic', 'unique_together': (('cohort', 'organization'),), 'pk_attr': 'id', 'table_description': "A startup's place in a cohort, from an offer or an application."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CheckIn',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('place', fields.ForeignKeyField('civic.Place', source_field='place_id', db_constraint=True, to_field='id', related_name='check_ins', on_delete=OnDelete.RESTRICT)),
                ('step', fields.IntField()),
                ('due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('progress', fields.TextField(unique=False)),
                ('blockers', fields.TextField(default='', unique=False)),
                ('help_needed', fields.TextField(default='', unique=False)),
                ('light', fields.CharEnumField(description='green: green\namber: amber\nred: red', enum_type=Light, max_length=10)),
                ('submitted_by_id', fields.IntField()),
                ('submitted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('mentor_note', fields.TextField(default='', unique=False)),
                ('noted_by_id', fields.IntField(null=True)),
                ('noted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'incubation_check_ins', 'app': 'civic', 'unique_together': (('place', 'step'),), 'pk_attr': 'id', 'table_description': "A startup's answer for one step of the cohort's cadence: private to the startup, its"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CheckInAlert',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('place', fields.ForeignKeyField('civic.Place', source_field='place_id', db_constraint=True, to_field='id', related_name='alerts', on_delete=OnDelete.RESTRICT)),
                ('step', fields.IntField()),
                ('kind', fields.CharEnumField(description='reminder: reminder\nflag: flag', enum_type=AlertKind, max_length=10)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'incubation_check_in_alerts', 'app': 'civic', 'unique_together': (('place', 'step', 'kind'),), 'pk_attr': 'id', 'table_description': 'A reminder sent to a late startup, or a flag raised to the staff: each one once per'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Pairing',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('mentor', fields.ForeignKeyField('civic.Mentor', source_field='mentor_id', db_constraint=True, to_field='id', related_name='pairings', on_delete=OnDelete.RESTRICT)),
                ('place', fields.ForeignKeyField('civic.Place', source_field='place_id', db_constraint=True, to_field='id', related_name='pairings', on_delete=OnDelete.RESTRICT)),
                ('created_by_id', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('ended_by_id', fields.IntField(null=True)),
            ],
            options={'table': 'incubation_pairings', 'app': 'civic', 'pk_attr': 'id', 'table_description': 'A mentor paired with a startup. Removing a pair ends it (the row stays, for history).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Project',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('place', fields.OneToOneField('civic.Place', source_field='place_id', db_constraint=True, to_field='id', related_name='project', on_delete=OnDelete.RESTRICT)),
                ('organization', fields.ForeignKeyField('civic.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='incubation_projects', on_delete=OnDelete.RESTRICT)),
                ('city', fields.ForeignKeyField('civic.Organization', source_field='city_id', db_constraint=True, to_field='id', related_name='hosted_projects', on_delete=OnDelete.RESTRICT)),
                ('award', fields.ForeignKeyField('civic.Award', source_field='award_id', null=True, db_constraint=True, to_field='id', related_name='incubation_projects', on_delete=OnDelete.RESTRICT)),
                ('challenge', fields.ForeignKeyField('civic.Challenge', source_field='challenge_id', null=True, db_constraint=True, to_field='id', related_name='incubation_projects', on_delete=OnDelete.RESTRICT)),
                ('title', fields.CharField(max_length=200)),
                ('status', fields.CharEnumField(default=ProjectStatus.incubating, description='incubating: incubating\npilot_agreed: pilot_agreed\npilot_running: pilot_running\npilot_completed: pilot_completed\ncontract_awarded: contract_awarded\nstopped: stopped', enum_type=ProjectStatus, max_length=20)),
                ('stop_reason', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'incubation_projects', 'app': 'civic', 'pk_attr': 'id', 'table_description': "An incubated startup's path from prize to pilot (one per admitted place)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Contract',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.OneToOneField('civic.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='contract', on_delete=OnDelete.RESTRICT)),
                ('amount_minor', fields.BigIntField()),
                ('currency', fields.CharField(max_length=3)),
                ('supplier', fields.CharField(max_length=200)),
                ('starts_on', fields.DateField()),
                ('ends_on', fields.DateField()),
                ('recorded_by_id', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'incubation_contracts', 'app': 'civic', 'pk_attr': 'id', 'table_description': 'The contract the city awarded after the pilot.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ProjectStep',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('civic.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='steps', on_delete=OnDelete.RESTRICT)),
                ('from_status', fields.CharField(max_length=20)),
                ('to_status', fields.CharField(max_length=20)),
                ('on', fields.DateField()),
                ('reason', fields.TextField(default='', unique=False)),
                ('actor_id', fields.IntField(null=True)),
                ('recorded_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'incubation_project_steps', 'app': 'civic', 'unique_together': (('project', 'to_status'),), 'pk_attr': 'id', 'table_description': "A step of a project's path: when it was reached, and who recorded it."},
            bases=['Model'],
        ),
    ]
