"""A team's webhooks and routes from its card, for its admins: a team webhook added (its
signing secret shown once), routed to, and reached by the alerts of the team's runs that
a member and a service account raise; its actions on a team webhook and a team route;
nothing of it for a member who is not an admin."""

from __future__ import annotations

import re
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from tests.browser.helpers import (
    DESKTOP,
    PHONE,
    Site,
    api_key_authorization,
    expect,
    expect_ready,
    screenshot,
    sign_in,
    unique,
)
from tests.browser.test_destinations import NOTIFY, arrived, header
from tests.browser.test_service_accounts import member_of, redrawn, service_account_of
from tests.browser.test_teams import signed_up, team_of

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

CREATE = """
mutation($input: CreateWebhookDestinationInput!) {
  createWebhookDestination(input: $input) { destination { id } signingSecret errors { message } }
}
"""
SET_ROUTE = """
mutation($input: SetAlertRouteInput!) {
  setAlertRoute(input: $input) { alertRoute { id } errors { message } }
}
"""
TEAM_ALERTS = """
query($name: String!) {
  team(name: $name) {
    destinations { name kind }
    alertRoutes { entityName projectPattern events minSeverity destinations { name } }
  }
}
"""
VIEWER_DESTINATIONS = "{ viewer { destinations { name } } }"


async def team_webhook(site: Site, token: str, team: str, name: str, url: str) -> tuple[str, str]:
    """A webhook of `team` made through the API: its id and its signing secret."""
    variables = {"input": {"name": name, "url": url, "teamName": team}}
    made = (await site.data(token, CREATE, variables))["createWebhookDestination"]
    assert made["errors"] == []
    return made["destination"]["id"], made["signingSecret"]


async def team_alerts(site: Site, token: str, team: str) -> Any:
    return (await site.data(token, TEAM_ALERTS, {"name": team}))["team"]


def card_of(teams: Any, team: str) -> Any:
    return teams.locator(f'article[data-team="{team}"]')


