"""How a type is made from what it is read from: a model, or a row of a list.

`reader(Profile, user_id="id")` makes a `Profile` from anything that has its fields
as attributes: each field from the attribute of the same name, `user_id` from
`id`. A field added to a type and to its model (or row) needs no other line.
`reader(TeamMember, profile=read_profile)` makes the member's profile from the same
source with another reader; `photo_url=Derived(photo_address, "photo_file")` makes
a field from an attribute by a function; a name in `given` is a field whose value
is passed after the source: `read_team(row, team_id, role)`.

The reader is made once, as Python source that reads each attribute and sets every
field in one dictionary, as the dataclass `__init__` would: without the keyword
call of `__init__`, which costs more than the rest of making the object (a
settings page makes a profile for each member of each team), and with the readers
it uses written inline.
"""

from __future__ import annotations

import dataclasses
import keyword
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True)
class Derived:
    """A field made from an attribute of the source by a function."""

    function: Callable[[Any], Any]
    attribute: str


class Reader(Generic[T]):
    """How a `T` is read: its fields, and where each comes from."""

    given: tuple[str, ...]

    def __init__(self, cls: type[T], given: tuple[str, ...], sources: dict[str, Any]) -> None:
        fields = [f.name for f in dataclasses.fields(cls) if f.init]  # type: ignore[arg-type]
        unknown = (set(given) | set(sources)) - set(fields)
        if unknown or not all(_is_name(name) for name in fields):
            raise ValueError(f"{cls.__name__} cannot be read: {sorted(unknown) or fields}")
        for name, source in sources.items():
            if isinstance(source, Reader) and source.given:
                raise ValueError(f"{name}: a reader written inline takes no given values")
        self.cls, self.given, self.sources, self.fields = cls, given, sources, fields

    def lines(self, target: str, namespace: dict[str, Any], tag: list[int]) -> list[str]:
        """The statements that make the object into `target` from `source` and the
        values `given_0`...; what they use goes into `namespace`."""
        tag[0] += 1
        cls = f"cls_{tag[0]}"
        namespace[cls] = self.cls
        lines, items = [], []
        for name in self.fields:
            source = self.sources.get(name, name)
            if name in self.given:
                value = f"given_{self.given.index(name)}"
            elif isinstance(source, Reader):
                value = f"part_{tag[0]}_{name}"
                lines += source.lines(value, namespace, tag)
            elif isinstance(source, Derived):
                if not _is_name(source.attribute):
                    raise ValueError(f"{name}: {source.attribute!r} is not an attribute name")
                namespace[f"derive_{tag[0]}_{name}"] = source.function
                value = f"derive_{tag[0]}_{name}(source.{source.attribute})"
            else:
                if not _is_name(source):
                    raise ValueError(f"{name}: {source!r} is not an attribute name")
                value = f"source.{source}"
            items.append(f"{name!r}: {value}")
        lines.append(f"{target} = new({cls})")
        lines.append(f"set({target}, '__dict__', {{{', '.join(items)}}})")
        return lines

    def compile(self) -> Read[T]:
        namespace: dict[str, Any] = {"new": object.__new__, "set": object.__setattr__}
        body = self.lines("instance", namespace, [0])
        parameters = ["source", *(f"given_{n}" for n in range(len(self.given)))]
        code = "\n".join(
            [f"def read({', '.join(parameters)}):", *(f"    {line}" for line in body)]
            + ["    return instance", ""]
        )
        exec(compile(code, f"<read {self.cls.__name__}>", "exec"), namespace)  # noqa: S102
        read = namespace["read"]
        read.reader = self
        return read  # type: ignore[no-any-return]


class Read(Protocol[T_co]):
    """A reader's function: `read(source, *given)`."""

    reader: Reader[Any]

    def __call__(self, source: Any, /, *given: Any) -> T_co: ...


def reader(cls: type[T], *given: str, **sources: str | Derived | Read[Any]) -> Read[T]:
    """The function that makes a `cls` as the module's text says."""
    parts = {name: getattr(s, "reader", s) for name, s in sources.items()}
    return Reader(cls, given, parts).compile()


def _is_name(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)
