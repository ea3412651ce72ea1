"""Valid query documents generated from the schema, for the differential test.

A generator of our own over the schema's types (seeded, so each run asks the same
documents): selections with aliases, named and inline fragments, `__typename`,
arguments as literals and as variables, and `@include`/`@skip` with literal or
variable conditions. Every document is checked valid before it is used; sibling
fields get distinct aliases, so no two of them conflict.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLInputType,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    get_named_type,
    parse,
    validate,
)

#: Text arguments are drawn from the names the world has, and some it has not.
NAMES = ("alice", "bob", "carol", "root", "lab", "Lab", "acme", "nobody", "", "a" * 70)
INTS = (-1, 0, 1, 2, 5, 20, 101)


@dataclass
class _Document:
    rng: random.Random
    schema: GraphQLSchema
    variables: dict[str, Any] = field(default_factory=dict)
    declared: dict[str, str] = field(default_factory=dict)
    fragments: list[str] = field(default_factory=list)
    aliases: int = 0
    #: Whether the document may hold what a plan leaves to stock execution
    #: (`__typename`, directives): half of them do not, so that plans run.
    extras: bool = True

    def variable(self, type_name: str, value: Any) -> str:
        name = f"v{len(self.declared)}"
        self.declared[name] = type_name
        self.variables[name] = value
        return f"${name}"

    def alias(self) -> str:
        self.aliases += 1
        return f"a{self.aliases}"

    def selection(self, type_: GraphQLObjectType, depth: int) -> str:
        """A selection set of `type_`, its fields in a random order and grouping."""
        names = list(type_.fields)
        self.rng.shuffle(names)
        chosen = names[: self.rng.randint(1, min(4, len(names)))]
        parts = [self.field(type_, name, depth) for name in chosen]
        if self.extras and self.rng.random() < 0.15:
            parts.insert(self.rng.randrange(len(parts) + 1), "__typename")
        return self.grouped(type_, parts)

    def grouped(self, type_: GraphQLObjectType, parts: list[str]) -> str:
        """The parts as they are, or some of them in an inline or a named fragment."""
        roll = self.rng.random()
        if len(parts) > 1 and roll < 0.2:
            cut = self.rng.randrange(1, len(parts))
            inner = f"... on {type_.name}{self.directive()} {{ {' '.join(parts[cut:])} }}"
            parts = [*parts[:cut], inner]
        elif len(parts) > 1 and roll < 0.35:
            name = f"F{len(self.fragments)}"
            cut = self.rng.randrange(1, len(parts))
            self.fragments.append(f"fragment {name} on {type_.name} {{ {' '.join(parts[cut:])} }}")
            parts = [*parts[:cut], f"...{name}{self.directive()}"]
        return "{ " + " ".join(parts) + " }"

    def field(self, parent: GraphQLObjectType, name: str, depth: int) -> str:
        definition: GraphQLField = parent.fields[name]
        text = name
        if self.rng.random() < 0.3:
            text = f"{self.alias()}: {name}"
        arguments = self.arguments(definition)
        if arguments:
            text += f"({arguments})"
        text += self.directive()
        named = get_named_type(definition.type)
        if isinstance(named, GraphQLObjectType):
            if depth <= 0:
                # The smallest selection there is: one leaf, if the type has one.
                leaves = [n for n, f in named.fields.items() if not _is_object(f) and not f.args]
                leaf = "__typename" if self.extras or not leaves else self.rng.choice(leaves)
                text += f" {{ {leaf} }}"
            else:
                text += " " + self.selection(named, depth - 1)
        return text

    def arguments(self, definition: GraphQLField) -> str:
        given = []
        for name, argument in definition.args.items():
            required = isinstance(argument.type, GraphQLNonNull)
            if not required and self.rng.random() < 0.5:
                continue
            value = self.value(argument.type)
            if value is None:
                continue
            literal, python, type_name = value
            if self.rng.random() < 0.4:
                given.append(f"{name}: {self.variable(type_name, python)}")
            else:
                given.append(f"{name}: {literal}")
        return ", ".join(given)

    def value(self, type_: GraphQLInputType) -> tuple[str, Any, str] | None:
        """A value of the type: as a literal, as a variable's value, and its type's name."""
        non_null = isinstance(type_, GraphQLNonNull)
        inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        suffix = "!" if non_null else ""
        if isinstance(inner, GraphQLList):
            return None
        if inner in (GraphQLString, GraphQLID):
            text = self.rng.choice(NAMES)
            return _quoted(text), text, f"{inner.name}{suffix}"
        if inner is GraphQLInt:
            number = self.rng.choice(INTS)
            return str(number), number, f"Int{suffix}"
        if inner is GraphQLBoolean:
            flag = self.rng.random() < 0.5
            return str(flag).lower(), flag, f"Boolean{suffix}"
        if isinstance(inner, GraphQLEnumType):
            member = self.rng.choice(list(inner.values))
            return member, member, f"{inner.name}{suffix}"
        if isinstance(inner, GraphQLScalarType):
            return None
        return None

    def directive(self) -> str:
        if not self.extras:
            return ""
        roll = self.rng.random()
        if roll < 0.08:
            return f" @include(if: {self.rng.choice(['true', 'false'])})"
        if roll < 0.14:
            return f" @skip(if: {self.variable('Boolean!', self.rng.random() < 0.5)})"
        return ""


def _is_object(definition: GraphQLField) -> bool:
    return isinstance(get_named_type(definition.type), GraphQLObjectType)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def generated(schema: GraphQLSchema, seed: int) -> tuple[str, dict[str, Any]]:
    """A valid query document, and its variables, made from `seed`."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    root = schema.query_type
    if root is None:
        raise ValueError("the schema has no query type")
    while True:
        document = _Document(rng, schema, extras=seed % 2 == 1)
        selection = document.selection(root, rng.randint(1, 4))
        declared = ", ".join(f"${name}: {kind}" for name, kind in document.declared.items())
        head = f"query Generated{seed}" + (f"({declared})" if declared else "")
        text = "\n".join([f"{head} {selection}", *document.fragments])
        if not validate(schema, parse(text)):
            return text, document.variables