async def test_team_admin_routes_a_team_webhook_that_gets_the_alerts_of_the_teams_runs(
    site, hooks, page
):
    alice, token = await signed_up(site, "alice")
    bob, bob_token = await signed_up(site, "bob")
    team = await team_of(site, alice)
    await member_of(site, team, bob)
    path = unique("team-hook")
    await sign_in(page, site, token)
    part = card_of(await expect_ready(page, "teams"), team).get_by_role(
        "region", name="Team alerts"
    )
    add = part.get_by_role("form", name=f"Add a webhook of {team}")
    await expect(part.get_by_role("heading", name="Add a team webhook")).to_be_visible()
    await expect(part.get_by_text("No webhooks yet: add one below.")).to_be_visible()
    await expect(part.locator(".routes-mode")).to_have_text("No team routes yet.")
    await expect(part.get_by_text("No webhooks of the team yet: add one above.")).to_be_visible()
    await expect(part).to_contain_text(
        f"These routes take the alerts of {team}'s runs, whoever reports them"
    )

    await add.get_by_label("Name", exact=True).fill("Team hook")
    await add.get_by_label("URL").fill("http://127.0.0.1:1/plain")
    await add.get_by_role("button", name="Add webhook").click()
    url = add.get_by_label("URL")
    await expect(url).to_have_attribute("aria-invalid", "true")
    await expect(add.locator('[id$="-webhook-url-error"]')).to_have_text(
        "A webhook URL must start with https://."
    )
    await url.fill(hooks.hook(path))
    await add.get_by_role("button", name="Add webhook").click()

    secret_box = part.get_by_role("region", name="The signing secret")
    await expect(secret_box).to_contain_text("Copy the signing secret of Team hook now.")
    await expect(secret_box).to_contain_text("You will not see it again.")
    value = secret_box.get_by_role("textbox", name="Signing secret")
    await expect(value).to_be_focused()
    secret = await value.input_value()
    assert secret.startswith("whsec_"), secret
    row = part.locator("li.destination", has_text="Team hook")
    await expect(row.locator(".destination-target")).to_have_text(f"Webhook {hooks.host}")
    await expect(row.locator(".destination-state")).to_have_text("On")
    await expect(part.get_by_text("No webhooks yet: add one below.")).to_be_hidden()
    await screenshot(page, "teams", "team-alerts-secret")
    await secret_box.get_by_role("button", name="Done").click()
    await expect(secret_box).to_be_hidden()
    await expect(add.get_by_label("Name", exact=True)).to_be_focused()
    assert secret not in await page.locator("input").evaluate_all("all => all.map(i => i.value)")
    viewers = (await site.data(token, VIEWER_DESTINATIONS))["viewer"]["destinations"]
    assert "Team hook" not in [d["name"] for d in viewers]
    own = page.locator("#destinations li.destination", has_text="Team hook")
    await expect(own).to_have_count(0)

    route = part.get_by_role("form", name="Add a team route")
    await expect(route.get_by_label("Entity")).to_have_count(0)
    await route.get_by_label("Project pattern (optional)").fill("train-*")
    await route.get_by_label("A run calls wandb.alert()").check()
    await route.get_by_label("Minimum severity").select_option("WARN")
    await route.get_by_role("checkbox", name="Team hook").check()
    await route.get_by_role("button", name="Add route").click()

    await expect(part.locator(".route-words")).to_have_text(
        [f"Run alerts from train-* in {team}, WARN and above → Team hook"]
    )
    await expect(part.locator(".routes-mode")).to_be_hidden()
    await expect(part.locator('[id$="-routes-status"]')).to_have_text("Route added.")
    await screenshot(page, "teams", "team-alerts-route")
    stored = await team_alerts(site, token, team)
    assert stored == {
        "destinations": [{"name": "Team hook", "kind": "WEBHOOK"}],
        "alertRoutes": [
            {
                "entityName": team,
                "projectPattern": "train-*",
                "events": ["SCRIPTABLE"],
                "minSeverity": "WARN",
                "destinations": [{"name": "Team hook"}],
            }
        ],
    }

    hooks.secrets += (secret,)
    alert = {
        "entityName": team,
        "projectName": "train-3",
        "runName": "run-1",
        "title": "Loss diverged",
        "text": "loss = nan",
        "severity": "ERROR",
    }
    answer = await site.data(bob_token, NOTIFY, {"input": alert})
    assert answer["notifyScriptableRunAlert"]["errors"] == []

    [first] = await arrived(hooks, f"/{path}", 1)
    assert first.verified_by == (secret,)
    assert re.fullmatch(r"msg_\d+", header(first, "webhook-id"))
    payload = Webhook(secret).verify(first.body, first.headers)
    assert payload["type"] == "alert.raised"
    assert {k: payload["data"][k] for k in alert} == alert

    _, key = await service_account_of(site, token, team, "Nightly CI")
    nightly = {**alert, "runName": "nightly-1", "title": "Nightly failed", "severity": "WARN"}
    answer = await site.graphql(api_key_authorization(key), NOTIFY, {"input": nightly})
    assert answer["data"]["notifyScriptableRunAlert"]["errors"] == [], answer

    [_, second] = await arrived(hooks, f"/{path}", 2)
    assert second.verified_by == (secret,)
    assert header(second, "webhook-id") != header(first, "webhook-id")
    payload = Webhook(secret).verify(second.body, second.headers)
    assert (payload["data"]["title"], payload["data"]["entityName"]) == ("Nightly failed", team)


