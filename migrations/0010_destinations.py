from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from migrations._operations import DescribeField
from models.alert import AlertChannel, AlertEventType, AlertSeverity

# Destinations (the account's email and Slack, webhooks, Discord; an account's or a
# team's), the routes that pick them, each delivery's destination and log of attempts,
# and the receivers' pace. The enums that gained members are described anew only
# (DescribeField).


class Migration(migrations.Migration):
    dependencies = [("models", "0009_service_accounts")]

    initial = False

    operations = [
        ops.CreateModel(
            name="DeliveryAttempt",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "delivery",
                    fields.ForeignKeyField(
                        "models.AlertDelivery",
                        source_field="delivery_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="attempt_log",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "status_code",
                    fields.IntField(
                        null=True,
                        description="The receiver's HTTP status or SMTP reply code, null when no answer came.",
                    ),
                ),
                ("duration_ms", fields.IntField()),
                ("error", fields.TextField(null=True, unique=False)),
            ],
            options={
                "table": "delivery_attempt",
                "app": "models",
                "indexes": [Index(fields=["delivery_id", "id"])],
                "pk_attr": "id",
                "table_description": "One try at sending a delivery: when, what the receiver answered, how long it took.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Destination",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        null=True,
                        description="The account it belongs to, null for a team's.",
                        db_constraint=True,
                        to_field="id",
                        related_name="destinations",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "team",
                    fields.ForeignKeyField(
                        "models.Team",
                        source_field="team_id",
                        null=True,
                        description="The team it belongs to, null for an account's.",
                        db_constraint=True,
                        to_field="id",
                        related_name="destinations",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "kind",
                    fields.CharEnumField(
                        description="EMAIL: EMAIL\nSLACK: SLACK\nWEBHOOK: WEBHOOK\nDISCORD: DISCORD",
                        enum_type=AlertChannel,
                        max_length=8,
                    ),
                ),
                (
                    "built_in",
                    fields.CharEnumField(
                        null=True,
                        description="EMAIL: EMAIL\nSLACK: SLACK\nWEBHOOK: WEBHOOK\nDISCORD: DISCORD",
                        enum_type=AlertChannel,
                        max_length=8,
                    ),
                ),
                ("name", fields.CharField(max_length=64)),
                (
                    "url_sealed",
                    fields.TextField(
                        null=True,
                        description="The URL, sealed with SECRET_KEY: a Discord webhook's path is its secret.",
                        unique=False,
                    ),
                ),
                (
                    "target",
                    fields.CharField(
                        default="",
                        description="What the owner is shown of the URL: its host.",
                        max_length=255,
                    ),
                ),
                (
                    "secret_sealed",
                    fields.TextField(
                        null=True,
                        description="The Standard Webhooks signing secret (whsec_...), sealed.",
                        unique=False,
                    ),
                ),
                (
                    "previous_secret_sealed",
                    fields.TextField(
                        null=True,
                        description="The secret before the last rotation, which signs beside the new one until then.",
                        unique=False,
                    ),
                ),
                (
                    "previous_secret_until",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("enabled", fields.BooleanField(default=True)),
                (
                    "disabled_reason",
                    fields.TextField(
                        null=True,
                        description="Why the server turned it off: the receiver said gone, or kept failing.",
                        unique=False,
                    ),
                ),
                (
                    "muted_until",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                (
                    "digest_minutes",
                    fields.IntField(
                        null=True,
                        description="Alerts of this many minutes are gathered into one message, null sends each alone.",
                    ),
                ),
                (
                    "failures",
                    fields.IntField(
                        default=0,
                        description="Attempts that failed in a row, past a threshold the destination is disabled.",
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "alert_destination",
                "app": "models",
                "unique_together": (("user", "built_in"),),
                "pk_attr": "id",
                "table_description": "Where alerts can be sent: the account's email or Slack, a signed webhook or a",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="AlertRoute",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        null=True,
                        description="The account it belongs to, null for a team's.",
                        db_constraint=True,
                        to_field="id",
                        related_name="alert_routes",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "team",
                    fields.ForeignKeyField(
                        "models.Team",
                        source_field="team_id",
                        null=True,
                        description="The team it belongs to, null for an account's.",
                        db_constraint=True,
                        to_field="id",
                        related_name="alert_routes",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "entity_name",
                    fields.CharField(
                        null=True,
                        description="Alerts of runs of this entity (its name as registered), null for every entity.",
                        max_length=64,
                    ),
                ),
                (
                    "project_pattern",
                    fields.CharField(
                        null=True,
                        description="A project name or a glob such as train-*, null for every project.",
                        max_length=128,
                    ),
                ),
                (
                    "events",
                    fields.CharField(
                        description="Comma list of event types (encode_events).", max_length=128
                    ),
                ),
                (
                    "min_severity",
                    fields.CharEnumField(
                        default=AlertSeverity.INFO,
                        description="INFO: INFO\nWARN: WARN\nERROR: ERROR",
                        enum_type=AlertSeverity,
                        max_length=8,
                    ),
                ),
                (
                    "destinations",
                    fields.ManyToManyField(
                        "models.Destination",
                        unique=True,
                        db_constraint=True,
                        through="alert_route_destination",
                        forward_key="destination_id",
                        backward_key="alert_route_id",
                        related_name="routes",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "alert_route",
                "app": "models",
                "pk_attr": "id",
                "table_description": "Which alerts go to which destinations: an account's own alerts, or a team's",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Pace",
            fields=[
                (
                    "key",
                    fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64),
                ),
                (
                    "free_at",
                    fields.FloatField(
                        description="Seconds since the epoch: a number, so that SQL on either backend can add to it."
                    ),
                ),
            ],
            options={
                "table": "delivery_pace",
                "app": "models",
                "pk_attr": "key",
                "table_description": "When a receiver may next be sent to (Slack takes about a message a second a",
            },
            bases=["Model"],
        ),
        DescribeField(
            model_name="AlertDelivery",
            name="channel",
            field=fields.CharEnumField(
                description="EMAIL: EMAIL\nSLACK: SLACK\nWEBHOOK: WEBHOOK\nDISCORD: DISCORD",
                enum_type=AlertChannel,
                max_length=8,
            ),
        ),
        ops.AddField(
            model_name="AlertDelivery",
            name="attempt_limit",
            field=fields.IntField(
                default=8,
                description="Claimed while `attempts` is below it: a redelivery raises it by a round of attempts.",
                db_default=8,
            ),
        ),
        ops.AddField(
            model_name="AlertDelivery",
            name="destination",
            field=fields.ForeignKeyField(
                "models.Destination",
                source_field="destination_id",
                null=True,
                description="Where it goes, null for the account's email and Slack chosen by its subscriptions.",
                db_constraint=True,
                to_field="id",
                related_name="deliveries",
                on_delete=OnDelete.SET_NULL,
            ),
        ),
        DescribeField(
            model_name="AlertEvent",
            name="type",
            field=fields.CharEnumField(
                description="RUN_FINISHED: RUN_FINISHED\nRUN_CRASHED: RUN_CRASHED\nSCRIPTABLE: SCRIPTABLE\nTEST: TEST\nINVITE: INVITE\nDELIVERY_STOPPED: DELIVERY_STOPPED",
                enum_type=AlertEventType,
                max_length=16,
            ),
        ),
        DescribeField(
            model_name="AlertSubscription",
            name="channel",
            field=fields.CharEnumField(
                description="EMAIL: EMAIL\nSLACK: SLACK\nWEBHOOK: WEBHOOK\nDISCORD: DISCORD",
                enum_type=AlertChannel,
                max_length=8,
            ),
        ),
        DescribeField(
            model_name="AlertSubscription",
            name="event",
            field=fields.CharEnumField(
                description="RUN_FINISHED: RUN_FINISHED\nRUN_CRASHED: RUN_CRASHED\nSCRIPTABLE: SCRIPTABLE\nTEST: TEST\nINVITE: INVITE\nDELIVERY_STOPPED: DELIVERY_STOPPED",
                enum_type=AlertEventType,
                max_length=16,
            ),
        ),
    ]
