from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('civic', '0011_incubation')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ProposalPhoto',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('proposal', fields.OneToOneField('civic.Proposal', source_field='proposal_id', db_constraint=True, to_field='id', related_name='photo', on_delete=OnDelete.CASCADE)),
                ('stored_name', fields.CharField(max_length=200)),
                ('content_type', fields.CharField(max_length=100)),
                ('size', fields.IntField()),
                ('sha256', fields.CharField(max_length=64)),
                ('alt', fields.CharField(max_length=200)),
                ('uploaded_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'proposal_photos', 'app': 'civic', 'pk_attr': 'id', 'table_description': 'The optional photo of a proposal, with the words that describe it to those who cannot'},
            bases=['Model'],
        ),
    ]
