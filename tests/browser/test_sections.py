"""Every section at desktop and phone width: loaded when this server has its API,
"not available on this server" when it has not; every control labelled, the keyboard
focus visible; a screenshot of each."""

from __future__ import annotations

import pytest

from tests.browser.helpers import (
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    SECTIONS,
    Site,
    expect,
    open_page,
    screenshot,
    section,
    sign_in,
    unique,
)

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

#: The part of the API each section needs: (type, field).
NEEDS = {
    "profile": ("User", "websiteUrl"),
    "project-defaults": ("User", "projectDefaults"),
    "teams": ("User", "teams"),
    "beta-features": ("Query", "betaFeatures"),
    "alerts": ("User", "alertSubscriptions"),
    "destinations": ("User", "destinations"),
    "alert-routes": ("User", "alertRoutes"),
    "github": ("User", "githubIntegration"),
    "api-keys": ("User", "apiKeys"),
    "storage": ("User", "storageUsage"),
    "delete-account": ("Mutation", "deleteAccount"),
}
FIELDS = """
query($name: String!) { __type(name: $name) { fields { name } } }
"""
#: The visible controls without an accessible name (a label, aria-label or text).
UNLABELLED = """() =>
  [...document.querySelectorAll("input, select, textarea, button")]
    .filter((el) => el.offsetParent !== null)
    .filter((el) => !(el.labels?.length || el.getAttribute("aria-label")
      || el.getAttribute("aria-labelledby") || (el.tagName === "BUTTON" && el.textContent.trim())))
    .map((el) => el.outerHTML.slice(0, 100))
"""
#: How the element that has the keyboard focus shows it.
FOCUS_RING = """() => {
  const style = getComputedStyle(document.activeElement);
  return [document.activeElement.tagName, style.outlineStyle, parseFloat(style.outlineWidth)];
}"""


async def served_fields(site: Site, token: str) -> set[tuple[str, str]]:
    fields = set()
    for type_name in {t for t, _ in NEEDS.values()}:
        data = await site.data(token, FIELDS, {"name": type_name})
        fields |= {(type_name, f["name"]) for f in data["__type"]["fields"]}
    return fields


@pytest.mark.parametrize(("width", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
async def test_every_section_loads_or_says_it_is_not_available(site, browser, width, viewport):
    token = site.token(unique("viv"), admin=True)
    served = await served_fields(site, token)
    context = await browser.new_context(viewport=viewport, locale="en-US")
    try:
        async with open_page(context) as page:
            await sign_in(page, site, token)

            for section_id in SECTIONS:
                root = section(page, section_id)
                if NEEDS[section_id] in served:
                    await expect(root).to_have_attribute("data-state", "ready")
                else:
                    await expect(root).to_have_attribute("data-state", "unavailable")
                    await expect(root.locator(".note")).to_have_text(
                        "Not available on this server yet."
                    )
                await screenshot(page, section_id, f"{width}-{section_id}")
            await expect(page.locator("#banner")).to_be_hidden()
            assert await page.evaluate(UNLABELLED) == []
            await page.locator("#main").focus()
            for _ in range(12):
                await page.keyboard.press("Tab")
                tag, outline, width = await page.evaluate(FOCUS_RING)
                assert (outline, width >= 2) == ("solid", True), tag
            scroll_width = await page.evaluate("document.documentElement.scrollWidth")
            assert scroll_width <= viewport["width"], "nothing is wider than the screen"
            await page.screenshot(path=str(SCREENSHOTS / f"{width}-page.png"), full_page=True)
    finally:
        await context.close()
