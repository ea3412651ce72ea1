"""Deleting the account from the page, and signing in to it."""

from __future__ import annotations

import pytest

from tests.browser.helpers import expect, expect_ready, ready, screenshot, sign_in, unique

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


async def test_account_is_deleted_after_typing_the_username(site, page):
    username = unique("del")
    token = site.token(username)
    await sign_in(page, site, token)
    danger = await expect_ready(page, "delete-account")
    button = danger.get_by_role("button", name="Delete my account")
    confirm = danger.get_by_label("Type your username")

    await expect(button).to_be_disabled()
    await confirm.fill(username.upper())
    await expect(button).to_be_disabled()
    await confirm.fill(username)
    await screenshot(page, "delete-account", "delete-account")
    await button.click()

    await expect(page.get_by_role("heading", name="Your account was deleted")).to_be_visible()
    await expect(page.locator("#sections")).to_be_hidden()
    assert await page.evaluate("sessionStorage.getItem('switchboard.token')") is None
    answer = await site.graphql(f"Bearer {token}", "{ viewer { username } }")
    assert answer["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_bad_token_shows_the_banner_and_a_token_can_be_pasted(site, page):
    username = unique("tok")

    await page.goto(f"{site.url}/settings#token=not-a-token")

    await expect(page.locator("#banner")).to_contain_text("The token is malformed.")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.url == f"{site.url}/settings"
    await page.get_by_label("Token").fill(site.token(username))
    await page.get_by_role("button", name="Sign in").click()
    await ready(page)
    await expect(page.locator("#banner")).to_be_hidden()
    await expect(page.locator("#who-name")).to_contain_text(username)
    await expect_ready(page, "profile")


async def test_sign_out_forgets_the_token(site, page):
    await sign_in(page, site, site.token(unique("out")))

    await page.get_by_role("button", name="Sign out").click()

    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await expect(page.locator("#sections")).to_be_hidden()
    assert await page.evaluate("sessionStorage.getItem('switchboard.token')") is None
    await page.reload()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
