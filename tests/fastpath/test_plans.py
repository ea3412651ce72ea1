"""Query plans and plain fields answer exactly what graphql-core's usual way answers."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any, NamedTuple

import pytest
import strawberry
from graphql import GraphQLObjectType, parse
from strawberry.dataloader import DataLoader
from strawberry.permission import BasePermission

from fastpath import compiled, plans, runs
from fastpath.abandons import REFUSED, VARIABLES, Abandon
from fastpath.executor import PlanningExecutor
from resolvers.dataloader import SHIELDED
from resolvers.dataloader import DataLoader as ShieldedLoader
from tests.fastpath.planned import planned


@strawberry.enum
class Color(Enum):
    RED = "red"


@strawberry.type
class Thing:
    name: str
    nickname: str | None
    count: int
    color: Color
    seen_at: datetime

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()

    @strawberry.field
    def initial(root: Thing, info: strawberry.Info) -> str:  # noqa: N805 - Strawberry's `root`
        return f"{root.name[0]} ({info.field_name})"


class Shade(Enum):
    RED = "red"


class Name(str):
    """A str subclass: not its own serialization by type, though graphql-core takes it."""


class Moment(datetime):
    """A datetime subclass: not serialized by type, though graphql-core takes it."""


class Broken:
    """What a resolver might hand over by mistake: nulls, wrong types, no attribute."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


GOOD: dict[str, Any] = {"name": "ada", "nickname": None, "count": 3, "color": Color.RED}
WHEN = datetime(2026, 11, 27, 14, 25, tzinfo=UTC)


THINGS: list[Thing | None] = [
    Thing(**GOOD, seen_at=WHEN),
    Broken(**{**GOOD, "name": None}, seen_at=WHEN),  # type: ignore[list-item]
    Broken(**{**GOOD, "count": "three"}, seen_at=WHEN),  # type: ignore[list-item]
    Broken(**{**GOOD, "color": "blue"}, seen_at=WHEN),  # type: ignore[list-item]
    Broken(**{**GOOD, "seen_at": "yesterday"}),  # type: ignore[list-item]
    Broken(nickname="no name"),  # type: ignore[list-item]
    Broken(**{**GOOD, "count": ValueError("boom")}, seen_at=WHEN),  # type: ignore[list-item]
    # Values a plan must not take as they are, though close to it.
    Broken(**{**GOOD, "name": True}, seen_at=WHEN),  # type: ignore[list-item]
    Broken(**{**GOOD, "name": Name("bob")}, seen_at=WHEN),  # type: ignore[list-item]
    Broken(**{**GOOD, "name": 7}, seen_at=WHEN),  # type: ignore[list-item]
    Broken(**{**GOOD, "count": True}, seen_at=WHEN),  # type: ignore[list-item]
    Broken(**{**GOOD, "color": Shade.RED}, seen_at=WHEN),  # type: ignore[list-item]
    Broken(**{**GOOD, "color": "red"}, seen_at=WHEN),  # type: ignore[list-item]
    Broken(**{**GOOD, "count": 2**31}, seen_at=WHEN),  # type: ignore[list-item]
    Broken(**GOOD, seen_at=Moment(2026, 11, 27, tzinfo=UTC)),  # type: ignore[list-item]
    Broken(**GOOD, seen_at=date(2026, 11, 27)),  # type: ignore[list-item]
]


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing | None]:
        return THINGS


QUERY = "{ things { name nickname count color seenAt shout initial alias: name __typename } }"


def run() -> dict[str, Any]:
    """The query's data and its errors, by path."""
    schema = planned(Query)
    result = schema.execute_sync(QUERY)
    errors = sorted((tuple(e.path or ()), e.message) for e in result.errors or ())
    return {"data": result.data, "errors": errors}


