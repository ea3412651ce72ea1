"""The root types, wired to the resolvers, and the schema built from them, with the
plan engine (`fastpath`) or without it."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from graphql import DocumentNode, GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

import config
import fastpath
from api.documents import DOCUMENT_STORE, CheckedDocuments
from api.executor import Executor
from api.limits import MAX_TOKENS, QueryCost, cost_results, validation_rules
from api.masking import PublicErrors, log_internal
from auth.permissions import IsAdmin, IsAuthenticated
from errors import drop_tracebacks
from resolvers import (
    account,
    alerts,
    api_keys,
    beta,
    destinations,
    entities,
    github,
    invites,
    live,
    service_accounts,
    slack,
    storage,
    teams,
    user,
)
from resolvers.context import Context
from resolvers.dataloader import LOADING, SHIELDED
from resolvers.user import users as search_users
from schema.alert import (
    AlertEvent,
    AlertEventPayload,
    ConnectSlackPayload,
    NotifyScriptableRunAlertPayload,
    SetAlertSubscriptionPayload,
)
from schema.api_key import ApiKeyPayload, GenerateApiKeyPayload
from schema.beta import BetaFeature, ServerInfo, SetBetaFeaturePayload
from schema.common import ACCOUNT, PUBLIC, READ, RUNS, SuccessPayload, mutation, query, subscription
from schema.connect import StartConnectPayload
from schema.destination import AlertRoutePayload, DestinationPayload, DestinationSecretPayload
from schema.entity import Entity
from schema.github import ConnectGithubPayload
from schema.invite import CreateInvitePayload
from schema.scalars import SCALARS
from schema.service_account import CreateServiceAccountPayload
from schema.storage import StorageUsagePayload
from schema.team import CreateTeamPayload, Organization, Team, TeamPayload
from schema.user import (
    Profile,
    UpdateProjectDefaultsPayload,
    UpdateUserPayload,
    User,
    UserConnection,
)


@strawberry.type
class Query:
    viewer: User | None = query(
        user.viewer, scope=READ, description="The signed-in user; null for an anonymous caller."
    )
    user: Profile | None = query(user.user, scope=READ, description="A user's public profile.")
    team: Team | None = query(
        teams.team,
        scope=READ,
        description="A team the viewer belongs to (any team, for an admin); null otherwise.",
    )
    organizations: list[Organization] = query(
        teams.organizations,
        scope=READ,
        permission_classes=[IsAuthenticated],
        description=(
            "Organizations for the team-creation dropdown, matched by name prefix, "
            "case-insensitive."
        ),
    )
    beta_features: list[BetaFeature] = query(
        beta.beta_features,
        scope=READ,
        description="The whole beta-feature catalog, with the viewer's toggles.",
    )
    entity: Entity | None = query(
        entities.entity,
        scope=READ,
        description=(
            "A user's or team's entity, as W&B's `entity(name:)`; null when the viewer may "
            "not see it (only its own, its teams', and any for a site admin)."
        ),
    )
    users: UserConnection = query(
        search_users,
        scope=READ,
        permission_classes=[IsAdmin],
        description=(
            "Users matched by username or email prefix; site admins only (W&B's `users(query:)`)."
        ),
    )
    server_info: ServerInfo = query(
        lambda: ServerInfo(),
        # What anonymous callers read too; wandb-core asks it with whatever key a run has.
        scope=PUBLIC,
        description="What this server supports, as W&B's `serverInfo`.",
    )


@strawberry.type
class Mutation:
    update_user: UpdateUserPayload = mutation(user.update_user, scope=ACCOUNT)
    upload_profile_photo: UpdateUserPayload = mutation(
        user.upload_profile_photo, scope=ACCOUNT, rate_limit="photos"
    )
    remove_profile_photo: UpdateUserPayload = mutation(user.remove_profile_photo, scope=ACCOUNT)
    update_project_defaults: UpdateProjectDefaultsPayload = mutation(
        user.update_project_defaults, scope=ACCOUNT
    )

    create_team: CreateTeamPayload = mutation(
        teams.create_team,
        scope=ACCOUNT,
        permission_classes=(IsAdmin,),
        rate_limit="teams",
        description="Admins only.",
    )
    add_team_member: TeamPayload = mutation(
        teams.add_team_member,
        scope=ACCOUNT,
        permission_classes=(IsAdmin,),
        description="Site admins only: anyone else invites (`createInvite`).",
    )
    update_team_member: TeamPayload = mutation(
        teams.update_team_member, scope=ACCOUNT, description="Team admins only."
    )
    remove_team_member: TeamPayload = mutation(
        teams.remove_team_member,
        scope=ACCOUNT,
        description="Team admins, or the member itself to leave.",
    )
    delete_team: SuccessPayload = mutation(
        teams.delete_team,
        scope=ACCOUNT,
        description="Team admins. Irreversible; the name stays taken.",
    )
    create_invite: CreateInvitePayload = mutation(
        invites.create_invite,
        scope=ACCOUNT,
        rate_limit="invitations",
        description="Team admins: invite a user by username or email; W&B's createInvite.",
    )
    accept_invite: TeamPayload = mutation(
        invites.accept_invite, scope=ACCOUNT, description="The invited user joins the team."
    )
    delete_invite: SuccessPayload = mutation(
        invites.delete_invite,
        scope=ACCOUNT,
        description="The invited user declines, or a team admin withdraws the invitation.",
    )
    create_service_account: CreateServiceAccountPayload = mutation(
        service_accounts.create_service_account,
        scope=ACCOUNT,
        rate_limit="service_accounts",
        description="Team admins: a member of the team that signs in with API keys only "
        "(W&B's createServiceAccount); its first key is answered once.",
    )
    delete_service_account: SuccessPayload = mutation(
        service_accounts.delete_service_account,
        scope=ACCOUNT,
        description="Team admins: the service account with its keys; its sockets close.",
    )

    set_beta_feature: SetBetaFeaturePayload = mutation(beta.set_beta_feature, scope=ACCOUNT)

    set_alert_subscription: SetAlertSubscriptionPayload = mutation(
        alerts.set_alert_subscription, scope=ACCOUNT
    )
    start_slack_connect: StartConnectPayload = mutation(
        slack.start_slack_connect, scope=ACCOUNT, rate_limit="oauth_starts"
    )
    connect_slack: ConnectSlackPayload = mutation(slack.connect_slack, scope=ACCOUNT)
    disconnect_slack: SuccessPayload = mutation(slack.disconnect_slack, scope=ACCOUNT)
    send_test_alert: AlertEventPayload = mutation(
        alerts.send_test_alert, scope=ACCOUNT, rate_limit="test_alerts"
    )
    notify_scriptable_run_alert: NotifyScriptableRunAlertPayload = mutation(
        alerts.notify_scriptable_run_alert,
        scope=RUNS,
        rate_limit="alerts",
        description="What wandb.alert() sends.",
    )
    report_run_state: SuccessPayload = mutation(
        alerts.report_run_state,
        scope=RUNS,
        rate_limit="alerts",
        description="What a run tracker sends when a run ends.",
    )

    generate_api_key: GenerateApiKeyPayload = mutation(
        api_keys.generate_api_key, scope=ACCOUNT, rate_limit="api_keys"
    )
    rename_api_key: ApiKeyPayload = mutation(api_keys.rename_api_key, scope=ACCOUNT)
    delete_api_key: SuccessPayload = mutation(api_keys.delete_api_key, scope=ACCOUNT)

    start_github_connect: StartConnectPayload = mutation(
        github.start_github_connect, scope=ACCOUNT, rate_limit="oauth_starts"
    )
    connect_github: ConnectGithubPayload = mutation(github.connect_github, scope=ACCOUNT)
    disconnect_github: SuccessPayload = mutation(github.disconnect_github, scope=ACCOUNT)

    record_stored_files: StorageUsagePayload = mutation(
        storage.record_stored_files,
        scope=RUNS,
        description="Idempotent by (entityName, projectName, path): a second report replaces "
        "the size.",
    )
    delete_stored_files: StorageUsagePayload = mutation(storage.delete_stored_files, scope=RUNS)
    set_storage_limit: StorageUsagePayload = mutation(
        storage.set_storage_limit,
        scope=ACCOUNT,
        permission_classes=[IsAdmin],
        description="Admins only.",
    )

    create_webhook_destination: DestinationSecretPayload = mutation(
        destinations.create_webhook_destination,
        scope=ACCOUNT,
        description="A signed webhook or a Discord webhook; the signing secret is returned once.",
    )
    rotate_webhook_secret: DestinationSecretPayload = mutation(
        destinations.rotate_webhook_secret,
        scope=ACCOUNT,
        description="A new signing secret; the old one still signs beside it for 24 hours.",
    )
    update_destination: DestinationPayload = mutation(
        destinations.update_destination, scope=ACCOUNT
    )
    delete_destination: SuccessPayload = mutation(destinations.delete_destination, scope=ACCOUNT)
    test_destination: AlertEventPayload = mutation(
        destinations.test_destination,
        scope=ACCOUNT,
        rate_limit="test_alerts",
        description="Sends a test alert to this destination alone.",
    )
    set_alert_route: AlertRoutePayload = mutation(destinations.set_alert_route, scope=ACCOUNT)
    delete_alert_route: SuccessPayload = mutation(destinations.delete_alert_route, scope=ACCOUNT)
    redeliver_alert: AlertEventPayload = mutation(
        destinations.redeliver_alert,
        scope=ACCOUNT,
        rate_limit="test_alerts",
        description="Sends a delivery again, with the same webhook-id.",
    )

    delete_account: SuccessPayload = mutation(
        account.delete_account,
        scope=ACCOUNT,
        description="Irreversible. Refused while the viewer is the only admin of a team with "
        "other members.",
    )


@strawberry.type
class Subscription:
    alert_events: AsyncGenerator[AlertEvent, None] = subscription(
        live.alert_events,
        scope=RUNS,
        description=(
            "The viewer's alert events as they are raised. With `after` (an AlertEvent id), "
            "the events after it are replayed first, with no gap and no repeat. An event is "
            "sent again, with its new `deliveries`, each time one of them is delivered or fails."
        ),
    )


class Schema(strawberry.Schema):
    """The schema, run by stock Strawberry and graphql-core."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Client mistakes are answered, not logged; internal failures are logged once,
        # and then no one needs a traceback.
        log_internal(errors, execution_context)
        drop_tracebacks(errors)


