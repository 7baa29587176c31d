"""Indexes for the public challenge list, newest first, with and without an area filter.

Without them every page reads all public challenges of the area (or all of them) and sorts
them: at 100,000 challenges about 18 ms of database time per page instead of 0.1 ms.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

FORWARD = """
CREATE INDEX IF NOT EXISTS challenges_public_newest
    ON challenges (published_at DESC, id DESC) WHERE published_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS challenges_public_area_newest
    ON challenges (area, published_at DESC, id DESC) WHERE published_at IS NOT NULL;
"""
BACKWARD = """
DROP INDEX IF EXISTS challenges_public_area_newest;
DROP INDEX IF EXISTS challenges_public_newest;
"""


async def forward(apps, schema_editor):
    await schema_editor.client.execute_script(FORWARD)


async def backward(apps, schema_editor):
    await schema_editor.client.execute_script(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("civic", "0004_applications_judging_awards")]

    initial = False

    operations = [ops.RunPython(forward, backward)]
