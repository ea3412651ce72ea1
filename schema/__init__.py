"""The root types, wired to the resolvers, and the schema built from them."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from auth.permissions import IsAdmin
from resolvers import account, api_keys, github, storage, user
from schema.api_key import ApiKeyPayload, GenerateApiKeyPayload
from schema.common import SuccessPayload, mutation
from schema.connect import StartConnectPayload
from schema.extensions import PublicErrors, log_internal
from schema.github import ConnectGithubPayload
from schema.scalars import SCALARS
from schema.storage import StorageUsagePayload
from schema.user import Profile, UpdateProjectDefaultsPayload, UpdateUserPayload, User

MAX_DEPTH = 10
MAX_ALIASES = 50
MAX_TOKENS = 5000
#: Distinct documents kept parsed and validated; clients send fixed documents.
CACHE_SIZE = 256


@strawberry.type
class Query:
    viewer: User | None = strawberry.field(
        resolver=user.viewer, description="The signed-in user; null for an anonymous caller."
    )
    user: Profile | None = strawberry.field(
        resolver=user.user, description="A user's public profile."
    )


@strawberry.type
class Mutation:
    update_user: UpdateUserPayload = mutation(user.update_user)
    upload_profile_photo: UpdateUserPayload = mutation(user.upload_profile_photo)
    remove_profile_photo: UpdateUserPayload = mutation(user.remove_profile_photo)
    update_project_defaults: UpdateProjectDefaultsPayload = mutation(user.update_project_defaults)

    generate_api_key: GenerateApiKeyPayload = mutation(api_keys.generate_api_key)
    rename_api_key: ApiKeyPayload = mutation(api_keys.rename_api_key)
    delete_api_key: SuccessPayload = mutation(api_keys.delete_api_key)

    start_github_connect: StartConnectPayload = mutation(github.start_github_connect)
    connect_github: ConnectGithubPayload = mutation(github.connect_github)
    disconnect_github: SuccessPayload = mutation(github.disconnect_github)

    record_stored_files: StorageUsagePayload = mutation(
        storage.record_stored_files,
        description="Idempotent by (entityName, projectName, path): a second report replaces "
        "the size.",
    )
    delete_stored_files: StorageUsagePayload = mutation(storage.delete_stored_files)
    set_storage_limit: StorageUsagePayload = mutation(
        storage.set_storage_limit, permission_classes=[IsAdmin], description="Admins only."
    )

    delete_account: SuccessPayload = mutation(
        account.delete_account,
        description="Irreversible. Refused while the viewer is the only admin of a team with "
        "other members.",
    )


class Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Client mistakes are answered, not logged; internal failures are logged once.
        log_internal(errors, execution_context)


def _extensions() -> list[Any]:
    # Factories, not instances: an instance would be shared by concurrent requests.
    return [
        PublicErrors,
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ParserCache(maxsize=CACHE_SIZE),
        lambda: ValidationCache(maxsize=CACHE_SIZE),
    ]


schema = Schema(
    query=Query,
    mutation=Mutation,
    extensions=_extensions(),
    config=StrawberryConfig(scalar_map=SCALARS),
)
