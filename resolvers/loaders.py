"""DataLoaders, made fresh for each request (and each subscription event).

Each returns its results in key order: `None` for a missing row, a list for a
to-many key. Sibling fields asking for the same kind of row share one query.
Rows are matched to their keys by an `attrgetter`, which makes no Python call a
row, where a lambda made one per row.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict, namedtuple
from collections.abc import Callable, Hashable, Iterable, Sequence
from operator import attrgetter
from typing import Any, TypeVar

from models.alert import (
    AlertChannel,
    AlertDelivery,
    AlertEvent,
    AlertEventType,
    AlertSubscription,
    DeliveryAttempt,
)
from models.api_key import ApiKey
from models.beta import BetaFeature, UserBetaFeature
from models.destination import AlertRoute, Destination
from models.entity import Entity, name_key
from models.integration import GithubIntegration, SlackIntegration
from models.prepared import Prepared, PreparedValues
from models.storage import StorageProjectCounter
from models.team import Invite, Team, TeamMember
from models.user import PUBLIC_COLUMNS, User
from resolvers.dataloader import DataLoader, made_once
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
#: By id, which grows with time: the order of `User.apiKeys` and of its cursors.
API_KEYS = Prepared(lambda user_ids: ApiKey.filter(user_id__in=user_ids).order_by("id"))
USERS = Prepared(lambda ids: User.filter(id__in=ids))
USERS_BY_ENTITY = Prepared(lambda entity_ids: User.filter(entity_id__in=entity_ids))


# Lists are read as rows of the columns their types are made of, not as models:
# each type is made from a row as from a model, by attribute name
# (`schema.common.reader`). Each row's columns are named once, below.


#: A row of one of the lists below: a named tuple whose attributes are its list's
#: keys (typed `Any`, as they are made from the list).
Row = Any


def _row_class(name: str, columns: dict[str, str], doc: str) -> type[tuple[Any, ...]]:
    """A named tuple of the attributes `columns` names (attribute: column path)."""
    row: type[tuple[Any, ...]] = namedtuple(name, list(columns))  # type: ignore[misc]  # noqa: PYI024
    row.__doc__ = doc
    return row


#: The columns of a team, from the `team` table (attribute: column path): its
#: entity's kind and its organization's name with it.
TEAM_COLUMNS = {
    "team_id": "id",
    "name": "name",
    "type": "type",
    "created_at": "created_at",
    "entity_id": "entity_id",
    "is_team": "entity__is_team",
    "organization_id": "organization_id",
    "organization_name": "organization__name",
}
TeamRow = _row_class("TeamRow", TEAM_COLUMNS, "A team with its organization's name.")
#: A user's membership of a team, with the team's columns.
MEMBERSHIP_COLUMNS = {
    "role": "role",
    "user_id": "user_id",
    **{attribute: f"team__{path}" for attribute, path in TEAM_COLUMNS.items()},
}
MembershipRow = _row_class(
    "MembershipRow", MEMBERSHIP_COLUMNS, "A user's membership, with the team's columns."
)
#: A team's member: the membership's team, role and date, and the member's public
#: profile (`PUBLIC_COLUMNS`; `id` is the account's).
MEMBER_COLUMNS = {
    "team_id": "team_id",
    "role": "role",
    "joined_at": "joined_at",
    **{column: f"user__{column}" for column in PUBLIC_COLUMNS},
}


MemberRow = _row_class(
    "MemberRow", MEMBER_COLUMNS, "A team's member: the membership and the public profile."
)


#: An invitation to a team, with its team's name and the invited account's profile.
INVITE_COLUMNS = {
    "id": "id",
    "team_id": "team_id",
    "name": "team__name",
    "email": "email",
    "role": "role",
    "created_at": "created_at",
    "from_user_id": "from_user_id",
    "to_user_id": "to_user_id",
    "username": "to_user__username",
    "to_name": "to_user__name",
    "photo_file": "to_user__photo_file",
}
InviteRow = _row_class(
    "InviteRow", INVITE_COLUMNS, "An invitation, its team's name and the invitee's profile."
)


TEAMS = PreparedValues(
    lambda ids: Team.filter(id__in=ids).values_list(*TEAM_COLUMNS.values()), into=TeamRow
)
TEAMS_NAMED = PreparedValues(
    lambda keys: Team.filter(entity__name_key__in=keys).values_list(*TEAM_COLUMNS.values()),
    into=TeamRow,
)
MEMBERSHIPS = PreparedValues(
    lambda user_ids: (
        TeamMember.filter(user_id__in=user_ids)
        .order_by("team__entity__name_key")
        .values_list(*MEMBERSHIP_COLUMNS.values())
    ),
    into=MembershipRow,
)
MEMBERS = PreparedValues(
    lambda team_ids: (
        TeamMember.filter(team_id__in=team_ids)
        .order_by("user__entity__name_key")
        .values_list(*MEMBER_COLUMNS.values())
    ),
    into=MemberRow,
)
TEAM_INVITES = PreparedValues(
    lambda team_ids: (
        Invite.filter(team_id__in=team_ids).order_by("id").values_list(*INVITE_COLUMNS.values())
    ),
    into=InviteRow,
)
BETA_CATALOG = Prepared(lambda _: BetaFeature.all().order_by("position", "key"))
BETA_TOGGLES = Prepared(lambda user_ids: UserBetaFeature.filter(user_id__in=user_ids))
ALERT_SUBSCRIPTIONS = Prepared(lambda user_ids: AlertSubscription.filter(user_id__in=user_ids))


async def _entities_by_id(ids: list[int]) -> list[Entity | None]:
    return one_per_key(ids, await ENTITIES(ids), attrgetter("id"))


async def _users_by_entity_id(entity_ids: list[int]) -> list[User | None]:
    return one_per_key(entity_ids, await USERS_BY_ENTITY(entity_ids), attrgetter("entity_id"))


async def _users_by_id(ids: list[int]) -> list[User | None]:
    return one_per_key(ids, await USERS(ids), attrgetter("id"))


async def _api_keys_by_user_id(user_ids: list[int]) -> list[list[ApiKey]]:
    keys = await API_KEYS(user_ids)
    return many_per_key(user_ids, keys, attrgetter("user_id"))


async def _teams_by_id(ids: list[int]) -> list[Any]:
    return one_per_key(ids, await TEAMS(ids), attrgetter("team_id"))


async def _teams_by_name_key(keys: list[str]) -> list[Any]:
    rows: list[Any] = await TEAMS_NAMED(keys)
    found = {name_key(row.name): row for row in rows}
    return [found.get(key) for key in keys]


async def _memberships_by_user_id(user_ids: list[int]) -> list[list[Any]]:
    memberships = await MEMBERSHIPS(user_ids)
    return many_per_key(user_ids, memberships, attrgetter("user_id"))


async def _members_by_team_id(team_ids: list[int]) -> list[list[Any]]:
    members = await MEMBERS(team_ids)
    return many_per_key(team_ids, members, attrgetter("team_id"))


async def _invites_by_team_id(team_ids: list[int]) -> list[list[Any]]:
    return many_per_key(team_ids, await TEAM_INVITES(team_ids), attrgetter("team_id"))


#: (account id, its address's `email_key`, or None for an account without one)
InviteeKey = tuple[int, str | None]


async def _invites_by_invitee(keys: list[InviteeKey]) -> list[list[Any]]:
    found = []
    for user_id, address in keys:  # one query a key: the key is the viewer's
        addressed = Invite.filter(Invite.addressed_to(user_id, address))
        rows = await addressed.order_by("id").values_list(*INVITE_COLUMNS.values())
        found.append([InviteRow(*row) for row in rows])
    return found


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


async def _destinations_by_user_id(user_ids: list[int]) -> list[list[Destination]]:
    rows = await Destination.filter(user_id__in=user_ids).order_by("id")
    return many_per_key(user_ids, rows, attrgetter("user_id"))


async def _destinations_by_id(ids: list[int]) -> list[Destination | None]:
    return one_per_key(ids, await Destination.filter(id__in=ids), attrgetter("id"))


async def _destinations_by_team_id(team_ids: list[int]) -> list[list[Destination]]:
    rows = await Destination.filter(team_id__in=team_ids).order_by("id")
    return many_per_key(team_ids, rows, attrgetter("team_id"))


async def _alert_routes_by_team_id(team_ids: list[int]) -> list[list[AlertRoute]]:
    rows = (
        await AlertRoute.filter(team_id__in=team_ids)
        .order_by("id")
        .prefetch_related("destinations")
    )
    return many_per_key(team_ids, rows, attrgetter("team_id"))


async def _alert_routes_by_user_id(user_ids: list[int]) -> list[list[AlertRoute]]:
    rows = (
        await AlertRoute.filter(user_id__in=user_ids)
        .order_by("id")
        .prefetch_related("destinations")
    )
    return many_per_key(user_ids, rows, attrgetter("user_id"))


async def _attempts_by_delivery_id(delivery_ids: list[int]) -> list[list[DeliveryAttempt]]:
    rows = await DeliveryAttempt.filter(delivery_id__in=delivery_ids).order_by("id")
    return many_per_key(delivery_ids, rows, attrgetter("delivery_id"))


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

    def settled(self) -> asyncio.Future[Any] | None:
        """A future that ends once every batch under way has, or None for none."""
        tasks = [
            task
            for loader in vars(self).values()
            if isinstance(loader, DataLoader)
            for task in loader.tasks
        ]
        return asyncio.gather(*tasks, return_exceptions=True) if tasks else None

    def prime_viewer(self, user: User) -> None:
        """Start with what authentication read: the viewer's own and default entities."""
        for related in ("entity", "default_entity"):
            # Set only when the query selected it (`select_related`), else absent.
            entity = getattr(user, f"_{related}", None)
            if isinstance(entity, Entity):
                self.entity_by_id.prime(entity.id, entity)

    @made_once
    def entity_by_id(self) -> DataLoader[int, Entity | None]:
        return DataLoader(_entities_by_id)

    @made_once
    def user_by_id(self) -> DataLoader[int, User | None]:
        """An account (all its columns: for what only some viewers may see of it)."""
        return DataLoader(_users_by_id)

    @made_once
    def user_by_entity_id(self) -> DataLoader[int, User | None]:
        """The account of a user entity; None for a team's."""
        return DataLoader(_users_by_entity_id)

    @made_once
    def api_keys_by_user_id(self) -> DataLoader[int, list[ApiKey]]:
        return DataLoader(_api_keys_by_user_id)

    @made_once
    def team_by_id(self) -> DataLoader[int, Any]:
        """A team's `TeamRow`."""
        return DataLoader(_teams_by_id)

    @made_once
    def team_by_name_key(self) -> DataLoader[str, Any]:
        """A team's `TeamRow`, by its name's key (`models.entity.name_key`)."""
        return DataLoader(_teams_by_name_key)

    @made_once
    def memberships_by_user_id(self) -> DataLoader[int, list[Any]]:
        """A user's `MembershipRow`s, by team name."""
        return DataLoader(_memberships_by_user_id)

    @made_once
    def members_by_team_id(self) -> DataLoader[int, list[Any]]:
        """A team's `MemberRow`s, by username."""
        return DataLoader(_members_by_team_id)

    @made_once
    def invites_by_team_id(self) -> DataLoader[int, list[Any]]:
        """A team's pending `InviteRow`s, oldest first."""
        return DataLoader(_invites_by_team_id)

    @made_once
    def invites_by_invitee(self) -> DataLoader[InviteeKey, list[Any]]:
        """The `InviteRow`s an account may answer: by its id, or its address's key."""
        return DataLoader(_invites_by_invitee)

    @made_once
    def beta_catalog(self) -> DataLoader[str, list[BetaFeature]]:
        """The beta-feature catalog in its order; load it with the key `CATALOG`."""
        return DataLoader(_beta_catalog)

    @made_once
    def beta_toggles_by_user_id(self) -> DataLoader[int, dict[str, bool]]:
        """A user's toggles by feature key; a feature it never toggled is absent."""
        return DataLoader(_beta_toggles_by_user_id)

    @made_once
    def alert_subscriptions_by_user_id(self) -> DataLoader[int, list[AlertSubscription]]:
        return DataLoader(_alert_subscriptions_by_user_id)

    @made_once
    def slack_integration_by_user_id(self) -> DataLoader[int, SlackIntegration | None]:
        return DataLoader(_slack_integrations_by_user_id)

    @made_once
    def alert_deliveries_by_event_id(self) -> DataLoader[int, list[AlertDelivery]]:
        """An event's deliveries, by channel (EMAIL first), then as made."""
        return DataLoader(_alert_deliveries_by_event_id)

    @made_once
    def destinations_by_user_id(self) -> DataLoader[int, list[Destination]]:
        """A user's destination rows, oldest first: its webhooks, and its email's and
        Slack's once muted or routed to."""
        return DataLoader(_destinations_by_user_id)

    @made_once
    def destinations_by_team_id(self) -> DataLoader[int, list[Destination]]:
        """A team's webhooks and Discord webhooks, oldest first."""
        return DataLoader(_destinations_by_team_id)

    @made_once
    def alert_routes_by_team_id(self) -> DataLoader[int, list[AlertRoute]]:
        """A team's routes, oldest first, with their destinations."""
        return DataLoader(_alert_routes_by_team_id)

    @made_once
    def destination_by_id(self) -> DataLoader[int, Destination | None]:
        return DataLoader(_destinations_by_id)

    @made_once
    def alert_routes_by_user_id(self) -> DataLoader[int, list[AlertRoute]]:
        """A user's routes, oldest first, with their destinations."""
        return DataLoader(_alert_routes_by_user_id)

    @made_once
    def attempts_by_delivery_id(self) -> DataLoader[int, list[DeliveryAttempt]]:
        """A delivery's attempts, oldest first."""
        return DataLoader(_attempts_by_delivery_id)

    @made_once
    def alert_event_page(self) -> DataLoader[AlertEventPageKey, AlertEventPage]:
        """A page of a user's events, newest first (by id, which grows with time)."""
        return DataLoader(_alert_event_pages)

    @made_once
    def github_integration_by_user_id(self) -> DataLoader[int, GithubIntegration | None]:
        return DataLoader(_github_integrations_by_user_id)

    @made_once
    def storage_totals_by_entity_id(self) -> DataLoader[int, StorageTotals | None]:
        """Storage usage of any entity (a user's or a team's), from its counters."""
        return DataLoader(storage_ledger.totals_by_entity_id)

    @made_once
    def largest_projects_by_entity_id(
        self,
    ) -> DataLoader[tuple[int, int], list[StorageProjectCounter]]:
        """Keyed by (entity id, how many): the largest projects first."""
        return DataLoader(storage_ledger.largest_projects)
