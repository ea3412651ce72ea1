"""What a document asks of the server, measured before it runs: its depth, its
aliases and its cost, each fragment measured once however often it is spread.

Strawberry's depth and alias limiters walk every spread of a fragment anew, so
fragments that each spread the next twice cost twice as much per fragment: a
document of a few hundred bytes kept the event loop busy for seconds. Here a
fragment's measure is worked out once and reused, so a document costs time in
proportion to its size.

The cost is the number of fields the answer may hold at most: each field counts
one, and what is below a list counts once per item it may hold: the page the
field asks for (`first`, a literal or the argument's default), the bound its
type declares (`strawberry.field(metadata={"bound": n})`), or `LIST_BOUND`.
A page asked of a connection bounds its list of edges. Introspection is free: the
schema bounds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    BREAK,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    get_named_type,
)

from errors import ErrorCode

#: A list field without a page of its own counts as this many items.
LIST_BOUND = 100
#: The argument that asks for a page.
PAGE_ARGUMENT = "first"
#: Numbers stop growing here: past any limit, and small enough to stay cheap.
_CEILING = 10**15


@dataclass(frozen=True, slots=True)
class Measure:
    depth: int = 0
    aliases: int = 0
    cost: int = 0


_NOTHING = Measure()


def cost_error(cost: int, limit: int, nodes: Any = None) -> GraphQLError:
    """The refusal of an operation costing `cost` (a measure's, so at most `_CEILING`)."""
    return GraphQLError(
        f"The query may cost {cost:,} (one a field, each list at its page "
        f"size), over the limit of {limit:,}: ask for fewer fields or smaller pages.",
        nodes,
        extensions={
            "code": ErrorCode.LIMIT_EXCEEDED.value,
            "cost": {"requestedQueryCost": cost, "maximumQueryCost": limit},
        },
    )


def limits_rule(*, max_depth: int, max_aliases: int, max_cost: int) -> type[ValidationRule]:
    """A validation rule refusing an operation deeper, with more aliases or costlier
    than the limits, naming the first it passes (the depth and alias messages are
    Strawberry's limiters')."""

    class DocumentLimits(ValidationRule):
        def enter_document(self, node: DocumentNode, *_: Any) -> Any:
            measuring = _Measuring(self.context.schema, node)
            for definition in node.definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                root = self.context.schema.get_root_type(definition.operation)
                if root is None:
                    continue
                measure = measuring.selections(definition.selection_set, root, None)
                name = definition.name.value if definition.name else "anonymous"
                if measure.depth > max_depth:
                    self.report_error(
                        GraphQLError(
                            f"'{name}' exceeds maximum operation depth of {max_depth}",
                            definition,
                        )
                    )
                elif measure.aliases > max_aliases:
                    self.report_error(
                        GraphQLError(f"{measure.aliases} aliases found. Allowed: {max_aliases}")
                    )
                elif measure.cost > max_cost:
                    self.report_error(cost_error(measure.cost, max_cost, definition))
            return BREAK

    return DocumentLimits


def operation_cost(schema: Any, document: DocumentNode, operation: OperationDefinitionNode) -> int:
    """The cost of one operation of a valid document."""
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    return _Measuring(schema, document).selections(operation.selection_set, root, None).cost


class _Measuring:
    """One document's measures, each fragment's kept once worked out."""

    def __init__(self, schema: Any, document: DocumentNode) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.known: dict[str, Measure] = {}
        self.measuring: set[str] = set()

    def selections(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType, page: int | None
    ) -> Measure:
        """The measure of a selection set on `parent`; `page` bounds its first list."""
        depth = aliases = cost = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                part = self.field(selection, parent, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = self.schema.get_type(condition.name.value) if condition else parent
                part = self.selections(selection.selection_set, on or parent, page)
            elif isinstance(selection, FragmentSpreadNode):
                part = self.fragment(selection.name.value)
            else:
                continue
            depth = max(depth, part.depth)
            aliases = min(aliases + part.aliases, _CEILING)
            cost = min(cost + part.cost, _CEILING)
        return Measure(depth, aliases, cost)

    def fragment(self, name: str) -> Measure:
        known = self.known.get(name)
        if known is not None:
            return known
        fragment = self.fragments.get(name)
        if fragment is None or name in self.measuring:
            return _NOTHING  # unknown, or a cycle: other rules report both
        self.measuring.add(name)
        on = self.schema.get_type(fragment.type_condition.name.value)
        measure = _NOTHING if on is None else self.selections(fragment.selection_set, on, None)
        self.measuring.discard(name)
        self.known[name] = measure
        return measure

    def field(self, node: FieldNode, parent: GraphQLNamedType, page: int | None) -> Measure:
        alias = 1 if node.alias else 0
        if node.name.value.startswith("__"):
            return Measure(0, alias, 0)
        fields = (
            parent.fields if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType) else {}
        )
        definition = fields.get(node.name.value)
        if definition is None or node.selection_set is None:
            return Measure(0, alias, 1)
        asked = _page(node, definition)
        inner_page = None
        items = 1
        field_type = definition.type
        if isinstance(field_type, GraphQLNonNull):
            field_type = field_type.of_type
        if isinstance(field_type, GraphQLList):
            items = next(
                n for n in (asked, page, _declared(definition), LIST_BOUND) if n is not None
            )
        else:
            inner_page = asked  # a connection: its page bounds its edges
        below = self.selections(node.selection_set, get_named_type(definition.type), inner_page)
        return Measure(
            below.depth + 1, alias + below.aliases, min(1 + items * below.cost, _CEILING)
        )


def _declared(definition: Any) -> int | None:
    """The bound a list field's Strawberry definition declares, if any."""
    declared = definition.extensions.get("strawberry-definition")
    bound = (getattr(declared, "metadata", None) or {}).get("bound")
    return bound if isinstance(bound, int) else None


def _page(node: FieldNode, definition: Any) -> int | None:
    """The page a field asks for: its literal `first`, else the argument's default."""
    argument = definition.args.get(PAGE_ARGUMENT)
    if argument is None:
        return None
    for given in node.arguments or ():
        if given.name.value == PAGE_ARGUMENT:
            if isinstance(given.value, IntValueNode):
                digits = given.value.value  # Int's own rule refuses one past 32 bits
                return max(0, int(digits)) if len(digits) < 12 else _CEILING
            return LIST_BOUND  # a variable: unknown until the request
    default = argument.default_value
    return default if isinstance(default, int) else LIST_BOUND
