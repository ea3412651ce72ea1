from __future__ import annotations

import asyncio
import base64
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import pytest
from tortoise.transactions import in_transaction

import config
from errors import NotFound
from models.entity import Entity
from models.storage import (
    StorageCategory,
    StorageCategoryCounter,
    StorageProjectCounter,
    StoredFile,
)
from models.user import User
from resolvers.storage import MAX_FILE_BYTES, MAX_FILES_PER_CALL
from services import storage_ledger
from services.storage_ledger import MAX_ENTITY_BYTES, FileReport, totals_by_entity_id
from tests.support.helpers import GraphQL, count_queries, sign_up
from tests.support.team_helpers import make_team

USAGE_FIELDS = """
usedBytes limitBytes fraction
breakdown { category bytes }
projects(first: $first) { projectName bytes }
"""
RECORD = f"""
mutation Record($entity: String!, $project: String!, $files: [StoredFileInput!]!,
                $first: Int = 10) {{
  recordStoredFiles(input: {{entityName: $entity, projectName: $project, files: $files}}) {{
    storageUsage {{ {USAGE_FIELDS} }}
    errors {{ field message code }}
  }}
}}
"""
DELETE = f"""
mutation Delete($entity: String!, $project: String!, $paths: [String!]!, $first: Int = 10) {{
  deleteStoredFiles(input: {{entityName: $entity, projectName: $project, paths: $paths}}) {{
    storageUsage {{ {USAGE_FIELDS} }}
    errors {{ field message code }}
  }}
}}
"""
SET_LIMIT = f"""
mutation SetLimit($entity: String!, $limit: Int64!, $first: Int = 10) {{
  setStorageLimit(input: {{entityName: $entity, limitBytes: $limit}}) {{
    storageUsage {{ {USAGE_FIELDS} }}
    errors {{ field message code }}
  }}
}}
"""
VIEWER_USAGE = f"query Usage($first: Int = 10) {{ viewer {{ storageUsage {{ {USAGE_FIELDS} }} }} }}"
GENERATE_KEY = 'mutation { generateApiKey(input: {name: "tracker"}) { secret } }'


def files(*specs: tuple[str, str, int]) -> list[dict[str, Any]]:
    return [{"path": p, "category": c, "sizeBytes": s} for p, c, s in specs]


def breakdown(run_files: int = 0, artifacts: int = 0, media: int = 0) -> list[dict[str, Any]]:
    return [
        {"category": "RUN_FILES", "bytes": run_files},
        {"category": "ARTIFACTS", "bytes": artifacts},
        {"category": "MEDIA", "bytes": media},
    ]


async def record(client: GraphQL, entity: str, project: str, reports: list[Any]) -> Any:
    variables = {"entity": entity, "project": project, "files": reports}
    return (await client.execute(RECORD, variables))["recordStoredFiles"]


async def viewer_usage(client: GraphQL, first: int = 10) -> Any:
    return (await client.execute(VIEWER_USAGE, {"first": first}))["viewer"]["storageUsage"]


async def assert_counters_match_files() -> None:
    """Every counter equals the sum over its file rows, and no counter is missing."""
    by_category: dict[tuple[int, str], int] = defaultdict(int)
    by_project: dict[tuple[int, str], int] = defaultdict(int)
    for row in await StoredFile.all():
        by_category[(row.entity_id, row.category.value)] += row.size_bytes
        by_project[(row.entity_id, row.project_name)] += row.size_bytes
    categories = {
        (c.entity_id, c.category.value): c.bytes
        for c in await StorageCategoryCounter.all()
        if c.bytes
    }
    projects = {(p.entity_id, p.project_name): p.bytes for p in await StorageProjectCounter.all()}
    assert categories == {k: v for k, v in by_category.items() if v}
    assert projects == {k: v for k, v in by_project.items() if v}


