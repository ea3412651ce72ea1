"""The alert enums of the models, named for the schema before any type refers to them:
a type read early (`schema.reading`) would otherwise make a second, unnamed one."""

import strawberry

from models import alert as models

strawberry.enum(
    models.AlertEventType,
    name="AlertEventType",
    description=(
        "What an alert is about. TEST is a test alert, INVITE an invitation to a team, "
        "DELIVERY_STOPPED a destination the server turned off; none can be subscribed to."
    ),
)
strawberry.enum(models.AlertChannel, name="AlertChannel")
strawberry.enum(models.AlertSeverity, name="AlertSeverity")
strawberry.enum(
    models.DeliveryStatus,
    name="DeliveryStatus",
    description=(
        "SUPPRESSED: not sent, as an alert with the same title for the same run was sent "
        "within its waitDuration, or as its destination was muted."
    ),
)
