"""A team's service accounts from the page: made, shown once, listed, badged, deleted."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

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
from tests.browser.test_teams import signed_up, team_of

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

VIEWER = "{ viewer { username } }"
ADD_MEMBER = """
mutation($input: AddTeamMemberInput!) { addTeamMember(input: $input) { errors { code message } } }
"""
CREATE_SERVICE_ACCOUNT = """
mutation($input: CreateServiceAccountInput!) {
  createServiceAccount(input: $input) { user { username } secret errors { code message } }
}
"""
MEMBERS = """
query($name: String!) { team(name: $name) { members { accountType profile { username name } } } }
"""


async def member_of(site: Site, team: str, username: str) -> None:
    """`username` added to `team` as a member, by a site admin."""
    variables = {"input": {"teamName": team, "username": username, "role": "MEMBER"}}
    added = await site.data(site.token(unique("root"), admin=True), ADD_MEMBER, variables)
    assert added["addTeamMember"]["errors"] == []


async def service_account_of(
    site: Site, token: str, team: str, description: str
) -> tuple[str, str]:
    """A service account of `team` made through the API: its username and its key."""
    variables = {"input": {"entityName": team, "description": description}}
    made = (await site.data(token, CREATE_SERVICE_ACCOUNT, variables))["createServiceAccount"]
    assert made["errors"] == []
    return made["user"]["username"], made["secret"]


async def signed_in_as(site: Site, key: str) -> tuple[int, Any]:
    """The HTTP status and the answer of `{ viewer { username } }` asked with API key `key`."""
    headers = {"Authorization": api_key_authorization(key)}
    body = {"query": VIEWER}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{site.url}/graphql", json=body, headers=headers) as response,
    ):
        return response.status, await response.json(content_type=None)


async def redrawn(page: Any, team: str, change: Callable[[], Awaitable[Any]]) -> None:
    """Waits, after `change()`, until the section has drawn `team`'s card anew."""
    card = f'article[data-team="{team}"]'
    await page.locator(card).evaluate("card => { card.dataset.old = 'yes'; }")
    await change()
    await page.wait_for_function(
        f"() => document.querySelector('{card}')?.dataset.old === undefined"
    )


async def values_of_inputs(page: Any) -> list[str]:
    values: list[str] = await page.locator("input").evaluate_all(
        "inputs => inputs.map((i) => i.value)"
    )
    return values


async def service_members(site: Site, token: str, team: str) -> list[dict[str, str]]:
    members = (await site.data(token, MEMBERS, {"name": team}))["team"]["members"]
    return [m["profile"] for m in members if m["accountType"] == "SERVICE"]


async def test_team_admin_creates_a_service_account_whose_key_is_shown_once_and_signs_in(
    site, page
):
    alice, token = await signed_up(site, "alice")
    team = await team_of(site, alice)
    await sign_in(page, site, token)
    card = (await expect_ready(page, "teams")).locator(f'article[data-team="{team}"]')
    part = card.get_by_role("region", name="Service accounts")
    form = card.get_by_role("form", name=f"New service account for {team}")
    await expect(part.get_by_text("No service accounts yet.")).to_be_visible()

    await form.get_by_role("button", name="Create service account").click()
    await expect(form.get_by_label("Description")).to_have_attribute("aria-invalid", "true")
    await expect(form.locator(".field-error")).to_be_visible()
    await form.get_by_label("Description").fill("Nightly CI")
    await form.get_by_role("button", name="Create service account").click()

    await expect(form.get_by_role("status")).to_have_text("Service account Nightly CI created.")
    secret_box = part.get_by_role("region", name="API key of Nightly CI")
    await expect(secret_box).to_contain_text("It is shown only this once.")
    await expect(secret_box).to_contain_text("WANDB_API_KEY")
    field = secret_box.get_by_role("textbox")
    await expect(field).to_be_focused()
    secret = await field.input_value()
    assert re.fullmatch(r"[A-Za-z0-9]{40}", secret), secret
    [account] = await service_members(site, token, team)
    assert account["name"] == "Nightly CI"
    assert re.fullmatch(rf"sa-[0-9a-f]{{6}}-{re.escape(team)}", account["username"]), account
    username = account["username"]
    status_code, answer = await signed_in_as(site, secret)
    assert (status_code, answer["data"]) == (200, {"viewer": {"username": username}})
    await expect(form.get_by_label("Description")).to_have_value("")
    await expect(part.get_by_text("No service accounts yet.")).to_be_hidden()
    listed = part.locator("tbody tr")
    await expect(listed).to_have_count(1)
    await expect(listed.locator("td").nth(0)).to_have_text(f"Nightly CI {username}")
    await expect(listed.locator("time")).to_have_count(1)
    row = card.get_by_role("table", name=f"Members of {team}").locator(
        f'tr[data-username="{username}"]'
    )
    await expect(row.locator(".badge")).to_have_text("Service account")
    await expect(row.get_by_role("button")).to_have_count(0)
    await expect(row.get_by_role("combobox")).to_have_count(0)
    await expect(card).to_contain_text("2 members")
    await screenshot(page, "teams", "team-service-account-key")

    await secret_box.get_by_role("button", name="Done").click()
    await expect(secret_box).to_have_count(0)
    await expect(form.get_by_label("Description")).to_be_focused()
    await page.reload()
    card = (await expect_ready(page, "teams")).locator(f'article[data-team="{team}"]')
    await expect(
        card.get_by_role("region", name="Service accounts").locator("tbody tr")
    ).to_have_count(1)
    assert secret not in await values_of_inputs(page)
    await expect(
        card.get_by_role("table", name=f"Members of {team}").locator(".badge")
    ).to_have_text(["Service account"])


