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
from models.entity import Entity
from models.integration import GithubIntegration
from models.storage import StorageProjectCounter
from models.team import TeamMember
from resolvers import storage_ledger
from resolvers.storage_ledger import StorageTotals

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def one_per_key(keys: Sequence[K], rows: Iterable[V], key: Callable[[V], K]) -> list[V | None]:
    found = {key(row): row for row in rows}
    return [found.get(k) for k in keys]


def many_per_key(keys: Sequence[K], rows: Iterable[V], key: Callable[[V], K]) -> list[list[V]]:
    grouped: dict[K, list[V]] = defaultdict(list)
    for row in rows:
        grouped[key(row)].append(row)
    return [grouped.get(k, []) for k in keys]


async def _entities_by_id(ids: list[int]) -> list[Entity | None]:
    return one_per_key(ids, await Entity.filter(id__in=ids), lambda e: e.id)


async def _api_keys_by_user_id(user_ids: list[int]) -> list[list[ApiKey]]:
    keys = await ApiKey.filter(user_id__in=user_ids).order_by("created_at", "id")
    return many_per_key(user_ids, keys, lambda k: k.user_id)


async def _team_entities_by_user_id(user_ids: list[int]) -> list[list[Entity]]:
    memberships = (
        await TeamMember.filter(user_id__in=user_ids)
        .select_related("team__entity")
        .order_by("team__entity__name_key")
    )
    grouped = many_per_key(user_ids, memberships, lambda m: m.user_id)
    return [[m.team.entity for m in group] for group in grouped]


async def _github_integrations_by_user_id(
    user_ids: list[int],
) -> list[GithubIntegration | None]:
    found = await GithubIntegration.filter(user_id__in=user_ids)
    return one_per_key(user_ids, found, lambda g: g.user_id)


class Loaders:
    """The loaders of one request; each is made on first use."""

    @cached_property
    def entity_by_id(self) -> DataLoader[int, Entity | None]:
        return DataLoader(_entities_by_id)

    @cached_property
    def api_keys_by_user_id(self) -> DataLoader[int, list[ApiKey]]:
        return DataLoader(_api_keys_by_user_id)

    @cached_property
    def team_entities_by_user_id(self) -> DataLoader[int, list[Entity]]:
        """The team entities a user belongs to, by name."""
        return DataLoader(_team_entities_by_user_id)

    @cached_property
    def github_integration_by_user_id(self) -> DataLoader[int, GithubIntegration | None]:
        return DataLoader(_github_integrations_by_user_id)

    @cached_property
    def storage_totals_by_entity_id(self) -> DataLoader[int, StorageTotals | None]:
        """Storage usage of any entity (a user's or a team's), from its counters."""
        return DataLoader(storage_ledger.totals_by_entity_id)

    @cached_property
    def largest_projects_by_entity_id(
        self,
    ) -> DataLoader[tuple[int, int], list[StorageProjectCounter]]:
        """Keyed by (entity id, how many): the largest projects first."""
        return DataLoader(storage_ledger.largest_projects)
