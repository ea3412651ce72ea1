"""The settings page, twice: as the GraphQL document the web UI sends, and as the
floor (`bench/floor.py`) that runs the same SQL and builds the same JSON by hand.

The page is a list of sections. A section is the selection under `viewer` and the
coroutine that builds the same value for the floor; a section whose field the
schema does not have yet is left out of both (and named in the bench output).
Adding a part of the page is one line in `SECTIONS`, plus its floor coroutine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import config
from auth.tokens import verify_token
from models.entity import name_key

Json = Any
Row = Any


class Unauthorized(Exception):
    pass


def _bool(value: object) -> bool:
    return bool(value)  # SQLite answers 0/1


def _time(value: datetime | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite keeps ISO text
        value = datetime.fromisoformat(value)
    return value.isoformat()


def _photo(file_name: str | None) -> str | None:
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
            "isTeam": _bool(self.user[f"user__{which}.is_team"]),
        }

    def memberships(self) -> asyncio.Future[list[Row]]:
        async def read() -> list[Row]:
            return await self.db.rows(MEMBERSHIPS_SQL, [self.user["id"]])

        return self.once("memberships", read)

    def members(self) -> asyncio.Future[dict[int, list[Row]]]:
        async def read() -> dict[int, list[Row]]:
            team_ids = [m["team_member__team.id"] for m in await self.memberships()]
            by_team: dict[int, list[Row]] = {t: [] for t in team_ids}
            if team_ids:
                sql = MEMBERS_SQL.format(marks=",".join("?" * len(team_ids)))
                for row in await self.db.rows(sql, team_ids):
                    by_team[row["team_id"]].append(row)
            return by_team

        return self.once("members", read)

    def organizations(self) -> asyncio.Future[dict[int, Row]]:
        async def read() -> dict[int, Row]:
            memberships = await self.memberships()
            ids = list(
                dict.fromkeys(
                    m["team_member__team.organization_id"]
                    for m in memberships
                    if m["team_member__team.organization_id"] is not None
                )
            )
            if not ids:
                return {}
            rows = await self.db.rows(
                'SELECT "id","name","name_key","created_at" FROM "organization" '  # noqa: S608
                f'WHERE "id" IN ({",".join("?" * len(ids))})',
                ids,
            )
            return {r["id"]: r for r in rows}

        return self.once("organizations", read)


MEMBERSHIPS_SQL = (
    'SELECT "team_member"."id","team_member"."role","team_member"."team_id",'
    '"team_member"."joined_at","team_member"."user_id",'
    '"team_member__team"."id" "team_member__team.id",'
    '"team_member__team"."name" "team_member__team.name",'
    '"team_member__team"."created_at" "team_member__team.created_at",'
    '"team_member__team"."entity_id" "team_member__team.entity_id",'
    '"team_member__team"."type" "team_member__team.type",'
    '"team_member__team"."organization_id" "team_member__team.organization_id",'
    '"team_member__team__entity"."id" "team_member__team__entity.id",'
    '"team_member__team__entity"."deleted_at" "team_member__team__entity.deleted_at",'
    '"team_member__team__entity"."name" "team_member__team__entity.name",'
    '"team_member__team__entity"."created_at" "team_member__team__entity.created_at",'
    '"team_member__team__entity"."name_key" "team_member__team__entity.name_key",'
    '"team_member__team__entity"."storage_limit_bytes" '
    '"team_member__team__entity.storage_limit_bytes",'
    '"team_member__team__entity"."is_team" "team_member__team__entity.is_team" '
    'FROM "team_member" '
    'LEFT OUTER JOIN "team" "team_member__team" '
    'ON "team_member__team"."id"="team_member"."team_id" '
    'LEFT OUTER JOIN "entity" "team_member__team__entity" '
    'ON "team_member__team__entity"."id"="team_member__team"."entity_id" '
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

MEMBERS_SQL = (
    'SELECT "team_member"."id","team_member"."role","team_member"."team_id",'  # noqa: S608 - fixed text
    '"team_member"."joined_at","team_member"."user_id",'
    + ",".join(f'"team_member__user"."{c}" "team_member__user.{c}"' for c in _USER_COLUMNS)
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


# The sections of the page.


async def profile(page: Page) -> dict[str, Json]:
    u = page.user
    return {
        "id": str(u["id"]),
        "username": u["username"],
        "email": u["email"],
        "name": u["name"],
        "institution": u["institution"],
        "bio": u["bio"],
        "location": u["location"],
        "websiteUrl": u["website_url"],
        "photoUrl": _photo(u["photo_file"]),
        "admin": _bool(u["admin"]),
        "createdAt": _time(u["created_at"]),
        "hideTeamsFromPublic": _bool(u["hide_teams_from_public"]),
    }


async def project_defaults(page: Page) -> Json:
    return {
        "entity": page.entity("default_entity"),
        "privacy": page.user["default_privacy"],
        "codeSavingEnabled": _bool(page.user["code_saving_enabled"]),
    }


async def available_entities(page: Page) -> Json:
    memberships = await page.memberships()
    return [page.entity("entity")] + [
        {
            "name": m["team_member__team__entity.name"],
            "isTeam": _bool(m["team_member__team__entity.is_team"]),
        }
        for m in memberships
    ]


async def teams(page: Page) -> Json:
    memberships, members, organizations = await asyncio.gather(
        page.memberships(), page.members(), page.organizations()
    )
    result = []
    for m in memberships:
        team_members = members[m["team_member__team.id"]]
        organization = organizations.get(m["team_member__team.organization_id"])
        result.append(
            {
                "id": str(m["team_member__team.id"]),
                "name": m["team_member__team.name"],
                "type": m["team_member__team.type"],
                "createdAt": _time(m["team_member__team.created_at"]),
                "memberCount": len(team_members),
                "viewerRole": m["role"],
                "members": [
                    {
                        "profile": {
                            "username": t["team_member__user.username"],
                            "name": t["team_member__user.name"],
                            "photoUrl": _photo(t["team_member__user.photo_file"]),
                        },
                        "role": t["role"],
                        "joinedAt": _time(t["joined_at"]),
                    }
                    for t in team_members
                ],
                "organization": (
                    {"id": str(organization["id"]), "name": organization["name"]}
                    if organization
                    else None
                ),
            }
        )
    return result


async def beta_features(page: Page) -> Json:
    async def catalog() -> list[Row]:
        return await page.db.rows(
            'SELECT "description","position","name","key" FROM "beta_feature" '
            'ORDER BY "position" ASC,"key" ASC',
            [],
        )

    async def toggles() -> list[Row]:
        return await page.db.rows(
            'SELECT "enabled","id","feature_id","user_id" FROM "user_beta_feature" '
            'WHERE "user_id" IN (?)',
            [page.user["id"]],
        )

    features, switched = await asyncio.gather(catalog(), toggles())
    enabled = {t["feature_id"]: _bool(t["enabled"]) for t in switched}
    return [
        {
            "key": f["key"],
            "name": f["name"],
            "description": f["description"],
            "enabled": enabled.get(f["key"], False),
        }
        for f in features
    ]


async def api_keys(page: Page) -> Json:
    rows = await page.db.rows(
        'SELECT "id","key_hash","name","prefix","created_at","last_used_at","description",'
        '"user_id" FROM "api_key" WHERE "user_id" IN (?) ORDER BY "created_at" ASC,"id" ASC',
        [page.user["id"]],
    )
    return [
        {
            "id": str(k["id"]),
            "name": k["name"],
            "description": k["description"],
            "prefix": k["prefix"],
            "createdAt": _time(k["created_at"]),
            "lastUsedAt": _time(k["last_used_at"]),
        }
        for k in rows
    ]


_EVENT_ORDER = ("RUN_FINISHED", "RUN_CRASHED", "SCRIPTABLE", "TEST")
_CHANNEL_ORDER = ("EMAIL", "SLACK")


async def alert_subscriptions(page: Page) -> Json:
    rows = await page.db.rows(
        'SELECT "id","user_id","event","channel","enabled" FROM "alert_subscription" '
        'WHERE "user_id" IN (?)',
        [page.user["id"]],
    )
    rows.sort(key=lambda s: (_EVENT_ORDER.index(s["event"]), _CHANNEL_ORDER.index(s["channel"])))
    return [
        {
            "id": str(s["id"]),
            "event": s["event"],
            "channel": s["channel"],
            "enabled": _bool(s["enabled"]),
        }
        for s in rows
    ]


async def storage_usage(page: Page) -> Json:
    entity_id = page.user["entity_id"]
    limits, counters, photos = await asyncio.gather(
        page.db.rows(
            'SELECT "id" "0","storage_limit_bytes" "1" FROM "entity" WHERE "id" IN (?)', [entity_id]
        ),
        page.db.rows(
            'SELECT "entity_id" "0","category" "1","bytes" "2" FROM "storage_category_counter" '
            'WHERE "entity_id" IN (?)',
            [entity_id],
        ),
        page.db.rows(
            'SELECT "entity_id" "0","photo_bytes" "1" FROM "user" '
            'WHERE "entity_id" IN (?) AND "photo_bytes">?',
            [entity_id, 0],
        ),
    )
    by_category = dict.fromkeys(("RUN_FILES", "ARTIFACTS", "MEDIA"), 0)
    # Columns are aliased by position, as Tortoise's values_list() names them.
    for _, category, size in counters:
        by_category[category] += size
    for _, size in photos:
        by_category["MEDIA"] += size
    limit = limits[0][1]
    limit = config.DEFAULT_STORAGE_LIMIT_BYTES if limit is None else limit
    used = sum(by_category.values())
    return {
        "usedBytes": used,
        "limitBytes": limit,
        "fraction": used / limit,
        "breakdown": [{"category": c, "bytes": b} for c, b in by_category.items()],
    }


@dataclass(frozen=True)
class Section:
    #: The field of `User` the section reads; absent from the schema means "not built yet".
    field: str
    #: The selection under `viewer`, as the web UI writes it.
    selection: str
    #: The floor's value of the section (a dict section is merged into `viewer`).
    floor: Callable[[Page], Awaitable[Json]]


SECTIONS = [
    Section(
        "username",
        "id username email name institution bio location websiteUrl photoUrl admin "
        "createdAt hideTeamsFromPublic",
        profile,
    ),
    Section(
        "projectDefaults",
        "projectDefaults { entity { name isTeam } privacy codeSavingEnabled }",
        project_defaults,
    ),
    Section("availableEntities", "availableEntities { name isTeam }", available_entities),
    Section(
        "teams",
        "teams { id name type createdAt memberCount viewerRole "
        "members { profile { username name photoUrl } role joinedAt } "
        "organization { id name } }",
        teams,
    ),
    Section("betaFeatures", "betaFeatures { key name description enabled }", beta_features),
    Section("apiKeys", "apiKeys { id name description prefix createdAt lastUsedAt }", api_keys),
    Section(
        "alertSubscriptions", "alertSubscriptions { id event channel enabled }", alert_subscriptions
    ),
    Section(
        "storageUsage",
        "storageUsage { usedBytes limitBytes fraction breakdown { category bytes } }",
        storage_usage,
    ),
]


def user_fields() -> set[str]:
    """The fields of `User` in the app's schema."""
    from schema import schema

    user_type = schema._schema.get_type("User")
    return set(getattr(user_type, "fields", {}))


def built_sections() -> list[Section]:
    fields = user_fields()
    return [s for s in SECTIONS if s.field in fields]


def missing_sections() -> list[str]:
    fields = user_fields()
    return [s.field for s in SECTIONS if s.field not in fields]


def document(sections: list[Section]) -> str:
    body = "\n    ".join(s.selection for s in sections)
    return f"query SettingsPage {{\n  viewer {{\n    {body}\n  }}\n}}\n"


async def floor_page(db: Db, authorization: str, sections: list[Section]) -> Json:
    """`{"data": {"viewer": ...}}` as the GraphQL endpoint answers it."""
    page = Page(db, await viewer(db, authorization))
    values = await asyncio.gather(*(s.floor(page) for s in sections))
    result: dict[str, Json] = {}
    for section, value in zip(sections, values, strict=True):
        if isinstance(value, dict) and section.floor is profile:
            result.update(value)
        else:
            result[section.field] = value
    return {"data": {"viewer": result}}
