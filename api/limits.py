"""Every limit a request meets before it runs, defined once.

Bodies: `MAX_BODY_BYTES` for a GraphQL document with its variables, `MAX_UPLOAD_BYTES`
for a multipart upload (settings, in `config`), refused with 413 before or while
they arrive. Documents: their depth, aliases and tokens, checked when they are
parsed and validated, with their cost (`api.cost`). Sockets: operations at once on one connection.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from graphql import DocumentNode, GraphQLSchema, OperationDefinitionNode, get_operation_ast
from graphql.validation import NoSchemaIntrospectionCustomRule
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

import config
from api.cost import limits_rule, operation_cost

MAX_DEPTH = 10
MAX_ALIASES = 50
MAX_TOKENS = 5000
#: Fields an answer may hold at most, lists counted at their page size (`api.cost`).
MAX_COST = 100_000
#: Operations at once on one WebSocket.
MAX_OPERATIONS_PER_SOCKET = 10

#: Our rules, made once: validated documents are cached by text and rules, so the
#: rules must be the same objects for every request.
LIMITS: tuple[Any, ...] = (
    limits_rule(max_depth=MAX_DEPTH, max_aliases=MAX_ALIASES, max_cost=MAX_COST),
)
#: A server that hides its IDE (GRAPHIQL=false, production) hides its schema too.
LIMITS_WITHOUT_INTROSPECTION = (*LIMITS, NoSchemaIntrospectionCustomRule)


#: Operations whose cost is kept, worked out once per document.
COSTS_KEPT = 256


def cost_results(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
) -> dict[str, Any]:
    """What an answer's `extensions` say of its operation's cost, as Shopify's do."""
    cost = operation_cost(schema, document, operation)
    return {"cost": {"requestedQueryCost": cost, "maximumQueryCost": MAX_COST}}


class QueryCost(SchemaExtension):
    """Adds `cost_results` to the answer of every operation that ran."""

    _known: OrderedDict[int, tuple[OperationDefinitionNode, dict[str, Any]]] = OrderedDict()

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context
        document = context.graphql_document
        if document is None or context.pre_execution_errors:
            return {}
        operation = get_operation_ast(document, context.operation_name)
        if operation is None:
            return {}
        # A document is checked once and kept (`api.documents`), so its operations
        # are the same objects request after request.
        known = self._known.get(id(operation))
        if known is None or known[0] is not operation:
            if len(self._known) >= COSTS_KEPT:
                self._known.popitem(last=False)
            results = cost_results(context.schema._schema, document, operation)
            known = self._known[id(operation)] = (operation, results)
        return known[1]


def validation_rules() -> tuple[Any, ...]:
    """The rules every document is validated with beyond graphql-core's own."""
    return LIMITS if config.GRAPHIQL else LIMITS_WITHOUT_INTROSPECTION


class _BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuses request bodies over the limit with 413, before or while they arrive.

    Uploads (multipart) may carry a photo; any other body is a GraphQL document
    with its variables and gets the smaller limit.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        is_upload = headers.get("content-type", "").startswith("multipart/form-data")
        limit = self.max_upload_bytes if is_upload else self.max_bytes
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(limit)(scope, receive, send)
            return
        received, started = 0, False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _too_large(limit)(scope, receive, send)


def _too_large(limit: int) -> Response:
    # JSON like every other refusal, so clients need one error path.
    message = f"Request body too large: the limit is {limit} bytes."
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}, 413
    )
