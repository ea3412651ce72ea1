"""A receiver's pace: sends to one key (a destination, a Slack channel) at most one
per `interval` seconds, across every process, by turns reserved in the database."""

from __future__ import annotations

import time

from tortoise import connections

from models.alert import AlertChannel

#: Seconds between two messages to one receiver, by kind: Slack takes about one a
#: second a channel, a Discord webhook five in two seconds.
INTERVALS = {AlertChannel.SLACK: 1.0, AlertChannel.DISCORD: 0.4}

_RESERVE_SQL = {
    "postgres": """
        INSERT INTO delivery_pace (key, free_at) VALUES ($1, $2)
        ON CONFLICT (key) DO UPDATE
        SET free_at = GREATEST(delivery_pace.free_at, $3) + $4
        RETURNING free_at
    """,
    "sqlite": """
        INSERT INTO delivery_pace (key, free_at) VALUES (?, ?)
        ON CONFLICT (key) DO UPDATE
        SET free_at = MAX(delivery_pace.free_at, ?) + ?
        RETURNING free_at
    """,
}


async def reserve(key: str, interval: float) -> float:
    """Take the next turn to send to `key`; answer how many seconds from now it starts
    (0 when the receiver is free now)."""
    now = time.time()
    client = connections.get("default")
    sql = _RESERVE_SQL["postgres" if client.capabilities.dialect == "postgres" else "sqlite"]
    rows = await client.execute_query_dict(sql, [key, now + interval, now, interval])
    starts = float(rows[0]["free_at"]) - interval
    return max(0.0, starts - now)
