"""Documents, checked once: a parse-and-validate cache, and automatic persisted queries.

The web UI sends the same few documents over and over. Each distinct text is
parsed and validated once and kept, bounded (`Documents`), keyed by the text and
the validation rules; Strawberry's own `ParserCache`/`ValidationCache` key
validation on the whole syntax tree, which is hashed field by field on every
request, and on a rule list that its limiters rebuild per request, so they
never hit.

Automatic persisted queries follow Apollo's protocol: a request whose
`extensions.persistedQuery` is `{"version": 1, "sha256Hash": H}` may leave the
document out. A known H runs the document registered under it, neither sent nor
validated again; an unknown one answers `PERSISTED_QUERY_NOT_FOUND` (message
`PersistedQueryNotFound`, as Apollo clients expect), and the client sends the
document with H, which registers it once it validates. A document whose SHA-256
is not H is refused. Each process keeps its own bounded store: a client that
reaches another process registers its document there the same way.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode, GraphQLError, parse, specified_rules
from strawberry.extensions import SchemaExtension

#: The rules Strawberry validates with before an extension adds its own.
STRAWBERRY_RULES: tuple[Any, ...] = tuple(specified_rules)
#: Distinct documents kept parsed and validated.
DOCUMENTS = 256
#: Persisted queries kept, and the characters they may hold between them.
PERSISTED = 1024
PERSISTED_CHARACTERS = 4 * 1024 * 1024

_SHA256 = re.compile(r"[0-9a-f]{64}")


class PersistedQueryError(GraphQLError):
    """A persisted-query request refused before its document runs."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, extensions={"code": code})


@dataclass(frozen=True)
class Checked:
    document: DocumentNode
    #: Validation errors; empty for a document that may run.
    errors: tuple[GraphQLError, ...]


class Documents:
    """Checked documents by text, and persisted-query texts by hash; both LRU-bounded."""

    def __init__(
        self,
        documents: int = DOCUMENTS,
        persisted: int = PERSISTED,
        persisted_characters: int = PERSISTED_CHARACTERS,
    ) -> None:
        self.max_documents = documents
        self.max_persisted = persisted
        self.max_persisted_characters = persisted_characters
        self.checked: OrderedDict[tuple[str, tuple[Any, ...]], Checked] = OrderedDict()
        self.persisted: OrderedDict[str, str] = OrderedDict()
        self.persisted_characters = 0

    def clear(self) -> None:
        self.checked.clear()
        self.persisted.clear()
        self.persisted_characters = 0

    def get(self, key: tuple[str, tuple[Any, ...]]) -> Checked | None:
        found = self.checked.get(key)
        if found is not None:
            self.checked.move_to_end(key)
        return found

    def put(self, key: tuple[str, tuple[Any, ...]], checked: Checked) -> None:
        self.checked[key] = checked
        self.checked.move_to_end(key)
        while len(self.checked) > self.max_documents:
            self.checked.popitem(last=False)

    def runnable(
        self, query: str | None, extensions: dict[str, Any] | None, rules: tuple[Any, ...]
    ) -> DocumentNode | None:
        """The document a request runs, when it is known and valid under Strawberry's
        rules and `rules`: sent as text, or by a known persisted-query hash alone. None
        for anything `CheckedDocuments` has yet to check or register, or must refuse."""
        if extensions:
            if query is not None or extensions.keys() != {"persistedQuery"}:
                return None  # a hash with its document: registered by the extension
            try:
                query = self.query_for(persisted_hash(extensions) or "")
            except PersistedQueryError:
                return None
        if query is None:
            return None
        checked = self.get((query, STRAWBERRY_RULES + rules))
        return checked.document if checked is not None and not checked.errors else None

    def query_for(self, sha256: str) -> str | None:
        found = self.persisted.get(sha256)
        if found is not None:
            self.persisted.move_to_end(sha256)
        return found

    def persist(self, sha256: str, query: str) -> None:
        if sha256 in self.persisted or len(query) > self.max_persisted_characters:
            return
        self.persisted[sha256] = query
        self.persisted_characters += len(query)
        while (
            len(self.persisted) > self.max_persisted
            or self.persisted_characters > self.max_persisted_characters
        ):
            _, dropped = self.persisted.popitem(last=False)
            self.persisted_characters -= len(dropped)


#: The process's documents, shared by every request (the extension is made per request).
DOCUMENT_STORE = Documents()


def persisted_hash(extensions: dict[str, Any] | None) -> str | None:
    """The request's `persistedQuery.sha256Hash`, None when it has none."""
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise PersistedQueryError(
            "Only persistedQuery version 1 is supported.", "PERSISTED_QUERY_NOT_SUPPORTED"
        )
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise PersistedQueryError(
            "persistedQuery.sha256Hash must be 64 lower-case hexadecimal digits.",
            "BAD_USER_INPUT",
        )
    return sha256


class CheckedDocuments(SchemaExtension):
    """Limits, parsing and validation of a request's document, each done once per text."""

    def __init__(
        self,
        *,
        validation_rules: tuple[Any, ...],
        max_tokens: int,
        store: Documents = DOCUMENT_STORE,
    ) -> None:
        self.validation_rules = validation_rules
        self.max_tokens = max_tokens
        self.store = store
        self.key: tuple[str, tuple[Any, ...]] | None = None
        self.hit: Checked | None = None
        self.to_persist: str | None = None

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.max_tokens
        context.validation_rules = context.validation_rules + self.validation_rules
        sha256 = persisted_hash(context.operation_extensions)
        if sha256 is not None:
            if context.query is None:
                context.query = self.store.query_for(sha256)
                if context.query is None:
                    raise PersistedQueryError("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
            elif hashlib.sha256(context.query.encode()).hexdigest() != sha256:
                raise PersistedQueryError(
                    "The query's SHA-256 is not its persistedQuery.sha256Hash.", "BAD_USER_INPUT"
                )
            else:
                self.to_persist = sha256
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None:
            self.key = (context.query, context.validation_rules)
            self.hit = self.store.get(self.key)
            if self.hit is not None:
                context.graphql_document = self.hit.document
            else:
                # A document that fails to parse is left to Strawberry's own parse
                # step, which reports the error as the client's.
                with contextlib.suppress(GraphQLError):
                    context.graphql_document = parse(context.query, **context.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if self.hit is not None:
            # Already validated: Strawberry skips validation when errors are set.
            context.pre_execution_errors = list(self.hit.errors)
        yield
        if self.key is not None and self.hit is None and context.graphql_document is not None:
            errors = tuple(context.pre_execution_errors or ())
            self.store.put(self.key, Checked(context.graphql_document, errors))
        query = context.query
        if self.to_persist is not None and query is not None and not context.pre_execution_errors:
            self.store.persist(self.to_persist, query)
