"""Service accounts: a team's non-human members, as W&B's createServiceAccount."""

from __future__ import annotations

import strawberry

from schema.api_key import ApiKey
from schema.common import UserError
from schema.user import User


@strawberry.input
class CreateServiceAccountInput:
    entity_name: str = strawberry.field(description="The team's name.")
    description: str = strawberry.field(description="What it is for; its display name.")


@strawberry.type
class CreateServiceAccountPayload:
    user: User | None = None
    api_key: ApiKey | None = strawberry.field(
        default=None, description="Its first API key (READ and RUNS)."
    )
    secret: str | None = strawberry.field(
        default=None, description="That key whole: returned once, here, and never again."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class DeleteServiceAccountInput:
    entity_name: str = strawberry.field(description="The team's name.")
    username: str
