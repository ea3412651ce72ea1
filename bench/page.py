"""The settings page, twice: as the GraphQL document the web UI sends, and as the
floor (`bench/floor.py`) that runs the same SQL and builds the same JSON by hand.

The page is a list of sections. A section is the selection under `viewer` and the
coroutine that builds the same value for the floor; a section whose field the
schema does not have yet is left out of both (and named in the bench output).
Adding a part of the page is one line in `SECTIONS`, plus its floor coroutine;
the reads the coroutines share are in `bench/floor_reads.py`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import config
from bench.floor_reads import (
    Db,
    Json,
    Page,
    Row,
    as_bool,
    as_time,
    photo_url,
    viewer,
)
from resolvers import loaders
from services import storage_ledger

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
        "photoUrl": photo_url(u["photo_file"]),
        "admin": as_bool(u["admin"]),
        "createdAt": as_time(u["created_at"]),
        "hideTeamsFromPublic": as_bool(u["hide_teams_from_public"]),
    }


async def project_defaults(page: Page) -> Json:
    return {
        "entity": page.entity("default_entity"),
        "privacy": page.user["default_privacy"],
        "codeSavingEnabled": as_bool(page.user["code_saving_enabled"]),
    }


#: Where each attribute of the app's rows is: their column lists are the definition.
MEMBERSHIP = {name: at for at, name in enumerate(loaders.MEMBERSHIP_COLUMNS)}
MEMBER = {name: at for at, name in enumerate(loaders.MEMBER_COLUMNS)}


async def available_entities(page: Page) -> Json:
    memberships = await page.memberships()
    name, is_team = MEMBERSHIP["name"], MEMBERSHIP["is_team"]
    return [page.entity("entity")] + [
        {"name": m[name], "isTeam": as_bool(m[is_team])} for m in memberships
    ]


async def teams(page: Page) -> Json:
    memberships, members = await asyncio.gather(page.memberships(), page.members())
    at, of = MEMBERSHIP, MEMBER
    result = []
    for m in memberships:
        team_members = members[m[at["team_id"]]]
        organization_id = m[at["organization_id"]]
        result.append(
            {
                "node": {
                    "id": str(m[at["team_id"]]),
                    "name": m[at["name"]],
                    "type": m[at["type"]],
                    "createdAt": as_time(m[at["created_at"]]),
                    "memberCount": len(team_members),
                    "viewerRole": m[at["role"]],
                    "members": [
                        {
                            "profile": {
                                "username": t[of["username"]],
                                "name": t[of["name"]],
                                "photoUrl": photo_url(t[of["photo_file"]]),
                            },
                            "role": t[of["role"]],
                            "joinedAt": as_time(t[of["joined_at"]]),
                        }
                        for t in team_members
                    ],
                    "organization": None
                    if organization_id is None
                    else {"id": str(organization_id), "name": m[at["organization_name"]]},
                }
            }
        )
    return {"edges": result}


async def beta_features(page: Page) -> Json:
    async def catalog() -> list[Row]:
        return await page.db.rows(loaders.BETA_CATALOG, [])

    async def toggles() -> list[Row]:
        return await page.db.rows(loaders.BETA_TOGGLES, [page.user["id"]])

    features, switched = await asyncio.gather(catalog(), toggles())
    enabled = {t["feature_id"]: as_bool(t["enabled"]) for t in switched}
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
    rows = await page.db.rows(loaders.API_KEYS, [page.user["id"]])
    return {
        "edges": [
            {
                "node": {
                    "id": str(k["id"]),
                    "name": k["name"],
                    "description": k["description"],
                    "prefix": k["prefix"],
                    "createdAt": as_time(k["created_at"]),
                    "lastUsedAt": as_time(k["last_used_at"]),
                }
            }
            for k in rows
        ]
    }


_EVENT_ORDER = ("RUN_FINISHED", "RUN_CRASHED", "SCRIPTABLE", "TEST")
_CHANNEL_ORDER = ("EMAIL", "SLACK")


async def alert_subscriptions(page: Page) -> Json:
    rows = await page.db.rows(loaders.ALERT_SUBSCRIPTIONS, [page.user["id"]])
    rows.sort(key=lambda s: (_EVENT_ORDER.index(s["event"]), _CHANNEL_ORDER.index(s["channel"])))
    return [
        {
            "id": str(s["id"]),
            "event": s["event"],
            "channel": s["channel"],
            "enabled": as_bool(s["enabled"]),
        }
        for s in rows
    ]


async def storage_usage(page: Page) -> Json:
    entity_id = page.user["entity_id"]
    limits, counters, photos = await asyncio.gather(
        *(page.db.rows(s, [entity_id]) for s in storage_ledger.TOTALS_STATEMENTS)
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
        "teams { edges { node { id name type createdAt memberCount viewerRole "
        "members { profile { username name photoUrl } role joinedAt } "
        "organization { id name } } } }",
        teams,
    ),
    Section("betaFeatures", "betaFeatures { key name description enabled }", beta_features),
    Section(
        "apiKeys",
        "apiKeys { edges { node { id name description prefix createdAt lastUsedAt } } }",
        api_keys,
    ),
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
