from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from service.funding.models import BallotKind, Funded, Override, RoundStatus
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('civic', '0022_citizen_panels')]

    initial = False

    operations: list[ops.Operation] = [
        ops.CreateModel(
            name='FundingRound',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('civic.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='funding_rounds', on_delete=OnDelete.RESTRICT)),
                ('title', fields.CharField(max_length=160)),
                ('description', fields.TextField(default='', unique=False)),
                ('region', fields.CharField(max_length=120)),
                ('require_oidc', fields.BooleanField(default=False)),
                ('budget_minor', fields.BigIntField()),
                ('currency', fields.CharField(max_length=3)),
                ('ballot_kind', fields.CharEnumField(default=BallotKind.approval, description='approval: approval', enum_type=BallotKind, max_length=20)),
                ('max_approvals', fields.IntField(null=True)),
                ('opens_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('closes_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('status', fields.CharEnumField(default=RoundStatus.draft, description='draft: draft\npublished: published\ncounted: counted', enum_type=RoundStatus, max_length=20)),
                ('created_by_id', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('counted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('voters', fields.IntField(default=0)),
                ('share', fields.CharField(default='', max_length=120)),
                ('base_share', fields.CharField(default='', max_length=120)),
                ('completion_runs', fields.IntField(default=0)),
            ],
            options={'table': 'funding_rounds', 'app': 'civic', 'pk_attr': 'id', 'table_description': "A city's budget shared by its residents' votes across candidate challenges."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Ballot',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('round', fields.ForeignKeyField('civic.FundingRound', source_field='round_id', db_constraint=True, to_field='id', related_name='ballots', on_delete=OnDelete.RESTRICT)),
                ('voter_id', fields.IntField(null=True)),
                ('choices', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('receipt', fields.CharField(unique=True, max_length=64)),
                ('cast_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'funding_ballots', 'app': 'civic', 'unique_together': (('round', 'voter_id'),), 'pk_attr': 'id', 'table_description': "One voter's approvals. `voter_id` is erased at the count, and the receipt stays."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Candidate',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('round', fields.ForeignKeyField('civic.FundingRound', source_field='round_id', db_constraint=True, to_field='id', related_name='candidates', on_delete=OnDelete.RESTRICT)),
                ('position', fields.IntField()),
                ('challenge_id', fields.IntField(null=True)),
                ('proposal_id', fields.IntField(null=True)),
                ('title', fields.CharField(max_length=160)),
                ('summary', fields.CharField(default='', max_length=300)),
                ('cost_minor', fields.BigIntField()),
                ('votes', fields.IntField(default=0)),
                ('funded', fields.CharEnumField(default=Funded.no, description='no: \nshares: shares\nleftover: leftover\noverride: override', enum_type=Funded, max_length=20)),
                ('plain_funded', fields.BooleanField(default=False)),
                ('greedy_funded', fields.BooleanField(default=False)),
                ('purchase_order', fields.IntField(null=True)),
                ('price', fields.CharField(default='', max_length=120)),
                ('full_payers', fields.IntField(default=0)),
                ('partial_payers', fields.IntField(default=0)),
                ('partial_total', fields.CharField(default='', max_length=120)),
                ('reserved_minor', fields.BigIntField(default=0)),
                ('override', fields.CharEnumField(default=Override.none, description='none: \nfund: fund\ndrop: drop', enum_type=Override, max_length=10)),
                ('override_reason', fields.TextField(default='', unique=False)),
                ('overridden_by_id', fields.IntField(null=True)),
                ('overridden_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'funding_candidates', 'app': 'civic', 'unique_together': (('round', 'position'),), 'pk_attr': 'id', 'table_description': "A challenge draft or a citizen proposal on a round's ballot. Its reward is its cost."},
            bases=['Model'],
        ),
    ]
