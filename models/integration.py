from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.timestamps import Timestamp

if TYPE_CHECKING:
    from models.user import User


class OAuthProvider(StrEnum):
    SLACK = "SLACK"
    GITHUB = "GITHUB"


class OAuthState(Model):
    """A started OAuth flow, the `state` the provider returns names it, and it is used once."""

    #: Random id carried, signed, inside the `state` parameter.
    nonce = fields.CharField(max_length=64, primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="oauth_states", on_delete=fields.CASCADE
    )
    provider = fields.CharEnumField(OAuthProvider, max_length=8)
    redirect_uri = fields.CharField(max_length=2048)
    expires_at = Timestamp()
    used_at = Timestamp(null=True)

    user_id: int

    class Meta:
        table = "oauth_state"


class SlackIntegration(Model):
    """A user's Slack connection: the incoming webhook Slack granted."""

    id = fields.IntField(primary_key=True)
    user: fields.OneToOneRelation[User] = fields.OneToOneField(
        "models.User", related_name="slack_integration", on_delete=fields.CASCADE
    )
    team_name = fields.CharField(max_length=256)
    channel_name = fields.CharField(max_length=256)
    #: The webhook URL, encrypted with SECRET_KEY: whoever holds it can post.
    webhook_url_sealed = fields.TextField()
    connected_at = Timestamp(auto_now_add=True)

    user_id: int

    class Meta:
        table = "slack_integration"


class GithubIntegration(Model):
    """A user's personal GitHub connection."""

    id = fields.IntField(primary_key=True)
    user: fields.OneToOneRelation[User] = fields.OneToOneField(
        "models.User", related_name="github_integration", on_delete=fields.CASCADE
    )
    login = fields.CharField(max_length=128)
    avatar_url = fields.CharField(max_length=2048, null=True)
    organizations: fields.Field[list[str]] = fields.JSONField(default=list)
    scopes: fields.Field[list[str]] = fields.JSONField(default=list)
    #: The access token, encrypted with SECRET_KEY, never returned.
    token_sealed = fields.TextField()
    connected_at = Timestamp(auto_now_add=True)

    user_id: int

    class Meta:
        table = "github_integration"
