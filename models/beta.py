from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.user import User


class BetaFeature(Model):
    """An entry of the beta-feature catalog, seeded by `python cli.py migrate`."""

    key = fields.CharField(max_length=64, primary_key=True)
    name = fields.CharField(max_length=128)
    description = fields.TextField()
    #: Order in the catalog.
    position = fields.IntField(default=0)

    toggles: fields.ReverseRelation[UserBetaFeature]

    class Meta:
        table = "beta_feature"


class UserBetaFeature(Model):
    """A user's toggle of one beta feature, no row means off."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="beta_features", on_delete=fields.CASCADE
    )
    feature: fields.ForeignKeyRelation[BetaFeature] = fields.ForeignKeyField(
        "models.BetaFeature", related_name="toggles", on_delete=fields.CASCADE
    )
    enabled = fields.BooleanField(default=False)

    user_id: int
    feature_id: str

    class Meta:
        table = "user_beta_feature"
        unique_together = (("user", "feature"),)
