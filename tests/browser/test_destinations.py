"""Destinations and routes from the page: a webhook added (its signing secret shown
once), routed to, reached by an alert whose delivery and attempts show in the history,
and sent again with the same webhook-id; muting and unmuting; deleting after confirming."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.browser.helpers import Site, expect, expect_ready, screenshot, sign_in, unique
from tests.support.receivers import Received, WebhookReceiver

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

NOTIFY = """
mutation($input: NotifyScriptableRunAlertInput!) {
  notifyScriptableRunAlert(input: $input) { success errors { field message } }
}
"""
CREATE = """
mutation($input: CreateWebhookDestinationInput!) {
  createWebhookDestination(input: $input) { destination { id } errors { message } }
}
"""
SET_ROUTE = """
mutation($input: SetAlertRouteInput!) {
  setAlertRoute(input: $input) { alertRoute { id } errors { message } }
}
"""
DESTINATIONS = "{ viewer { destinations { id name mutedUntil } } }"
ROUTES = "{ viewer { alertRoutes { events minSeverity projectPattern destinations { id } } } }"


async def arrived(hooks: WebhookReceiver, path: str, count: int) -> list[Received]:
    """The receiver's requests at `path` once there are `count` of them."""
    deadline = time.monotonic() + 15
    while len(found := [r for r in hooks.received if r.path == path]) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(found)} of {count} requests arrived at {path}")
        await asyncio.sleep(0.02)
    return found


def header(request: Received, name: str) -> str:
    return next(v for k, v in request.headers.items() if k.lower() == name)


async def make_webhook(site: Site, token: str, name: str, url: str) -> str:
    data = await site.data(token, CREATE, {"input": {"name": name, "url": url}})
    assert data["createWebhookDestination"]["errors"] == []
    destination_id: str = data["createWebhookDestination"]["destination"]["id"]
    return destination_id


