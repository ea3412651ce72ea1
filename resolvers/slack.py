"""The viewer's Slack connection: start the OAuth flow, complete it, remove it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from auth import slack
from auth.sealing import seal
from errors import Unavailable
from models.alert import AlertChannel, AlertSubscription
from models.integration import OAuthProvider
from models.integration import SlackIntegration as SlackIntegrationModel
from models.upsert import upsert
from resolvers import connect
from resolvers.context import Info
from schema.alert import ConnectSlackPayload, SlackIntegration
from schema.common import SuccessPayload
from schema.connect import (
    CompleteConnectInput,
    DisconnectInput,
    StartConnectInput,
    StartConnectPayload,
)


def _require_configured() -> None:
    try:
        slack.require_configured()
    except slack.SlackNotConfigured as missing:
        raise Unavailable(str(missing)) from None


async def start_slack_connect(info: Info, input: StartConnectInput) -> StartConnectPayload:
    _require_configured()
    state, redirect_uri = await connect.begin(
        info.context.viewer, OAuthProvider.SLACK, input.redirect_uri
    )
    return StartConnectPayload(authorize_url=slack.authorize_url(state, redirect_uri))


async def connect_slack(info: Info, input: CompleteConnectInput) -> ConnectSlackPayload:
    _require_configured()
    account = info.context.viewer
    code = connect.code(input.code)
    flow = await connect.spend(account, OAuthProvider.SLACK, input.state)
    # No transaction is held while Slack answers: nothing is written until it has.
    try:
        grant = await slack.exchange_code(code, flow.redirect_uri)
    except slack.SlackConnectError as failure:
        raise Unavailable(f"Slack was not connected: {failure}") from None
    fields: dict[str, Any] = {
        "team_name": grant.team_name,
        "channel_name": grant.channel_name,
        "webhook_url_sealed": seal(grant.webhook_url),
    }
    async with in_transaction():
        # One connection per user: connecting again replaces the webhook.
        key = {"user_id": account.id}
        await upsert(SlackIntegrationModel, key, **fields, connected_at=datetime.now(UTC))
        integration = await SlackIntegrationModel.get(user_id=account.id)
    return ConnectSlackPayload(slack_integration=SlackIntegration.from_model(integration))


async def disconnect_slack(info: Info, input: DisconnectInput) -> SuccessPayload:
    """Forget the webhook and turn Slack alerts off; deliveries still queued for Slack
    then fail, as there is nowhere left to send them."""
    account = info.context.viewer
    async with in_transaction():
        await SlackIntegrationModel.filter(user_id=account.id).delete()
        await AlertSubscription.filter(user_id=account.id, channel=AlertChannel.SLACK).update(
            enabled=False
        )
    return SuccessPayload(success=True)
