from tortoise import migrations
from tortoise.migrations import operations as ops

from models.team import ORGANIZATION_NAME_STATISTICS_SQL


async def refine_name_statistics(apps, schema_editor):
    # PostgreSQL only: see ORGANIZATION_NAME_STATISTICS_SQL. SQLite needs nothing.
    if schema_editor.client.capabilities.dialect == "postgres":
        await schema_editor.client.execute_script(ORGANIZATION_NAME_STATISTICS_SQL)


class Migration(migrations.Migration):
    dependencies = [("models", "0002_organization_prefix_index")]

    operations = [ops.RunPython(refine_name_statistics)]
