"""The beta-feature catalog and the viewer's toggles."""

from __future__ import annotations

import strawberry

from models import beta as beta_models
from resolvers.context import Info
from resolvers.loaders import CATALOG
from schema.common import UserError
from schema.reading import reader


@strawberry.type
class BetaFeature:
    key: str
    name: str
    description: str
    enabled: bool

    @classmethod
    def from_model(cls, feature: beta_models.BetaFeature, *, enabled: bool) -> BetaFeature:
        return _read_feature(feature, enabled)


_read_feature = reader(BetaFeature, "enabled")


async def load_beta_features(info: Info, user_id: int | None) -> list[BetaFeature]:
    """The whole catalog with one user's toggles; all off for an anonymous caller."""
    loaders = info.context.loaders
    # Both loads start before either is awaited: their queries run side by side.
    catalog_load = loaders.beta_catalog.load(CATALOG)
    toggles_load = None if user_id is None else loaders.beta_toggles_by_user_id.load(user_id)
    catalog = await catalog_load
    toggles = {} if toggles_load is None else await toggles_load
    return [BetaFeature.from_model(f, enabled=toggles.get(f.key, False)) for f in catalog]


@strawberry.type(description="A feature of this server: here, an entry of the beta catalog.")
class ServerFeature:
    name: str
    is_enabled: bool = strawberry.field(
        description="Offered by this server; each account turns it on in `betaFeatures`."
    )


@strawberry.type(description="What this server supports, as W&B's `serverInfo`.")
class ServerInfo:
    @strawberry.field(  # type: ignore[untyped-decorator]
        description=(
            "The beta-feature catalog's keys. None of W&B's own server features (runs, "
            "artifacts) is served here, so a W&B client asking for one finds it absent."
        )
    )
    async def features(self, info: Info) -> list[ServerFeature]:
        catalog = await info.context.loaders.beta_catalog.load(CATALOG)
        return [ServerFeature(name=f.key, is_enabled=True) for f in catalog]


@strawberry.input
class SetBetaFeatureInput:
    key: str
    enabled: bool


@strawberry.type
class SetBetaFeaturePayload:
    beta_feature: BetaFeature | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
