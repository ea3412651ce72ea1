"""The viewer's personal GitHub connection."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models import integration as models
from resolvers.context import Info
from schema.common import UserError


@strawberry.type(name="GitHubIntegration")
class GithubIntegration:
    login: str
    avatar_url: str | None
    organizations: list[str] = strawberry.field(
        description="Logins of the organizations the user granted access to."
    )
    scopes: list[str]
    connected_at: datetime

    @classmethod
    def from_model(cls, record: models.GithubIntegration) -> GithubIntegration:
        # The token stays in the model: it is never part of the API.
        return cls(
            login=record.login,
            avatar_url=record.avatar_url,
            organizations=list(record.organizations),
            scopes=list(record.scopes),
            connected_at=record.connected_at,
        )


async def load_github_integration(info: Info, user_id: int) -> GithubIntegration | None:
    record = await info.context.loaders.github_integration_by_user_id.load(user_id)
    return GithubIntegration.from_model(record) if record else None


@strawberry.type
class ConnectGithubPayload:
    github_integration: GithubIntegration | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
