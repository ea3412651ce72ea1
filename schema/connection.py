"""Connections: a list read a page at a time, in the shape W&B's clients (and Relay)
expect: `edges { cursor node }` and `pageInfo { hasNextPage endCursor }`.

Each kind declares its edge and connection types (`TeamEdge(Edge)` with its
`node`, `TeamConnection(Connection)` with its `edges`), and every connection is made
by `Cursors.page` (a list already loaded, such as a user's
teams) or `Cursors.connect` (a page read from the database with one row more than
asked). A cursor names the sort key of its row, not its position, so a page asked
after a row was added or removed before it neither repeats nor skips a row.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import strawberry

from errors import BadUserInput
from schema.reading import Read, reader

ConnectionT = TypeVar("ConnectionT", bound="Connection")
Key = str | int

#: The largest page a connection gives.
MAX_PAGE = 100


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge:
    """What every edge has; each kind adds its `node` (`TeamEdge(Edge)`). Edges are
    made as the kind's own class, which is what the plan engine reads directly."""

    row: strawberry.Private[Any]
    cursors: strawberry.Private[Cursors]

    @strawberry.field
    def cursor(self) -> str:
        # Made when asked for: a settings page lists its teams without their cursors.
        return self.cursors.encode(self.cursors.key(self.row))


@strawberry.type
class Connection:
    """What every connection has; each kind adds its `edges` (`TeamConnection`)."""

    page_info: PageInfo


@dataclass(frozen=True)
class Cursors:
    """The cursors of one kind of row: `kind` tags them, `key` is the row's sort key
    (the order the rows come in), `parse` reads a key back from a cursor's text, and
    `edge` is the kind's edge type."""

    kind: str
    edge: type[Edge]
    key: Callable[[Any], Key]
    parse: Callable[[str], Key] = str
    read_edge: Read[Edge] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "read_edge", reader(self.edge, "node", "row", "cursors"))

    def encode(self, key: Key) -> str:
        return base64.urlsafe_b64encode(f"{self.kind}:{key}".encode()).decode()

    def decode(self, cursor: str) -> Key:
        try:
            decoded = base64.urlsafe_b64decode(cursor.encode()).decode()
            if not decoded.startswith(f"{self.kind}:") or len(decoded) > 200:
                raise ValueError(decoded)
            return self.parse(decoded.removeprefix(f"{self.kind}:"))
        except (binascii.Error, UnicodeError, ValueError):
            raise BadUserInput("`after` is not a cursor this server gave out.") from None

    def window(self, first: int | None, after: str | None) -> Window:
        """The page `first` and `after` ask for, checked before anything is read, so
        that a bad page fails alike wherever and whenever it is asked."""
        return Window(page_size(first), None if after is None else self.decode(after))

    def page(
        self,
        cls: type[ConnectionT],
        rows: Sequence[Any],
        window: Window,
        node: Callable[[Any], Any],
        **more: Any,
    ) -> ConnectionT:
        """The page of `rows` (all of them, in key order) in `window`."""
        if window.after is not None:
            key, start = self.key, window.after
            rows = [row for row in rows if key(row) > start]  # type: ignore[operator]
        return self.connect(cls, rows[: window.size + 1], window.size, node, **more)

    def connect(
        self,
        cls: type[ConnectionT],
        rows: Sequence[Any],
        size: int,
        node: Callable[[Any], Any],
        **more: Any,
    ) -> ConnectionT:
        """The page of `rows` (its `size` rows, and one more when more follow)."""
        read_edge = self.read_edge
        edges = [read_edge(None, node(row), row, self) for row in rows[:size]]
        end_cursor = self.encode(self.key(edges[-1].row)) if edges else None
        info = PageInfo(has_next_page=len(rows) > size, end_cursor=end_cursor)
        return cls(edges=edges, page_info=info, **more)  # type: ignore[call-arg]


@dataclass(frozen=True)
class Window:
    """A page asked for: `size` rows after the row whose key is `after` (None: from
    the first)."""

    size: int
    after: Key | None


def page_size(first: int | None) -> int:
    """`first`, checked: a page holds 0 to `MAX_PAGE` rows."""
    if first is None:
        raise BadUserInput("`first` cannot be null.")
    if not 0 <= first <= MAX_PAGE:
        raise BadUserInput(f"`first` must be between 0 and {MAX_PAGE}.")
    return first