async def test_new_account_uses_nothing_of_the_default_plan(api):
    alice = await sign_up("alice")

    usage = await viewer_usage(api.signed_in(alice))

    assert usage == {
        "usedBytes": 0,
        "limitBytes": 100 * 10**9,
        "fraction": 0.0,
        "breakdown": breakdown(),
        "projects": [],
    }


async def test_record_counts_by_category_and_project(api):
    alice = await sign_up("alice")
    client = api.signed_in(alice)

    await record(client, "alice", "mnist", files(("a.bin", "ARTIFACTS", 3 * 10**9)))
    payload = await record(
        client,
        "alice",
        "cifar",
        files(("out.log", "RUN_FILES", 10**9), ("model.pt", "ARTIFACTS", 6 * 10**9)),
    )

    usage = {
        "usedBytes": 10 * 10**9,
        "limitBytes": 10**11,
        "fraction": 0.1,
        "breakdown": breakdown(run_files=10**9, artifacts=9 * 10**9),
        "projects": [
            {"projectName": "cifar", "bytes": 7 * 10**9},
            {"projectName": "mnist", "bytes": 3 * 10**9},
        ],
    }
    assert payload == {"storageUsage": usage, "errors": []}
    assert await viewer_usage(client) == usage
    await assert_counters_match_files()


async def test_recording_again_is_idempotent_and_replaces_sizes(api):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    reports = files(("a", "RUN_FILES", 100), ("b", "MEDIA", 50))
    await record(client, "alice", "p", reports)

    again = await record(client, "alice", "p", reports)
    changed = await record(client, "alice", "p", files(("a", "ARTIFACTS", 30)))

    assert again["storageUsage"]["usedBytes"] == 150
    assert changed["storageUsage"]["breakdown"] == breakdown(artifacts=30, media=50)
    assert changed["storageUsage"]["usedBytes"] == 80
    assert await StoredFile.all().count() == 2
    await assert_counters_match_files()


async def test_delete_removes_files_and_ignores_unknown_paths(api):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    await record(client, "alice", "p", files(("a", "RUN_FILES", 100), ("b", "MEDIA", 50)))
    await record(client, "alice", "q", files(("a", "RUN_FILES", 7)))

    data = await client.execute(
        DELETE, {"entity": "alice", "project": "p", "paths": ["a", "b", "never-recorded"]}
    )

    payload = data["deleteStoredFiles"]
    assert payload["errors"] == []
    assert payload["storageUsage"]["usedBytes"] == 7
    assert payload["storageUsage"]["projects"] == [{"projectName": "q", "bytes": 7}]
    assert [f.project_name for f in await StoredFile.all()] == ["q"]
    await assert_counters_match_files()


async def test_projects_are_largest_first_and_limited(api):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    for index, size in enumerate([5, 50, 20, 20, 1]):
        await record(client, "alice", f"p{index}", files(("f", "RUN_FILES", size)))

    usage = await viewer_usage(client, first=3)

    assert usage["projects"] == [
        {"projectName": "p1", "bytes": 50},
        {"projectName": "p2", "bytes": 20},
        {"projectName": "p3", "bytes": 20},
    ]


async def test_team_member_records_for_the_team(api):
    alice = await sign_up("alice")
    bob = await sign_up("bob")
    team = await make_team("ml-lab", alice, bob)

    payload = await record(
        api.signed_in(bob), "ML-Lab", "runs", files(("w.ckpt", "ARTIFACTS", 1234))
    )

    assert payload["storageUsage"]["usedBytes"] == 1234
    [totals] = await totals_by_entity_id([team.entity_id])
    assert totals is not None and totals.used_bytes == 1234
    assert (await viewer_usage(api.signed_in(bob)))["usedBytes"] == 0


