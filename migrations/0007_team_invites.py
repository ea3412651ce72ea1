from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from migrations._operations import DescribeField
from models.alert import AlertEventType
from models.team import TeamRole

# Team invitations (an admin invites, the invitee answers), and the address an
# invitation's email goes to when it has no account yet. A field's description (the
# first line of its `#:` comment) must hold no ";": Tortoise splits SQLite's DDL there.


_EVENT_TYPES = (
    "RUN_FINISHED: RUN_FINISHED\nRUN_CRASHED: RUN_CRASHED\nSCRIPTABLE: SCRIPTABLE\n"
    "TEST: TEST\nINVITE: INVITE"
)


class Migration(migrations.Migration):
    dependencies = [("models", "0006_account_tokens_valid_after")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Invite",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "team",
                    fields.ForeignKeyField(
                        "models.Team",
                        source_field="team_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="invites",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "from_user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="from_user_id",
                        null=True,
                        description="The admin who sent it, null once that account is deleted.",
                        db_constraint=True,
                        to_field="id",
                        related_name="sent_invites",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "to_user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="to_user_id",
                        null=True,
                        description="An invitation by username.",
                        db_constraint=True,
                        to_field="id",
                        related_name="invites",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "email",
                    fields.CharField(
                        null=True,
                        description=(
                            "An invitation by email, as it was typed, and lower-cased "
                            "(`email_key`): the"
                        ),
                        max_length=320,
                    ),
                ),
                ("email_key", fields.CharField(null=True, db_index=True, max_length=320)),
                (
                    "role",
                    fields.CharEnumField(
                        default=TeamRole.MEMBER,
                        description="ADMIN: ADMIN\nMEMBER: MEMBER",
                        enum_type=TeamRole,
                        max_length=16,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "team_invite",
                "app": "models",
                "unique_together": (("team", "to_user"), ("team", "email_key")),
                "pk_attr": "id",
                "table_description": (
                    "An invitation to join a team, waiting for the invitee's answer: to an account"
                ),
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="AlertDelivery",
            name="address",
            field=fields.CharField(
                null=True,
                description=(
                    "An email address to send to instead of the account's own: an invitation"
                ),
                max_length=320,
            ),
        ),
        DescribeField(
            model_name="AlertEvent",
            name="type",
            field=fields.CharEnumField(
                description=_EVENT_TYPES, enum_type=AlertEventType, max_length=16
            ),
        ),
        DescribeField(
            model_name="AlertSubscription",
            name="event",
            field=fields.CharEnumField(
                description=_EVENT_TYPES, enum_type=AlertEventType, max_length=16
            ),
        ),
    ]
