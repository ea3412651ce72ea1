"""Outbound side: the alert bus, the delivery outbox worker, email and Slack senders."""