async def test_team_admin_tests_rotates_mutes_edits_and_deletes(site, hooks, page):
    alice, token = await signed_up(site, "alice")
    bob, _ = await signed_up(site, "bob")
    team = await team_of(site, alice)
    await member_of(site, team, bob)
    path = unique("team-ci")
    hook, secret = await team_webhook(site, token, team, "CI hook", hooks.hook(path))
    route = {"teamName": team, "events": ["RUN_CRASHED"], "destinationIds": [hook]}
    assert (await site.data(token, SET_ROUTE, {"input": route}))["setAlertRoute"]["errors"] == []
    hooks.secrets += (secret,)
    await sign_in(page, site, token)
    card = card_of(await expect_ready(page, "teams"), team)
    part = card.get_by_role("region", name="Team alerts")
    row = part.locator(f'li[data-destination-id="{hook}"]')
    state = row.locator(".destination-state")
    said = part.locator('[id$="-destinations-status"]')
    words = f"Crashes from every project in {team}, any severity → CI hook"
    await expect(part.locator(".route-words")).to_have_text([words])
    await page.set_viewport_size(PHONE)
    await screenshot(page, "teams", "team-alerts-phone")
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await page.set_viewport_size(DESKTOP)

    await row.get_by_role("button", name="Test CI hook").click()
    await expect(said).to_have_text(
        "Test alert sent to CI hook: see how it went in the history of Alerts."
    )
    [tested] = await arrived(hooks, f"/{path}", 1)
    assert tested.verified_by == (secret,)

    await row.get_by_role("button", name="Rotate secret of CI hook").click()
    secret_box = part.get_by_role("region", name="The signing secret")
    await expect(secret_box).to_contain_text("keeps signing beside the new one for 24 hours")
    value = secret_box.get_by_role("textbox", name="Signing secret")
    await expect(value).to_be_focused()
    rotated = await value.input_value()
    assert rotated.startswith("whsec_") and rotated != secret
    role = card.get_by_role("combobox", name=f"Role of {bob} in {team}")
    # A role change draws the whole section anew: the secret stays on show.
    await redrawn(page, team, lambda: role.select_option("ADMIN"))
    await expect(value).to_have_value(rotated)
    await secret_box.get_by_role("button", name="Done").click()
    await expect(secret_box).to_be_hidden()

    await row.get_by_role("button", name="Digest of CI hook").click()
    await row.get_by_label("Gather alerts").select_option("Every 15 minutes")
    await row.get_by_role("button", name="Save", exact=True).click()
    await expect(state).to_have_text("On · Digest every 15 minutes")
    await row.get_by_role("button", name="Mute CI hook").click()
    await row.get_by_label("Mute for").select_option("1 hour")
    await row.get_by_role("button", name="Mute", exact=True).click()
    await expect(state).to_contain_text("Muted until")
    await expect(said).to_have_text("CI hook is muted.")
    await row.get_by_role("button", name="Unmute CI hook").click()
    await row.get_by_role("button", name="Turn off CI hook").click()
    await expect(state).to_have_text("Turned off: alerts skip it. · Digest every 15 minutes")
    await expect(row.get_by_role("button", name="Turn on CI hook")).to_be_focused()
    await row.get_by_role("button", name="Turn on CI hook").click()
    await expect(state).to_have_text("On · Digest every 15 minutes")

    await part.get_by_role("button", name=f"Edit route: {words}").click()
    form = part.get_by_role("form", name="Change the route")
    await expect(form.get_by_label("Project pattern (optional)")).to_be_focused()
    await expect(form.get_by_role("checkbox", name="CI hook")).to_be_checked()
    await form.get_by_label("A run finishes").check()
    await form.get_by_role("button", name="Save route").click()
    words = f"Finished runs and crashes from every project in {team}, any severity → CI hook"
    await expect(part.locator(".route-words")).to_have_text([words])
    await expect(part.locator('[id$="-routes-status"]')).to_have_text("Route saved.")

    await row.get_by_role("button", name="Delete CI hook").click()
    await expect(row.locator(".confirm-text")).to_have_text(
        "Its routes lose it, and alerts on their way to it are not sent."
    )
    await row.get_by_role("button", name="Delete for good: CI hook").click()
    await expect(row).to_have_count(0)
    await expect(said).to_have_text("CI hook deleted.")
    await expect(part.get_by_text("No webhooks yet: add one below.")).to_be_visible()
    await expect(part.get_by_label("Name", exact=True)).to_be_focused()
    words = words.replace("CI hook", "nowhere: its destinations were deleted")
    await expect(part.locator(".route-words")).to_have_text([words])

    await part.get_by_role("button", name=f"Delete route: {words}").click()
    await part.get_by_role("button", name=f"Delete for good: {words}").click()
    await expect(part.locator(".route-words")).to_have_count(0)
    await expect(part.locator(".routes-mode")).to_have_text("No team routes yet.")
    await expect(part.locator('[id$="-routes-status"]')).to_have_text("Route deleted.")
    assert await team_alerts(site, token, team) == {"destinations": [], "alertRoutes": []}


async def test_team_member_who_is_not_an_admin_sees_no_team_alerts(site, hooks, page):
    alice, token = await signed_up(site, "alice")
    bob, bob_token = await signed_up(site, "bob")
    team = await team_of(site, alice)
    await member_of(site, team, bob)
    await team_webhook(site, token, team, "Team hook", hooks.hook(unique("hidden")))
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.post_data or ""))

    await sign_in(page, site, bob_token)

    card = card_of(await expect_ready(page, "teams"), team)
    await expect(card).to_contain_text("You are a member")
    await expect(card.get_by_role("heading", name="Team alerts")).to_have_count(0)
    await expect(page.locator(".team-alerts")).to_have_count(0)
    await expect(page.get_by_text("Team hook")).to_have_count(0)
    assert not [body for body in asked if "TeamAlerts" in body]
    assert await team_alerts(site, bob_token, team) == {"destinations": [], "alertRoutes": []}
