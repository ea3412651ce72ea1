"""Teams, their invitations and beta features from the page."""

from __future__ import annotations

import pytest

from tests.browser.helpers import Site, expect, expect_ready, screenshot, sign_in, unique

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

BETA = "{ betaFeatures { key enabled } }"
VIEWER = "{ viewer { username } }"
CREATE_TEAM = """
mutation($input: CreateTeamInput!) { createTeam(input: $input) { errors { code message } } }
"""
CREATE_INVITE = """
mutation($input: CreateInviteInput!) { createInvite(input: $input) { errors { code message } } }
"""
PENDING = "query($name: String!) { team(name: $name) { invites { email toUser { username } } } }"
INVITES_AND_TEAMS = """
{ viewer { invites { name } teams { edges { node { name viewerRole } } } } }
"""


async def signed_up(site: Site, prefix: str) -> tuple[str, str]:
    """A user who has signed in once (so that the account exists): username and token."""
    username = unique(prefix)
    token = site.token(username)
    await site.data(token, VIEWER)
    return username, token


async def team_of(site: Site, admin: str) -> str:
    """A new team, created by a site admin, whose only member and admin is `admin`."""
    name = unique("lab")
    variables = {"input": {"teamName": name, "teamAdminUserName": admin}}
    created = await site.data(site.token(unique("root"), admin=True), CREATE_TEAM, variables)
    assert created["createTeam"]["errors"] == []
    return name


async def invite(site: Site, token: str, team: str, **invitee: str) -> None:
    variables = {"input": {"entityName": team, **invitee}}
    sent = await site.data(token, CREATE_INVITE, variables)
    assert sent["createInvite"]["errors"] == []


async def test_admin_creates_teams_with_a_new_and_an_existing_organization(site, page):
    admin = unique("root")
    token = site.token(admin, admin=True)
    organization = unique("Acme Research")
    first, second = unique("ml-lab"), unique("vision")
    await sign_in(page, site, token)
    teams = await expect_ready(page, "teams")
    create = teams.get_by_role("button", name="Create team")
    created = teams.locator("#team-form").get_by_role("status")

    await teams.get_by_label("Team name").fill(first)
    await teams.get_by_label("Type").select_option("ACADEMIC")
    await teams.get_by_label("Find an organization").fill(organization)
    await expect(teams.get_by_label("Organization", exact=True)).to_have_value("new")
    await create.click()
    await expect(created).to_have_text(f"Team {first} created.")

    await teams.get_by_label("Team name").fill(second)
    await teams.get_by_label("Find an organization").fill(organization[:6].lower())
    await expect(
        teams.get_by_label("Organization", exact=True).get_by_role("option", name=organization)
    ).to_have_count(1)
    await teams.get_by_label("Organization", exact=True).select_option(label=organization)
    await create.click()
    await expect(created).to_have_text(f"Team {second} created.")

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

    await expect(teams.get_by_text("You are not in any team.")).to_have_text(
        "You are not in any team. Ask a team admin to invite you to one."
    )
    await expect(teams.get_by_role("button", name="Create team")).to_have_count(0)
    await expect(teams.get_by_role("heading", name="Your invitations")).to_be_hidden()


