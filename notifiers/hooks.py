"""After commit: the one place that hears of every committed change to alerts, and of
every credential revoked.

`after_commit` is called once the rows of a new alert event (with its deliveries)
are committed, and again each time the dispatcher commits a delivery's new status;
and once an API key's or an account's deletion is committed (`CredentialsRevoked`).
It publishes the change on the process's bus (`notifiers.bus`), in the
background: it must not block and must not fail the caller, whose rows are
already committed. Live subscribers read the event itself from the database;
sockets opened with revoked credentials are closed (`api.websocket`).
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


@dataclass(frozen=True)
class CredentialsRevoked:
    """What `user_id` signed in with is gone: one API key, or (no key) the account."""

    user_id: int
    #: The API key deleted; None when the account was, with all its keys and tokens.
    api_key_id: int | None = None


def after_commit(change: AlertChange | CredentialsRevoked) -> None:
    """Called after the transaction that made `change` committed."""
    if isinstance(change, CredentialsRevoked):
        publishing = _revoke(bus.Revocation(change.user_id, change.api_key_id))
    else:
        publishing = _publish(bus.Notice(change.user_id, change.event_id, change.kind.value))
    task = asyncio.get_running_loop().create_task(publishing)
    _publishing.add(task)
    task.add_done_callback(_publishing.discard)


async def _publish(notice: bus.Notice) -> None:
    try:
        await bus.current().publish(notice)
    except Exception:  # the change is committed: a lost notice must not become an error
        logger.exception("Could not publish alert %s", notice.event_id)


async def _revoke(revocation: bus.Revocation) -> None:
    try:
        await bus.current().revoke(revocation)
    except Exception:  # the deletion is committed: it must not become an error
        logger.exception("Could not publish the revocation of %s", revocation)


async def drain() -> None:
    """Wait for the publications under way (at shutdown, and in tests)."""
    while _publishing:
        await asyncio.gather(*tuple(_publishing), return_exceptions=True)
