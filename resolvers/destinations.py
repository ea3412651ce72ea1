"""Destinations and routes: where the viewer's alerts go, and sending one again.

The account's email and Slack are destinations too, under the ids `email` and
`slack`; they get a row of their own the first time one is muted, turned off or
routed to (`own_destination`). Webhooks and Discord webhooks are made here.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

from strawberry import UNSET
from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

import config
from auth.sealing import seal
from errors import Invalid, LimitExceeded, NotFound
from models.alert import (
    UNSUBSCRIBABLE,
    AlertChannel,
    AlertDelivery,
    AlertEventType,
    AlertSeverity,
    DeliveryStatus,
)
from models.destination import BUILT_IN, AlertRoute, Destination, encode_events
from models.integration import SlackIntegration
from models.team import Team, TeamMember, TeamRole
from models.upsert import upsert
from models.user import User
from notifiers import dispatcher
from notifiers.hooks import AlertChange, ChangeKind, after_commit
from notifiers.http_guard import url_problem
from notifiers.outbox import abandon_pending
from resolvers.alerts import raise_test_alert
from resolvers.context import Info
from resolvers.entities import acting_for
from resolvers.teams import locked_team, require_team_admin
from resolvers.validation import MAX_BIG_ID, Checks, given, row_id, shown
from schema.alert import ATTEMPT_LOG_BOUND, AlertEvent, AlertEventPayload
from schema.common import SuccessPayload
from schema.destination import (
    BUILT_IN_IDS,
    MAX_DESTINATIONS,
    MAX_ROUTES,
    AlertRouteIdInput,
    AlertRoutePayload,
    CreateWebhookDestinationInput,
    DestinationIdInput,
    DestinationPayload,
    DestinationSecretPayload,
    RedeliverAlertInput,
    SetAlertRouteInput,
    UpdateDestinationInput,
    view_of,
)
from schema.destination import (
    AlertRoute as AlertRouteType,
)
from text_checks import text

MAX_NAME = 64
MAX_PATTERN = 128
#: `*` and `?` in a project pattern: enough for any real name, few enough to match fast.
MAX_WILDCARDS = 8
MAX_DIGEST_MINUTES = 24 * 60
#: How long a rotated signing secret keeps signing beside the new one.
ROTATION_OVERLAP = timedelta(hours=24)
_KINDS: dict[AlertChannel, Literal["webhook", "discord"]] = {
    AlertChannel.WEBHOOK: "webhook",
    AlertChannel.DISCORD: "discord",
}


async def create_webhook_destination(
    info: Info, input: CreateWebhookDestinationInput
) -> DestinationSecretPayload:
    account = info.context.viewer
    checks = Checks()
    name = checks.run(
        text, input.name, field="name", label="Name", min_length=1, max_length=MAX_NAME
    )
    kind = input.kind or AlertChannel.WEBHOOK
    if kind not in _KINDS:
        checks.add(Invalid("A webhook destination is WEBHOOK or DISCORD.", field="kind"))
    elif problem := url_problem(input.url.strip(), _KINDS[kind]):
        checks.add(Invalid(problem, field="url"))
    checks.done()
    url = input.url.strip()
    secret = _new_secret() if kind == AlertChannel.WEBHOOK else None
    async with in_transaction():
        owner = await _owner(account, input.team_name)
        if await Destination.filter(**owner.key, built_in=None).count() >= MAX_DESTINATIONS:
            raise LimitExceeded(
                f"There are {MAX_DESTINATIONS} destinations: delete one before adding another."
            )
        row = await Destination.create(
            **owner.key,
            kind=kind,
            name=name,
            url_sealed=seal(url),
            target=_host(url),
            secret_sealed=None if secret is None else seal(secret),
        )
    return DestinationSecretPayload(destination=await view_of(row, account), signing_secret=secret)


async def rotate_webhook_secret(info: Info, input: DestinationIdInput) -> DestinationSecretPayload:
    account = info.context.viewer
    async with in_transaction():
        row = await own_destination(account, input.id, lock=True)
        if row.kind != AlertChannel.WEBHOOK or row.secret_sealed is None:
            raise Invalid("Only a webhook destination has a signing secret.", field="id")
        secret = _new_secret()
        row.previous_secret_sealed = row.secret_sealed
        row.previous_secret_until = datetime.now(UTC) + ROTATION_OVERLAP
        row.secret_sealed = seal(secret)
        await row.save(
            update_fields=["previous_secret_sealed", "previous_secret_until", "secret_sealed"]
        )
    return DestinationSecretPayload(destination=await view_of(row, account), signing_secret=secret)


async def update_destination(info: Info, input: UpdateDestinationInput) -> DestinationPayload:
    account = info.context.viewer
    checks = Checks()
    name = None
    if given(input.name):
        name = checks.run(
            text, input.name, field="name", label="Name", min_length=1, max_length=MAX_NAME
        )
    if given(input.digest_minutes) and not 1 <= input.digest_minutes <= MAX_DIGEST_MINUTES:
        checks.add(
            Invalid(f"A digest gathers 1 to {MAX_DIGEST_MINUTES} minutes.", field="digestMinutes")
        )
    checks.done()
    async with in_transaction():
        row = await own_destination(account, input.id, lock=True)
        changes: dict[str, Any] = {}
        if name is not None:
            if row.built_in is not None:
                raise Invalid("Your email and Slack keep their names.", field="name")
            changes["name"] = name
        if input.enabled is not None:
            changes["enabled"] = input.enabled
            if input.enabled:  # turned on again: its count of failures starts afresh
                changes.update(disabled_reason=None, failures=0)
        if input.muted_until is not UNSET:
            changes["muted_until"] = input.muted_until
        if input.digest_minutes is not UNSET:
            changes["digest_minutes"] = input.digest_minutes
        if changes:
            await Destination.filter(id=row.id).update(**changes)
            row = await Destination.get(id=row.id)
        if input.enabled is False:
            await abandon_pending(row.id, "Not sent: the destination was turned off.")
    return DestinationPayload(destination=await view_of(row, account))


async def delete_destination(info: Info, input: DestinationIdInput) -> SuccessPayload:
    account = info.context.viewer
    if input.id in BUILT_IN_IDS.values():
        raise Invalid(
            "Your email and Slack cannot be deleted: turn them off or mute them.", field="id"
        )
    async with in_transaction():
        row = await own_destination(account, input.id, lock=True)
        await abandon_pending(row.id, "Not sent: the destination was deleted.")
        await row.delete()  # its routes keep their other destinations
    return SuccessPayload(success=True)


async def test_destination(info: Info, input: DestinationIdInput) -> AlertEventPayload:
    account = info.context.viewer
    async with in_transaction():
        row = await own_destination(account, input.id)
    return await raise_test_alert(account, row.name, destination=row)


async def set_alert_route(info: Info, input: SetAlertRouteInput) -> AlertRoutePayload:
    account = info.context.viewer
    checks = Checks()
    events = checks.run(_events, input.events)
    pattern = checks.run(_pattern, input.project_pattern)
    entity_name = None
    if given(input.entity_name):
        found = await acting_for(account, input.entity_name)
        if found is None:
            checks.add(
                Invalid(
                    f"'{shown(input.entity_name)}' is not you or a team of yours.",
                    field="entityName",
                )
            )
        else:
            entity_name = found.name
    if not input.destination_ids:
        checks.add(Invalid("Choose at least one destination.", field="destinationIds"))
    elif len(set(input.destination_ids)) > len(BUILT_IN) + MAX_DESTINATIONS:
        checks.add(Invalid("That is more destinations than you have.", field="destinationIds"))
    checks.done()
    async with in_transaction():
        owner = await _owner(account, input.team_name)
        if owner.team is not None:  # a team's route takes the alerts of the team's runs
            if entity_name is not None and entity_name != owner.team.name:
                raise Invalid(
                    "A team's route takes the alerts of its own runs.", field="entityName"
                )
            entity_name = owner.team.name
        destinations = [
            await own_destination(account, d, field="destinationIds")
            for d in dict.fromkeys(input.destination_ids)
        ]
        if not all(owner.owns(d) for d in destinations):
            raise Invalid(
                "A route goes to destinations of its own: the team's for a team's route, "
                "yours for yours.",
                field="destinationIds",
            )
        values: dict[str, Any] = {
            "entity_name": entity_name,
            "project_pattern": pattern,
            "events": encode_events(events or ()),
            "min_severity": input.min_severity or AlertSeverity.INFO,
        }
        if input.id is None:
            if await AlertRoute.filter(**owner.key).count() >= MAX_ROUTES:
                raise LimitExceeded(f"There are {MAX_ROUTES} routes: delete one first.")
            route = await AlertRoute.create(**owner.key, **values)
        else:
            route = await _own_route(account, input.id)
            if not owner.owns(route):
                raise NotFound("There is no such route here.", field="id")
            await route.update_from_dict(values).save()
            await route.destinations.clear()
        await route.destinations.add(*destinations)
        await route.fetch_related("destinations")
    return AlertRoutePayload(alert_route=AlertRouteType.from_model(route))


async def delete_alert_route(info: Info, input: AlertRouteIdInput) -> SuccessPayload:
    async with in_transaction():
        route = await _own_route(info.context.viewer, input.id)
        await route.delete()
    return SuccessPayload(success=True)


async def redeliver_alert(info: Info, input: RedeliverAlertInput) -> AlertEventPayload:
    account = info.context.viewer
    async with in_transaction():
        delivery = None
        if (number := row_id(input.delivery_id, largest=MAX_BIG_ID)) is not None:
            delivery = (
                await AlertDelivery.filter(id=number, user_id=account.id)
                .select_for_update()
                .first()
            )
        if delivery is None:
            raise NotFound("You have no delivery with this id.", field="deliveryId")
        if delivery.status == DeliveryStatus.PENDING:
            raise Invalid("This delivery is still on its way.", field="deliveryId")
        if delivery.attempt_limit + config.DELIVERY_MAX_ATTEMPTS > ATTEMPT_LOG_BOUND:
            raise LimitExceeded("This delivery was sent again as often as it can be.")
        if delivery.channel in _KINDS and delivery.destination_id is None:
            raise Invalid("Its destination was deleted.", field="deliveryId")
        await AlertDelivery.filter(id=delivery.id).update(
            status=DeliveryStatus.PENDING,
            attempt_limit=max(delivery.attempts, delivery.attempt_limit)
            + config.DELIVERY_MAX_ATTEMPTS,
            next_attempt_at=datetime.now(UTC),
            lease_until=None,
            last_error=None,
        )
        event = await delivery.event
    after_commit(AlertChange(user_id=account.id, event_id=event.id, kind=ChangeKind.DELIVERY))
    dispatcher.wake_all()
    return AlertEventPayload(alert_event=AlertEvent.from_model(event))


async def own_destination(
    account: User, destination_id: str, *, field: str = "id", lock: bool = False
) -> Destination:
    """The viewer's destination of that id; the same answer for another's and for none.
    The account's email and Slack get their row here the first time they need one."""
    for kind, name in BUILT_IN_IDS.items():
        if destination_id == name:
            await _require_built_in(account, kind, field)
            key = {"user_id": account.id, "built_in": kind}
            await upsert(Destination, key, kind=kind, name=kind.value.title())
            query = Destination.filter(user_id=account.id, built_in=kind)
            return await (query.select_for_update() if lock else query).get()
    row = None
    if (number := row_id(destination_id)) is not None:
        query = Destination.filter(_managed_by(account), id=number, built_in=None)
        row = await (query.select_for_update() if lock else query).first()
    if row is None:
        raise NotFound("You have no destination with this id.", field=field)
    return row


