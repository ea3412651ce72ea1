"""A receiver's pace: sends to one key (a destination, a Slack channel) at most one
per `interval` seconds, across every process, by turns reserved in the database.

A turn is taken only if it starts within `within` seconds: a sender that would wait
longer takes none, so that its delivery can come back later without holding a turn
(and pushing every later one further off) while it waits.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from tortoise import connections

from models.alert import AlertChannel
from models.destination import Pace

#: Seconds between two messages to one receiver, by kind: Slack takes about one a
#: second a channel, a Discord webhook five in two seconds.
INTERVALS = {AlertChannel.SLACK: 1.0, AlertChannel.DISCORD: 0.4}

_RESERVE_SQL = {
    "postgres": """
        INSERT INTO delivery_pace (key, free_at) VALUES ($1, $2)
        ON CONFLICT (key) DO UPDATE
        SET free_at = GREATEST(delivery_pace.free_at, $3) + $4
        WHERE delivery_pace.free_at <= $3 + $5
        RETURNING free_at
    """,
    "sqlite": """
        INSERT INTO delivery_pace (key, free_at) VALUES (?, ?)
        ON CONFLICT (key) DO UPDATE
        SET free_at = MAX(delivery_pace.free_at, ?) + ?
        WHERE delivery_pace.free_at <= ? + ?
        RETURNING free_at
    """,
}


@dataclass(frozen=True)
class Turn:
    #: Seconds from now until the turn starts (taken), or until one may be taken.
    wait: float
    taken: bool


async def reserve(key: str, interval: float, within: float) -> Turn:
    """Take the next turn to send to `key` if it starts within `within` seconds."""
    now = time.time()
    client = connections.get("default")
    if client.capabilities.dialect == "postgres":
        sql, values = _RESERVE_SQL["postgres"], [key, now + interval, now, interval, within]
    else:
        sql, values = _RESERVE_SQL["sqlite"], [key, now + interval, now, interval, now, within]
    rows = await client.execute_query_dict(sql, values)
    if rows:
        return Turn(wait=max(0.0, float(rows[0]["free_at"]) - interval - now), taken=True)
    busy = await Pace.filter(key=key).first()
    free_at = busy.free_at if busy is not None else now
    return Turn(wait=max(0.0, free_at - within - now), taken=False)
