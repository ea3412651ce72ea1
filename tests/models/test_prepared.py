"""Prepared loader queries answer exactly what their plain querysets answer."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

import pytest
from tortoise.models import Model
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.alert import AlertChannel, AlertDelivery, AlertEvent, AlertEventType
from models.destination import Destination
from models.prepared import Prepared, PreparedValues, _Part, connection_of, side_by_side
from models.storage import StorageCategory, StorageCategoryCounter
from models.team import Team, TeamMember, TeamRole
from models.user import PUBLIC_COLUMNS, User
from notifiers import dispatcher
from resolvers import loaders
from tests.support.helpers import count_queries, sign_up
from tests.support.team_helpers import make_team


def members(team_ids: list[int]) -> QuerySet[TeamMember]:
    return (
        TeamMember.filter(team_id__in=team_ids)
        .select_related("user", "team__entity")
        .order_by("user__entity__name_key", "team_id")
    )


def row(model: Model) -> dict[str, Any]:
    return {name: getattr(model, name) for name in model._meta.db_fields}


def described(rows: list[TeamMember]) -> list[tuple[dict[str, Any], ...]]:
    """Every column of each row and of the related rows it was loaded with."""
    return [(row(m), row(m.user), row(m.team), row(m.team.entity)) for m in rows]


async def test_prepared_query_returns_the_querysets_models_for_any_number_of_keys(db):
    ada, bob, eve = [await sign_up(n) for n in ("ada", "bob", "eve")]
    lab = await make_team("lab", ada, bob)
    ops = await make_team("ops", bob, eve)
    prepared = Prepared(members)

    for keys in ([lab.id], [lab.id, ops.id], [ops.id, lab.id, 999], []):
        with count_queries() as statements:
            found = await prepared(keys)
        plain = await members(keys)

        assert described(found) == described(plain)
        assert len(statements) == 1
    assert described(await prepared([lab.id]))[0][1]["username"] == "ada"


async def test_prepared_query_runs_inside_the_callers_transaction(db):
    ada = await sign_up("ada")
    lab = await make_team("lab", ada)
    prepared = Prepared(members)
    await prepared([lab.id])  # compiled outside any transaction

    async with in_transaction():
        await TeamMember.filter(team_id=lab.id).delete()
        inside = await prepared([lab.id])

    assert inside == []


async def test_statements_side_by_side_answer_in_order_inside_and_outside_a_transaction(db):
    ada, bob = await sign_up("ada"), await sign_up("bob")
    lab, ops = await make_team("lab", ada, bob), await make_team("ops", bob)
    roles = PreparedValues(
        lambda ids: TeamMember.filter(team_id__in=ids).order_by("id").values_list("role")
    )
    users = PreparedValues(
        lambda ids: TeamMember.filter(team_id__in=ids).order_by("id").values_list("user_id")
    )

    outside = await side_by_side(TeamMember, [lab.id], roles, users, roles)
    async with in_transaction():
        await TeamMember.filter(team_id=lab.id, user_id=bob.user.id).delete()
        inside = await side_by_side(TeamMember, [lab.id, ops.id], users, roles)

    assert outside == [
        [(TeamRole.ADMIN,), (TeamRole.MEMBER,)],
        [(ada.user.id,), (bob.user.id,)],
        [(TeamRole.ADMIN,), (TeamRole.MEMBER,)],
    ]
    # Inside, both see the transaction's own delete.
    assert inside == [[(ada.user.id,), (bob.user.id,)], [(TeamRole.ADMIN,), (TeamRole.ADMIN,)]]


async def test_query_whose_parameters_are_not_its_keys_runs_as_a_plain_queryset(db):
    ada = await sign_up("ada")
    lab = await make_team("lab", ada)
    prepared = Prepared(lambda ids: TeamMember.filter(role="ADMIN").filter(team_id__in=ids))

    found = await prepared([lab.id])

    assert [m.user_id for m in found] == [ada.user.id]
    assert list(prepared.compiled.values()) == [None]


async def test_constant_parameters_after_the_keys_are_kept(db):
    ada, bob = await sign_up("ada"), await sign_up("bob")
    lab, ops = await make_team("lab", ada, bob), await make_team("ops", bob)
    first = Prepared(lambda ids: TeamMember.filter(team_id__in=ids).order_by("-id").limit(1))

    found = [await first([team.id]) for team in (lab, ops, lab)]

    assert [[m.team_id for m in rows] for rows in found] == [[lab.id], [ops.id], [lab.id]]
    assert [m.user_id for m in found[0]] == [bob.user.id]


async def test_every_list_row_holds_what_its_plain_values_list_answers(db):
    ada, bob = await sign_up("ada"), await sign_up("bob")
    await User.filter(id=bob.user.id).update(bio="Builds engines.", photo_file="b.png")
    await make_team("lab", ada, bob, organization="Lab Org")
    await make_team("ops", bob)  # no organization
    team_ids = [m.team_id for m in await TeamMember.filter(user_id=bob.user.id).order_by("id")]

    members = await loaders._members_by_team_id(team_ids)
    memberships = await loaders._memberships_by_user_id([ada.user.id, bob.user.id])
    teams = await loaders._teams_by_id([*team_ids, 999])

    assert [[tuple(m) for m in group] for group in members] == [
        list(
            await TeamMember.filter(team_id=t)
            .order_by("user__entity__name_key")
            .values_list(*loaders.MEMBER_COLUMNS.values())
        )
        for t in team_ids
    ]
    assert [[tuple(m) for m in group] for group in memberships] == [
        list(
            await TeamMember.filter(user_id=u)
            .order_by("team__entity__name_key")
            .values_list(*loaders.MEMBERSHIP_COLUMNS.values())
        )
        for u in (ada.user.id, bob.user.id)
    ]
    assert [tuple(t) if t else None for t in teams] == [
        *[
            (await Team.filter(id=t).values_list(*loaders.TEAM_COLUMNS.values()))[0]
            for t in team_ids
        ],
        None,
    ]
    # Each attribute is what the models hold under its name.
    bob_in_lab = next(m for m in members[0] if m.id == bob.user.id)
    user = await User.get(id=bob.user.id)
    assert {c: getattr(bob_in_lab, c) for c in PUBLIC_COLUMNS} == {
        c: getattr(user, c) for c in PUBLIC_COLUMNS
    }
    assert type(bob_in_lab.role) is TeamRole and bob_in_lab.joined_at.tzinfo
    lab = await Team.get(name="lab").select_related("entity", "organization")
    assert (memberships[0][0].name, memberships[0][0].organization_name) == ("lab", "Lab Org")
    assert (memberships[0][0].created_at, memberships[0][0].is_team) == (lab.created_at, True)
    assert [m.organization_name for m in memberships[1]] == ["Lab Org", None]


async def test_a_model_joined_by_two_paths_is_read_once_as_tortoise_reads_it(db):
    ada = await sign_up("ada")
    await make_team("lab", ada, organization="Lab Org")
    await make_team("ops", ada)

    def memberships(ids: list[int]) -> Any:
        return (
            TeamMember.filter(user_id__in=ids)
            .select_related("team__entity", "team__organization")
            .order_by("team__entity__name_key")
        )

    prepared = Prepared(memberships)
    found, plain = await prepared([ada.user.id]), await memberships([ada.user.id])

    assert [row(m) for m in found] == [row(m) for m in plain]
    assert [row(m.team) for m in found] == [row(m.team) for m in plain]
    assert [row(m.team.entity) for m in found] == [row(m.team.entity) for m in plain]
    assert [m.team.organization and row(m.team.organization) for m in found] == [
        m.team.organization and row(m.team.organization) for m in plain
    ]
    assert all(
        c is not None and c.rows is not None and c.rows.planned for c in prepared.compiled.values()
    )


async def test_the_connection_is_the_one_tortoise_chooses_in_and_out_of_transactions(db):
    outside = User._choose_db()
    assert connection_of(User) is outside
    async with in_transaction():
        assert connection_of(User) is User._choose_db() is not outside
        async with in_transaction():
            assert connection_of(User) is User._choose_db()
    assert connection_of(User) is User._choose_db()


async def test_a_missing_joined_row_is_none_as_tortoise_makes_it(db):
    ada = await sign_up("ada")
    lab = await make_team("lab", ada, organization="Lab Org")
    ops = await make_team("ops", ada)
    prepared = Prepared(
        lambda ids: Team.filter(id__in=ids).select_related("organization").order_by("id")
    )

    found = await prepared([lab.id, ops.id])
    plain = await Team.filter(id__in=[lab.id, ops.id]).select_related("organization").order_by("id")

    assert [row(t) for t in found] == [row(t) for t in plain]
    assert found[0].organization is not None and plain[0].organization is not None
    assert row(found[0].organization) == row(plain[0].organization)
    assert found[1].organization is None and plain[1].organization is None


async def test_the_dispatchers_claimed_deliveries_are_what_tortoise_reads(db):
    ada = await sign_up("ada")
    hook = await Destination.create(
        user_id=ada.user.id, kind=AlertChannel.WEBHOOK, name="Ops", target="hooks.test"
    )
    event = await AlertEvent.create(
        user_id=ada.user.id,
        type=AlertEventType.TEST,
        title="t",
        text="x",
        entity_name="ada",
        project_name="",
        run_name="",
    )
    ids = [
        (await AlertDelivery.create(
            event=event, user_id=ada.user.id, channel=channel, destination=destination,
            next_attempt_at=event.created_at,
        )).id
        for channel, destination in ((AlertChannel.WEBHOOK, hook), (AlertChannel.EMAIL, None))
    ]  # fmt: skip

    found = await dispatcher.CLAIMED(ids)
    plain = (
        await AlertDelivery.filter(id__in=ids)
        .select_related("event", "user", "destination")
        .order_by("id")
    )

    assert [row(d) for d in found] == [row(d) for d in plain]
    for mine, theirs in zip(found, plain, strict=True):
        assert row(mine.event) == row(theirs.event) and row(mine.user) == row(theirs.user)
    assert found[0].destination is not None and row(found[0].destination) == row(hook)
    assert found[1].destination is None


async def test_rows_that_are_not_whole_models_are_left_to_tortoise(db):
    ada, bob = await sign_up("ada"), await sign_up("bob")
    lab = await make_team("lab", ada, bob)
    prepared = Prepared(lambda ids: TeamMember.filter(team_id__in=ids).only("id", "team_id"))

    first, again = await prepared([lab.id]), await prepared([lab.id])

    plain = await TeamMember.filter(team_id__in=[lab.id]).only("id", "team_id")
    assert sorted(m.id for m in first) == sorted(m.id for m in again) == sorted(m.id for m in plain)
    assert all(m._partial for m in first + again)
    assert list(prepared.compiled.values()) == [None]


WHEN = datetime(2026, 11, 27, 14, 25, 1, tzinfo=timezone(timedelta(hours=2)))


@pytest.mark.parametrize(
    ("role", "joined_at"),
    [
        ("ADMIN", "2026-11-27 14:25:01.123456+00:00"),
        ("MEMBER", "2026-11-27T14:25:01+02:00"),
        ("ADMIN", "2026-11-27 14:25:01"),  # naive text: Tortoise's own conversion
        ("ADMIN", "2026-11-27T14:25:01.5Z"),
        ("ADMIN", WHEN),  # as PostgreSQL's driver answers
        ("ADMIN", WHEN.replace(tzinfo=None)),  # a naive date-time: Tortoise's own conversion
        ("ADMIN", None),
        ("OWNER", "2026-11-27 14:25:01+00:00"),  # no such role: refused as Tortoise does
    ],
)
async def test_a_built_model_converts_each_column_as_tortoise_does(db, role, joined_at):
    columns = {"id": 1, "role": role, "team_id": 2, "joined_at": joined_at, "user_id": 3}
    part = _Part.plan(TeamMember, list(columns), list(range(len(columns))), (), None, (None,))
    assert part is not None

    def built() -> TeamMember:
        return part.build(tuple(columns.values()))  # type: ignore[return-value]

    def plain() -> TeamMember:
        return TeamMember._init_from_db(**columns)

    if role == "OWNER":
        with pytest.raises(ValueError, match="OWNER"):
            built()
        with pytest.raises(ValueError, match="OWNER"):
            plain()
        return
    ours, theirs = built(), plain()
    assert row(ours) == row(theirs)
    assert type(ours.role) is TeamRole
    assert ours.joined_at is None or ours.joined_at.tzinfo == theirs.joined_at.tzinfo


async def test_built_models_save_like_the_ones_tortoise_builds(db):
    ada, bob = await sign_up("ada"), await sign_up("bob")
    lab = await make_team("lab", ada, bob)
    [member] = [m for m in await Prepared(members)([lab.id]) if m.user_id == bob.user.id]

    member.role = TeamRole.ADMIN
    await member.save()

    assert (await TeamMember.get(id=member.id)).role == TeamRole.ADMIN
    assert member.user.username == "bob" and member.team.entity.name == "lab"


async def test_prepared_values_answer_what_values_list_answers(db):
    ada, bob = await sign_up("ada"), await sign_up("bob")
    for entity_id, category, size in (
        (ada.user.entity_id, StorageCategory.MEDIA, 0),
        (ada.user.entity_id, StorageCategory.ARTIFACTS, 5),
        (bob.user.entity_id, StorageCategory.RUN_FILES, 7),
    ):
        await StorageCategoryCounter.create(entity_id=entity_id, category=category, bytes=size)

    def counted(ids: list[int]) -> Any:
        return (
            StorageCategoryCounter.filter(entity_id__in=ids, bytes__gt=0)
            .order_by("id")
            .values_list("entity_id", "category", "bytes")
        )

    prepared = PreparedValues(counted)
    for ids in ([ada.user.entity_id], [ada.user.entity_id, bob.user.entity_id], [999], []):
        assert await prepared(ids) == list(await counted(ids))
    found = await prepared([bob.user.entity_id])
    assert found == [(bob.user.entity_id, StorageCategory.RUN_FILES, 7)]
    assert isinstance(found[0][1], StorageCategory)


async def test_prepared_values_through_a_relation_into_a_named_tuple(db):
    ada, bob = await sign_up("ada"), await sign_up("bob")
    lab = await make_team("lab", ada, bob)
    await User.filter(id=bob.user.id).update(bio="Builds engines.", hide_teams_from_public=True)

    def members(ids: list[int]) -> Any:
        return (
            TeamMember.filter(team_id__in=ids)
            .order_by("user__entity__name_key")
            .values_list("role", "joined_at", "user__bio", "user__hide_teams_from_public")
        )

    class Member(NamedTuple):
        role: TeamRole
        joined_at: Any
        bio: str | None
        hides: bool

    plain = list(await members([lab.id]))
    as_tuples = await PreparedValues(members)([lab.id])
    as_members = await PreparedValues(members, into=Member)([lab.id])

    assert as_tuples == plain and [type(t) for t in as_tuples] == [tuple, tuple]
    assert as_members == [Member(*t) for t in plain]
    assert [(m.role, m.bio, m.hides) for m in as_members] == [
        (TeamRole.ADMIN, None, False),
        (TeamRole.MEMBER, "Builds engines.", True),
    ]
    assert all(type(m.role) is TeamRole and type(m.hides) is bool for m in as_members)
    assert all(m.joined_at.tzinfo is not None for m in as_members)

    class Short(NamedTuple):
        role: TeamRole

    with pytest.raises(ValueError, match="fields"):
        await PreparedValues(members, into=Short)([lab.id])
