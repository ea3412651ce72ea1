"""Checks of user-supplied text, shared by every domain."""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Callable
from typing import Any, TypeGuard, TypeVar
from urllib.parse import urlsplit

from strawberry import UNSET
from strawberry.types.unset import UnsetType
from strawberry.utils.str_converters import to_camel_case

from errors import DomainError, Invalid, raise_any
from models.entity import NAME_LENGTH, name_key

T = TypeVar("T")
_LINE_BREAKS = {"\n", "\r", "\t"}
#: Text no database here can hold: PostgreSQL refuses NUL even in a WHERE clause,
#: and an unpaired surrogate (what a JSON "\\ud800" escape decodes to) is not UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def given(value: T | None | UnsetType) -> TypeGuard[T]:
    """Whether an optional input field was sent with a value (not omitted, not null)."""
    return value is not None and value is not UNSET


def unstorable(value: str) -> bool:
    return _UNSTORABLE.search(value) is not None


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


def has_control_characters(value: str, *, multiline: bool = False) -> bool:
    allowed = _LINE_BREAKS if multiline else set()
    return any(unicodedata.category(c) in ("Cc", "Cs") and c not in allowed for c in value)


def text(
    value: str,
    *,
    field: str,
    label: str,
    max_length: int,
    min_length: int = 0,
    multiline: bool = False,
) -> str:
    """`value` stripped of surrounding space, or `Invalid` naming `field`."""
    value = value.strip()
    if len(value) < min_length:
        if min_length == 1:
            raise Invalid(f"{label} cannot be empty.", field=field)
        raise Invalid(f"{label} must be at least {min_length} characters.", field=field)
    if len(value) > max_length:
        raise Invalid(f"{label} must be at most {max_length} characters.", field=field)
    if has_control_characters(value, multiline=multiline):
        raise Invalid(f"{label} cannot contain control characters.", field=field)
    return value


def http_url(value: str, *, field: str, label: str, max_length: int = 2048) -> str:
    value = text(value, field=field, label=label, max_length=max_length)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or re.search(r"\s", value):
        raise Invalid(f"{label} must be an http:// or https:// URL.", field=field)
    return value


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
