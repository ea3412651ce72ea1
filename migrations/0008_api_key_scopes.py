from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# Scoped and expiring API keys (issue 21). Keys made before have no scopes to keep:
# they get the new keys' default, READ and RUNS, which is what run trackers use them
# for. A key that managed the account (keys, teams, integrations) must be made again
# with ACCOUNT: until now any leaked tracker key could do all of that.


class Migration(migrations.Migration):
    dependencies = [("models", "0007_team_invites")]

    initial = False

    operations = [
        ops.AddField(
            model_name="ApiKey",
            name="expires_at",
            field=fields.DatetimeField(
                null=True,
                description="Null for a key that never expires.",
                auto_now=False,
                auto_now_add=False,
            ),
        ),
        ops.AddField(
            model_name="ApiKey",
            name="scopes",
            field=fields.CharField(
                default="READ,RUNS",
                description="Comma list of scope names (encode_scopes), read with the key at sign-in.",
                db_default="READ,RUNS",
                max_length=64,
            ),
        ),
    ]
