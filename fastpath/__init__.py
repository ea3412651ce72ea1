"""The plan engine: a query, or a subscription's event, run by a plan made once per
document, beside stock Strawberry and graphql-core execution (see README.md).

It imports no domain module: the wiring (`schema/__init__.py`, `app.py`) hands it
what it needs (`FastPath`), mixes `PlannedSchema` into the schema class and
`KnownQueryView` into the view class, or leaves both out (`FAST_PATH=off`).
"""

from __future__ import annotations

from fastpath.abandons import Abandons
from fastpath.engine import FastPath
from fastpath.schema import PlannedSchema
from fastpath.view import KnownQueryView

__all__ = ["Abandons", "FastPath", "KnownQueryView", "PlannedSchema"]
