"""Alerts: the viewer's subscriptions, test alerts, and what run trackers report.

Reports (`notifyScriptableRunAlert`, `reportRunState`) are recorded with their
deliveries in one transaction and answered at once; the dispatcher sends them.
"""

from __future__ import annotations

from typing import Any

from tortoise.transactions import in_transaction

from errors import Forbidden, Invalid
from models.alert import UNSUBSCRIBABLE, AlertChannel, AlertEventType, AlertSeverity
from models.alert import AlertSubscription as AlertSubscriptionModel
from models.integration import SlackIntegration as SlackIntegrationModel
from models.team import Team, TeamMember, TeamRole
from models.upsert import upsert
from models.user import User
from notifiers.outbox import announce, raise_alert, record_alert
from resolvers.context import Info
from resolvers.entities import ActingFor, acting_for
from resolvers.validation import Checks, shown
from schema.alert import (
    AlertEvent,
    AlertEventPayload,
    AlertSubscription,
    NotifyScriptableRunAlertInput,
    NotifyScriptableRunAlertPayload,
    ReportRunStateInput,
    RunState,
    SendTestAlertInput,
    SetAlertSubscriptionInput,
    SetAlertSubscriptionPayload,
)
from schema.common import SuccessPayload
from text_checks import text

MAX_TITLE = 64
MAX_TEXT = 10_000
MAX_NAME = 128

_RUN_ENDS = {
    RunState.FINISHED: (AlertEventType.RUN_FINISHED, AlertSeverity.INFO, "finished"),
    RunState.CRASHED: (AlertEventType.RUN_CRASHED, AlertSeverity.ERROR, "crashed"),
}


async def set_alert_subscription(
    info: Info, input: SetAlertSubscriptionInput
) -> SetAlertSubscriptionPayload:
    account = info.context.viewer
    if input.event in UNSUBSCRIBABLE:
        raise Invalid(
            f"{input.event.value} alerts are sent when they happen and cannot be subscribed to.",
            field="event",
        )
    if (
        input.enabled
        and input.channel == AlertChannel.SLACK
        and not await SlackIntegrationModel.exists(user_id=account.id)
    ):
        raise Invalid("Connect Slack before turning on Slack alerts.", field="channel")
    key: dict[str, Any] = {"user_id": account.id, "event": input.event, "channel": input.channel}
    async with in_transaction():
        await upsert(AlertSubscriptionModel, key, enabled=input.enabled)
        row = await AlertSubscriptionModel.get(**key)
    return SetAlertSubscriptionPayload(alert_subscription=AlertSubscription.from_model(row))


async def send_test_alert(info: Info, input: SendTestAlertInput) -> AlertEventPayload:
    account = info.context.viewer
    connected = [AlertChannel.EMAIL] if account.email else []
    if await SlackIntegrationModel.exists(user_id=account.id):
        connected.append(AlertChannel.SLACK)
    if input.channel is not None and input.channel not in connected:
        if input.channel == AlertChannel.SLACK:
            raise Invalid("Connect Slack before sending a test alert to it.", field="channel")
        raise Invalid("Your account has no email address to send to.", field="channel")
    if not connected:
        raise Invalid("Add an email address or connect Slack first.", field="channel")
    channels = [input.channel] if input.channel is not None else connected
    names = " and ".join("email" if c == AlertChannel.EMAIL else "Slack" for c in channels)
    return await raise_test_alert(account, f"you by {names}", channels=channels)


async def raise_test_alert(account: User, reach: str, **where: Any) -> AlertEventPayload:
    """A test alert saying that alerts `reach` where it is sent (`channels=` or
    `destination=`, as `record_alert` takes them)."""
    event = await raise_alert(
        account,
        type=AlertEventType.TEST,
        title="Test alert",
        text=f"This is a test alert. If you can read it, your alerts reach {reach}.",
        severity=AlertSeverity.INFO,
        entity_name=account.username,
        **where,
    )
    return AlertEventPayload(alert_event=AlertEvent.from_model(event))


async def notify_scriptable_run_alert(
    info: Info, input: NotifyScriptableRunAlertInput
) -> NotifyScriptableRunAlertPayload:
    """What `wandb.alert()` sends: an alert raised by the run itself."""
    account = info.context.viewer
    entity = await _run_entity(account, input.entity_name)
    checks = Checks()
    title = checks.run(
        text, input.title, field="title", label="Title", min_length=1, max_length=MAX_TITLE
    )
    body = checks.run(
        text, input.text, field="text", label="Text", max_length=MAX_TEXT, multiline=True
    )
    project_name, run_name = _run_names(checks, input.project_name, input.run_name)
    checks.done()
    await _raise_run_alert(
        account,
        entity,
        type=AlertEventType.SCRIPTABLE,
        title=title or "",
        text=body or "",
        severity=input.severity or AlertSeverity.INFO,
        entity_name=entity.name,
        project_name=project_name,
        run_name=run_name,
        wait_duration_ms=input.wait_duration,
    )
    return NotifyScriptableRunAlertPayload(
        success=True, client_mutation_id=input.client_mutation_id
    )


async def report_run_state(info: Info, input: ReportRunStateInput) -> SuccessPayload:
    """What a run tracker sends when a run ends."""
    account = info.context.viewer
    entity = await _run_entity(account, input.entity_name)
    checks = Checks()
    project_name, run_name = _run_names(checks, input.project_name, input.run_name)
    checks.done()
    type, severity, verb = _RUN_ENDS[input.state]
    await _raise_run_alert(
        account,
        entity,
        type=type,
        title=f"Run {verb}",
        text=f"Run {run_name} of {entity.name}/{project_name} {verb}.",
        severity=severity,
        entity_name=entity.name,
        project_name=project_name,
        run_name=run_name,
    )
    return SuccessPayload(success=True)


async def _raise_run_alert(account: User, entity: ActingFor, **alert: Any) -> None:
    """A run's alert: the account's own, or a service account's team admins', each by
    their own routes or subscriptions; a team's run's also by the team's routes, once.
    All written in one transaction, announced once committed."""
    found = None
    if entity.entity_id != account.entity_id:  # a team's run
        found = await Team.filter(entity_id=entity.entity_id).only("id").first()
    team = None if found is None else found.id
    async with in_transaction():
        if account.service:  # its own event carries the team's deliveries
            recorded = [await record_alert(account, channels=[], team_id=team, **alert)]
            teams = TeamMember.filter(user_id=account.id).values_list("team_id", flat=True)
            admins = await User.filter(
                memberships__team_id__in=await teams,
                memberships__role=TeamRole.ADMIN,
                service=False,
            ).order_by("id")
            recorded += [await record_alert(admin, **alert) for admin in admins]
        else:
            recorded = [await record_alert(account, team_id=team, **alert)]
    for each in recorded:
        announce(each)


async def _run_entity(account: User, entity_name: str) -> ActingFor:
    """The entity, its name as registered, if the caller may report runs of it."""
    entity = await acting_for(account, entity_name)
    if entity is None:
        # The same answer for a team that does not exist and one the caller is not
        # in: a run tracker's key must not reveal which team names exist.
        raise Forbidden(
            f"You may not report runs of '{shown(entity_name)}': it is not you or a team of yours."
        )
    return entity


def _run_names(checks: Checks, project: str, run: str) -> tuple[str, str]:
    project_name = checks.run(
        text, project, field="projectName", label="Project name", min_length=1, max_length=MAX_NAME
    )
    run_name = checks.run(
        text, run, field="runName", label="Run name", min_length=1, max_length=MAX_NAME
    )
    return project_name or "", run_name or ""
