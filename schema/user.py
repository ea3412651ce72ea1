"""The viewer's account, public profiles, entities and project defaults."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.file_uploads import Upload

from auth.permissions import IsOwnAccount
from models import user as user_models
from models.entity import name_key
from models.user import photo_address
from resolvers.context import Info
from resolvers.loaders import Row
from schema.alert import (
    AlertEventConnection,
    AlertSubscription,
    SlackIntegration,
    load_alert_events,
)
from schema.api_key import KEY_CURSORS, ApiKey, ApiKeyConnection
from schema.beta import BetaFeature, load_beta_features
from schema.common import UserError
from schema.connection import Connection, Cursors, Edge
from schema.destination import (
    DESTINATIONS_BOUND,
    MAX_ROUTES,
    AlertRoute,
    Destination,
    load_destinations,
)
from schema.entity import Entity
from schema.github import GithubIntegration, load_github_integration
from schema.reading import Derived, reader
from schema.scalars import JSONString
from schema.storage import StorageUsage, load_storage_usage

if TYPE_CHECKING:
    from schema.invite import Invite
    from schema.team import Team, TeamConnection

#: Teams live in schema/team.py, which needs `Profile` from here.
LazyTeam = Annotated["Team", strawberry.lazy("schema.team")]
LazyTeamConnection = Annotated["TeamConnection", strawberry.lazy("schema.team")]
LazyInvite = Annotated["Invite", strawberry.lazy("schema.invite")]

strawberry.enum(user_models.Privacy, name="ProjectPrivacy")


@strawberry.type
class ProjectDefaults:
    entity: Entity
    privacy: user_models.Privacy
    code_saving_enabled: bool


async def load_project_defaults(info: Info, user: user_models.User) -> ProjectDefaults:
    entity = await info.context.loaders.entity_by_id.load(user.default_entity_id)
    if entity is None:
        raise LookupError(f"user {user.id} has no default entity")  # a foreign key forbids it
    return _read_defaults(user, Entity.from_model(entity))


_read_defaults = reader(ProjectDefaults, "entity", privacy="default_privacy")


@strawberry.type(description="What anyone may see of an account.")
class Profile:
    username: str
    name: str
    institution: str | None
    bio: str | None
    location: str | None
    website_url: str | None
    photo_url: str | None
    user_id: strawberry.Private[int]
    hide_teams_from_public: strawberry.Private[bool]

    @classmethod
    def from_account(cls, account: user_models.User | Row) -> Profile:
        """The public profile of an account, or of a team's `MemberRow`."""
        return read_profile(account)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Empty when the user hides its teams from its public profile."
    )
    async def teams(self, info: Info) -> list[LazyTeam]:
        if self.hide_teams_from_public:
            return []
        return await load_teams(info, self.user_id)


read_profile = reader(Profile, user_id="id", photo_url=Derived(photo_address, "photo_file"))


async def load_teams(info: Info, user_id: int) -> list[Team]:
    """A user's teams, by name, each with the viewer's role in it."""
    from schema.team import Team

    loaders = info.context.loaders
    memberships = await loaders.memberships_by_user_id.load(user_id)
    viewer = info.context.user
    if viewer is not None and viewer.id == user_id:
        return [Team.from_row(m, m.role) for m in memberships]  # the viewer's own teams
    mine = [] if viewer is None else await loaders.memberships_by_user_id.load(viewer.id)
    roles = {m.team_id: m.role for m in mine}
    return [Team.from_row(m, roles.get(m.team_id)) for m in memberships]


