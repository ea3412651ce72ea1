"""Beta features: the catalog with the viewer's toggles, and toggling one."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from errors import NotFound
from models.beta import BetaFeature as BetaFeatureModel
from models.beta import UserBetaFeature
from models.upsert import upsert
from resolvers.context import Info
from schema.beta import BetaFeature, SetBetaFeatureInput, SetBetaFeaturePayload, load_beta_features

#: Longer keys cannot be in the catalog (and the ORM refuses to compare them).
KEY_LENGTH = 64


async def beta_features(info: Info) -> list[BetaFeature]:
    user = info.context.user
    return await load_beta_features(info, user.id if user else None)


async def set_beta_feature(info: Info, input: SetBetaFeatureInput) -> SetBetaFeaturePayload:
    account = info.context.viewer
    async with in_transaction():
        feature = None
        if len(input.key) <= KEY_LENGTH:
            feature = await BetaFeatureModel.filter(key=input.key).first()
        if feature is None:
            raise NotFound(f"There is no beta feature {input.key[:KEY_LENGTH]!r}.", field="key")
        key = {"user_id": account.id, "feature_id": feature.key}
        await upsert(UserBetaFeature, key, enabled=input.enabled)
    info.context.fresh_loaders()
    return SetBetaFeaturePayload(
        beta_feature=BetaFeature.from_model(feature, enabled=input.enabled)
    )
