"""The seam between the dispatcher and a channel: `Notifier.send(alert)`.

DeliveryFailure        carries the receiver's status code, when one answered
├── TransientFailure   worth another try later (4xx SMTP, a dropped connection,
│                      Slack 5xx or 429, a timeout); may say when (`retry_after`)
└── PermanentFailure   another try cannot help (5xx SMTP, Slack 4xx, no address)
    └── ReceiverGone   the receiver says the address is gone for good (410): the
                       destination is turned off
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from urllib.parse import quote

import config
from models.alert import AlertEventType, AlertSeverity

#: How much of a remote server's answer is kept in `lastError`.
MAX_ERROR_LENGTH = 500


class DeliveryFailure(Exception):
    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message[:MAX_ERROR_LENGTH])
        self.message = message[:MAX_ERROR_LENGTH]
        self.status_code = status_code


class TransientFailure(DeliveryFailure):
    def __init__(
        self, message: str, *, retry_after: float | None = None, status_code: int | None = None
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class PermanentFailure(DeliveryFailure):
    pass


class ReceiverGone(PermanentFailure):
    pass


@dataclass(frozen=True)
class Alert:
    """One alert to send by one channel, to `recipient` (an email address or a webhook URL)."""

    delivery_id: int
    event_id: int
    type: AlertEventType
    title: str
    text: str
    severity: AlertSeverity
    entity_name: str
    project_name: str
    run_name: str
    created_at: datetime
    recipient: str
    #: Standard Webhooks' `webhook-id`: the same for every attempt and redelivery.
    message_id: str = ""
    #: The secrets that sign it (a rotated secret signs beside the new one for a day).
    secrets: tuple[str, ...] = ()
    #: A digest: the alerts it gathers, which its own title and text sum up.
    gathered: tuple[Alert, ...] = ()

    @property
    def run_path(self) -> str:
        """`entity/project/run`, or empty for an alert not about a run (a test)."""
        if not self.project_name:
            return ""
        return f"{self.entity_name}/{self.project_name}/{self.run_name}"

    @property
    def link(self) -> str:
        """Where to look: the run's page, the invitations, or the alert settings."""
        if self.type == AlertEventType.INVITE:
            return f"{config.PUBLIC_URL}/settings#teams"
        if not self.project_name:
            return f"{config.PUBLIC_URL}/settings"
        parts = (self.entity_name, self.project_name, "runs", self.run_name)
        return f"{config.PUBLIC_URL}/" + "/".join(quote(p, safe="") for p in parts)

    @property
    def headline(self) -> str:
        return f"[{self.severity.value}] {self.title}"


class Notifier(Protocol):
    async def send(self, alert: Alert) -> int | None:
        """Send `alert` and return the receiver's status code (HTTP, or SMTP's reply);
        raise `TransientFailure` or `PermanentFailure` if it was not sent."""
