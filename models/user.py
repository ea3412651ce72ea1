from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

import config
from models.timestamps import Timestamp

if TYPE_CHECKING:
    from models.alert import AlertDelivery, AlertEvent, AlertSubscription
    from models.api_key import ApiKey
    from models.beta import UserBetaFeature
    from models.entity import Entity
    from models.integration import GithubIntegration, OAuthState, SlackIntegration
    from models.team import Invite, TeamMember


def photo_address(photo_file: str | None) -> str | None:
    """The public address of a profile photo's file; None without a photo."""
    return f"{config.PUBLIC_URL}/media/{photo_file}" if photo_file else None


#: The columns of an account that anyone may see, its public profile: what a team's
#: member list reads of each member (`resolvers.loaders.MemberRow`).
PUBLIC_COLUMNS = (
    "id",
    "username",
    "name",
    "institution",
    "bio",
    "location",
    "website_url",
    "photo_file",
    "hide_teams_from_public",
    "service",
)


class Privacy(StrEnum):
    PUBLIC = "PUBLIC"
    PRIVATE = "PRIVATE"
    OPEN = "OPEN"


class User(Model):
    """An account, created on first sign-in from its token's claims."""

    id = fields.IntField(primary_key=True)
    entity: fields.OneToOneRelation[Entity] = fields.OneToOneField(
        "models.Entity", related_name="user", on_delete=fields.RESTRICT
    )
    username = fields.CharField(max_length=64)
    email = fields.CharField(max_length=320, default="")
    name = fields.CharField(max_length=128, default="")
    institution = fields.CharField(max_length=128, null=True)
    bio = fields.TextField(null=True)
    location = fields.CharField(max_length=128, null=True)
    website_url = fields.CharField(max_length=2048, null=True)
    #: File name under MEDIA_ROOT: the content hash of the re-encoded photo.
    photo_file = fields.CharField(max_length=128, null=True)
    #: Bytes of the stored photo, counted as MEDIA of the user's entity.
    photo_bytes = fields.BigIntField(default=0)
    admin = fields.BooleanField(default=False)
    #: A team's service account (W&B's): a member of that one team, made by its admins,
    #: that signs in with its API keys only, never with a token.
    service = fields.BooleanField(default=False, db_default=False)
    hide_teams_from_public = fields.BooleanField(default=False)
    created_at = Timestamp(auto_now_add=True)

    #: Project defaults: where new projects go, their privacy, code saving.
    default_entity: fields.ForeignKeyRelation[Entity] = fields.ForeignKeyField(
        "models.Entity", related_name="defaulting_users", on_delete=fields.RESTRICT
    )
    default_privacy = fields.CharEnumField(Privacy, default=Privacy.PRIVATE, max_length=16)
    code_saving_enabled = fields.BooleanField(default=False)

    memberships: fields.ReverseRelation[TeamMember]
    api_keys: fields.ReverseRelation[ApiKey]
    beta_features: fields.ReverseRelation[UserBetaFeature]
    alert_subscriptions: fields.ReverseRelation[AlertSubscription]
    alert_events: fields.ReverseRelation[AlertEvent]
    alert_deliveries: fields.ReverseRelation[AlertDelivery]
    slack_integration: fields.BackwardOneToOneRelation[SlackIntegration]
    github_integration: fields.BackwardOneToOneRelation[GithubIntegration]
    oauth_states: fields.ReverseRelation[OAuthState]
    invites: fields.ReverseRelation[Invite]
    sent_invites: fields.ReverseRelation[Invite]

    entity_id: int
    default_entity_id: int

    class Meta:
        table = "user"
