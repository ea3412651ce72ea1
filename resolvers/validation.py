"""Checks of mutations' inputs, shared by every domain (the checks of text itself are
in `text_checks`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeGuard, TypeVar

from strawberry import UNSET
from strawberry.types.unset import UnsetType
from strawberry.utils.str_converters import to_camel_case

from errors import DomainError, Invalid, raise_any
from models.entity import NAME_LENGTH, name_key
from text_checks import unstorable

T = TypeVar("T")


#: The largest value of an integer primary key; a BigIntField's go to MAX_BIG_ID.
MAX_ID = 2**31 - 1
MAX_BIG_ID = 2**63 - 1


def row_id(text: str, *, largest: int = MAX_ID) -> int | None:
    """The primary key an ID input names, or None for text no row's id can be: not
    ASCII digits (isdigit() alone passes "²", which int() refuses), or past `largest`.
    Callers answer None as "not found"."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(largest)):
        return None
    number = int(text)
    return number if number <= largest else None


def given(value: T | None | UnsetType) -> TypeGuard[T]:
    """Whether an optional input field was sent with a value (not omitted, not null)."""
    return value is not None and value is not UNSET


def lookup_key(name: str) -> str | None:
    """The key a user or team name is looked up by (`name_key`, surrounding space
    stripped); None for text that no name can be: empty, longer than a name, or
    holding what the database cannot compare. Callers answer None as "not found"."""
    name = name.strip()
    if not 0 < len(name) <= NAME_LENGTH or unstorable(name):
        return None
    return name_key(name)


def shown(name: str) -> str:
    """A name from the input as an error message repeats it: at most a name's length."""
    return name.strip()[:NAME_LENGTH]


def check_storable(value: object, field: str | None = None) -> None:
    """`Invalid` naming the input field (as the client spells it) that holds, at
    any depth, text with NUL or an unpaired surrogate; such text would fail in
    the database, in a lookup as much as in a write, as an internal error."""
    if isinstance(value, str):
        if unstorable(value):
            raise Invalid("Text cannot contain NUL or unpaired surrogate characters.", field=field)
    elif isinstance(value, list | tuple):
        for item in value:
            check_storable(item, field)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for member in dataclasses.fields(value):
            check_storable(getattr(value, member.name), field or to_camel_case(member.name))


class Checks:
    """Runs every check of an input and raises all failures together, so a form
    shows each bad field at once."""

    def __init__(self) -> None:
        self.errors: list[DomainError] = []

    def run(self, check: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        try:
            return check(*args, **kwargs)
        except DomainError as error:
            self.errors.append(error)
            return None

    def add(self, error: DomainError) -> None:
        self.errors.append(error)

    def done(self) -> None:
        raise_any(self.errors)
