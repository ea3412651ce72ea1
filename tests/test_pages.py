"""The settings page's files: served by Switchboard itself, with a strict policy."""

from __future__ import annotations

import pytest

import pages

PAGES = ["/settings", "/settings/connected"]


async def get(api, path: str, **kwargs):
    async with api.http.get(f"{api.base_url}{path}", allow_redirects=False, **kwargs) as response:
        return response.status, response.headers, await response.read()


@pytest.mark.parametrize("path", PAGES)
async def test_pages_are_html_with_the_security_headers(api, path):
    status, headers, body = await get(api, path)

    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert b'<script type="module" src="/static/js/' in body
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"


async def test_every_file_the_pages_load_is_served_here(api):
    # No CDN: each script, style sheet and icon the pages name comes from /static/.
    files = sorted(str(p.relative_to(pages.WEB_ROOT)) for p in pages.WEB_ROOT.rglob("*.*"))
    assets = [f for f in files if not f.endswith(".html")]

    for name in assets:
        status, headers, _ = await get(api, f"/static/{name}")
        assert status == 200, name
        assert headers["X-Content-Type-Options"] == "nosniff"
    status, headers, _ = await get(api, "/static/js/settings.js")
    assert headers["Content-Type"].split(";")[0] in ("text/javascript", "application/javascript")
    for html in ("settings.html", "connected.html"):
        assert html in files


async def test_modules_import_only_files_that_exist():
    for module in pages.WEB_ROOT.rglob("*.js"):
        for line in module.read_text().splitlines():
            if line.startswith("import ") and " from " in line:
                target = line.rsplit(" from ", 1)[1].strip(' ";')
                assert (module.parent / target).resolve().is_file(), f"{module}: {target}"


async def test_html_pages_are_not_served_as_static_files(api):
    status, _, _ = await get(api, "/static/settings.html")

    assert status == 404


async def test_home_redirects_to_the_settings_page(api):
    status, headers, _ = await get(api, "/")

    assert (status, headers["Location"]) == (307, "/settings")
