"""Teams and beta features from the page."""

from __future__ import annotations

import pytest

from tests.browser.helpers import expect, expect_ready, screenshot, sign_in, unique

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

BETA = "{ betaFeatures { key enabled } }"


async def test_admin_creates_teams_with_a_new_and_an_existing_organization(site, page):
    admin = unique("root")
    token = site.token(admin, admin=True)
    organization = unique("Acme Research")
    first, second = unique("ml-lab"), unique("vision")
    await sign_in(page, site, token)
    teams = await expect_ready(page, "teams")
    create = teams.get_by_role("button", name="Create team")

    await teams.get_by_label("Team name").fill(first)
    await teams.get_by_label("Type").select_option("ACADEMIC")
    await teams.get_by_label("Find an organization").fill(organization)
    await expect(teams.get_by_label("Organization", exact=True)).to_have_value("new")
    await create.click()
    await expect(teams.get_by_role("status")).to_have_text(f"Team {first} created.")

    await teams.get_by_label("Team name").fill(second)
    await teams.get_by_label("Find an organization").fill(organization[:6].lower())
    await expect(
        teams.get_by_label("Organization", exact=True).get_by_role("option", name=organization)
    ).to_have_count(1)
    await teams.get_by_label("Organization", exact=True).select_option(label=organization)
    await create.click()
    await expect(teams.get_by_role("status")).to_have_text(f"Team {second} created.")

    for name, kind in [(first, "Academic"), (second, "Work")]:
        card = teams.locator(f'article[data-team="{name}"]')
        await expect(card.get_by_role("heading", name=name)).to_be_visible()
        await expect(card).to_contain_text(f"{kind} · {organization} · 1 member")
        await expect(card.get_by_role("combobox", name=f"Role of {admin} in {name}")).to_have_value(
            "ADMIN"
        )
    defaults = await expect_ready(page, "project-defaults")
    await expect(defaults.get_by_label("Default location").locator("option")).to_have_count(3)
    query = "{ viewer { teams { edges { node { name organization { name } viewerRole } } } } }"
    assert sorted(
        (t["name"], t["organization"]["name"], t["viewerRole"])
        for t in [e["node"] for e in (await site.data(token, query))["viewer"]["teams"]["edges"]]
    ) == sorted([(first, organization, "ADMIN"), (second, organization, "ADMIN")])
    await screenshot(page, "teams", "teams")


async def test_create_team_is_offered_to_admins_only(site, page):
    await sign_in(page, site, site.token(unique("pat")))
    teams = await expect_ready(page, "teams")

    await expect(teams.get_by_text("You are not in any team.")).to_be_visible()
    await expect(teams.get_by_role("button", name="Create team")).to_have_count(0)


async def test_beta_feature_is_toggled_from_the_keyboard(site, page):
    token = site.token(unique("bea"))
    before = {f["key"]: f["enabled"] for f in (await site.data(token, BETA))["betaFeatures"]}
    assert before, "migrate seeds the beta-feature catalog"
    key = next(iter(before))
    await sign_in(page, site, token)
    beta = await expect_ready(page, "beta-features")
    toggle = beta.locator(f'input[role="switch"][data-key="{key}"]')

    await toggle.focus()
    await page.keyboard.press("Space")
    await expect(toggle).to_be_checked(checked=not before[key])
    await expect(toggle).not_to_have_attribute("aria-busy", "true")
    await expect(toggle).to_be_focused()
    await page.reload()
    await expect_ready(page, "beta-features")

    await expect(toggle).to_be_checked(checked=not before[key])
    after = {f["key"]: f["enabled"] for f in (await site.data(token, BETA))["betaFeatures"]}
    assert after == {**before, key: not before[key]}
    await screenshot(page, "beta-features", "beta-features")
