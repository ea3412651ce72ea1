"""DataLoaders, made fresh for each request (and each subscription event).

Each returns its results in key order: `None` for a missing row, a list for a
to-many key. Sibling fields asking for the same kind of row share one query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from functools import cached_property
from typing import TypeVar

from strawberry.dataloader import DataLoader

from models.api_key import ApiKey
from models.beta import BetaFeature, UserBetaFeature
from models.entity import Entity
from models.prepared import Prepared
from models.team import Organization, TeamMember
from models.user import User

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: The one key of `beta_catalog`: the catalog is the same for everyone.
CATALOG = "catalog"


def one_per_key(keys: Sequence[K], rows: Iterable[V], key: Callable[[V], K]) -> list[V | None]:
    found = {key(row): row for row in rows}
    return [found.get(k) for k in keys]


def many_per_key(keys: Sequence[K], rows: Iterable[V], key: Callable[[V], K]) -> list[list[V]]:
    grouped: dict[K, list[V]] = defaultdict(list)
    for row in rows:
        grouped[key(row)].append(row)
    return [grouped.get(k, []) for k in keys]


# The queries of the loaders, built once (see models/prepared.py).
ENTITIES = Prepared(lambda ids: Entity.filter(id__in=ids))
API_KEYS = Prepared(
    lambda user_ids: ApiKey.filter(user_id__in=user_ids).order_by("created_at", "id")
)
MEMBERSHIPS = Prepared(
    lambda user_ids: (
        TeamMember.filter(user_id__in=user_ids)
        .select_related("team__entity")
        .order_by("team__entity__name_key")
    )
)
MEMBERS = Prepared(
    lambda team_ids: (
        TeamMember.filter(team_id__in=team_ids)
        .select_related("user")
        .order_by("user__entity__name_key")
    )
)
ORGANIZATIONS = Prepared(lambda ids: Organization.filter(id__in=ids))
BETA_CATALOG = Prepared(lambda _: BetaFeature.all().order_by("position", "key"))
BETA_TOGGLES = Prepared(lambda user_ids: UserBetaFeature.filter(user_id__in=user_ids))


async def _entities_by_id(ids: list[int]) -> list[Entity | None]:
    return one_per_key(ids, await ENTITIES(ids), lambda e: e.id)


async def _api_keys_by_user_id(user_ids: list[int]) -> list[list[ApiKey]]:
    keys = await API_KEYS(user_ids)
    return many_per_key(user_ids, keys, lambda k: k.user_id)


async def _memberships_by_user_id(user_ids: list[int]) -> list[list[TeamMember]]:
    memberships = await MEMBERSHIPS(user_ids)
    return many_per_key(user_ids, memberships, lambda m: m.user_id)


async def _members_by_team_id(team_ids: list[int]) -> list[list[TeamMember]]:
    members = await MEMBERS(team_ids)
    return many_per_key(team_ids, members, lambda m: m.team_id)


async def _organizations_by_id(ids: list[int]) -> list[Organization | None]:
    return one_per_key(ids, await ORGANIZATIONS(ids), lambda o: o.id)


async def _beta_catalog(keys: list[str]) -> list[list[BetaFeature]]:
    catalog = await BETA_CATALOG([])
    return [catalog for _ in keys]


async def _beta_toggles_by_user_id(user_ids: list[int]) -> list[dict[str, bool]]:
    toggles = await BETA_TOGGLES(user_ids)
    grouped = many_per_key(user_ids, toggles, lambda t: t.user_id)
    return [{t.feature_id: t.enabled for t in group} for group in grouped]


class Loaders:
    """The loaders of one request; each is made on first use."""

    def prime_viewer(self, user: User) -> None:
        """Start with what authentication read: the viewer's own and default entities."""
        for related in ("entity", "default_entity"):
            # Set only when the query selected it (`select_related`), else absent.
            entity = getattr(user, f"_{related}", None)
            if isinstance(entity, Entity):
                self.entity_by_id.prime(entity.id, entity)

    @cached_property
    def entity_by_id(self) -> DataLoader[int, Entity | None]:
        return DataLoader(_entities_by_id)

    @cached_property
    def api_keys_by_user_id(self) -> DataLoader[int, list[ApiKey]]:
        return DataLoader(_api_keys_by_user_id)

    @cached_property
    def memberships_by_user_id(self) -> DataLoader[int, list[TeamMember]]:
        """A user's memberships with their teams and team entities, by team name."""
        return DataLoader(_memberships_by_user_id)

    @cached_property
    def team_entities_by_user_id(self) -> DataLoader[int, list[Entity]]:
        """The team entities a user belongs to, by name (from its memberships)."""

        async def load(user_ids: list[int]) -> list[list[Entity]]:
            groups = await self.memberships_by_user_id.load_many(user_ids)
            return [[m.team.entity for m in group] for group in groups]

        return DataLoader(load)

    @cached_property
    def members_by_team_id(self) -> DataLoader[int, list[TeamMember]]:
        """A team's memberships with their users, by username."""
        return DataLoader(_members_by_team_id)

    @cached_property
    def organization_by_id(self) -> DataLoader[int, Organization | None]:
        return DataLoader(_organizations_by_id)

    @cached_property
    def beta_catalog(self) -> DataLoader[str, list[BetaFeature]]:
        """The beta-feature catalog in its order; load it with the key `CATALOG`."""
        return DataLoader(_beta_catalog)

    @cached_property
    def beta_toggles_by_user_id(self) -> DataLoader[int, dict[str, bool]]:
        """A user's toggles by feature key; a feature it never toggled is absent."""
        return DataLoader(_beta_toggles_by_user_id)
