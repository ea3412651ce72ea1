from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jose import jwt
from tortoise.models import Model

import config
from auth.sealing import seal
from models.alert import AlertChannel, AlertDelivery, AlertEvent, AlertEventType
from models.beta import BetaFeature, UserBetaFeature
from models.destination import AlertRoute, Destination
from models.entity import Entity
from models.integration import SlackIntegration
from models.team import Invite, Team, TeamMember, TeamRole
from models.user import User
from resolvers import erasure
from services import photos
from tests.support.fake_github import GOOD_CODE, TOKEN, FakeGithub
from tests.support.helpers import Account, GraphQL, sign_up
from tests.support.rows import all_models, snapshot
from tests.support.team_helpers import make_team

DELETE_ACCOUNT = """
mutation Delete($confirm: String!) {
  deleteAccount(input: {confirmUsername: $confirm}) { success errors { field message code } }
}
"""
START_GITHUB = "mutation { startGithubConnect(input: {}) { authorizeUrl } }"
CONNECT_GITHUB = """
mutation Connect($code: String!, $state: String!) {
  connectGithub(input: {code: $code, state: $state}) { errors { code } }
}
"""
GENERATE_KEY = 'mutation { generateApiKey(input: {name: "tracker"}) { secret } }'
RECORD = """
mutation Record($entity: String!, $files: [StoredFileInput!]!) {
  recordStoredFiles(input: {entityName: $entity, projectName: "p", files: $files}) {
    errors { code }
  }
}
"""
VIEWER = "{ viewer { username storageUsage { usedBytes } } }"


@dataclass
class World:
    """Alice with something in every table, and others whose rows must survive."""

    alice: Account
    alice_key: str
    bob: Account
    photo: Path
    solo: Team
    shared: Team
    co_admined: Team


async def _connect_github(client: GraphQL) -> None:
    url = (await client.execute(START_GITHUB))["startGithubConnect"]["authorizeUrl"]
    state = url.split("state=")[1]
    data = await client.execute(CONNECT_GITHUB, {"code": GOOD_CODE, "state": state})
    assert data["connectGithub"]["errors"] == []


async def _record(client: GraphQL, entity: str, path: str, size: int) -> None:
    reports = [{"path": path, "category": "RUN_FILES", "sizeBytes": size}]
    data = await client.execute(RECORD, {"entity": entity, "files": reports})
    assert data["recordStoredFiles"]["errors"] == []


async def _alert(account: Account) -> None:
    event = await AlertEvent.create(
        user_id=account.user.id,
        type=AlertEventType.SCRIPTABLE,
        title="loss",
        text="loss is nan",
        entity_name=account.user.username,
        project_name="p",
        run_name="r",
    )
    await AlertDelivery.create(
        event=event,
        user_id=account.user.id,
        channel=AlertChannel.EMAIL,
        # Pending, but not due during the test: the live server's dispatcher must
        # not change the row between two snapshots.
        next_attempt_at=datetime.now(UTC) + timedelta(days=1),
    )
    hook = await Destination.create(
        user_id=account.user.id, kind=AlertChannel.WEBHOOK, name="Ops", target="hooks.test"
    )
    route = await AlertRoute.create(user_id=account.user.id, events="SCRIPTABLE")
    await route.destinations.add(hook)


async def build_world(api: GraphQL) -> World:
    alice, bob, carol = await sign_up("alice"), await sign_up("bob"), await sign_up("carol")
    client = api.signed_in(alice)
    alice_key = (await client.execute(GENERATE_KEY))["generateApiKey"]["secret"]
    await api.signed_in(bob).execute(GENERATE_KEY)
    feature = await BetaFeature.create(key="dark-mode", name="Dark mode", description="Dark.")
    for who in (alice, bob):
        await UserBetaFeature.create(user_id=who.user.id, feature=feature, enabled=True)
        await _alert(who)
        await SlackIntegration.create(
            user_id=who.user.id,
            team_name="Lab",
            channel_name="#runs",
            webhook_url_sealed=seal("https://hooks.slack.com/services/T/B/x"),
        )
    await _connect_github(client)
    await client.execute(START_GITHUB)  # a flow left pending: an oauth_state row
    solo = await make_team("solo", alice)
    shared = await make_team("shared", bob, alice)
    co_admined = await make_team("co-admined", alice, bob, admins=(carol,))
    await Invite.create(team=co_admined, from_user=alice.user, email="dana@lab.test")
    await Invite.create(team=co_admined, from_user=carol.user, to_user=alice.user)
    await _record(client, "alice", "mine.bin", 10)
    await _record(client, "solo", "solo.bin", 20)
    await _record(client, "shared", "shared.bin", 30)
    await _record(api.signed_in(bob), "bob", "bobs.bin", 40)
    stored = photos.store(b"not really a png", "png")
    await User.filter(id=alice.user.id).update(
        photo_file=stored.file_name, photo_bytes=stored.size_bytes, default_entity_id=solo.entity_id
    )
    return World(
        alice=alice,
        alice_key=alice_key,
        bob=bob,
        photo=Path(config.MEDIA_ROOT) / stored.file_name,
        solo=solo,
        shared=shared,
        co_admined=co_admined,
    )


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"api:{key}".encode()).decode()


