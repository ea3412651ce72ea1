"""API keys for run trackers."""

from __future__ import annotations

from datetime import datetime
from operator import attrgetter

import strawberry

from models import api_key as models
from schema.common import UserError
from schema.connection import Connection, Cursors, Edge
from schema.reading import reader


@strawberry.type
class ApiKey:
    id: strawberry.ID
    name: str
    description: str | None
    prefix: str = strawberry.field(
        description="The first characters of the key, enough to recognise it."
    )
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def from_model(cls, key: models.ApiKey) -> ApiKey:
        return _read_key(key, strawberry.ID(str(key.id)))


_read_key = reader(ApiKey, "id")


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


@strawberry.type
class GenerateApiKeyPayload:
    api_key: ApiKey | None = None
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
