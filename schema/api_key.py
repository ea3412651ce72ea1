"""API keys for run trackers."""

from __future__ import annotations

from datetime import datetime
from operator import attrgetter

import strawberry

from models import api_key as models
from models.api_key import ApiKeyScope
from schema.common import UserError
from schema.connection import Connection, Cursors, Edge
from schema.reading import Derived, reader

strawberry.enum(
    ApiKeyScope,
    name="ApiKeyScope",
    description=(
        "What an API key may do. READ: read what the owner may read. RUNS: report runs: "
        "alerts, run states and stored files. ACCOUNT: everything else: profile, keys, "
        "teams, integrations, destinations, account deletion. A signed-in session is not "
        "scoped."
    ),
)


@strawberry.type
class ApiKey:
    id: strawberry.ID
    name: str
    description: str | None
    prefix: str = strawberry.field(
        description="The first characters of the key, enough to recognise it."
    )
    scopes: list[ApiKeyScope]
    expires_at: datetime | None = strawberry.field(description="Null for a key that never expires.")
    created_at: datetime
    last_used_at: datetime | None = strawberry.field(
        description="When the key was last used; it may lag the newest use by five minutes."
    )

    @classmethod
    def from_model(cls, key: models.ApiKey) -> ApiKey:
        return _read_key(key, strawberry.ID(str(key.id)))


def _scope_list(text: str) -> list[ApiKeyScope]:
    # In the enum's order, as they are stored: READ, RUNS, ACCOUNT.
    held = models.decode_scopes(text)
    return [scope for scope in ApiKeyScope if scope in held]


_read_key = reader(ApiKey, "id", scopes=Derived(_scope_list, "scopes"))


@strawberry.type
class ApiKeyEdge(Edge):
    node: ApiKey


@strawberry.type
class ApiKeyConnection(Connection):
    edges: list[ApiKeyEdge]


#: Keys come by id (`resolvers.loaders.API_KEYS`), so their cursors name it.
KEY_CURSORS = Cursors("ApiKey", ApiKeyEdge, key=attrgetter("id"), parse=int)


@strawberry.input
class GenerateApiKeyInput:
    name: str | None = strawberry.field(
        default=None, description="Defaults to the description, or a generated name."
    )
    description: str | None = None
    scopes: list[ApiKeyScope] | None = strawberry.field(
        default=None,
        description=(
            "Defaults to [READ, RUNS]: a run tracker's key. ACCOUNT needs a signed-in "
            "session or an ACCOUNT key."
        ),
    )
    expires_at: datetime | None = strawberry.field(
        default=None,
        description=(
            "In the future, at most 366 days ahead; null: never. A key made with an "
            "expiring key expires no later than it, and by default when it does."
        ),
    )


@strawberry.type
class GenerateApiKeyPayload:
    api_key: ApiKey | None = strawberry.field(
        default=None,
        description=(
            "The new key. Here alone, when no `name` was given (W&B's SDK sends none), "
            "`name` is the whole key, as W&B's `generate_api_key` expects; the key's "
            "stored name, read everywhere else, is its generated label."
        ),
    )
    secret: str | None = strawberry.field(
        default=None, description="The whole key: returned once, here, and never again."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RenameApiKeyInput:
    id: strawberry.ID
    name: str


@strawberry.type
class ApiKeyPayload:
    api_key: ApiKey | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class DeleteApiKeyInput:
    id: str = strawberry.field(description="The key's id (W&B's client sends it as a String).")
