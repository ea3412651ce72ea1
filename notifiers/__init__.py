"""Outbound side: the alert bus (`bus`), the delivery outbox (`outbox`), its worker
(`dispatcher`) and the channels (`email`, `slack`) behind one seam (`base.Notifier`).
Nothing here knows GraphQL."""
