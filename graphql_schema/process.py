"""What one server process keeps for all of its requests: made once by the application (in
``create_app``, on ``app.state.graphql``), reached from each request's context as
``context.process``, and gone with the application. Nothing here is a module global, so
two applications in one interpreter (tests, benchmarks) never share it."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from inspect import isawaitable
from typing import Any

from strawberry import Schema
from strawberry.extensions import SchemaExtension

from domain.diffing import DiffCache
from graphql_schema.denials import DenialRecords
from graphql_schema.limits import CheckedDocumentCache
from infra import tracing


class ProcessState:
    """``documents``: parsed and checked documents by their text; ``diffs``: page diffs
    by the page and its two revisions (revisions never change); ``denials``: refusals
    still being written to the audit trail."""

    def __init__(self) -> None:
        self.documents = CheckedDocumentCache()
        self.diffs: DiffCache[Any] = DiffCache()
        self.denials = DenialRecords()


class SlowResolvers(SchemaExtension):
    """Records each resolver slower than EXTRANET_TRACE_RESOLVERS_OVER_MS as a span, after
    it returned (infra/tracing.py): no span is opened per resolver, and a resolver that
    answers at once (no awaiting) passes straight on. In the schema only while tracing is
    on (:func:`trace_slow_resolvers`)."""

    def resolve(
        self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any
    ) -> Any:
        result = _next(root, info, *args, **kwargs)
        return _timed(result, info) if isawaitable(result) else result


async def _timed(result: Awaitable[Any], info: Any) -> Any:
    started = time.time_ns()
    try:
        return await result
    finally:
        path = f"{info.parent_type.name}.{info.field_name}"
        tracing.slow_resolver(path, started, time.time_ns())


def trace_slow_resolvers(schema: Schema) -> None:
    """Add :class:`SlowResolvers` to ``schema`` (once)."""
    if SlowResolvers not in schema.extensions:
        schema.extensions = (*schema.extensions, SlowResolvers)
