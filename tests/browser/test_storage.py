"""Storage usage from the page: the bar of used / limit and its breakdown."""

from __future__ import annotations

import pytest

from tests.browser.helpers import expect, expect_ready, screenshot, sign_in, unique

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

RECORD = """
mutation($input: RecordStoredFilesInput!) {
  recordStoredFiles(input: $input) { storageUsage { usedBytes } errors { message } }
}
"""


async def test_storage_bar_shows_used_of_the_limit_by_kind(site, page):
    username = unique("sto")
    token = site.token(username)
    files = [
        {"path": "model.ckpt", "category": "ARTIFACTS", "sizeBytes": 30 * 10**9},
        {"path": "run-1/output.log", "category": "RUN_FILES", "sizeBytes": 15 * 10**9},
    ]
    await site.data(
        token,
        RECORD,
        {"input": {"entityName": username, "projectName": "mnist", "files": files}},
    )
    await site.data(
        token,
        RECORD,
        {
            "input": {
                "entityName": username,
                "projectName": "cifar",
                "files": [{"path": "media/0.png", "category": "MEDIA", "sizeBytes": 5 * 10**9}],
            }
        },
    )

    await sign_in(page, site, token)
    storage = await expect_ready(page, "storage")

    await expect(storage.locator("#storage-summary")).to_have_text("50 GB of 100 GB used (50%).")
    legend = storage.get_by_role("list", name="Storage by kind")
    await expect(legend).to_contain_text("Run files: 15 GB")
    await expect(legend).to_contain_text("Artifacts: 30 GB")
    await expect(legend).to_contain_text("Media: 5 GB")
    widths = await storage.locator("#storage-bar .segment").evaluate_all(
        "segments => segments.map(s => s.style.width)"
    )
    assert sorted(widths) == ["15%", "30%", "5%"]
    await expect(storage.locator("#storage-projects li")).to_have_text(["mnist45 GB", "cifar5 GB"])
    await screenshot(page, "storage", "storage")
