"""The generated readers (`schema.reading`) make what the type's own `__init__` makes."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from types import SimpleNamespace
from typing import Any

import pytest

import schema
from schema.reading import Derived, Reader, reader


def every_reader() -> list[tuple[str, Any]]:
    """Each reader a schema module defines, by its qualified name."""
    found: dict[int, tuple[str, Any]] = {}
    for module_info in pkgutil.iter_modules(schema.__path__):
        module = importlib.import_module(f"schema.{module_info.name}")
        for name, value in vars(module).items():
            if isinstance(getattr(value, "reader", None), Reader):
                found.setdefault(id(value), (f"{module.__name__}.{name}", value))
    return list(found.values())


def by_init(read: Reader[Any], source: Any, given: list[Any]) -> Any:
    """What the reader claims to make, made the plain way: keyword arguments to `__init__`."""
    values = {}
    for name in read.fields:
        spec = read.sources.get(name, name)
        if name in read.given:
            values[name] = given[read.given.index(name)]
        elif isinstance(spec, Reader):
            values[name] = by_init(spec, source, [])
        elif isinstance(spec, Derived):
            values[name] = spec.function(getattr(source, spec.attribute))
        else:
            values[name] = getattr(source, spec)
    return read.cls(**values)


def attributes_read(read: Reader[Any]) -> set[str]:
    names = set()
    for name in read.fields:
        spec = read.sources.get(name, name)
        if name in read.given:
            continue
        if isinstance(spec, Reader):
            names |= attributes_read(spec)
        elif isinstance(spec, Derived):
            names.add(spec.attribute)
        else:
            names.add(spec)
    return names


def as_dict(instance: Any) -> dict[str, Any]:
    """The instance's own values, its parts' too."""
    return {
        name: as_dict(value) if dataclasses.is_dataclass(value) else value
        for name, value in vars(instance).items()
    }


READERS = every_reader()


def test_every_domain_type_read_from_a_model_has_a_reader() -> None:
    names = {name.rsplit(".", 1)[1] for name, _ in READERS}
    assert {"read_profile", "_read_user", "_read_team", "_read_member", "_read_key"} <= names


@pytest.mark.parametrize(("name", "read"), READERS, ids=[name for name, _ in READERS])
def test_a_reader_makes_what_init_makes(name: str, read: Any) -> None:
    spec: Reader[Any] = read.reader
    # Distinct values, so a field read from the wrong attribute shows.
    source = SimpleNamespace(**{a: f"{a}-value" for a in attributes_read(spec)})
    given = [f"given-{n}" for n in range(len(spec.given))]

    made = read(source, *given)

    assert type(made) is spec.cls
    assert as_dict(made) == as_dict(by_init(spec, source, given))


def test_a_field_missing_from_the_source_is_an_attribute_error() -> None:
    @dataclasses.dataclass
    class Pair:
        left: int
        right: int

    read = reader(Pair)
    assert vars(read(SimpleNamespace(left=1, right=2))) == {"left": 1, "right": 2}
    with pytest.raises(AttributeError):
        read(SimpleNamespace(left=1))


def test_a_reader_refuses_what_it_cannot_make() -> None:
    @dataclasses.dataclass
    class Pair:
        left: int
        right: int

    with pytest.raises(ValueError, match="middle"):
        reader(Pair, middle="left")
    with pytest.raises(ValueError, match="not an attribute name"):
        reader(Pair, left="x; import os")
    with pytest.raises(ValueError, match="given"):
        reader(Pair, left=reader(Pair, "left"))
