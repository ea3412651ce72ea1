"""The internals of Strawberry and graphql-core the engine relies on (`fastpath.internals`)
still have the shape it was checked against: a test fails here, naming the part, before
the engine answers wrongly after an upgrade."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import pytest
import strawberry
from graphql import GraphQLResolveInfo
from graphql.execution import Executor
from graphql.execution.executor import CollectedErrors
from strawberry.types.info import Info

from fastpath import internals
from fastpath.internals import (
    CustomGraphQLEnumType,
    StrawberryField,
    StrawberryGraphQLCoreExecutionContext,
)


def parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        (
            internals.collect_fields,
            [
                "schema",
                "fragments",
                "variable_values",
                "runtime_type",
                "operation",
                "hide_suggestions",
            ],
        ),
        (
            internals.collect_subfields,
            [
                "schema",
                "fragments",
                "variable_values",
                "operation",
                "return_type",
                "field_details_list",
                "hide_suggestions",
            ],
        ),
        (
            internals.get_argument_values,
            ["type_def", "node", "variable_values"],
        ),
        (
            Executor.execute_collected_root_fields,
            [
                "self",
                "root_type",
                "root_value",
                "grouped_field_set",
                "serially",
                "new_defer_usages",
            ],
        ),
        (
            Executor.execute_field,
            ["self", "parent_type", "source", "field_details_list", "path", "position_context"],
        ),
        (Executor.build_resolve_info, ["self", "field_def", "field_nodes", "parent_type", "path"]),
        (Executor.build_per_event_executor, ["self", "payload"]),
        (Executor.track_async_work, ["self", "values"]),
    ],
)
def test_the_functions_the_engine_calls_take_what_it_passes(function, expected):
    assert parameters(function)[: len(expected)] == expected, function.__qualname__


def test_argument_values_can_be_got_without_suggestions():
    assert "hide_suggestions" in parameters(internals.get_argument_values)


def test_a_resolve_info_starts_with_its_field_and_path():
    assert internals.resolve_info_head(GraphQLResolveInfo) == internals.RESOLVE_INFO_HEAD
    fields = GraphQLResolveInfo._fields
    for name in (
        "schema",
        "fragments",
        "root_value",
        "operation",
        "variable_values",
        "context",
        "is_awaitable",
        "async_helpers",
    ):
        assert name in fields


def test_strawberrys_info_is_a_dataclass_of_two_fields_set_by_init():
    assert [f.name for f in dataclasses.fields(Info)] == internals.INFO_FIELDS
    assert not hasattr(Info, "__post_init__")
    made = Info(_raw_info="raw", _field="field")  # type: ignore[arg-type]
    assert vars(made) == {"_raw_info": "raw", "_field": "field"}


def test_strawberrys_executor_builds_the_resolve_infos_the_run_copies():
    assert "build_resolve_info" in vars(StrawberryGraphQLCoreExecutionContext)
    source = inspect.getsource(StrawberryGraphQLCoreExecutionContext.build_resolve_info)
    for read in (
        "self.schema",
        "self.fragment_definitions",
        "self.root_value",
        "self.operation",
        "self.variable_values",
        "self.context_value",
        "self.is_awaitable",
        "self.abort_signal",
        "self.async_helpers",
        "self.operation_extensions",
    ):
        assert read in source, read


def test_an_executor_keeps_its_errors_where_the_engine_reads_them():
    executor = Executor.__new__(Executor)
    executor.collected_errors = CollectedErrors()
    assert internals.collected_errors(executor) == []


@strawberry.enum
class Tone(Enum):
    LOUD = "loud"


@strawberry.type
class Thing:
    name: str
    tone: Tone

    @strawberry.field
    def shout(self, info: strawberry.Info) -> str:
        return self.name.upper()


@strawberry.type
class Query:
    thing: Thing


def test_strawberrys_fields_and_enums_look_as_the_planner_reads_them():
    schema = strawberry.Schema(query=Query)
    graphql_schema = schema._schema
    assert internals.strawberry_schema(graphql_schema) is schema
    thing = graphql_schema.get_type("Thing")
    name, shout = thing.fields["name"], thing.fields["shout"]  # type: ignore[union-attr]
    definition = name.extensions["strawberry-definition"]
    assert isinstance(definition, StrawberryField) and definition.is_basic_field
    assert definition.python_name == "name" and definition.default_resolver is getattr
    assert internals.is_default_resolver(name.resolve)
    resolver = shout.extensions["strawberry-definition"].base_resolver
    for attribute in (
        "wrapped_func",
        "arguments",
        "self_parameter",
        "parent_parameter",
        "root_parameter",
        "info_parameter",
    ):
        assert hasattr(resolver, attribute), attribute
    assert not internals.exception_handlers(schema, shout.extensions["strawberry-definition"])
    assert schema.config.info_class is Info
    tone = graphql_schema.get_type("Tone")
    assert isinstance(tone, CustomGraphQLEnumType) and tone.wrapped_cls is Tone
    moment = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
    assert internals.isoformat(moment) == moment.isoformat()


def test_strawberrys_view_keeps_its_stream_transports():
    view = internals.GraphQL(strawberry.Schema(query=Query))
    assert internals.stream_transports(view) == {}


async def test_a_coroutine_marks_the_future_it_waits_for():
    future = asyncio.get_running_loop().create_future()

    async def waiting() -> None:
        await future

    coroutine = waiting()
    yielded = coroutine.send(None)

    assert yielded is future and getattr(future, internals.FUTURE_BLOCKING) is True
    coroutine.close()
