"""The floor's reads: raw SQL on the app's Tortoise connection, the statements the
app's resolvers and DataLoaders run, each made once per request (`Page`).

`bench/page.py` builds the settings page's sections from them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import config
from auth.tokens import verify_token
from models.entity import name_key

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
    """Raw SQL on the app's Tortoise connection, with the dialect's placeholders."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.dollar = connection.capabilities.dialect == "postgres"

    async def rows(self, sql: str, values: list[Any]) -> list[Row]:
        if self.dollar:
            sql = _dollars(sql)
        _, rows = await self.connection.execute_query(sql, values)
        return list(rows)


def _dollars(sql: str) -> str:
    parts = sql.split("?")
    return "".join(
        part + (f"${n}" if n < len(parts) else "") for n, part in enumerate(parts, start=1)
    )


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
            return await self.db.rows(MEMBERSHIPS_SQL, [self.user["id"]])

        return self.once("memberships", read)

    def members(self) -> asyncio.Future[dict[int, list[Row]]]:
        async def read() -> dict[int, list[Row]]:
            team_ids = [m[0] for m in await self.memberships()]
            by_team: dict[int, list[Row]] = {t: [] for t in team_ids}
            if team_ids:
                sql = MEMBERS_SQL.format(marks=",".join("?" * len(team_ids)))
                for row in await self.db.rows(sql, team_ids):
                    by_team[row[0]].append(row)
            return by_team

        return self.once("members", read)


#: The columns of a membership row, in the order of the app's `MembershipRow`.
MEMBERSHIPS_SQL = (
    'SELECT "team_member"."team_id" "0","team_member"."role" "1","team_member"."user_id" "2",'
    '"team_member__team"."name" "3","team_member__team"."type" "4",'
    '"team_member__team"."created_at" "5","team_member__team"."entity_id" "6",'
    '"team_member__team"."organization_id" "7","team_member__team__entity"."name" "8",'
    '"team_member__team__entity"."is_team" "9","team_member__team__organization"."name" "10" '
    'FROM "team_member" '
    'LEFT OUTER JOIN "team" "team_member__team" '
    'ON "team_member__team"."id"="team_member"."team_id" '
    'LEFT OUTER JOIN "entity" "team_member__team__entity" '
    'ON "team_member__team__entity"."id"="team_member__team"."entity_id" '
    'LEFT OUTER JOIN "organization" "team_member__team__organization" '
    'ON "team_member__team__organization"."id"="team_member__team"."organization_id" '
    'WHERE "team_member"."user_id" IN (?) '
    'ORDER BY "team_member__team__entity"."name_key" ASC'
)

_USER_COLUMNS = (
    "id",
    "location",
    "email",
    "website_url",
    "name",
    "photo_file",
    "username",
    "created_at",
    "institution",
    "admin",
    "hide_teams_from_public",
    "default_privacy",
    "default_entity_id",
    "entity_id",
    "bio",
    "code_saving_enabled",
    "photo_bytes",
)

_MEMBER_PROFILE_COLUMNS = (
    "username",
    "name",
    "institution",
    "bio",
    "location",
    "website_url",
    "photo_file",
    "hide_teams_from_public",
)

MEMBERS_SQL = (
    'SELECT "team_member"."team_id" "0","team_member"."role" "1",'  # noqa: S608 - fixed text
    '"team_member"."joined_at" "2","team_member"."user_id" "3",'
    + ",".join(
        f'"team_member__user"."{c}" "{n}"' for n, c in enumerate(_MEMBER_PROFILE_COLUMNS, start=4)
    )
    + ' FROM "team_member" '
    'LEFT OUTER JOIN "user" "team_member__user" '
    'ON "team_member__user"."id"="team_member"."user_id" '
    'LEFT OUTER JOIN "entity" "team_member__user__entity" '
    'ON "team_member__user__entity"."id"="team_member__user"."entity_id" '
    'WHERE "team_member"."team_id" IN ({marks}) '
    'ORDER BY "team_member__user__entity"."name_key" ASC'
)

_ENTITY_COLUMNS = (
    "id",
    "deleted_at",
    "name",
    "created_at",
    "name_key",
    "storage_limit_bytes",
    "is_team",
)

VIEWER_SQL = (
    "SELECT "  # noqa: S608 - fixed text
    + ",".join(f'"user"."{c}"' for c in _USER_COLUMNS)
    + ","
    + ",".join(
        f'"user__{e}"."{c}" "user__{e}.{c}"'
        for e in ("entity", "default_entity")
        for c in _ENTITY_COLUMNS
    )
    + ' FROM "user" LEFT OUTER JOIN "entity" "user__entity" '
    'ON "user__entity"."id"="user"."entity_id" '
    'LEFT OUTER JOIN "entity" "user__default_entity" '
    'ON "user__default_entity"."id"="user"."default_entity_id" '
    'WHERE "user__entity"."name_key"=? LIMIT ?'
)


async def viewer(db: Db, authorization: str) -> Row:
    """The signed-in account, as the app's authentication backend finds it."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized
    claims = verify_token(token.strip())
    rows = await db.rows(VIEWER_SQL, [name_key(claims.username), 1])
    if not rows:
        raise Unauthorized
    return rows[0]
