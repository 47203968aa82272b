"""Permission denials go to the audit trail: one entry per request that was refused
something, naming the fields refused and the IDs of objects outside the caller's scope
(another customer's project, say), which the caller was told do not exist."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from app.actions._common import audit

log = logging.getLogger(__name__)

MAX_LISTED = 20  # a list of a thousand refused items is one entry naming twenty


def _field_path(error: GraphQLError) -> str:
    return ".".join(str(p) for p in (error.path or ()) if not isinstance(p, int))


def denials(errors: list[GraphQLError]) -> tuple[list[str], list[str]]:
    """(paths of refused fields, objects outside the caller's scope) among the errors."""
    fields: list[str] = []
    outside: list[str] = []
    for error in errors:
        target = getattr(error.original_error, "outside_scope", None) or getattr(
            error, "outside_scope", None
        )
        if target and target not in outside:
            outside.append(target)
        elif (error.extensions or {}).get("code") == "FORBIDDEN":
            path = _field_path(error)
            if path not in fields:
                fields.append(path)
    return fields[:MAX_LISTED], outside[:MAX_LISTED]


class AuditDenials(SchemaExtension):
    """Queries and mutations only: a live stream that a reader may no longer follow is
    ended (and that is not an attempt to read)."""

    async def on_execute(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context
        result = context.result
        errors = getattr(result, "errors", None)
        if not errors or context.operation_type is OperationType.SUBSCRIPTION:
            return
        fields, outside = denials(errors)
        if not fields and not outside:
            return
        request = context.context
        viewer = getattr(request, "viewer", None)
        try:
            await audit(
                "permission.denied",
                actor=viewer,
                target=outside[0] if outside else fields[0],
                client_address=str(getattr(request, "client_address", "")),
                operation=context.operation_name or "",
                fields=fields,
                outside_scope=outside,
            )
        except Exception:  # the answer goes out regardless; the log keeps the gap visible
            log.exception("Recording a permission denial failed")