@pytest.fixture
def infos(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The fields a resolve-info was built for (by graphql-core, or by a plan's run,
    which here asks the executor for each as it does for its first)."""
    built: list[str] = []
    monkeypatch.setattr(runs, "_INFO_HEAD", ("none",))
    usual = PlanningExecutor.build_resolve_info

    def counted(self: PlanningExecutor, field_def: Any, nodes: Any, parent: Any, path: Any) -> Any:
        built.append(nodes[0].name.value)
        return usual(self, field_def, nodes, parent, path)

    monkeypatch.setattr(PlanningExecutor, "build_resolve_info", counted)
    return built


def test_plain_fields_answer_as_the_usual_way_errors_included(infos, monkeypatch):
    direct = run()
    monkeypatch.setattr(plans, "plain_field", lambda field: None)
    usual = run()

    assert direct == usual
    assert direct["data"]["things"][0] == {
        "name": "ada",
        "nickname": None,
        "count": 3,
        "color": "RED",
        "seenAt": "2026-11-27T14:25:00+00:00",
        "shout": "ADA",
        "initial": "a (initial)",
        "alias": "ada",
        "__typename": "Thing",
    }
    assert len(direct["errors"]) == 10
    things = direct["data"]["things"]
    assert (things[8]["name"], things[10]["count"], things[12]["color"]) == ("bob", 1, "RED")
    assert (things[14]["seenAt"], things[15]["seenAt"]) == (
        "2026-11-27T00:00:00+00:00",
        "2026-11-27",
    )


@strawberry.type
class OneThing:
    @strawberry.field
    def thing(self, n: int) -> Thing | None:
        return THINGS[n]


@strawberry.type
class Resolved:
    """The values of a thing, each returned by a resolver instead of read."""

    source: strawberry.Private[Any]

    @strawberry.field
    def name(self) -> str:
        return self.source.name  # type: ignore[no-any-return]

    @strawberry.field
    def nickname(self) -> str | None:
        return self.source.nickname  # type: ignore[no-any-return]

    @strawberry.field
    def count(self) -> int:
        return self.source.count  # type: ignore[no-any-return]

    @strawberry.field
    def color(self) -> Color:
        return self.source.color  # type: ignore[no-any-return]

    @strawberry.field
    def counted(self) -> bool:
        return self.source.count  # type: ignore[no-any-return]

    @strawberry.field
    async def seen_at(self) -> datetime:
        return self.source.seen_at  # type: ignore[no-any-return]


@strawberry.type
class OneResolved:
    @strawberry.field
    def thing(self, n: int) -> Resolved:
        return Resolved(source=THINGS[n])


@pytest.mark.parametrize("n", range(len(THINGS)))
def test_a_plan_completes_each_resolved_value_as_graphql_core_does(n, usual_runs, monkeypatch):
    document = "query One($n: Int!) { thing(n: $n) { name nickname count color counted seenAt } }"
    schema = planned(OneResolved)

    by_plan_as_usual(schema, document, {"n": n}, usual_runs, monkeypatch)


@pytest.mark.parametrize("n", range(len(THINGS)))
def test_a_plan_reads_each_value_as_graphql_core_does(n, usual_runs, monkeypatch):
    # One thing a query: an error abandons the whole plan, so each value is its own case.
    document = "query One($n: Int!) { thing(n: $n) { name nickname count color seenAt shout } }"
    schema = planned(OneThing)

    by_plan_as_usual(schema, document, {"n": n}, usual_runs, monkeypatch)


def test_plain_fields_get_no_resolve_info(infos, monkeypatch):
    schema = planned(Query)

    assert not schema.execute_sync("{ things { nickname } }").errors
    assert infos == ["things"]

    monkeypatch.setattr(plans, "plain_field", lambda field: None)
    schema = planned(Query)
    schema.execute_sync("{ things { nickname } }")
    # Not a plain field, `nickname` is still read as an attribute of things built
    # without paths (those of another class, `Broken`, included): no resolve-info.
    assert infos == ["things", "things"]


# Query plans against graphql-core, on a schema with the page's kinds of fields.


@strawberry.type
class Member:
    name: str
    role: Color
    nickname: str | None


@strawberry.type
class Group:
    id: strawberry.ID
    title: str
    tags: list[str | None]
    #: An object held as an attribute: of its own class, None, or a subclass.
    lead: Member | None = None

    @strawberry.field
    async def members(self, info: strawberry.Info) -> list[Member]:
        await asyncio.sleep(0)  # a bare yield, then a DataLoader's future
        count = await info.context["sizes"].load(int(self.id))
        return [Member(name=f"m{n}", role=Color.RED, nickname=None) for n in range(count)]

    @strawberry.field
    async def size(self, info: strawberry.Info) -> int:
        try:
            size: int = await info.context["sizes"].load(int(self.id))
        finally:
            info.context["ended"].append(int(self.id))
        if size == 0:
            raise ValueError("empty")
        return size

    @strawberry.field
    def first(self, count: int = 1) -> list[str]:
        return [self.title] * count

    @strawberry.field
    async def parent(self) -> Group | None:
        return None if self.id == "1" else Group(id=strawberry.ID("1"), title="root", tags=[])


class Deputy(Member):
    pass


def lead(n: int) -> Member | None:
    kind = [None, Member, Deputy][n % 3]
    return kind(name=f"lead{n}", role=Color.RED, nickname=None) if kind else None


@strawberry.type
class GroupQuery:
    @strawberry.field
    async def groups(self, size: int) -> list[Group]:
        return [
            Group(id=strawberry.ID(str(n)), title=f"g{n}", tags=["a", None], lead=lead(n))
            for n in range(size)
        ]

    @strawberry.field
    def broken(self) -> Group:
        return None  # type: ignore[return-value]


GROUPS = """
query Groups($size: Int!, $count: Int!) {
  groups(size: $size) {
    id title tags
    members { name role nickname }
    lead { name role }
    ...More
    parent { id first(count: $count) parent { title } }
  }
}
fragment More on Group { alias: title first(count: 2) }
"""


def execute(
    document: str, variables: dict[str, Any] | None = None, ended: list[int] | None = None
) -> tuple[dict[str, Any], list[list[int]]]:
    """The answer, and the batches of the DataLoader its resolvers share."""
    schema = planned(GroupQuery)
    batches: list[list[int]] = []

    async def sizes(keys: list[int]) -> list[int]:
        batches.append(keys)
        return [3 * key for key in keys]

    async def run() -> Any:
        context: dict[str, Any] = {"ended": [] if ended is None else ended}

        def restart() -> None:  # fresh loaders, as the app's context makes them
            context["sizes"] = DataLoader(sizes)

        context["restart"] = restart
        restart()
        return await schema.execute(document, variable_values=variables, context_value=context)

    result = asyncio.run(run())
    errors = [(e.message, e.path) for e in result.errors or ()]
    return {"data": result.data, "errors": errors}, batches


@pytest.fixture
def usual_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The operations graphql-core executed its usual way (not by plan)."""
    ran: list[str] = []
    usual = PlanningExecutor.execute_fields

    def counted(self: PlanningExecutor, *args: Any, **kwargs: Any) -> Any:
        ran.append(self.operation.name.value if self.operation.name else "")
        return usual(self, *args, **kwargs)

    monkeypatch.setattr(PlanningExecutor, "execute_fields", counted)
    return ran


def without_plans(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PlanningExecutor, "_plan", lambda self, root_type: None)


def by_plan_as_usual(
    schema: strawberry.Schema,
    document: str,
    variables: dict[str, Any],
    usual_runs: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Any, list[Any]]:
    """The query's data and errors by its plan, checked to be graphql-core's own, and the
    plan checked to have given way exactly when there are errors (it took every value
    that is none)."""

    def answer() -> tuple[Any, list[Any]]:
        result = asyncio.run(schema.execute(document, variable_values=variables))
        return result.data, [(e.message, e.path) for e in result.errors or ()]

    planned = answer()
    abandoned = bool(usual_runs)
    without_plans(monkeypatch)
    assert planned == answer()
    assert abandoned == bool(planned[1])
    return planned


def test_a_planned_query_answers_as_graphql_core_does(usual_runs, monkeypatch):
    variables = {"size": 3, "count": 2}
    planned, planned_loads = execute(GROUPS, variables)
    again, _ = execute(GROUPS, {"size": 2, "count": 1})
    assert usual_runs == []

    without_plans(monkeypatch)
    usual, usual_loads = execute(GROUPS, variables)
    assert usual_runs

    assert planned == usual
    assert planned["errors"] == []
    assert planned_loads == usual_loads == [[0, 1, 2]]  # one batch for the three groups
    assert planned["data"]["groups"][2]["members"][1] == {
        "name": "m1",
        "role": "RED",
        "nickname": None,
    }
    leads = [group["lead"] for group in planned["data"]["groups"]]
    assert leads == [None, {"name": "lead1", "role": "RED"}, {"name": "lead2", "role": "RED"}]
    assert again["data"]["groups"][0]["parent"]["first"] == ["root"]
    assert again["data"]["groups"][1]["parent"] is None


@pytest.mark.parametrize(
    "document",
    [
        "query Typename { groups(size: 1) { __typename id } }",
        "query Skip($size: Int!) { groups(size: $size) { id @skip(if: true) title } }",
    ],
)
def test_documents_a_plan_cannot_follow_run_the_usual_way(usual_runs, monkeypatch, document):
    planned, _ = execute(document, {"size": 1})

    assert usual_runs
    without_plans(monkeypatch)
    assert planned == execute(document, {"size": 1})[0]


def test_an_error_abandons_the_plan_and_is_reported_as_graphql_core_does(usual_runs, monkeypatch):
    document = "query Broken { groups(size: 2) { id } broken { id } }"
    planned, _ = execute(document)

    assert set(usual_runs) == {"Broken"}
    without_plans(monkeypatch)
    usual, _ = execute(document)
    assert planned == usual
    assert planned["data"] is None
    assert [path for _, path in planned["errors"]] == [["broken"]]


def test_a_failing_resolver_leaves_no_coroutine_unfinished(usual_runs, monkeypatch):
    document = "query Sizes { groups(size: 3) { size } }"
    ended: list[int] = []
    planned, batches = execute(document, ended=ended)

    # Group 0 fails while groups 1 and 2 wait in the same wave: the plan is abandoned
    # and their coroutines closed (their `finally` runs), then all run again, once,
    # on fresh loaders.
    assert set(usual_runs) == {"Sizes"}
    assert ended == [0, 1, 2, 0, 1, 2]
    assert batches == [[0, 1, 2], [0, 1, 2]]
    without_plans(monkeypatch)
    assert planned == execute(document)[0]
    assert [path for _, path in planned["errors"]] == [["groups", 0, "size"]]


def test_a_planned_query_leaves_loads_shielded_after_it(usual_runs):
    # A plan's run turns shields off while it runs; whatever runs next in the same
    # task (another operation of a batch, a plan's fallback) has them again.
    schema = planned(GroupQuery)

    async def sizes(keys: list[int]) -> list[int]:
        return [3 * key for key in keys]

    async def run(document: str) -> bool:
        context = {"sizes": ShieldedLoader(sizes), "ended": []}
        await schema.execute(document, variable_values={"size": 2}, context_value=context)
        return SHIELDED.get()

    assert asyncio.run(run("query Ok($size: Int!) { groups(size: $size) { members { name } } }"))
    assert asyncio.run(run("query Sizes($size: Int!) { groups(size: $size) { size } }"))
    assert set(usual_runs) == {"Sizes"}  # group 0 fails: abandoned, then graphql-core's way


def test_a_cancelled_request_cancels_its_planned_run(usual_runs):
    schema = planned(GroupQuery)
    ended: list[int] = []

    async def never(keys: list[int]) -> list[int]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def run() -> None:
        context = {"sizes": ShieldedLoader(never), "ended": ended}
        request = asyncio.create_task(
            schema.execute("query Waits { groups(size: 2) { size } }", context_value=context)
        )
        await asyncio.sleep(0.01)
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request

    asyncio.run(run())
    assert ended == [0, 1]  # both waiting resolvers closed, their `finally` run
    assert usual_runs == []


@strawberry.type
class Echo:
    n: int

    @strawberry.field
    def seen(self, info: strawberry.Info) -> int:
        info.context["seen"].append(info._raw_info)
        return self.n


@strawberry.type
class EchoQuery:
    @strawberry.field
    def echoes(self, info: strawberry.Info, count: int) -> list[Echo]:
        info.context["seen"].append(info._raw_info)
        return [Echo(n=n) for n in range(count)]


def test_a_run_makes_the_resolve_infos_the_executor_makes(monkeypatch):
    schema = planned(EchoQuery)
    document = "query Echoes($count: Int!) { echoes(count: $count) { n seen again: seen } }"

    def infos() -> list[Any]:
        context: dict[str, Any] = {"seen": []}
        result = schema.execute_sync(document, {"count": 2}, context_value=context)
        assert not result.errors
        seen: list[Any] = context["seen"]
        return seen

    made = infos()
    monkeypatch.setattr(runs, "_INFO_HEAD", ("none",))  # the executor's way for every one
    asked = infos()

    assert len(made) == len(asked) == 5
    assert type(made[1]) is type(asked[1])
    for ours, theirs in zip(made, asked, strict=True):
        # Each execution has its own context and helpers; all else is the same.
        assert ours.context is made[0].context and ours.async_helpers is made[0].async_helpers
        same = {"context": None, "async_helpers": None}
        assert ours._replace(**same) == theirs._replace(**same)
    assert [info.path.as_list() for info in made] == [
        ["echoes"],
        ["echoes", 0, "seen"],
        ["echoes", 0, "again"],
        ["echoes", 1, "seen"],
        ["echoes", 1, "again"],
    ]


def test_the_known_way_makes_the_resolve_infos_the_executor_makes():
    schema = planned(EchoQuery)
    text = "query Echoes($count: Int!) { echoes(count: $count) { n seen again: seen } }"
    usual_context: dict[str, Any] = {"seen": []}
    usual = schema.execute_sync(text, {"count": 2}, context_value=usual_context)
    known_context: dict[str, Any] = {"seen": []}
    known = schema.known.operation(parse(text), None)
    assert known is not None

    data = asyncio.run(schema.known.run(known, {"count": 2}, known_context, None))

    assert not usual.errors and data == usual.data
    made, asked = known_context["seen"], usual_context["seen"]
    assert len(made) == len(asked) == 5
    for ours, theirs in zip(made, asked, strict=True):
        assert type(ours) is type(theirs)
        assert ours.context is known_context and ours.async_helpers is made[0].async_helpers
        same = {"context": None, "async_helpers": None}
        assert ours._replace(**same) == theirs._replace(**same)


def test_the_known_way_gives_way_where_the_plan_does_not_answer():
    schema = planned(EchoQuery)
    document = parse("query Echoes($count: Int!) { echoes(count: $count) { n } }")
    known = schema.known.operation(document, None)
    assert known is not None

    def run(variables: dict[str, Any]) -> Any:
        return asyncio.run(schema.known.run(known, variables, {"seen": []}, None))

    assert run({"count": 1}) == {"echoes": [{"n": 0}]}
    for bad in ({"count": "one"}, {}):  # variables that do not coerce, or are missing
        with pytest.raises(Abandon) as abandoned:
            run(bad)
        assert abandoned.value.reason == VARIABLES
    assert schema.known.operation(parse("{ __typename }"), None) is None  # no plan
    assert schema.known.operation(document, "Other") is None  # no such operation


@strawberry.type
class Locked:
    """Two fields that take one lock; the first holds it across a wait that is no
    DataLoader's (a query holds SQLite's connection lock across its own)."""

    @strawberry.field
    async def first(self, info: strawberry.Info) -> int:
        async with info.context["lock"]:
            await asyncio.sleep(0.01)
        return 1

    @strawberry.field
    async def second(self, info: strawberry.Info) -> int:
        async with info.context["lock"]:
            return 2


def test_a_field_that_waits_for_its_siblings_lock_gets_it(usual_runs):
    schema = planned(Locked)

    async def run() -> Any:
        context = {"lock": asyncio.Lock()}
        return await asyncio.wait_for(schema.execute("{ first second }", context_value=context), 5)

    result = asyncio.run(run())

    assert not result.errors and result.data == {"first": 1, "second": 2}
    assert usual_runs == []  # answered by its plan


class BadgeRow(NamedTuple):
    """A row with the attributes of a `Badge` and its `Holder`, but not of their classes."""

    label: str
    holder_name: str | None

    @property
    def holder(self) -> BadgeRow:
        return self

    @property
    def name(self) -> str | None:
        return self.holder_name


@strawberry.type
class Holder:
    name: str


@strawberry.type
class Badge:
    label: str
    holder: Holder


BADGES: list[Any] = [
    Badge(label="silver", holder=Holder(name="bob")),
    BadgeRow("gold", "ada"),
    Badge(label="bronze", holder=BadgeRow("bronze", "eve")),  # type: ignore[arg-type]
    BadgeRow("tin", None),  # a null where the schema says non-null
    Broken(label="lead", holder=None),  # neither
]


@strawberry.type
class BadgeQuery:
    @strawberry.field
    async def badges(self, upto: int) -> list[Badge]:
        return BADGES[:upto]


@pytest.mark.parametrize("upto", [1, 3, 4, 5])
def test_objects_of_another_class_answer_as_graphql_core_reads_them(upto, usual_runs, monkeypatch):
    schema = planned(BadgeQuery)
    document = "query B($upto: Int!) { badges(upto: $upto) { label holder { name } } }"

    answer = by_plan_as_usual(schema, document, {"upto": upto}, usual_runs, monkeypatch)

    if upto == 3:
        assert answer[0] == {
            "badges": [
                {"label": "silver", "holder": {"name": "bob"}},
                {"label": "gold", "holder": {"name": "ada"}},
                {"label": "bronze", "holder": {"name": "eve"}},
            ]
        }


@strawberry.type
class Greeter:
    @strawberry.field
    def greet(self, punctuation: str = "!", times: int | None = 2, name: str | None = None) -> str:
        return (name or "hi") * (times or 1) + punctuation

    @strawberry.field
    def paint(self, color: Color = Color.RED) -> str:
        return color.value


@strawberry.type
class GreeterQuery:
    @strawberry.field
    def greeter(self) -> Greeter:
        return Greeter()


def test_a_resolver_whose_arguments_are_left_to_their_plain_defaults_is_called_directly():
    schema = planned(GreeterQuery)
    greeter = schema._schema.get_type("Greeter")
    assert isinstance(greeter, GraphQLObjectType)
    stock = strawberry.Schema(GreeterQuery)

    assert compiled.direct_call(schema._schema, greeter.fields["greet"]) is not None
    assert compiled.direct_call(schema._schema, greeter.fields["greet"], given=True) is None
    # An enum member's default is converted by Strawberry: its way, not a direct call.
    assert compiled.direct_call(schema._schema, greeter.fields["paint"]) is None
    for query in (
        "{ greeter { greet paint } }",
        '{ greeter { greet(name: "yo", times: 3) paint(color: RED) } }',
    ):
        assert schema.execute_sync(query).data == stock.execute_sync(query).data


class Allowed(BasePermission):
    message = "Not allowed."

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        checked: list[str] = info.context["checked"]
        checked.append(info.field_name)
        return bool(info.context["allowed"])


@strawberry.type
class GuardedQuery:
    @strawberry.field(permission_classes=[Allowed])
    def secret(self) -> str:
        return "the secret"

    @strawberry.field(permission_classes=[Allowed])
    def echo(self, text: str = "x") -> str:
        return text


@pytest.mark.parametrize("allowed", [True, False])
async def test_a_resolver_behind_permissions_is_called_directly_after_them(allowed):
    schema = planned(GuardedQuery)
    query = schema._schema.query_type
    assert query is not None
    stock = strawberry.Schema(GuardedQuery)
    context = {"allowed": allowed, "checked": []}

    assert compiled.direct_call(schema._schema, query.fields["secret"]) is not None
    # Permissions are given the field's arguments: Strawberry's way for those.
    assert compiled.direct_call(schema._schema, query.fields["echo"]) is None
    answer = await schema.execute("{ secret }", context_value=context)
    expected = await stock.execute("{ secret }", context_value={**context, "checked": []})

    assert answer.data == expected.data
    assert [e.message for e in answer.errors or []] == [e.message for e in expected.errors or []]
    # Checked by the plan, and again by stock execution once the plan gave up.
    assert context["checked"] == (["secret"] if allowed else ["secret", "secret"])
    assert schema.fast_path.abandons.counts == ({} if allowed else {REFUSED: 1})
