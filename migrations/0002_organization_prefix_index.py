from tortoise import migrations
from tortoise.migrations import operations as ops

from models.team import ORGANIZATION_PREFIX_INDEX_SQL


async def create_prefix_index(apps, schema_editor):
    # PostgreSQL under a non-C collation cannot serve `LIKE 'prefix%'` from the
    # unique index: this operator-class index lets the organization search use
    # a range scan. SQLite needs nothing.
    if schema_editor.client.capabilities.dialect == "postgres":
        await schema_editor.client.execute_script(ORGANIZATION_PREFIX_INDEX_SQL)


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    operations = [ops.RunPython(create_prefix_index)]
