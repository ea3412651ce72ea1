"""DataLoaders, made fresh for each request (and each subscription event).

Each returns its results in key order: `None` for a missing row, a list for a
to-many key. Sibling fields asking for the same kind of row share one query.
Rows are matched to their keys by an `attrgetter`, which makes no Python call a
row (the settings page's 30 members made 30 calls of a lambda).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import datetime
from functools import cached_property
from operator import attrgetter
from typing import NamedTuple, TypeVar

from models.alert import AlertChannel, AlertDelivery, AlertEvent, AlertEventType, AlertSubscription
from models.api_key import ApiKey
from models.beta import BetaFeature, UserBetaFeature
from models.entity import Entity
from models.integration import GithubIntegration, SlackIntegration
from models.prepared import Prepared, PreparedValues
from models.storage import StorageProjectCounter
from models.team import Organization, TeamMember, TeamRole, TeamType
from models.user import User, photo_url
from resolvers.dataloader import DataLoader
from services import storage_ledger
from services.storage_ledger import StorageTotals

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


class MembershipRow(NamedTuple):
    """A user's membership as the settings page reads it: the membership, its team,
    the team's entity and organization, read as values (`PreparedValues`), not as
    four models."""

    team_id: int
    role: TeamRole
    user_id: int
    team_name: str
    team_type: TeamType
    team_created_at: datetime
    team_entity_id: int
    team_organization_id: int | None
    entity_name: str
    entity_is_team: bool
    #: None when the team has no organization.
    organization_name: str | None


MEMBERSHIPS = PreparedValues(
    lambda user_ids: (
        TeamMember.filter(user_id__in=user_ids)
        .order_by("team__entity__name_key")
        .values_list(
            "team_id",
            "role",
            "user_id",
            "team__name",
            "team__type",
            "team__created_at",
            "team__entity_id",
            "team__organization_id",
            "team__entity__name",
            "team__entity__is_team",
            "team__organization__name",
        )
    ),
    into=MembershipRow,
)


class MemberRow(NamedTuple):
    """A team's member as the member list shows it: the membership and its user's
    public profile, read as values (`PreparedValues`), not as a `TeamMember` and a
    `User` model a member (the settings page lists 30).

    It has every attribute the schema's `TeamMember` and `Profile` are read by
    (`profile` is the row itself), so the member list is answered from the rows
    without making those objects (their `READ_FROM`, see `schema.plans`)."""

    team_id: int
    role: TeamRole
    joined_at: datetime
    user_id: int
    username: str
    name: str
    institution: str | None
    bio: str | None
    location: str | None
    website_url: str | None
    photo_file: str | None
    hide_teams_from_public: bool

    @property
    def profile(self) -> MemberRow:
        return self

    @property
    def photo_url(self) -> str | None:
        return photo_url(self.photo_file)

    @property
    def hides_teams(self) -> bool:
        return self.hide_teams_from_public


MEMBERS = PreparedValues(
    lambda team_ids: (
        TeamMember.filter(team_id__in=team_ids)
        .order_by("user__entity__name_key")
        .values_list(
            "team_id",
            "role",
            "joined_at",
            "user_id",
            *(f"user__{name}" for name in MemberRow._fields[4:]),
        )
    ),
    into=MemberRow,
)
ORGANIZATIONS = Prepared(lambda ids: Organization.filter(id__in=ids))
BETA_CATALOG = Prepared(lambda _: BetaFeature.all().order_by("position", "key"))
BETA_TOGGLES = Prepared(lambda user_ids: UserBetaFeature.filter(user_id__in=user_ids))
ALERT_SUBSCRIPTIONS = Prepared(lambda user_ids: AlertSubscription.filter(user_id__in=user_ids))


async def _entities_by_id(ids: list[int]) -> list[Entity | None]:
    return one_per_key(ids, await ENTITIES(ids), attrgetter("id"))


async def _api_keys_by_user_id(user_ids: list[int]) -> list[list[ApiKey]]:
    keys = await API_KEYS(user_ids)
    return many_per_key(user_ids, keys, attrgetter("user_id"))


async def _memberships_by_user_id(user_ids: list[int]) -> list[list[MembershipRow]]:
    memberships = await MEMBERSHIPS(user_ids)
    return many_per_key(user_ids, memberships, attrgetter("user_id"))


async def _members_by_team_id(team_ids: list[int]) -> list[list[MemberRow]]:
    members = await MEMBERS(team_ids)
    return many_per_key(team_ids, members, attrgetter("team_id"))


async def _organizations_by_id(ids: list[int]) -> list[Organization | None]:
    return one_per_key(ids, await ORGANIZATIONS(ids), attrgetter("id"))


async def _beta_catalog(keys: list[str]) -> list[list[BetaFeature]]:
    catalog = await BETA_CATALOG([])
    return [catalog for _ in keys]


async def _beta_toggles_by_user_id(user_ids: list[int]) -> list[dict[str, bool]]:
    toggles = await BETA_TOGGLES(user_ids)
    grouped = many_per_key(user_ids, toggles, attrgetter("user_id"))
    return [{t.feature_id: t.enabled for t in group} for group in grouped]


#: (user id, page size, the id of the event before the page or None)
AlertEventPageKey = tuple[int, int, int | None]
#: A page of events, newest first, and whether more follow it.
AlertEventPage = tuple[list[AlertEvent], bool]

_EVENT_ORDER = {e: i for i, e in enumerate(AlertEventType)}
_CHANNEL_ORDER = {c: i for i, c in enumerate(AlertChannel)}


async def _alert_subscriptions_by_user_id(user_ids: list[int]) -> list[list[AlertSubscription]]:
    rows = await ALERT_SUBSCRIPTIONS(user_ids)
    rows.sort(key=lambda s: (_EVENT_ORDER[s.event], _CHANNEL_ORDER[s.channel]))
    return many_per_key(user_ids, rows, attrgetter("user_id"))


async def _slack_integrations_by_user_id(user_ids: list[int]) -> list[SlackIntegration | None]:
    rows = await SlackIntegration.filter(user_id__in=user_ids)
    return one_per_key(user_ids, rows, attrgetter("user_id"))


async def _alert_deliveries_by_event_id(event_ids: list[int]) -> list[list[AlertDelivery]]:
    rows = await AlertDelivery.filter(event_id__in=event_ids)
    rows.sort(key=lambda d: (_CHANNEL_ORDER[d.channel], d.id))
    return many_per_key(event_ids, rows, attrgetter("event_id"))


async def _alert_event_pages(keys: list[AlertEventPageKey]) -> list[AlertEventPage]:
    pages = []
    for user_id, first, before_id in keys:  # one query a page: keys are almost always one
        query = AlertEvent.filter(user_id=user_id)
        if before_id is not None:
            query = query.filter(id__lt=before_id)
        rows = await query.order_by("-id").limit(first + 1)
        pages.append((rows[:first], len(rows) > first))
    return pages


async def _github_integrations_by_user_id(
    user_ids: list[int],
) -> list[GithubIntegration | None]:
    found = await GithubIntegration.filter(user_id__in=user_ids)
    return one_per_key(user_ids, found, attrgetter("user_id"))


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
    def memberships_by_user_id(self) -> DataLoader[int, list[MembershipRow]]:
        """A user's memberships with their teams and team entities, by team name."""
        return DataLoader(_memberships_by_user_id)

    @cached_property
    def members_by_team_id(self) -> DataLoader[int, list[MemberRow]]:
        """A team's members with their profiles, by username."""
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

    @cached_property
    def alert_subscriptions_by_user_id(self) -> DataLoader[int, list[AlertSubscription]]:
        return DataLoader(_alert_subscriptions_by_user_id)

    @cached_property
    def slack_integration_by_user_id(self) -> DataLoader[int, SlackIntegration | None]:
        return DataLoader(_slack_integrations_by_user_id)

    @cached_property
    def alert_deliveries_by_event_id(self) -> DataLoader[int, list[AlertDelivery]]:
        """An event's deliveries, EMAIL before SLACK."""
        return DataLoader(_alert_deliveries_by_event_id)

    @cached_property
    def alert_event_page(self) -> DataLoader[AlertEventPageKey, AlertEventPage]:
        """A page of a user's events, newest first (by id, which grows with time)."""
        return DataLoader(_alert_event_pages)

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
