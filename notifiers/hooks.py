"""After commit: the one place that hears of every committed change to alerts.

`after_commit` is called once the rows of a new alert event (with its deliveries)
are committed, and again each time the dispatcher commits a delivery's new status.
It must not block and must not fail the caller.

The live alert bus (issue 4: `notifiers/bus`, in-process or Redis pub/sub) plugs in
here: publish the change, and `Subscription.alertEvents` loads the event by id and
streams it. Until then this is deliberately a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ChangeKind(StrEnum):
    #: A new event and its delivery rows.
    RAISED = "RAISED"
    #: A delivery of the event changed status (delivered, failed, rescheduled).
    DELIVERY = "DELIVERY"


@dataclass(frozen=True)
class AlertChange:
    user_id: int
    event_id: int
    kind: ChangeKind


def after_commit(change: AlertChange) -> None:
    """Called after the transaction that made `change` committed; the bus plugs in here."""
