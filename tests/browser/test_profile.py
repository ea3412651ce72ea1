"""Profile, photo and project defaults, edited in Chromium and read back."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from tests.browser.helpers import expect, expect_ready, screenshot, sign_in, unique

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

PROFILE = "{ viewer { name institution location websiteUrl bio hideTeamsFromPublic } }"


def png(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color=(30, 120, 200)).save(out, format="PNG")
    return out.getvalue()


async def test_edited_profile_is_saved_and_shown_after_a_reload(site, page):
    username = unique("ada")
    token = site.token(username)
    await sign_in(page, site, token)
    profile = await expect_ready(page, "profile")

    await profile.get_by_label("Name", exact=True).fill("Ada Lovelace")
    await profile.get_by_label("Institution").fill("Analytical Engines Ltd")
    await profile.get_by_label("Location").fill("London")
    await profile.get_by_label("Website").fill("https://ada.example.org")
    await profile.get_by_label("Bio").fill("Wrote the first program.\nLikes looms.")
    await profile.get_by_label("Hide my teams from my public profile").check()
    await profile.get_by_role("button", name="Save profile").click()
    await expect(profile.locator("#profile-form").get_by_role("status")).to_have_text(
        "Profile saved."
    )
    await page.reload()
    await expect_ready(page, "profile")

    await expect(profile.get_by_label("Name", exact=True)).to_have_value("Ada Lovelace")
    await expect(profile.get_by_label("Institution")).to_have_value("Analytical Engines Ltd")
    await expect(profile.get_by_label("Location")).to_have_value("London")
    await expect(profile.get_by_label("Website")).to_have_value("https://ada.example.org")
    await expect(profile.get_by_label("Bio")).to_have_value(
        "Wrote the first program.\nLikes looms."
    )
    await expect(profile.get_by_label("Hide my teams from my public profile")).to_be_checked()
    await expect(page.locator("#who-name")).to_have_text(f"Ada Lovelace ({username})")
    assert (await site.data(token, PROFILE))["viewer"] == {
        "name": "Ada Lovelace",
        "institution": "Analytical Engines Ltd",
        "location": "London",
        "websiteUrl": "https://ada.example.org",
        "bio": "Wrote the first program.\nLikes looms.",
        "hideTeamsFromPublic": True,
    }
    await screenshot(page, "profile", "profile")


async def test_bad_website_url_is_shown_beside_the_field_and_nothing_is_saved(site, page):
    token = site.token(unique("bob"))
    await sign_in(page, site, token)
    profile = await expect_ready(page, "profile")

    await profile.get_by_label("Name", exact=True).fill("Robert")
    website = profile.get_by_label("Website")
    await website.fill("not a url")
    await profile.get_by_role("button", name="Save profile").click()

    error = profile.locator("#profile-website-error")
    await expect(error).to_be_visible()
    await expect(error).to_have_text("Website URL must be an http:// or https:// URL.")
    await expect(website).to_have_attribute("aria-invalid", "true")
    await expect(website).to_be_focused()
    await expect(profile.locator("#profile-name-error")).to_be_hidden()
    await expect(page.locator("#banner")).to_be_hidden()
    viewer = (await site.data(token, PROFILE))["viewer"]
    assert (viewer["name"], viewer["websiteUrl"]) != ("Robert", "not a url")
    assert viewer["websiteUrl"] is None
    await screenshot(page, "profile", "profile-website-error")

    await website.fill("https://bob.example.org")
    await profile.get_by_role("button", name="Save profile").click()

    await expect(profile.locator("#profile-form").get_by_role("status")).to_have_text(
        "Profile saved."
    )
    await expect(error).to_be_hidden()
    await expect(website).not_to_have_attribute("aria-invalid", "true")


#: An image's natural width once it has loaded (0 if it fails): the new `src` may
#: still be loading when the attribute is seen.
LOADED_WIDTH = """img => img.complete ? img.naturalWidth : new Promise(done => {
    img.addEventListener("load", () => done(img.naturalWidth), {once: true});
    img.addEventListener("error", () => done(0), {once: true});
})"""


async def test_photo_is_previewed_uploaded_and_removed(site, page):
    token = site.token(unique("cy"))
    await sign_in(page, site, token)
    profile = await expect_ready(page, "profile")
    preview = profile.locator("#photo-preview")

    await profile.get_by_label("Profile photo").set_input_files(
        {"name": "me.png", "mimeType": "image/png", "buffer": png()}
    )
    await expect(preview).to_have_attribute("src", re.compile(r"^blob:"))
    await expect(preview).to_be_visible()
    await profile.get_by_role("button", name="Upload photo").click()

    await expect(preview).to_have_attribute("src", re.compile(f"^{re.escape(site.url)}/media/"))
    photo_url = (await site.data(token, "{ viewer { photoUrl } }"))["viewer"]["photoUrl"]
    assert photo_url.startswith(f"{site.url}/media/")
    await expect(preview).to_have_attribute("src", photo_url)
    assert await preview.evaluate(LOADED_WIDTH) == 64
    await expect(page.locator("#who-photo")).to_have_attribute("src", photo_url)
    await screenshot(page, "profile", "profile-photo")

    await page.reload()
    await expect_ready(page, "profile")
    await expect(preview).to_have_attribute("src", photo_url)
    await profile.get_by_role("button", name="Remove photo").click()

    await expect(preview).to_be_hidden()
    await expect(profile.locator("#photo-placeholder")).to_be_visible()
    assert (await site.data(token, "{ viewer { photoUrl } }"))["viewer"]["photoUrl"] is None


async def test_a_file_that_is_not_an_image_is_refused_beside_the_photo(site, page):
    await sign_in(page, site, site.token(unique("dee")))
    profile = await expect_ready(page, "profile")

    await profile.get_by_label("Profile photo").set_input_files(
        {"name": "notes.png", "mimeType": "image/png", "buffer": b"these are not pixels"}
    )
    await profile.get_by_role("button", name="Upload photo").click()

    await expect(profile.locator("#photo-error")).to_have_text(
        "The file is not a PNG, JPEG, GIF or WebP image."
    )


async def test_project_defaults_are_saved(site, page):
    username = unique("eve")
    token = site.token(username)
    await sign_in(page, site, token)
    defaults = await expect_ready(page, "project-defaults")
    await expect(defaults.get_by_label("Default location")).to_have_value(username)

    await defaults.get_by_label("Default project privacy").select_option("PUBLIC")
    await defaults.get_by_label("Save code with new runs").check()
    await defaults.get_by_role("button", name="Save defaults").click()
    await expect(defaults.get_by_role("status")).to_have_text("Defaults saved.")
    await page.reload()
    await expect_ready(page, "project-defaults")

    await expect(defaults.get_by_label("Default project privacy")).to_have_value("PUBLIC")
    await expect(defaults.get_by_label("Save code with new runs")).to_be_checked()
    query = "{ viewer { projectDefaults { entity { name } privacy codeSavingEnabled } } }"
    assert (await site.data(token, query))["viewer"]["projectDefaults"] == {
        "entity": {"name": username},
        "privacy": "PUBLIC",
        "codeSavingEnabled": True,
    }
    await screenshot(page, "project-defaults", "project-defaults")