def references() -> list[tuple[type[Model], str, type[Model]]]:
    """Every (model, column, User or Entity) where a row can point at an account."""
    found = []
    for model in all_models():
        meta = model._meta
        for name in sorted(meta.fk_fields | meta.o2o_fields):
            relation: Any = meta.fields_map[name]
            if relation.related_model in (User, Entity):
                found.append((model, relation.source_field, relation.related_model))
    return found


async def rows_referring_to(user_id: int, entity_ids: list[int]) -> dict[str, int]:
    """For every table, the rows that point at the user or at one of these entities."""
    found: dict[str, int] = {}
    for model, column, target in references():
        ids = [user_id] if target is User else entity_ids
        count = await model.filter(**{f"{column}__in": ids}).count()
        if count:
            found[f"{model._meta.db_table}.{column}"] = count
    return found


async def test_delete_account_removes_every_row_of_the_user(api, github: FakeGithub):
    world = await build_world(api)
    alice_id, alice_entity_id = world.alice.user.id, world.alice.user.entity_id
    doomed_entities = [alice_entity_id, world.solo.entity_id]
    # The world fills every column that can point at an account: a table added
    # later fails here until this test, and deleteAccount, know of it.
    every_reference = {f"{m._meta.db_table}.{column}" for m, column, _ in references()}
    assert set(await rows_referring_to(alice_id, doomed_entities)) == every_reference
    bob_before = await rows_referring_to(world.bob.user.id, [world.bob.user.entity_id])

    data = await api.signed_in(world.alice).execute(DELETE_ACCOUNT, {"confirm": "alice"})

    assert data["deleteAccount"] == {"success": True, "errors": []}
    assert await rows_referring_to(alice_id, doomed_entities) == {}
    assert not await User.filter(id=alice_id).exists()
    tombstone = await Entity.get(id=alice_entity_id)
    assert (tombstone.name, tombstone.is_team) == ("alice", False)
    assert tombstone.deleted_at is not None
    assert not await Entity.filter(id=world.solo.entity_id).exists()
    assert not await Team.filter(id=world.solo.id).exists()
    assert await TeamMember.filter(team_id=world.shared.id).count() == 1
    assert await TeamMember.filter(team_id=world.co_admined.id).count() == 2
    assert await rows_referring_to(world.bob.user.id, [world.bob.user.entity_id]) == bob_before
    assert await rows_referring_to(0, [world.shared.entity_id]) == {
        "stored_file.entity_id": 1,
        "storage_category_counter.entity_id": 1,
        "storage_project_counter.entity_id": 1,
        "team.entity_id": 1,
    }
    assert github.revocations == [{"access_token": TOKEN}]
    assert not world.photo.exists()


async def test_deleted_accounts_credentials_are_refused(api, github):
    world = await build_world(api)
    await api.signed_in(world.alice).execute(DELETE_ACCOUNT, {"confirm": "alice"})

    jwt_status, jwt_body = await api.signed_in(world.alice).post(VIEWER)
    key_status, key_body = await api.signed_in(basic(world.alice_key)).post(VIEWER)

    assert jwt_status == key_status == 401
    assert jwt_body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert key_body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert not await User.filter(username="alice").exists()