@pytest.mark.parametrize("entity", ["bob", "other-team", "nobody"])
async def test_foreign_entity_is_forbidden(api, entity):
    alice = await sign_up("alice")
    bob = await sign_up("bob")
    await make_team("other-team", bob)
    variables = {"entity": entity, "project": "p", "files": files(("a", "MEDIA", 1))}

    error = await api.signed_in(alice).error(RECORD, variables)
    delete_error = await api.signed_in(alice).error(
        DELETE, {"entity": entity, "project": "p", "paths": ["a"]}
    )

    assert error["extensions"]["code"] == "FORBIDDEN"
    assert delete_error["extensions"]["code"] == "FORBIDDEN"
    assert await StoredFile.all().count() == 0


async def test_anonymous_cannot_record(api):
    error = await api.error(
        RECORD, {"entity": "alice", "project": "p", "files": files(("a", "MEDIA", 1))}
    )

    assert error["extensions"]["code"] == "UNAUTHENTICATED"


async def test_run_tracker_records_with_an_api_key(api):
    alice = await sign_up("alice")
    secret = (await api.signed_in(alice).execute(GENERATE_KEY))["generateApiKey"]["secret"]
    basic = "Basic " + base64.b64encode(f"api:{secret}".encode()).decode()

    payload = await record(api.signed_in(basic), "alice", "p", files(("a", "RUN_FILES", 9)))

    assert payload["storageUsage"]["usedBytes"] == 9


@pytest.mark.parametrize(
    ("reports", "field", "code"),
    [
        (files(*[(f"f{i}", "MEDIA", 1) for i in range(1001)]), "files", "LIMIT_EXCEEDED"),
        (files(("a", "MEDIA", -1)), "files", "INVALID"),
        (files(("a", "MEDIA", 10**15 + 1)), "files", "INVALID"),
        (files(("x" * 1025, "MEDIA", 1)), "files", "INVALID"),
        (files(("", "MEDIA", 1)), "files", "INVALID"),
        (files(("a\x00b", "MEDIA", 1)), "files", "INVALID"),
        (files(("a", "MEDIA", 1), ("a", "RUN_FILES", 2)), "files", "INVALID"),
    ],
)
async def test_record_refuses_bad_reports_and_records_nothing(api, reports, field, code):
    alice = await sign_up("alice")
    good = files(("good", "MEDIA", 5))

    payload = await record(api.signed_in(alice), "alice", "p", good + reports)

    assert payload["storageUsage"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)]
    assert await StoredFile.all().count() == 0
    assert await StorageCategoryCounter.all().count() == 0


async def test_record_refuses_a_bad_project_name_with_bad_files(api):
    alice = await sign_up("alice")

    payload = await record(api.signed_in(alice), "alice", " ", files(("a", "MEDIA", -5)))

    assert [(e["field"], e["code"]) for e in payload["errors"]] == [
        ("projectName", "INVALID"),
        ("files", "INVALID"),
    ]


async def test_limits_are_inclusive(api):
    alice = await sign_up("alice")
    # 1024 characters of three-byte UTF-8: more than PostgreSQL can index as text.
    long_path = "".join(chr(0x4E00 + i) for i in range(1024))
    reports = files((long_path, "MEDIA", 0), *[(f"f{i}", "RUN_FILES", 1) for i in range(999)])

    payload = await record(api.signed_in(alice), "alice", "p", reports)
    again = await record(api.signed_in(alice), "alice", "p", files((long_path, "MEDIA", 2)))

    assert payload["errors"] == []
    assert payload["storageUsage"]["usedBytes"] == 999
    assert again["storageUsage"]["breakdown"] == breakdown(run_files=999, media=2)
    assert await StoredFile.all().count() == 1000


async def test_delete_refuses_over_1000_paths(api):
    alice = await sign_up("alice")
    paths = [f"f{i}" for i in range(1001)]

    data = await api.signed_in(alice).execute(
        DELETE, {"entity": "alice", "project": "p", "paths": paths}
    )

    errors = data["deleteStoredFiles"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("paths", "LIMIT_EXCEEDED")]