async def test_team_admin_invites_by_username_and_email_and_withdraws_one(site, page):
    alice, token = await signed_up(site, "alice")
    bob, _ = await signed_up(site, "bob")
    address = f"{unique('carol')}@example.com"
    team = await team_of(site, alice)
    await sign_in(page, site, token)
    card = (await expect_ready(page, "teams")).locator(f'article[data-team="{team}"]')
    form = card.get_by_role("form", name=f"Invite someone to {team}")
    field = form.get_by_label("Username or email")
    pending = card.get_by_role("table", name="Pending invitations")

    await expect(pending).to_be_hidden()
    await expect(form.get_by_role("button", name="Add without invitation")).to_have_count(0)
    await field.fill(bob)
    await form.get_by_label("Role").select_option("ADMIN")
    await form.get_by_role("button", name="Invite").click()
    await expect(form.get_by_role("status")).to_have_text(f"Invitation sent to {bob}.")
    await expect(field).to_have_value("")
    await field.fill(address)
    await form.get_by_label("Role").select_option("MEMBER")
    await field.press("Enter")
    await expect(form.get_by_role("status")).to_have_text(f"Invitation sent to {address}.")
    await expect(field).to_be_focused()

    rows = pending.locator("tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0).locator("td").nth(0)).to_have_text(bob)
    await expect(rows.nth(0).locator("td").nth(1)).to_have_text("Admin")
    await expect(rows.nth(1).locator("td").nth(0)).to_have_text(address)
    await expect(rows.nth(1).locator("td").nth(1)).to_have_text("Member")
    await expect(rows.locator("time")).to_have_count(2)
    await screenshot(page, "teams", "team-invites")

    await field.fill(bob)
    await form.get_by_role("button", name="Invite").click()
    await expect(form.get_by_text(f"{bob} is already invited to {team}.")).to_be_visible()
    await expect(field).to_have_attribute("aria-invalid", "true")
    await expect(form.get_by_role("status")).to_have_text("")

    await card.get_by_role("button", name=f"Withdraw the invitation to {bob}").click()
    await expect(form.get_by_role("status")).to_have_text(f"Invitation to {bob} withdrawn.")
    await expect(rows).to_have_count(1)
    await expect(
        card.get_by_role("button", name=f"Withdraw the invitation to {address}")
    ).to_be_focused()
    await page.reload()
    await expect(
        (await expect_ready(page, "teams")).get_by_role("table", name="Pending invitations")
    ).to_contain_text(address)
    assert (await site.data(token, PENDING, {"name": team}))["team"]["invites"] == [
        {"email": address, "toUser": None}
    ]


async def test_site_admin_may_add_a_member_without_an_invitation(site, page):
    admin = unique("root")
    token = site.token(admin, admin=True)
    bob, bob_token = await signed_up(site, "bob")
    team = await team_of(site, admin)
    await sign_in(page, site, token)
    card = (await expect_ready(page, "teams")).locator(f'article[data-team="{team}"]')
    form = card.get_by_role("form", name=f"Invite someone to {team}")

    await form.get_by_label("Username or email").fill(bob)
    await form.get_by_role("button", name="Add without invitation").click()

    await expect(card.get_by_role("button", name=f"Remove {bob} from {team}")).to_be_visible()
    await expect(card).to_contain_text("2 members")
    viewer = (await site.data(bob_token, INVITES_AND_TEAMS))["viewer"]
    assert viewer == {
        "invites": [],
        "teams": {"edges": [{"node": {"name": team, "viewerRole": "MEMBER"}}]},
    }


async def test_invitee_by_email_follows_the_link_accepts_and_sees_the_team(site, page):
    alice, alice_token = await signed_up(site, "alice")
    dana = unique("dana")
    team = await team_of(site, alice)
    await invite(site, alice_token, team, email=f"{dana}@example.com", role="MEMBER")
    await page.goto(f"{site.url}/settings#teams")
    await page.get_by_label("Token").fill(site.token(dana))
    await page.get_by_role("button", name="Sign in").click()
    teams = await expect_ready(page, "teams")
    await expect(teams.get_by_role("heading", name="Teams")).to_be_in_viewport()
    invitations = teams.get_by_role("table", name="Your invitations")
    row = invitations.locator("tbody tr")

    await expect(row).to_have_count(1)
    await expect(row).to_contain_text(team)
    await expect(row).to_contain_text(alice)
    await expect(row.locator("time")).to_have_count(1)
    await expect(teams.get_by_text("You are not in any team.")).to_contain_text(
        "Accept an invitation above to join one."
    )
    await teams.get_by_role("button", name=f"Accept the invitation to {team}").click()

    await expect(teams.locator("#teams-status")).to_have_text(f"You joined {team}.")
    card = teams.locator(f'article[data-team="{team}"]')
    await expect(card).to_contain_text("2 members · You are a member")
    await expect(card.get_by_role("heading", name=team)).to_be_focused()
    await expect(card.get_by_role("button", name=f"Leave {team}")).to_be_visible()
    await expect(teams.get_by_role("heading", name="Your invitations")).to_be_hidden()
    viewer = (await site.data(site.token(dana), INVITES_AND_TEAMS))["viewer"]
    assert viewer == {
        "invites": [],
        "teams": {"edges": [{"node": {"name": team, "viewerRole": "MEMBER"}}]},
    }
    assert (await site.data(alice_token, PENDING, {"name": team}))["team"]["invites"] == []


async def test_invitee_declines_and_the_invitation_disappears(site, page):
    alice, alice_token = await signed_up(site, "alice")
    erin, erin_token = await signed_up(site, "erin")
    first, second = await team_of(site, alice), await team_of(site, alice)
    await invite(site, alice_token, first, username=erin)
    await invite(site, alice_token, second, username=erin, role="ADMIN")
    await sign_in(page, site, erin_token)
    teams = await expect_ready(page, "teams")
    rows = teams.get_by_role("table", name="Your invitations").locator("tbody tr")
    await expect(rows).to_have_count(2)
    await screenshot(page, "teams", "your-invitations")

    await teams.get_by_role("button", name=f"Decline the invitation to {first}").click()

    await expect(teams.locator("#teams-status")).to_have_text(
        f"You declined the invitation to {first}."
    )
    await expect(rows).to_have_count(1)
    await expect(rows).to_contain_text(second)
    await expect(rows).to_contain_text("Admin")
    await expect(
        teams.get_by_role("button", name=f"Accept the invitation to {second}")
    ).to_be_focused()
    await teams.get_by_role("button", name=f"Decline the invitation to {second}").click()
    await expect(teams.get_by_role("heading", name="Your invitations")).to_be_hidden()
    await page.reload()
    teams = await expect_ready(page, "teams")
    await expect(teams.get_by_role("heading", name="Your invitations")).to_be_hidden()
    await expect(teams.get_by_text("You are not in any team.")).to_be_visible()
    viewer = (await site.data(erin_token, INVITES_AND_TEAMS))["viewer"]
    assert viewer == {"invites": [], "teams": {"edges": []}}
    for team in (first, second):
        assert (await site.data(alice_token, PENDING, {"name": team}))["team"]["invites"] == []


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
