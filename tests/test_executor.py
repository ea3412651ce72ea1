"""Plain fields read directly answer exactly what graphql-core's usual way answers."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

import pytest
import strawberry

from schema import executor
from schema.executor import EventExecutor


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


class Broken:
    """What a resolver might hand over by mistake: nulls, wrong types, no attribute."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


GOOD: dict[str, Any] = {"name": "ada", "nickname": None, "count": 3, "color": Color.RED}
WHEN = datetime(2026, 11, 27, 14, 25, tzinfo=UTC)


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing | None]:
        return [
            Thing(**GOOD, seen_at=WHEN),
            Broken(**{**GOOD, "name": None}, seen_at=WHEN),  # type: ignore[list-item]
            Broken(**{**GOOD, "count": "three"}, seen_at=WHEN),  # type: ignore[list-item]
            Broken(**{**GOOD, "color": "blue"}, seen_at=WHEN),  # type: ignore[list-item]
            Broken(**{**GOOD, "seen_at": "yesterday"}),  # type: ignore[list-item]
            Broken(nickname="no name"),  # type: ignore[list-item]
            Broken(**{**GOOD, "count": ValueError("boom")}, seen_at=WHEN),  # type: ignore[list-item]
        ]


QUERY = "{ things { name nickname count color seenAt shout alias: name __typename } }"


def run() -> dict[str, Any]:
    """The query's data and its errors, by path."""
    schema = strawberry.Schema(query=Query, execution_context_class=EventExecutor)
    result = schema.execute_sync(QUERY)
    errors = sorted((tuple(e.path or ()), e.message) for e in result.errors or ())
    return {"data": result.data, "errors": errors}


@pytest.fixture
def infos(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The fields graphql-core built a resolve-info for."""
    built: list[str] = []
    usual = EventExecutor.build_resolve_info

    def counted(self: EventExecutor, field_def: Any, nodes: Any, parent: Any, path: Any) -> Any:
        built.append(nodes[0].name.value)
        return usual(self, field_def, nodes, parent, path)

    monkeypatch.setattr(EventExecutor, "build_resolve_info", counted)
    monkeypatch.setattr(EventExecutor, "_plain", {})
    return built


def test_plain_fields_answer_as_the_usual_way_errors_included(infos, monkeypatch):
    direct = run()
    monkeypatch.setattr(EventExecutor, "_plain", {})
    monkeypatch.setattr(executor, "plain_field", lambda field: None)
    usual = run()

    assert direct == usual
    assert direct["data"]["things"][0] == {
        "name": "ada",
        "nickname": None,
        "count": 3,
        "color": "RED",
        "seenAt": "2026-11-27T14:25:00+00:00",
        "shout": "ADA",
        "alias": "ada",
        "__typename": "Thing",
    }
    assert len(direct["errors"]) == 6


def test_plain_fields_get_no_resolve_info(infos, monkeypatch):
    schema = strawberry.Schema(query=Query, execution_context_class=EventExecutor)

    assert not schema.execute_sync("{ things { nickname } }").errors
    assert infos == ["things"]

    monkeypatch.setattr(EventExecutor, "_plain", {})
    monkeypatch.setattr(executor, "plain_field", lambda field: None)
    schema.execute_sync("{ things { nickname } }")
    assert infos == ["things"] + ["things"] + ["nickname"] * 7