def _managed_by(account: User) -> Q:
    """What `account` manages: its own, and the teams' it is an admin of."""
    admin_of = TeamMember.filter(user_id=account.id, role=TeamRole.ADMIN).values("team_id")
    return Q(user_id=account.id) | Q(team_id__in=Subquery(admin_of))


@dataclass(frozen=True)
class _Owner:
    """An account, or (with `team`) a team, that destinations and routes belong to."""

    user_id: int | None
    team: Team | None = None

    @property
    def key(self) -> dict[str, Any]:
        """The owner's column, to filter and create by."""
        return {"user_id": self.user_id} if self.team is None else {"team_id": self.team.id}

    def owns(self, row: Destination | AlertRoute) -> bool:
        team_id = None if self.team is None else self.team.id
        return (row.user_id, row.team_id) == (self.user_id, team_id)


async def _owner(account: User, team_name: str | None) -> _Owner:
    """Whose a new destination or route is: the team's named (for its admins), or the
    account's; locked, so that two counts against a limit happen one at a time."""
    if team_name is None:
        await User.filter(id=account.id).select_for_update().first()
        return _Owner(user_id=account.id)
    team = await locked_team(account, team_name)
    await require_team_admin(account, team)
    return _Owner(user_id=None, team=team)


async def _require_built_in(account: User, kind: AlertChannel, field: str) -> None:
    if kind == AlertChannel.EMAIL and not account.email:
        raise Invalid("Your account has no email address.", field=field)
    if kind == AlertChannel.SLACK and not await SlackIntegration.exists(user_id=account.id):
        raise Invalid("Connect Slack first.", field=field)