async def test_a_routed_alert_reaches_a_new_webhook_and_is_sent_again(site, hooks, page):
    username = unique("wes")
    token = site.token(username)
    path = f"/{unique('hook')}"
    await sign_in(page, site, token)
    destinations = await expect_ready(page, "destinations")

    await destinations.get_by_label("Name", exact=True).fill("Ops hook")
    await destinations.get_by_label("URL").fill("http://127.0.0.1:1/plain")
    await destinations.get_by_role("button", name="Add webhook").click()
    url = destinations.get_by_label("URL")
    await expect(url).to_have_attribute("aria-invalid", "true")
    await expect(destinations.locator("#webhook-url-error")).to_have_text(
        "A webhook URL must start with https://."
    )
    await url.fill(hooks.hook(path.lstrip("/")))
    await destinations.get_by_role("button", name="Add webhook").click()

    secret_box = destinations.get_by_role("region", name="The signing secret")
    await expect(secret_box).to_be_visible()
    await expect(secret_box).to_contain_text("Copy the signing secret of Ops hook now.")
    await expect(secret_box).to_contain_text("You will not see it again.")
    secret = await secret_box.get_by_role("textbox", name="Signing secret").input_value()
    assert secret.startswith("whsec_"), secret
    hook_row = destinations.locator("li.destination", has_text="Ops hook")
    await expect(hook_row.locator(".destination-target")).to_have_text(f"Webhook {hooks.host}")
    await expect(hook_row.locator(".destination-state")).to_have_text("On")
    await screenshot(page, "destinations", "destinations-secret")
    await secret_box.get_by_role("button", name="Done").click()
    await expect(secret_box).to_be_hidden()
    assert await destinations.locator("#destination-secret-value").input_value() == ""

    routes = await expect_ready(page, "alert-routes")
    await expect(routes.locator("#routes-mode")).to_have_text(
        "No routes yet: the switches of Alerts decide."
    )
    await routes.get_by_label("Project pattern (optional)").fill("train-*")
    await routes.get_by_label("A run crashes").check()
    await routes.get_by_label("A run calls wandb.alert()").check()
    await routes.get_by_label("Minimum severity").select_option("WARN")
    await routes.get_by_role("checkbox", name="Ops hook").check()
    await routes.get_by_role("button", name="Add route").click()

    await expect(routes.locator(".route-words")).to_have_text(
        ["Crashes and run alerts from train-* in any entity, WARN and above → Ops hook"]
    )
    await expect(routes.locator("#routes-mode")).to_have_text("One route decides now.")
    await screenshot(page, "alert-routes", "alert-routes")
    [stored] = (await site.data(token, ROUTES))["viewer"]["alertRoutes"]
    assert stored["events"] == ["RUN_CRASHED", "SCRIPTABLE"]
    assert (stored["minSeverity"], stored["projectPattern"]) == ("WARN", "train-*")

    hooks.secrets += (secret,)
    alert = {
        "entityName": username,
        "projectName": "train-7",
        "runName": "run-1",
        "title": "Loss diverged",
        "text": "loss = nan",
        "severity": "ERROR",
    }
    answer = await site.data(token, NOTIFY, {"input": alert})
    assert answer["notifyScriptableRunAlert"]["errors"] == []

    [first] = await arrived(hooks, path, 1)
    assert first.verified_by == (secret,)
    alerts = page.locator("#alerts")
    history_row = alerts.locator("#alert-history tr", has_text="Loss diverged")
    delivery = history_row.locator("li[data-delivery-id]")
    await expect(delivery).to_have_count(1)
    await expect(delivery).to_have_attribute("data-status", "DELIVERED")
    await expect(delivery.locator(".channel")).to_have_text("Ops hook")
    await delivery.locator("summary").click()
    await expect(delivery.locator("summary")).to_have_text("Attempts (1)")
    attempts = delivery.locator(".attempt-log li")
    await expect(attempts).to_have_count(1)
    await expect(attempts.locator(".attempt-code")).to_have_text("HTTP 200")
    await expect(attempts.locator(".attempt-duration")).to_have_text(re.compile(r"^\d+ ms$"))

    await delivery.get_by_role("button", name="Redeliver “Loss diverged” to Ops hook").click()

    [_, second] = await arrived(hooks, path, 2)
    assert header(second, "webhook-id") == header(first, "webhook-id")
    assert second.verified_by == (secret,)
    await expect(delivery.locator(".delivery-note")).to_have_text("Sent again: delivered.")
    await expect(delivery.locator("summary")).to_have_text("Attempts (2)")
    await expect(attempts).to_have_count(2)  # still open, drawn anew
    await expect(alerts.locator("#history-status")).to_have_text(
        "Sending the alert to Ops hook again."
    )
    await screenshot(page, "alerts", "alerts-redelivered")


async def test_mute_a_destination_and_unmute_it(site, page):
    token = site.token(unique("mia"))
    await sign_in(page, site, token)
    destinations = await expect_ready(page, "destinations")
    email = destinations.locator('li[data-destination-id="email"]')
    state = email.locator(".destination-state")
    await expect(state).to_have_text("On")
    await expect(email.locator(".destination-actions")).to_have_text(
        re.compile(r"^Test\s*Mute…\s*Turn off\s*Digest…$")
    )

    await email.get_by_role("button", name="Mute Email").click()
    await email.get_by_label("Mute for").select_option("1 day")
    await email.get_by_role("button", name="Mute", exact=True).click()

    await expect(state).to_contain_text("Muted until")
    await expect(destinations.locator("#destinations-status")).to_have_text("Email is muted.")
    await expect(email.get_by_role("button", name="Unmute Email")).to_be_focused()
    [stored] = [
        d
        for d in (await site.data(token, DESTINATIONS))["viewer"]["destinations"]
        if d["id"] == "email"
    ]
    until = datetime.fromisoformat(stored["mutedUntil"])
    assert abs(until - (datetime.now(UTC) + timedelta(days=1))) < timedelta(minutes=2)
    shown = await state.locator("time").get_attribute("datetime")
    assert datetime.fromisoformat(shown) == until

    await email.get_by_role("button", name="Unmute Email").click()
    await expect(state).to_have_text("On")
    data = await site.data(token, DESTINATIONS)
    assert [d["mutedUntil"] for d in data["viewer"]["destinations"] if d["id"] == "email"] == [None]

    await email.get_by_role("button", name="Mute Email").click()
    await email.get_by_label("Mute for").select_option("Until a time…")
    await screenshot(page, "destinations", "destinations-mute")
    chosen = (datetime.now() + timedelta(days=3)).replace(
        hour=9, minute=30, second=0, microsecond=0
    )
    await email.get_by_label("Until", exact=True).fill(chosen.strftime("%Y-%m-%dT%H:%M"))
    await email.get_by_role("button", name="Mute", exact=True).click()

    await expect(state).to_contain_text("Muted until")
    data = await site.data(token, DESTINATIONS)
    [stored] = [d["mutedUntil"] for d in data["viewer"]["destinations"] if d["id"] == "email"]
    # The browser's time zone is this machine's, as is `chosen`.
    assert datetime.fromisoformat(stored) == chosen.astimezone(UTC)


