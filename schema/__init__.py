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

from resolvers import alerts, api_keys, slack, user
from schema.alert import (
    AlertEventPayload,
    ConnectSlackPayload,
    NotifyScriptableRunAlertPayload,
    SetAlertSubscriptionPayload,
)
from schema.api_key import ApiKeyPayload, GenerateApiKeyPayload
from schema.common import SuccessPayload, mutation
from schema.connect import StartConnectPayload
from schema.extensions import PublicErrors, log_internal
from schema.scalars import SCALARS
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

    set_alert_subscription: SetAlertSubscriptionPayload = mutation(alerts.set_alert_subscription)
    start_slack_connect: StartConnectPayload = mutation(slack.start_slack_connect)
    connect_slack: ConnectSlackPayload = mutation(slack.connect_slack)
    disconnect_slack: SuccessPayload = mutation(slack.disconnect_slack)
    send_test_alert: AlertEventPayload = mutation(alerts.send_test_alert)
    notify_scriptable_run_alert: NotifyScriptableRunAlertPayload = mutation(
        alerts.notify_scriptable_run_alert, description="What wandb.alert() sends."
    )
    report_run_state: SuccessPayload = mutation(
        alerts.report_run_state, description="What a run tracker sends when a run ends."
    )

    generate_api_key: GenerateApiKeyPayload = mutation(api_keys.generate_api_key)
    rename_api_key: ApiKeyPayload = mutation(api_keys.rename_api_key)
    delete_api_key: SuccessPayload = mutation(api_keys.delete_api_key)


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
