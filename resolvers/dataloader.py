"""Strawberry's DataLoader, with its shared futures shielded from cancellation.

A loader hands every field that asks for one key the same future. When one field
of a list fails, graphql-core 3.3 cancels the tasks of its siblings
(gather_with_cancel), and a task cancelled while it awaits a future cancels that
future: every other field waiting on the same key, elsewhere in the document, then
got CancelledError, which no layer catches, and the request ended in a bare HTTP
500 (found by the schema fuzzer: a public profile's teams with `storageUsage`, which
an outsider may not see, beside their members). Each caller now awaits a shield of
the shared future, so a cancelled caller cancels only its own wait.

A query plan's run (`schema.runs.Run`) cancels no field: it turns shields off
while it runs (`SHIELDED`), which spares each load a second future and two
callbacks. graphql-core's own execution, a plan's fallback included, has them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from contextvars import ContextVar
from typing import TypeVar

from strawberry.dataloader import DataLoader as StrawberryDataLoader

K = TypeVar("K")
T = TypeVar("T")


#: Whether loads in this context are shielded from their callers' cancellation.
SHIELDED: ContextVar[bool] = ContextVar("SHIELDED", default=True)


class DataLoader(StrawberryDataLoader[K, T]):
    def load(self, key: K) -> Awaitable[T]:
        shared = super().load(key)
        return asyncio.shield(shared) if SHIELDED.get() else shared
