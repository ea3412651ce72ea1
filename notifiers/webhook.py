"""Alerts to a webhook: a JSON event POSTed as the Standard Webhooks spec says
(https://www.standardwebhooks.com), so that receivers verify it with any of its libraries.

    {"type": "alert.raised", "timestamp": "2025-01-02T03:04:05+00:00",
     "data": {"id": "3", "type": "RUN_CRASHED", "title": "...", "text": "...",
              "severity": "ERROR", "entityName": "alice", "projectName": "mnist",
              "runName": "3x7k9q2p", "createdAt": "2025-01-02T03:04:05+00:00",
              "url": "https://.../alice/mnist/runs/3x7k9q2p"}}

A digest is `"type": "alert.digest"` with `"data": {"count": n, "alerts": [...]}`, each
alert as above. The headers `webhook-id` (the same on every retry: receivers drop
repeats by it), `webhook-timestamp` (seconds, this attempt's) and `webhook-signature`
(`v1,<base64>`, one per secret, space-separated, while a secret is being rotated).

A 2xx is delivered; 410 turns the destination off; a redirect is not followed and fails
for good; anything else is tried again later, when Retry-After says if it does.
"""

from __future__ import annotations

import binascii
import json
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp
from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook
from yarl import URL

from notifiers.base import Alert, PermanentFailure, ReceiverGone, TransientFailure
from notifiers.http_guard import post, url_problem

#: Seconds a receiver has to accept an event before the try counts as failed.
WEBHOOK_TIMEOUT_SECONDS = 10.0
USER_AGENT = "Switchboard-Webhooks/1.0"


class WebhookNotifier:
    """Posts with the given session, which the owner opens and closes: one from
    `notifiers.http_guard.guarded_session()`, which connects to public addresses only."""

    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http = http

    async def send(self, alert: Alert) -> int:
        # Checked again at send time: the allowed hosts may have narrowed since.
        problem = url_problem(alert.recipient, "webhook")
        if problem:
            raise PermanentFailure(problem)
        body = encode(alert)
        headers = signed_headers(alert, body, int(time.time()))
        receiver = f"The webhook at {URL(alert.recipient).host}"
        answer = await post(
            self.http,
            alert.recipient,
            body,
            headers,
            timeout=WEBHOOK_TIMEOUT_SECONDS,
            receiver=receiver,
        )
        status = answer.status
        if 200 <= status < 300:
            return status
        message = f"{receiver} answered {status}: {answer.excerpt or 'no reason given'}"
        if status == 410:
            raise ReceiverGone(message, status_code=status)
        if 300 <= status < 400:
            raise PermanentFailure(
                f"{receiver} answered {status}, a redirect, which is not followed.",
                status_code=status,
            )
        # 408, 429, 5xx, and any other 4xx: the spec asks senders to retry on non-2xx.
        raise TransientFailure(message, retry_after=answer.retry_after, status_code=status)


def signed_headers(alert: Alert, body: bytes, timestamp: int) -> dict[str, str]:
    """The Standard Webhooks headers of `body`, signed at `timestamp` by every secret."""
    if not alert.secrets:
        raise PermanentFailure("The webhook has no signing secret; rotate its secret.")
    if not alert.message_id:
        raise PermanentFailure("The delivery has no webhook-id to send.")
    at = datetime.fromtimestamp(timestamp, UTC)
    try:
        signatures = [Webhook(s).sign(alert.message_id, at, body) for s in alert.secrets]
    except (binascii.Error, EmptyWebhookSecretError):
        raise PermanentFailure("The webhook's signing secret is damaged; rotate it.") from None
    return {
        "webhook-id": alert.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def encode(alert: Alert) -> bytes:
    """The event as the bytes that are signed and sent."""
    return json.dumps(event(alert), ensure_ascii=False, separators=(",", ":")).encode()


def event(alert: Alert) -> dict[str, Any]:
    if alert.gathered:
        data: dict[str, Any] = {
            "count": len(alert.gathered),
            "alerts": [_data(a) for a in alert.gathered],
        }
        return {"type": "alert.digest", "timestamp": _iso(alert.created_at), "data": data}
    return {"type": "alert.raised", "timestamp": _iso(alert.created_at), "data": _data(alert)}


def _data(alert: Alert) -> dict[str, Any]:
    return {
        "id": str(alert.event_id),
        "type": alert.type.value,
        "title": alert.title,
        "text": alert.text,
        "severity": alert.severity.value,
        "entityName": alert.entity_name,
        "projectName": alert.project_name,
        "runName": alert.run_name,
        "createdAt": _iso(alert.created_at),
        "url": alert.link,
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()
