"""The floor's reads: the statements the app's sign-in and DataLoaders run (their
SQL taken from the app's own definitions, `models.prepared`), run by hand on the
app's Tortoise connection, each once per request (`Page`).

`bench/page.py` builds the settings page's sections from them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import config
from auth.accounts import ACCOUNT
from auth.tokens import verify_token
from models.entity import name_key
from models.prepared import Statement
from resolvers import loaders

Json = Any
Row = Any


class Unauthorized(Exception):
    pass


def as_bool(value: object) -> bool:
    return bool(value)  # SQLite answers 0/1


def as_time(value: datetime | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite keeps ISO text
        value = datetime.fromisoformat(value)
    return value.isoformat()


def photo_url(file_name: str | None) -> str | None:
    return f"{config.PUBLIC_URL}/media/{file_name}" if file_name else None


class Db:
    """The app's statements (`models.prepared`), run by hand on its Tortoise connection."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    async def rows(self, statement: Statement, keys: list[Any]) -> list[Row]:
        shape = (statement, len(keys))
        found = _SQL.get(shape)
        if found is None:
            sql, values = statement.statement(keys)
            found = _SQL[shape] = (sql, values[len(keys) :])
        sql, tail = found
        _, rows = await self.connection.execute_query(sql, [*keys, *tail])
        return list(rows)


#: Each statement's SQL for a number of keys, and the parameters after the keys: the
#: floor looks them up once, as it once held them as text.
_SQL: dict[tuple[Statement, int], tuple[str, list[Any]]] = {}


class Page:
    """One floor request: the viewer's row and the shared reads, each made once."""

    def __init__(self, db: Db, user: Row) -> None:
        self.db = db
        self.user = user
        self._once: dict[str, asyncio.Future[Any]] = {}

    def once(self, key: str, read: Callable[[], Awaitable[Any]]) -> asyncio.Future[Any]:
        if key not in self._once:
            self._once[key] = asyncio.ensure_future(read())
        return self._once[key]

    # The reads the GraphQL resolvers make through their DataLoaders, in the same SQL.

    def entity(self, which: str) -> Json:
        """The viewer's `entity` or `default_entity`, read with the viewer."""
        return {
            "name": self.user[f"user__{which}.name"],
            "isTeam": as_bool(self.user[f"user__{which}.is_team"]),
        }

    def memberships(self) -> asyncio.Future[list[Row]]:
        async def read() -> list[Row]:
            return await self.db.rows(loaders.MEMBERSHIPS, [self.user["id"]])

        return self.once("memberships", read)

    def members(self) -> asyncio.Future[dict[int, list[Row]]]:
        async def read() -> dict[int, list[Row]]:
            team_ids = [m[_TEAM_AT] for m in await self.memberships()]
            by_team: dict[int, list[Row]] = {t: [] for t in team_ids}
            if team_ids:
                for row in await self.db.rows(loaders.MEMBERS, team_ids):
                    by_team[row[_MEMBER_TEAM_AT]].append(row)
            return by_team

        return self.once("members", read)


_TEAM_AT = list(loaders.MEMBERSHIP_COLUMNS).index("team_id")
_MEMBER_TEAM_AT = list(loaders.MEMBER_COLUMNS).index("team_id")


async def viewer(db: Db, authorization: str) -> Row:
    """The signed-in account, as the app's authentication backend finds it."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized
    claims = verify_token(token.strip())
    rows = await db.rows(ACCOUNT, [name_key(claims.username)])
    if not rows:
        raise Unauthorized
    return rows[0]
