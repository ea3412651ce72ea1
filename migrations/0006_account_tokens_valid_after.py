from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# Until now only a deleted account's tombstone (`deleted_at`) refused old tokens, and
# only while no account held the name: the first new token cleared it. The moment
# is kept apart now, and never cleared. Names deleted before this migration start
# with their deletion's moment, so their old tokens stay refused after a re-creation.


class Migration(migrations.Migration):
    dependencies = [("models", "0005_alert_retention_indexes")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Entity",
            name="tokens_valid_after",
            field=fields.DatetimeField(
                null=True,
                description="Tokens issued at or before this moment are refused, for any account of this name.",
                auto_now=False,
                auto_now_add=False,
            ),
        ),
        ops.RunSQL(
            "UPDATE entity SET tokens_valid_after = deleted_at WHERE deleted_at IS NOT NULL",
            reverse_sql=ops.RunSQL.noop,
        ),
    ]
