"""The personal GitHub integration from the page, against a loopback GitHub."""

from __future__ import annotations

import pytest

from tests.browser import fakes
from tests.browser.helpers import expect, expect_ready, screenshot, sign_in, unique

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


async def test_connect_github_shows_its_organizations_and_disconnect_revokes(site, github, page):
    token = site.token(unique("gus"))
    await sign_in(page, site, token)
    section = await expect_ready(page, "github")

    await section.get_by_role("button", name="Connect GitHub", exact=True).click()
    await page.wait_for_url(f"{github.url}/login/oauth/authorize?**")
    await page.get_by_role("link", name="Allow").click()
    await page.wait_for_url(f"{site.url}/settings#github")
    await expect_ready(page, "github")

    await expect(page.locator("#flash-text")).to_have_text(
        f"GitHub is connected as {fakes.GITHUB_LOGIN}."
    )
    await expect(section).to_contain_text(f"Connected as {fakes.GITHUB_LOGIN}")
    organizations = section.get_by_role("list", name="Organizations granted")
    await expect(organizations.get_by_role("listitem")).to_have_text(fakes.GITHUB_ORGS)
    await screenshot(page, "github", "github")
    revoked_before = len(github.revocations)

    await section.get_by_role("button", name="Disconnect GitHub", exact=True).click()

    await expect(section.get_by_role("button", name="Connect GitHub", exact=True)).to_be_visible()
    assert github.revocations[revoked_before:] == [{"access_token": fakes.GITHUB_TOKEN}]
    data = await site.data(token, "{ viewer { githubIntegration { login } } }")
    assert data["viewer"]["githubIntegration"] is None
