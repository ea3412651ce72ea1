"""After commit: the one place that hears of every committed change to alerts.

`after_commit` is called once the rows of a new alert event (with its deliveries)
are committed, and again each time the dispatcher commits a delivery's new status.
It publishes the change on the process's alert bus (`notifiers.bus`), in the
background: it must not block and must not fail the caller, whose rows are
already committed. Live subscribers read the event itself from the database.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from enum import StrEnum

from notifiers import bus

logger = logging.getLogger("switchboard.bus")
#: Publications under way; held so that the event loop does not drop them.
_publishing: set[asyncio.Task[None]] = set()


class ChangeKind(StrEnum):
    #: A new event and its delivery rows.
    RAISED = bus.RAISED
    #: A delivery of the event changed status (delivered, failed, rescheduled).
    DELIVERY = bus.DELIVERY


@dataclass(frozen=True)
class AlertChange:
    user_id: int
    event_id: int
    kind: ChangeKind


def after_commit(change: AlertChange) -> None:
    """Called after the transaction that made `change` committed."""
    notice = bus.Notice(change.user_id, change.event_id, change.kind.value)
    task = asyncio.get_running_loop().create_task(_publish(notice))
    _publishing.add(task)
    task.add_done_callback(_publishing.discard)


async def _publish(notice: bus.Notice) -> None:
    try:
        await bus.current().publish(notice)
    except Exception:  # the change is committed: a lost notice must not become an error
        logger.exception("Could not publish alert %s", notice.event_id)


async def drain() -> None:
    """Wait for the publications under way (at shutdown, and in tests)."""
    while _publishing:
        await asyncio.gather(*tuple(_publishing), return_exceptions=True)
