"""API keys from the page: the secret shown once works, rename, delete."""

from __future__ import annotations

import re

import pytest

from tests.browser.helpers import (
    api_key_authorization,
    expect,
    expect_ready,
    screenshot,
    sign_in,
    unique,
)

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


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