async def _own_route(account: User, route_id: str) -> AlertRoute:
    route = None
    if (number := row_id(route_id)) is not None:
        route = await AlertRoute.filter(_managed_by(account), id=number).first()
    if route is None:
        raise NotFound("You have no route with this id.", field="id")
    return route


def _events(events: list[AlertEventType]) -> list[AlertEventType]:
    if not events:
        raise Invalid("Choose at least one kind of alert.", field="events")
    if refused := [e.value for e in events if e in UNSUBSCRIBABLE]:
        raise Invalid(
            f"{', '.join(refused)} alerts go where they concern and cannot be routed.",
            field="events",
        )
    return events


def _pattern(pattern: str | None) -> str | None:
    if not given(pattern) or not pattern.strip():
        return None
    value = text(pattern, field="projectPattern", label="Project pattern", max_length=MAX_PATTERN)
    if sum(value.count(c) for c in "*?") > MAX_WILDCARDS:
        raise Invalid(
            f"A project pattern has at most {MAX_WILDCARDS} wildcards.", field="projectPattern"
        )
    return value


def _new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _host(url: str) -> str:
    """What the owner is shown of a URL: its host, and its port if not the default."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    default = 443 if parts.scheme == "https" else 80
    return host if parts.port in (None, default) else f"{host}:{parts.port}"