async def test_a_token_issued_after_deletion_starts_a_new_empty_account(api, github):
    world = await build_world(api)
    await api.signed_in(world.alice).execute(DELETE_ACCOUNT, {"confirm": "alice"})
    # Issued a few seconds on (within the allowed clock skew), so after the deletion.
    now = int(time.time()) + 5
    token = jwt.encode(
        {"sub": "alice", "iat": now, "exp": now + 600}, config.JWT_SECRET, algorithm="HS256"
    )

    data = await api.signed_in(f"Bearer {token}").execute(VIEWER)

    assert data == {"viewer": {"username": "alice", "storageUsage": {"usedBytes": 0}}}
    user = await User.get(username="alice")
    assert user.entity_id == world.alice.user.entity_id
    assert user.id != world.alice.user.id
    assert (await Entity.get(id=user.entity_id)).deleted_at is None


async def test_confirmation_must_match_the_username(api, github):
    world = await build_world(api)
    before = await snapshot()

    data = await api.signed_in(world.alice).execute(DELETE_ACCOUNT, {"confirm": "Alice"})

    payload = data["deleteAccount"]
    assert payload["success"] is False
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("confirmUsername", "INVALID")]
    assert await snapshot() == before


async def test_refused_while_only_admin_of_a_team_with_members(api, github):
    world = await build_world(api)
    carol = await User.get(username="carol")
    dave = await sign_up("dave")
    await make_team("zeta", world.alice, dave)
    await make_team("alpha", world.alice, dave)
    await TeamMember.filter(team_id=world.co_admined.id, user_id=carol.id).update(
        role=TeamRole.MEMBER
    )
    before = await snapshot()

    data = await api.signed_in(world.alice).execute(DELETE_ACCOUNT, {"confirm": "alice"})

    payload = data["deleteAccount"]
    assert payload["success"] is False
    [error] = payload["errors"]
    assert error["code"] == "CONFLICT"
    assert "'alpha', 'co-admined', 'zeta'" in error["message"]
    assert "solo" not in error["message"] and "shared" not in error["message"]
    assert await snapshot() == before
    assert github.revocations == []
    assert world.photo.exists()


@pytest.mark.parametrize(
    "step", ["_delete_teams_left_empty", "_delete_alerts", "_delete_storage", "_delete_profile"]
)
async def test_a_failure_mid_deletion_leaves_everything(api, github, monkeypatch, step):
    world = await build_world(api)
    before = await snapshot()
    original = getattr(erasure, step)

    async def fail_after_running(doomed: erasure.Doomed) -> None:
        await original(doomed)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(erasure, step, fail_after_running)

    error = await api.signed_in(world.alice).error(DELETE_ACCOUNT, {"confirm": "alice"})

    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert await snapshot() == before
    assert github.revocations == []
    assert world.photo.exists()
    status, _ = await api.signed_in(basic(world.alice_key)).post(VIEWER)
    assert status == 200


async def test_a_failed_revoke_still_deletes_and_says_so(api, github):
    world = await build_world(api)
    github.revoke_status = 502

    data = await api.signed_in(world.alice).execute(DELETE_ACCOUNT, {"confirm": "alice"})

    payload = data["deleteAccount"]
    assert payload["success"] is True
    assert [e["code"] for e in payload["errors"]] == ["UNAVAILABLE"]
    assert not await User.filter(id=world.alice.user.id).exists()


async def test_shared_photo_file_stays_for_the_other_user(api):
    alice, bob = await sign_up("alice"), await sign_up("bob")
    stored = photos.store(b"the same picture", "png")
    for who in (alice, bob):
        await User.filter(id=who.user.id).update(photo_file=stored.file_name, photo_bytes=16)

    await api.signed_in(alice).execute(DELETE_ACCOUNT, {"confirm": "alice"})

    assert (Path(config.MEDIA_ROOT) / stored.file_name).exists()


async def test_reports_racing_the_deletion_leave_no_files(api, github):
    world = await build_world(api)
    tracker = api.signed_in(basic(world.alice_key))
    reports = [{"path": f"f{i}", "category": "MEDIA", "sizeBytes": i} for i in range(200)]

    async def report(entity: str) -> None:
        await tracker.post(RECORD, {"entity": entity, "files": reports})

    await asyncio.gather(
        *(report(entity) for entity in ("alice", "solo") * 3),
        api.signed_in(world.alice).execute(DELETE_ACCOUNT, {"confirm": "alice"}),
        *(report(entity) for entity in ("alice", "solo") * 3),
    )

    doomed = [world.alice.user.entity_id, world.solo.entity_id]
    assert await rows_referring_to(world.alice.user.id, doomed) == {}