async def test_new_key_stays_on_show_when_the_section_reloads_until_done(site, page):
    alice, token = await signed_up(site, "alice")
    bob, _ = await signed_up(site, "bob")
    team = await team_of(site, alice)
    await member_of(site, team, bob)
    await sign_in(page, site, token)
    card = (await expect_ready(page, "teams")).locator(f'article[data-team="{team}"]')
    form = card.get_by_role("form", name=f"New service account for {team}")
    await form.get_by_label("Description").fill("GPU box")
    await form.get_by_role("button", name="Create service account").click()
    secret_box = card.get_by_role("region", name="API key of GPU box")
    secret = await secret_box.get_by_role("textbox").input_value()
    role = card.get_by_role("combobox", name=f"Role of {bob} in {team}")

    # A role change draws the whole section anew.
    await redrawn(page, team, lambda: role.select_option("ADMIN"))

    await expect(card).to_contain_text("3 members")
    await expect(role).to_have_value("ADMIN")
    await expect(secret_box.get_by_role("textbox")).to_have_value(secret)
    await secret_box.get_by_role("button", name="Done").click()
    await redrawn(page, team, lambda: role.select_option("MEMBER"))
    await expect(role).to_have_value("MEMBER")
    await expect(card.locator(".secret")).to_have_count(0)
    assert secret not in await values_of_inputs(page)


async def test_team_admin_deletes_a_service_account_after_confirming(site, page):
    alice, token = await signed_up(site, "alice")
    team = await team_of(site, alice)
    first, _ = await service_account_of(site, token, team, "Nightly CI")
    second, secret = await service_account_of(site, token, team, "GPU box")
    await sign_in(page, site, token)
    card = (await expect_ready(page, "teams")).locator(f'article[data-team="{team}"]')
    part = card.get_by_role("region", name="Service accounts")
    members = card.get_by_role("table", name=f"Members of {team}")
    await expect(part.locator("tbody tr")).to_have_count(2)
    await expect(members.locator(".badge")).to_have_count(2)
    await expect(card).to_contain_text("3 members")
    await page.set_viewport_size(PHONE)
    await screenshot(page, "teams", "team-service-accounts-phone")
    await page.set_viewport_size(DESKTOP)

    await part.get_by_role("button", name=f"Delete service account {second}").click()
    await expect(part.get_by_text("Its keys stop working at once.")).to_be_visible()
    await part.get_by_role("button", name="Cancel").click()
    await expect(
        part.get_by_role("button", name=f"Delete service account {second}")
    ).to_be_focused()
    assert len(await service_members(site, token, team)) == 2
    await part.get_by_role("button", name=f"Delete service account {second}").click()
    await part.get_by_role("button", name=f"Delete for good: {second}").click()

    status = card.get_by_role("form", name=f"New service account for {team}").get_by_role("status")
    await expect(status).to_have_text(
        "Service account GPU box deleted: its keys no longer sign in."
    )
    await expect(part.locator("tbody tr")).to_have_count(1)
    await expect(part.get_by_role("button", name=f"Delete service account {first}")).to_be_focused()
    await expect(members.locator(f'tr[data-username="{second}"]')).to_have_count(0)
    await expect(card).to_contain_text("2 members")
    status_code, answer = await signed_in_as(site, secret)
    assert status_code == 401
    assert answer["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert [m["username"] for m in await service_members(site, token, team)] == [first]

    await part.get_by_role("button", name=f"Delete service account {first}").click()
    await part.get_by_role("button", name=f"Delete for good: {first}").click()
    await expect(part.get_by_text("No service accounts yet.")).to_be_visible()
    await expect(part.get_by_role("table")).to_be_hidden()
    await expect(card.get_by_label("Description")).to_be_focused()
    await expect(card).to_contain_text("1 member ·")
    await page.reload()
    part = (await expect_ready(page, "teams")).get_by_role("region", name="Service accounts")
    await expect(part.get_by_text("No service accounts yet.")).to_be_visible()
    assert await service_members(site, token, team) == []


async def test_plain_member_sees_service_accounts_only_as_badged_members(site, page):
    alice, alice_token = await signed_up(site, "alice")
    bob, bob_token = await signed_up(site, "bob")
    team = await team_of(site, alice)
    await member_of(site, team, bob)
    username, _ = await service_account_of(site, alice_token, team, "Nightly CI")

    await sign_in(page, site, bob_token)

    card = (await expect_ready(page, "teams")).locator(f'article[data-team="{team}"]')
    await expect(card).to_contain_text("3 members · You are a member")
    await expect(card.get_by_role("heading", name="Service accounts")).to_have_count(0)
    await expect(card.get_by_role("form")).to_have_count(0)
    await expect(card.get_by_label("Description")).to_have_count(0)
    row = card.get_by_role("table", name=f"Members of {team}").locator(
        f'tr[data-username="{username}"]'
    )
    await expect(row).to_contain_text("Nightly CI")
    await expect(row.locator(".badge")).to_have_text("Service account")
    await expect(row.get_by_role("button")).to_have_count(0)
    await expect(card.get_by_role("button", name=f"Leave {team}")).to_be_visible()