@strawberry.type(description="The signed-in account, with its settings.")
class User(Profile):
    id: strawberry.ID
    email: str
    admin: bool
    created_at: datetime
    hide_teams_from_public: bool
    model: strawberry.Private[user_models.User]

    @classmethod
    def from_model(cls, user: user_models.User) -> User:
        return _read_user(user, strawberry.ID(str(user.id)), user)

    @strawberry.field
    async def project_defaults(self, info: Info) -> ProjectDefaults:
        return await load_project_defaults(info, self.model)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="The viewer's own entity and every team entity it belongs to."
    )
    async def available_entities(self, info: Info) -> list[Entity]:
        own = await info.context.loaders.entity_by_id.load(self.model.entity_id)
        memberships = await info.context.loaders.memberships_by_user_id.load(self.model.id)
        teams = [Entity.from_row(m) for m in memberships]
        return ([Entity.from_model(own)] if own else []) + teams

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="The name of the default entity of new projects (W&B's `entity`)."
    )
    async def entity(self, info: Info) -> str:
        entity = await info.context.loaders.entity_by_id.load(self.model.default_entity_id)
        if entity is None:
            raise LookupError(f"user {self.model.id} has no default entity")  # a foreign key
        return entity.name

    @strawberry.field(  # type: ignore[untyped-decorator]
        description=(
            "A JSON object of the account's flags; the enabled beta features' keys map to true."
        )
    )
    async def flags(self, info: Info) -> JSONString:
        toggles = await info.context.loaders.beta_toggles_by_user_id.load(self.model.id)
        return JSONString(json.dumps({key: True for key, on in sorted(toggles.items()) if on}))

    @strawberry.field(  # type: ignore[untyped-decorator]
        description=(
            "When the account was deleted. A deleted account keeps only its name (a "
            "tombstone), never a `User`: always null here."
        )
    )
    async def deleted_at(self, info: Info) -> datetime | None:
        entity = await info.context.loaders.entity_by_id.load(self.model.entity_id)
        return None if entity is None else entity.deleted_at

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="The account's teams by name, `first` (at most 100) after the cursor `after`."
    )
    async def teams(
        self, info: Info, first: int | None = 50, after: str | None = None
    ) -> LazyTeamConnection:
        from schema.team import load_team_connection

        return await load_team_connection(info, self.model.id, first, after)

    @strawberry.field(  # type: ignore[untyped-decorator]
        permission_classes=[IsOwnAccount],
        description="Invitations to teams waiting for this user's answer.",
    )
    async def invites(self, info: Info) -> list[LazyInvite]:
        from schema.invite import load_invites_of

        return await load_invites_of(info, self.model)

    @strawberry.field
    async def beta_features(self, info: Info) -> list[BetaFeature]:
        return await load_beta_features(info, self.model.id)

    @strawberry.field(permission_classes=[IsOwnAccount])  # type: ignore[untyped-decorator]
    async def alert_subscriptions(self, info: Info) -> list[AlertSubscription]:
        rows = await info.context.loaders.alert_subscriptions_by_user_id.load(self.model.id)
        return [AlertSubscription.from_model(s) for s in rows]

    @strawberry.field(permission_classes=[IsOwnAccount])  # type: ignore[untyped-decorator]
    async def alert_events(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> AlertEventConnection:
        """The viewer's alerts, newest first, `first` (at most 100) after the cursor `after`."""
        return await load_alert_events(info, self.model.id, 20 if first is None else first, after)

    @strawberry.field(permission_classes=[IsOwnAccount])  # type: ignore[untyped-decorator]
    async def slack_integration(self, info: Info) -> SlackIntegration | None:
        row = await info.context.loaders.slack_integration_by_user_id.load(self.model.id)
        return SlackIntegration.from_model(row) if row else None

    @strawberry.field(  # type: ignore[untyped-decorator]
        description=(
            "The account's API keys, oldest first, `first` (at most 100) after the cursor "
            "`after`. Never the keys themselves: their prefixes."
        )
    )
    async def api_keys(
        self, info: Info, first: int | None = 50, after: str | None = None
    ) -> ApiKeyConnection:
        window = KEY_CURSORS.window(first, after)
        keys = await info.context.loaders.api_keys_by_user_id.load(self.model.id)
        return KEY_CURSORS.page(ApiKeyConnection, keys, window, ApiKey.from_model)

    @strawberry.field(  # type: ignore[untyped-decorator]
        permission_classes=[IsOwnAccount],
        description="Where alerts can be sent: email, Slack, signed webhooks, Discord.",
        metadata={"bound": DESTINATIONS_BOUND},
    )
    async def destinations(self, info: Info) -> list[Destination]:
        return await load_destinations(info, self.model.id)

    @strawberry.field(  # type: ignore[untyped-decorator]
        permission_classes=[IsOwnAccount],
        description=(
            "Which alerts go where; without any, alertSubscriptions decide (email and Slack)."
        ),
        metadata={"bound": MAX_ROUTES},
    )
    async def alert_routes(self, info: Info) -> list[AlertRoute]:
        rows = await info.context.loaders.alert_routes_by_user_id.load(self.model.id)
        return [AlertRoute.from_model(row) for row in rows]

    @strawberry.field(permission_classes=[IsOwnAccount])  # type: ignore[untyped-decorator]
    async def github_integration(self, info: Info) -> GithubIntegration | None:
        return await load_github_integration(info, self.model.id)

    @strawberry.field
    async def storage_usage(self, info: Info) -> StorageUsage:
        return await load_storage_usage(info, self.model.entity_id)


_read_user = reader(
    User, "id", "model", user_id="id", photo_url=Derived(photo_address, "photo_file")
)


@strawberry.type
class UserEdge(Edge):
    node: User


@strawberry.type
class UserConnection(Connection):
    edges: list[UserEdge]


#: Users come by username (their entity's `name_key`): their cursors name it.
USER_CURSORS = Cursors("User", UserEdge, key=lambda user: name_key(user.username))


@strawberry.input
class UpdateUserInput:
    name: str | None = strawberry.UNSET
    institution: str | None = strawberry.UNSET
    bio: str | None = strawberry.UNSET
    location: str | None = strawberry.UNSET
    website_url: str | None = strawberry.UNSET
    hide_teams_from_public: bool | None = strawberry.UNSET


@strawberry.type
class UpdateUserPayload:
    user: User | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class UploadProfilePhotoInput:
    file: Upload


@strawberry.input
class RemoveProfilePhotoInput:
    client_mutation_id: str | None = None


@strawberry.input
class UpdateProjectDefaultsInput:
    entity_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="The viewer's own username or a team it belongs to."
    )
    privacy: user_models.Privacy | None = strawberry.UNSET
    code_saving_enabled: bool | None = strawberry.UNSET


@strawberry.type
class UpdateProjectDefaultsPayload:
    project_defaults: ProjectDefaults | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
