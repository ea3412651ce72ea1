"""The message a claimed delivery becomes: what is sent, and where to.

A delivery to a digest destination claimed together with others becomes one
message that gathers them; a webhook's message carries its Standard Webhooks id
and the secrets that sign it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from auth.sealing import Unreadable, unseal
from models.alert import AlertChannel, AlertDelivery, AlertSeverity
from models.destination import Destination
from models.integration import SlackIntegration
from notifiers.base import Alert, PermanentFailure
from notifiers.routing import SEVERITY_ORDER


async def message(deliveries: Sequence[AlertDelivery]) -> Alert:
    """The message for `deliveries` (one, or a digest's), all to one destination."""
    lead = deliveries[0]
    recipient = await _recipient(lead)
    secrets = _secrets(lead.destination)
    alerts = [_alert(d, recipient, secrets) for d in deliveries]
    if len(alerts) == 1:
        return alerts[0]
    worst = max((a.severity for a in alerts), key=SEVERITY_ORDER.__getitem__)
    lines = [
        f"[{a.severity.value}] {a.title}" + (f" ({a.run_path})" if a.run_path else "")
        for a in alerts
    ]
    return Alert(
        delivery_id=lead.id,
        event_id=lead.event_id,
        type=lead.event.type,
        title=f"{len(alerts)} alerts",
        text="\n".join(lines),
        severity=AlertSeverity(worst),
        entity_name="",
        project_name="",
        run_name="",
        created_at=datetime.now(UTC),
        recipient=recipient,
        message_id=message_id(lead.id),
        secrets=secrets,
        gathered=tuple(alerts),
    )


def message_id(delivery_id: int) -> str:
    """The `webhook-id` of a delivery: every attempt and redelivery of it carries it."""
    return f"msg_{delivery_id}"


def _alert(delivery: AlertDelivery, recipient: str, secrets: tuple[str, ...]) -> Alert:
    event = delivery.event
    return Alert(
        delivery_id=delivery.id,
        event_id=event.id,
        type=event.type,
        title=event.title,
        text=event.text,
        severity=event.severity,
        entity_name=event.entity_name,
        project_name=event.project_name,
        run_name=event.run_name,
        created_at=event.created_at,
        recipient=recipient,
        message_id=message_id(delivery.id),
        secrets=secrets,
    )


async def _recipient(delivery: AlertDelivery) -> str:
    destination = delivery.destination
    if destination is None and delivery.channel in (AlertChannel.WEBHOOK, AlertChannel.DISCORD):
        raise PermanentFailure("The destination was deleted.")
    if destination is not None and destination.url_sealed is not None:
        return _unsealed(destination.url_sealed, "webhook URL", "add the destination again")
    if delivery.channel == AlertChannel.EMAIL:
        return delivery.address or delivery.user.email
    integration = await SlackIntegration.filter(user_id=delivery.user_id).first()
    if integration is None:
        raise PermanentFailure("Slack is not connected any more.")
    return _unsealed(integration.webhook_url_sealed, "Slack webhook", "reconnect Slack")


def _secrets(destination: Destination | None) -> tuple[str, ...]:
    if destination is None or destination.secret_sealed is None:
        return ()
    fix = "rotate the signing secret"
    secrets = [_unsealed(destination.secret_sealed, "signing secret", fix)]
    until = destination.previous_secret_until
    if destination.previous_secret_sealed and until is not None and until > datetime.now(UTC):
        secrets.append(_unsealed(destination.previous_secret_sealed, "signing secret", fix))
    return tuple(secrets)


def _unsealed(sealed: str, what: str, fix: str) -> str:
    try:
        return unseal(sealed)
    except Unreadable:
        raise PermanentFailure(
            f"The stored {what} cannot be decrypted (SECRET_KEY changed): {fix}."
        ) from None