async def test_rotate_a_secret_gather_a_digest_and_turn_a_webhook_off(site, hooks, page):
    token = site.token(unique("rob"))
    hook = await make_webhook(site, token, "CI hook", hooks.hook(unique("ci")))
    await sign_in(page, site, token)
    destinations = await expect_ready(page, "destinations")
    row = destinations.locator(f'li[data-destination-id="{hook}"]')
    state = row.locator(".destination-state")

    await row.get_by_role("button", name="Rotate secret of CI hook").click()
    secret_box = destinations.get_by_role("region", name="The signing secret")
    await expect(secret_box).to_contain_text("keeps signing beside the new one for 24 hours")
    value = secret_box.get_by_role("textbox", name="Signing secret")
    await expect(value).to_be_focused()
    assert (await value.input_value()).startswith("whsec_")

    await row.get_by_role("button", name="Digest of CI hook").click()
    await row.get_by_label("Gather alerts").select_option("Every 15 minutes")
    await row.get_by_role("button", name="Save", exact=True).click()
    await expect(state).to_have_text("On · Digest every 15 minutes")

    await row.get_by_role("button", name="Turn off CI hook").click()
    await expect(state).to_have_text("Turned off: alerts skip it. · Digest every 15 minutes")
    await expect(row.get_by_role("button", name="Turn on CI hook")).to_be_focused()
    query = "{ viewer { destinations { id enabled digestMinutes } } }"
    listed = (await site.data(token, query))["viewer"]["destinations"]
    assert [d for d in listed if d["id"] == hook] == [
        {"id": hook, "enabled": False, "digestMinutes": 15}
    ]


async def test_delete_a_destination_after_confirming(site, hooks, page):
    token = site.token(unique("dee"))
    hook = await make_webhook(site, token, "Old hook", hooks.hook(unique("old")))
    route = {"events": ["RUN_CRASHED"], "destinationIds": [hook, "email"]}
    assert (await site.data(token, SET_ROUTE, {"input": route}))["setAlertRoute"]["errors"] == []
    await sign_in(page, site, token)
    destinations = await expect_ready(page, "destinations")
    routes = await expect_ready(page, "alert-routes")
    await expect(routes.locator(".route-words")).to_have_text(
        ["Crashes from every project in any entity, any severity → Old hook, Email"]
    )
    row = destinations.locator("li.destination", has_text="Old hook")
    email = destinations.locator('li[data-destination-id="email"]')
    await expect(email.get_by_role("button", name="Delete Email")).to_have_count(0)

    await row.get_by_role("button", name="Delete Old hook").click()
    await expect(row.locator(".confirm-text")).to_have_text(
        "Its routes lose it, and alerts on their way to it are not sent."
    )
    await row.get_by_role("button", name="Cancel").click()
    await expect(row.get_by_role("button", name="Delete Old hook")).to_be_focused()
    assert hook in await destination_ids(site, token)

    await row.get_by_role("button", name="Delete Old hook").click()
    await row.get_by_role("button", name="Delete for good: Old hook").click()

    await expect(row).to_have_count(0)
    await expect(destinations.locator("#destinations-status")).to_have_text("Old hook deleted.")
    assert hook not in await destination_ids(site, token)
    await expect(routes.locator(".route-words")).to_have_text(
        ["Crashes from every project in any entity, any severity → Email"]
    )


async def destination_ids(site: Site, token: str) -> list[Any]:
    data = await site.data(token, DESTINATIONS)
    return [d["id"] for d in data["viewer"]["destinations"]]
