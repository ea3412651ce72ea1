from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# Service accounts: a team's non-human members, signed in with API keys only. The
# database default fills the rows already there (SQLite cannot add a NOT NULL
# column without one).


class Migration(migrations.Migration):
    dependencies = [("models", "0008_api_key_scopes")]

    initial = False

    operations = [
        ops.AddField(
            model_name="User",
            name="service",
            field=fields.BooleanField(
                default=False,
                db_default=False,
                description=(
                    "A team's service account (W&B's): a member of that one team, made by "
                    "its admins,"
                ),
            ),
        ),
    ]
