from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

# Organizations that existed before take the zone of their country (the served countries';
# the others stay in UTC until their owner picks one). Plain SQL that SQLite and PostgreSQL share.
_FROM_COUNTRY = """
UPDATE organizations SET time_zone = CASE country
    WHEN 'AR' THEN 'America/Argentina/Buenos_Aires'
    WHEN 'BR' THEN 'America/Sao_Paulo'
    WHEN 'CL' THEN 'America/Santiago'
    WHEN 'CO' THEN 'America/Bogota'
    WHEN 'ES' THEN 'Europe/Madrid'
    WHEN 'GB' THEN 'Europe/London'
    WHEN 'MX' THEN 'America/Mexico_City'
    WHEN 'PT' THEN 'Europe/Lisbon'
    WHEN 'US' THEN 'America/New_York'
    ELSE 'UTC' END
"""


class Migration(migrations.Migration):
    dependencies = [('civic', '0018_exchange_rates')]

    initial = False

    operations: list[ops.Operation] = [
        ops.AddField(
            model_name='Organization',
            name='time_zone',
            field=fields.CharField(default='UTC', max_length=64),
        ),
        ops.AddField(
            model_name='User',
            name='time_zone',
            field=fields.CharField(default='', max_length=64),
        ),
        ops.RunSQL(_FROM_COUNTRY, reverse_sql="SELECT 1"),
    ]
