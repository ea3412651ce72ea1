"""API keys from the page: the secret shown once works, rename, delete; scopes and
expiry chosen in the form, stored by the API and shown in the list."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests.browser.helpers import (
    Site,
    api_key_authorization,
    exactly,
    expect,
    expect_ready,
    screenshot,
    sign_in,
    unique,
)

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

KEYS = "{ viewer { apiKeys { edges { node { name scopes expiresAt } } } } }"
GENERATE = """
mutation($input: GenerateApiKeyInput!) {
  generateApiKey(input: $input) { secret errors { field code message } }
}
"""


async def stored_keys(site: Site, token: str) -> dict[str, dict[str, Any]]:
    """The viewer's keys as the API has them, by name."""
    edges = (await site.data(token, KEYS))["viewer"]["apiKeys"]["edges"]
    return {edge["node"]["name"]: edge["node"] for edge in edges}


def scopes_of(row: Any) -> Any:
    return row.get_by_role("list", name="Scopes").get_by_role("listitem")


async def test_create_rename_and_delete_an_api_key(site, page):
    username = unique("kim")
    await sign_in(page, site, site.token(username))
    keys = await expect_ready(page, "api-keys")
    await expect(keys.get_by_text("No API keys yet.")).to_be_visible()

    await keys.get_by_label("Name", exact=True).fill("laptop")
    await keys.get_by_label("Description (optional)").fill("for wandb on my laptop")
    await keys.get_by_role("button", name="Create key").click()

    secret_box = keys.get_by_role("region", name="Your new API key")
    await expect(secret_box).to_be_visible()
    secret = await keys.get_by_role("textbox", name="New API key").input_value()
    assert re.fullmatch(r"[A-Za-z0-9]{40}", secret), secret
    answer = await site.graphql(api_key_authorization(secret), "{ viewer { username } }")
    assert answer["data"] == {"viewer": {"username": username}}
    row = keys.locator("tbody tr", has_text="laptop")
    await expect(row).to_have_count(1)
    await expect(row.locator("code")).to_have_text(f"{secret[:8]}…")
    await screenshot(page, "api-keys", "api-keys-secret")

    await keys.get_by_role("button", name="Done").click()
    await expect(secret_box).to_be_hidden()
    assert await keys.locator("#api-key-secret-value").input_value() == ""

    await keys.get_by_role("button", name="Rename key laptop").click()
    await keys.get_by_label("New name for laptop").fill("workstation")
    await keys.get_by_role("button", name="Save", exact=True).click()
    await expect(keys.locator(".key-name")).to_have_text(["workstation"])

    await keys.get_by_role("button", name="Delete key workstation").click()
    await keys.get_by_role("button", name="Delete for good").click()
    await expect(keys.locator("tbody tr")).to_have_count(0)
    await expect(keys.get_by_text("No API keys yet.")).to_be_visible()
    answer = await site.graphql(api_key_authorization(secret), "{ viewer { username } }")
    assert answer["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    await page.reload()
    await expect_ready(page, "api-keys")
    await expect(keys.locator("tbody tr")).to_have_count(0)


async def test_an_empty_key_name_is_shown_beside_the_field(site, page):
    await sign_in(page, site, site.token(unique("lee")))
    keys = await expect_ready(page, "api-keys")

    await keys.get_by_role("button", name="Create key").click()

    await expect(keys.locator("#api-key-name-error")).to_be_visible()
    await expect(keys.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "true")
    await expect(keys.get_by_role("region", name="Your new API key")).to_be_hidden()


async def test_a_key_with_the_default_scopes_reads_and_reports_runs_and_never_expires(site, page):
    token = site.token(unique("ada"))
    await sign_in(page, site, token)
    keys = await expect_ready(page, "api-keys")
    await expect(keys.get_by_role("checkbox", name="Read")).to_be_checked()
    await expect(keys.get_by_role("checkbox", name="Runs")).to_be_checked()
    await expect(keys.get_by_role("checkbox", name="Account")).not_to_be_checked()
    await expect(keys.get_by_label("Expires")).to_have_value("")

    await keys.get_by_label("Name", exact=True).fill("runner")
    await keys.get_by_role("button", name="Create key").click()

    secret = keys.get_by_role("textbox", name="New API key")
    await expect(secret).not_to_have_value("")
    row = keys.locator("tbody tr", has_text="runner")
    await expect(scopes_of(row)).to_have_text(["Read", "Runs"])
    await expect(row.locator("td.key-expiry")).to_have_text(exactly("Never expires"))
    assert await stored_keys(site, token) == {
        "runner": {"name": "runner", "scopes": ["READ", "RUNS"], "expiresAt": None}
    }
    minted = await site.graphql(
        api_key_authorization(await secret.input_value()), GENERATE, {"input": {"name": "x"}}
    )
    assert minted["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_key_with_the_account_scope_and_a_30_day_expiry_stores_both(site, page):
    token = site.token(unique("bea"))
    await sign_in(page, site, token)
    keys = await expect_ready(page, "api-keys")
    account = keys.get_by_role("checkbox", name="Account")
    await expect(account).to_have_accessible_description(re.compile("keep it off shared machines"))

    await keys.get_by_label("Name", exact=True).fill("admin script")
    await account.check()
    await keys.get_by_label("Expires").select_option(label="In 30 days")
    before = datetime.now(UTC)
    await keys.get_by_role("button", name="Create key").click()
    row = keys.locator("tbody tr", has_text="admin script")
    await expect(row).to_have_count(1)
    after = datetime.now(UTC)

    await expect(scopes_of(row)).to_have_text(["Read", "Runs", "Account"])
    await expect(row.locator("td.key-expiry")).to_have_text(exactly("Expires in 30 days"))
    stored = (await stored_keys(site, token))["admin script"]
    assert stored["scopes"] == ["READ", "RUNS", "ACCOUNT"]
    expires = datetime.fromisoformat(stored["expiresAt"]).astimezone(UTC)
    assert expires.date() in {
        (before + timedelta(days=30)).date(),
        (after + timedelta(days=30)).date(),
    }
    await expect(account).not_to_be_checked()
    await expect(keys.get_by_label("Expires")).to_have_value("")
    await screenshot(page, "api-keys", "api-keys-scopes")


async def test_a_key_without_any_scope_is_refused_beside_the_scopes(site, page):
    token = site.token(unique("cy"))
    await sign_in(page, site, token)
    keys = await expect_ready(page, "api-keys")
    sent = []
    page.on(
        "request", lambda r: sent.append(r) if "generateApiKey" in (r.post_data or "") else None
    )

    await keys.get_by_label("Name", exact=True).fill("nothing")
    await keys.get_by_role("checkbox", name="Read").uncheck()
    await keys.get_by_role("checkbox", name="Runs").uncheck()
    await keys.get_by_role("button", name="Create key").click()

    error = keys.locator("#api-key-scopes-error")
    await expect(error).to_have_text("Choose at least one scope: a key without any can do nothing.")
    await expect(keys.get_by_role("checkbox", name="Read")).to_have_attribute(
        "aria-invalid", "true"
    )
    await expect(keys.get_by_role("checkbox", name="Read")).to_be_focused()
    await expect(keys.get_by_role("region", name="Your new API key")).to_be_hidden()
    await expect(keys.get_by_text("No API keys yet.")).to_be_visible()
    assert sent == [], "refused before asking the server"
    await screenshot(page, "api-keys", "api-keys-no-scope")
    assert await stored_keys(site, token) == {}


async def test_an_expiry_date_in_the_past_is_refused_by_the_server_beside_the_date(site, page):
    token = site.token(unique("dov"))
    await sign_in(page, site, token)
    keys = await expect_ready(page, "api-keys")
    await keys.get_by_label("Name", exact=True).fill("dated")
    await keys.get_by_label("Expires").select_option(label="On a date…")
    day = keys.get_by_label("Expiry date")

    await day.fill((date.today() - timedelta(days=2)).isoformat())
    await keys.get_by_role("button", name="Create key").click()

    await expect(keys.locator("#api-key-expiry-error")).to_have_text(
        "The expiry must be in the future."
    )
    await expect(day).to_have_attribute("aria-invalid", "true")
    await screenshot(page, "api-keys", "api-keys-expiry-error")
    await expect(keys.get_by_role("region", name="Your new API key")).to_be_hidden()
    assert await stored_keys(site, token) == {}

    chosen = date.today() + timedelta(days=10)
    await day.fill(chosen.isoformat())
    await keys.get_by_role("button", name="Create key").click()

    await expect(keys.get_by_role("region", name="Your new API key")).to_be_visible()
    await expect(keys.locator("#api-key-expiry-error")).to_be_hidden()
    await expect(day).to_be_hidden()
    expires = datetime.fromisoformat((await stored_keys(site, token))["dated"]["expiresAt"])
    assert expires.astimezone().date() == chosen, "the end of the chosen day, where the page is"


async def test_the_list_shows_when_each_key_expires_and_which_have(site, page):
    token = site.token(unique("eve"))
    soon = datetime.now(UTC) + timedelta(seconds=1.5)
    made = {}
    for name, expires_at in [
        ("soon", soon),
        ("week", datetime.now(UTC) + timedelta(days=5)),
        ("forever", None),
    ]:
        variables = {"input": {"name": name, "expiresAt": expires_at and expires_at.isoformat()}}
        made[name] = (await site.data(token, GENERATE, variables))["generateApiKey"]
        assert made[name]["errors"] == []
    await asyncio.sleep((soon - datetime.now(UTC)).total_seconds() + 0.5)

    await sign_in(page, site, token)
    keys = await expect_ready(page, "api-keys")

    def expires(name: str) -> Any:
        return keys.locator("tbody tr", has_text=name).locator("td.key-expiry")

    await expect(expires("soon")).to_have_text(re.compile(r"^\s*Expired \w{3} \d+, \d{4}\s*$"))
    await expect(expires("week")).to_have_text(exactly("Expires in 5 days"))
    await expect(expires("forever")).to_have_text(exactly("Never expires"))
    await screenshot(page, "api-keys", "api-keys-expiry")
    refused = await site.graphql(
        api_key_authorization(made["soon"]["secret"]), "{ viewer { username } }"
    )
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