async def test_profile_photo_counts_as_media(api):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    # What uploadProfilePhoto stores (its multipart path is the user domain's to test).
    await User.filter(id=alice.user.id).update(photo_file="abc.png", photo_bytes=4321)
    await record(client, "alice", "p", files(("m.png", "MEDIA", 1000)))

    usage = await viewer_usage(client)

    assert usage["breakdown"] == breakdown(media=1000 + 4321)
    assert usage["usedBytes"] == 1000 + 4321
    assert usage["projects"] == [{"projectName": "p", "bytes": 1000}]


async def test_admin_sets_a_storage_limit(api):
    root = await sign_up("root", admin=True)
    alice = await sign_up("alice")
    await record(api.signed_in(alice), "alice", "p", files(("a", "RUN_FILES", 250)))

    data = await api.signed_in(root).execute(SET_LIMIT, {"entity": "Alice", "limit": 1000})

    usage = data["setStorageLimit"]["storageUsage"]
    assert (usage["limitBytes"], usage["fraction"]) == (1000, 0.25)
    assert (await viewer_usage(api.signed_in(alice)))["limitBytes"] == 1000


async def test_only_admins_set_storage_limits(api):
    alice = await sign_up("alice")

    error = await api.signed_in(alice).error(SET_LIMIT, {"entity": "alice", "limit": 10**12})

    assert error["extensions"]["code"] == "FORBIDDEN"
    assert (await viewer_usage(api.signed_in(alice)))[
        "limitBytes"
    ] == config.DEFAULT_STORAGE_LIMIT_BYTES