def _checked_documents() -> CheckedDocuments:
    return CheckedDocuments(validation_rules=validation_rules(), max_tokens=MAX_TOKENS)


#: Factories, not instances: an instance would be shared by concurrent requests.
EXTENSIONS: tuple[Any, ...] = (PublicErrors, _checked_documents, QueryCost)


class PlannedSchema(fastpath.PlannedSchema, Schema):
    """The schema, its queries and subscription events run by plan (`fastpath`)."""


def _runnable(query: str | None, extensions: dict[str, Any] | None) -> DocumentNode | None:
    return DOCUMENT_STORE.runnable(query, extensions, validation_rules())


def build_schema(*, fast_path: bool) -> Schema:
    """The schema; with `fast_path`, the plan engine answers what it can (`FAST_PATH`)."""
    options: dict[str, Any] = {
        "query": Query,
        "mutation": Mutation,
        "subscription": Subscription,
        "extensions": EXTENSIONS,
        "config": StrawberryConfig(scalar_map=SCALARS),
        "execution_context_class": Executor,
    }
    if not fast_path:
        return Schema(**options)
    engine = fastpath.FastPath(
        runnable=_runnable,
        pending_loads=LOADING,
        shielded=SHIELDED,
        restart=Context.fresh_loaders,
        skippable_extensions=EXTENSIONS,
        results=cost_results,
    )
    return PlannedSchema(**options, fast_path=engine)


schema = build_schema(fast_path=config.FAST_PATH)
