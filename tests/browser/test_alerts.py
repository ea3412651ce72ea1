"""Alerts from the page: connect Slack through its OAuth flow (a loopback Slack), send a
test alert, and see it in the live feed, at the webhook and in the history; the feed
resumes after the server drops the socket."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import fakes
from tests.browser.fakes import FakeSlack
from tests.browser.helpers import Site, expect, expect_ready, screenshot, sign_in, unique

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

TEST_ALERT = """
mutation { sendTestAlert(input: {channel: SLACK}) { alertEvent { id } errors { message } } }
"""


async def connect_slack(page: Any, site: Site, slack: FakeSlack) -> Any:
    alerts = await expect_ready(page, "alerts")
    await alerts.get_by_role("button", name="Connect Slack", exact=True).click()
    await page.wait_for_url(f"{slack.authorize_url}?**")
    await page.get_by_role("link", name="Allow").click()
    await page.wait_for_url(f"{site.url}/settings#alerts")
    await expect_ready(page, "alerts")
    await expect(page.locator("#flash-text")).to_have_text(
        f"Slack is connected to {fakes.SLACK_TEAM}."
    )
    await expect(alerts.locator("#slack-status")).to_contain_text(
        f"Connected to {fakes.SLACK_TEAM}, channel {fakes.SLACK_CHANNEL}"
    )
    return alerts


async def test_connect_slack_and_receive_a_test_alert_live_and_at_the_webhook(site, slack, page):
    token = site.token(unique("sam"))
    await sign_in(page, site, token)

    alerts = await connect_slack(page, site, slack)
    live = alerts.locator("#live-status")
    await expect(live).to_have_attribute("data-state", "live")
    sent_before = len(slack.messages)
    await alerts.get_by_label("Send a test alert to").select_option("SLACK")
    await alerts.get_by_role("button", name="Send test alert").click()

    feed = alerts.locator("#live-feed li")
    await expect(feed).to_have_count(1)
    await expect(feed.locator(".feed-title")).to_have_text("Test alert")
    messages = await slack.wait_for_messages(sent_before + 1)
    assert "Test alert" in str(messages[-1])
    row = alerts.locator("#alert-history tr").first
    await expect(row.locator('[data-channel="SLACK"]')).to_have_attribute(
        "data-status", "DELIVERED"
    )
    await expect(alerts.get_by_role("switch", name="Slack: a run finishes")).to_be_enabled()
    assert slack.exchanges[-1]["code"] == fakes.SLACK_CODE
    await screenshot(page, "alerts", "alerts")


async def test_alert_subscriptions_are_saved_and_slack_disconnected(site, slack, page):
    token = site.token(unique("sal"))
    await sign_in(page, site, token)
    alerts = await connect_slack(page, site, slack)

    await alerts.get_by_role("switch", name="Slack: a run crashes").check()
    await alerts.get_by_role("switch", name="Email: a run calls wandb.alert()").check()
    await page.reload()
    await expect_ready(page, "alerts")

    await expect(alerts.get_by_role("switch", name="Slack: a run crashes")).to_be_checked()
    await expect(
        alerts.get_by_role("switch", name="Email: a run calls wandb.alert()")
    ).to_be_checked()
    query = "{ viewer { alertSubscriptions { event channel enabled } } }"
    enabled = {
        (s["event"], s["channel"])
        for s in (await site.data(token, query))["viewer"]["alertSubscriptions"]
        if s["enabled"]
    }
    assert {("RUN_CRASHED", "SLACK"), ("SCRIPTABLE", "EMAIL")} <= enabled

    await alerts.get_by_role("button", name="Disconnect Slack", exact=True).click()

    await expect(alerts.get_by_role("button", name="Connect Slack", exact=True)).to_be_visible()
    await expect(alerts.get_by_role("switch", name="Slack: a run crashes")).to_be_disabled()
    data = await site.data(token, "{ viewer { slackIntegration { teamName } } }")
    assert data["viewer"]["slackIntegration"] is None


async def test_live_feed_resumes_after_the_server_restarts(site, slack, page):
    token = site.token(unique("ria"))
    await sign_in(page, site, token)
    alerts = await connect_slack(page, site, slack)
    live = alerts.locator("#live-status")
    await expect(live).to_have_attribute("data-state", "live")
    await expect(live).to_have_attribute("data-after", "")
    first = await site.data(token, TEST_ALERT)
    feed = alerts.locator("#live-feed li")
    await expect(feed).to_have_count(1)

    site.server.kill()
    await expect(live).to_have_attribute("data-state", "retrying")
    await site.server.start()
    # Raised before the page is back: the page must ask for it with `after`.
    second = await site.data(token, TEST_ALERT)
    await expect(live).to_have_attribute("data-state", "live", timeout=40_000)
    await expect(live).to_have_attribute("data-after", first["sendTestAlert"]["alertEvent"]["id"])

    await expect(feed).to_have_count(2)
    ids = [await item.get_attribute("data-alert-id") for item in await feed.all()]
    assert ids == [
        second["sendTestAlert"]["alertEvent"]["id"],
        first["sendTestAlert"]["alertEvent"]["id"],
    ]


async def test_slack_connection_refused_by_the_server_is_explained(site, page):
    await sign_in(page, site, site.token(unique("zed")))
    await page.evaluate("sessionStorage.setItem('switchboard.oauthProvider', 'slack')")

    await page.goto(f"{site.url}/settings/connected?code=forged&state=forged.state")

    message = page.locator("#connected-message")
    await expect(message).to_have_text("The state is not one this server issued.")
    assert page.url == f"{site.url}/settings/connected"
    await page.get_by_role("link", name="Back to settings").click()
    await expect_ready(page, "alerts")
