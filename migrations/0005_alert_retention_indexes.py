from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

# Pruning past the retention (notifiers/retention.py) finds old events by age, and
# an event's deliveries by the event; until now both were full scans.


class Migration(migrations.Migration):
    dependencies = [("models", "0004_name_key_lookalikes")]

    initial = False

    operations = [
        ops.AddIndex(
            model_name="AlertDelivery",
            index=Index(fields=["event_id", "status"]),
        ),
        ops.AddIndex(
            model_name="AlertEvent",
            index=Index(fields=["created_at"]),
        ),
    ]