@pytest.mark.parametrize(
    ("entity", "limit", "field", "code"),
    [("nobody", 10, "entityName", "NOT_FOUND"), ("alice", 0, "limitBytes", "INVALID")],
)
async def test_set_storage_limit_refuses_bad_input(api, entity, limit, field, code):
    root = await sign_up("root", admin=True)
    await sign_up("alice")

    data = await api.signed_in(root).execute(SET_LIMIT, {"entity": entity, "limit": limit})

    errors = data["setStorageLimit"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [(field, code)]


async def test_storage_usage_costs_the_same_queries_at_10_and_3000_files(api):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    await record(client, "alice", "p0", files(*[(f"f{i}", "RUN_FILES", i) for i in range(10)]))
    with count_queries() as few:
        await viewer_usage(client)
    for batch in range(1, 4):
        reports = [(f"p{batch}/f{i}", ("MEDIA", "ARTIFACTS")[i % 2], i) for i in range(1000)]
        await record(client, "alice", f"p{batch}", files(*reports[:990]))
    assert await StoredFile.all().count() == 10 + 3 * 990

    with count_queries() as many:
        usage = await viewer_usage(client)

    assert usage["usedBytes"] > 0
    assert len(few) == len(many) > 0


async def test_concurrent_reports_keep_counters_exact(api):
    alice = await sign_up("alice")
    client = api.signed_in(alice)

    async def report(size: int) -> None:
        reports = [(f"f{i}", ("MEDIA", "RUN_FILES")[(i + size) % 2], size + i) for i in range(50)]
        await record(client, "alice", "p", files(*reports))

    async def delete() -> None:
        paths = [f"f{i}" for i in range(0, 50, 3)]
        await client.execute(DELETE, {"entity": "alice", "project": "p", "paths": paths})

    await asyncio.gather(*(report(size) for size in range(1, 7)), delete(), delete())

    await assert_counters_match_files()


async def test_no_file_is_recorded_for_an_entity_deleted_meanwhile(db):
    alice = await sign_up("alice")
    # What a report sees when it gets the entity's lock after a deletion committed.
    await Entity.filter(id=alice.user.entity_id).update(deleted_at=datetime.now(UTC))

    with pytest.raises(NotFound):
        async with in_transaction():
            await storage_ledger.record(
                alice.user.entity_id, "p", [FileReport("a", StorageCategory.MEDIA, 1)]
            )

    assert await StoredFile.all().count() == 0


async def fill(entity_id: int, *specs: tuple[str, str, str, int]) -> None:
    """Files recorded by the ledger itself, past the per-file bound of the API."""
    for project, path, category, size in specs:
        async with in_transaction():
            await storage_ledger.record(
                entity_id, project, [FileReport(path, StorageCategory(category), size)]
            )


def test_a_whole_call_of_the_largest_files_stays_below_the_ceiling():
    assert MAX_FILES_PER_CALL * MAX_FILE_BYTES < MAX_ENTITY_BYTES < 2**63 - 1 - 2 * 10**15


async def test_record_up_to_the_ceiling_and_not_a_byte_more(api):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    await fill(alice.user.entity_id, ("big", "a", "ARTIFACTS", MAX_ENTITY_BYTES - 10))
    before = await viewer_usage(client)

    refused = await record(client, "alice", "p", files(("x", "MEDIA", 4), ("y", "MEDIA", 7)))
    after_refusal = await viewer_usage(client)
    accepted = await record(client, "alice", "p", files(("x", "MEDIA", 4), ("y", "MEDIA", 6)))

    assert refused == {
        "storageUsage": None,
        "errors": [
            {
                "field": "files",
                "code": "LIMIT_EXCEEDED",
                "message": f"These files would bring this account or team to "
                f"{MAX_ENTITY_BYTES + 1} bytes stored, over the {MAX_ENTITY_BYTES} bytes "
                "that can be counted: delete files first.",
            }
        ],
    }
    assert after_refusal == before
    assert accepted["errors"] == []
    assert accepted["storageUsage"]["usedBytes"] == MAX_ENTITY_BYTES
    assert accepted["storageUsage"]["breakdown"] == breakdown(
        artifacts=MAX_ENTITY_BYTES - 10, media=10
    )
    await assert_counters_match_files()


@pytest.mark.parametrize(
    "filled",
    [
        [("p", "a", "MEDIA", MAX_ENTITY_BYTES)],
        [("q", "a", "ARTIFACTS", MAX_ENTITY_BYTES)],
        [("q", "a", "RUN_FILES", MAX_ENTITY_BYTES // 2), ("r", "b", "ARTIFACTS", 2**61)],
    ],
    ids=["same-category-and-project", "other-category-and-project", "spread"],
)
async def test_the_ceiling_counts_every_category_and_project_together(api, filled):
    alice = await sign_up("alice")
    await fill(alice.user.entity_id, *filled)
    before = await StorageCategoryCounter.all().order_by("id").values()

    payload = await record(api.signed_in(alice), "alice", "p", files(("new", "MEDIA", 1)))

    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("files", "LIMIT_EXCEEDED")]
    assert await StorageCategoryCounter.all().order_by("id").values() == before
    assert await StoredFile.filter(path="new").count() == 0
    await assert_counters_match_files()


async def test_a_file_grown_past_the_ceiling_is_refused(api):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    await fill(alice.user.entity_id, ("q", "big", "ARTIFACTS", MAX_ENTITY_BYTES - 10**15 + 1))
    await record(client, "alice", "p", files(("a", "MEDIA", 0)))

    grown = await record(client, "alice", "p", files(("a", "MEDIA", 10**15)))
    moved = await record(client, "alice", "p", files(("a", "RUN_FILES", 10**15 - 1)))

    assert [(e["field"], e["code"]) for e in grown["errors"]] == [("files", "LIMIT_EXCEEDED")]
    assert moved["errors"] == []
    assert moved["storageUsage"]["breakdown"] == breakdown(
        run_files=10**15 - 1, artifacts=MAX_ENTITY_BYTES - 10**15 + 1
    )
    await assert_counters_match_files()


async def test_counters_recorded_above_the_ceiling_may_only_shrink(api):
    # What an entity filled before the ceiling existed may hold.
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    entity_id, size = alice.user.entity_id, 2**63 - 1 - 1000
    await StoredFile.create(
        entity_id=entity_id,
        project_name="p",
        path="a",
        path_hash=storage_ledger.path_hash("a"),
        category=StorageCategory.ARTIFACTS,
        size_bytes=size,
    )
    await StorageCategoryCounter.create(
        entity_id=entity_id, category=StorageCategory.ARTIFACTS, bytes=size
    )
    await StorageProjectCounter.create(entity_id=entity_id, project_name="p", bytes=size)

    grown = await record(client, "alice", "p", files(("b", "MEDIA", 1)))
    shrunk = await record(client, "alice", "p", files(("a", "ARTIFACTS", 10**15)))
    deleted = await client.execute(DELETE, {"entity": "alice", "project": "p", "paths": ["a"]})
    again = await record(client, "alice", "p", files(("b", "MEDIA", 1)))

    assert [(e["field"], e["code"]) for e in grown["errors"]] == [("files", "LIMIT_EXCEEDED")]
    assert shrunk["storageUsage"]["usedBytes"] == 10**15
    assert deleted["deleteStoredFiles"]["storageUsage"]["usedBytes"] == 0
    assert again["storageUsage"]["usedBytes"] == 1
    await assert_counters_match_files()


async def test_concurrent_reports_never_pass_the_ceiling(api):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    await fill(alice.user.entity_id, ("base", "a", "RUN_FILES", MAX_ENTITY_BYTES - 3 * 10**15))

    async def report(index: int) -> Any:
        category = ("MEDIA", "ARTIFACTS", "RUN_FILES")[index % 3]
        return await record(client, "alice", f"p{index}", files(("f", category, 10**15)))

    payloads = await asyncio.gather(*(report(index) for index in range(8)))

    codes = sorted(tuple(e["code"] for e in p["errors"]) for p in payloads)
    assert codes == [()] * 3 + [("LIMIT_EXCEEDED",)] * 5
    assert (await viewer_usage(client))["usedBytes"] == MAX_ENTITY_BYTES
    await assert_counters_match_files()


async def test_deleting_the_same_files_again_never_goes_negative(api):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    await record(client, "alice", "p", files(("a", "RUN_FILES", 100), ("b", "MEDIA", 50)))
    await record(client, "alice", "p", files(("a", "MEDIA", 10)))
    variables = {"entity": "alice", "project": "p", "paths": ["a", "b", "a-never"]}

    await asyncio.gather(*(client.execute(DELETE, variables) for _ in range(4)))
    again = await client.execute(DELETE, variables)

    assert again["deleteStoredFiles"]["storageUsage"]["breakdown"] == breakdown()
    assert await StorageCategoryCounter.filter(bytes__lt=0).count() == 0
    assert await StorageProjectCounter.all().count() == 0
    await assert_counters_match_files()


TEAM_USAGE = """
query($name: String!) {
  team(name: $name) { storageUsage { usedBytes breakdown { category bytes } } }
}
"""
PROFILE_TEAM_USAGE = """
query($u: String!) { user(username: $u) { teams { name storageUsage { usedBytes } } } }
"""


async def test_team_storage_usage_is_shown_to_its_members(api):
    alice, bob = await sign_up("alice"), await sign_up("bob")
    await make_team("lab", alice, bob)
    await record(api.signed_in(alice), "lab", "p", files(("a", "ARTIFACTS", 300)))

    data = await api.signed_in(bob).execute(TEAM_USAGE, {"name": "lab"})

    assert data["team"]["storageUsage"] == {
        "usedBytes": 300,
        "breakdown": breakdown(artifacts=300),
    }


async def test_team_storage_usage_is_forbidden_through_a_public_profile(api):
    alice, outsider = await sign_up("alice"), await sign_up("outsider")
    await make_team("lab", alice)

    error = await api.signed_in(outsider).error(PROFILE_TEAM_USAGE, {"u": "alice"})

    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["path"] == ["user", "teams", 0, "storageUsage"]
