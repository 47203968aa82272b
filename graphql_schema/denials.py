"""Permission denials go to the audit trail: one entry per request that was refused
something, naming the fields refused and the IDs of objects outside the caller's scope
(another customer's project, say), which the caller was told do not exist.

The entry is written (actions/audit.py) after the answer has gone, by a task of its own:
whether the object exists is looked up only then, so the answer takes the same time for
another customer's ID as for one that exists nowhere. A caller gets at most MAX_PER_MINUTE
entries a minute per process; the next entry says how many were left out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType
from tortoise.models import Model

from actions import audit, security_alerts
from domain.availability import RETRY_AFTER, unavailable_cause
from domain.throttle import LoginThrottle, RateLimit
from infra.settings import Settings
from models import SecurityRule, User

log = logging.getLogger(__name__)

MAX_LISTED = 20  # a list of a thousand refused items is one entry naming twenty
MAX_PER_MINUTE = 30
RECORD_ATTEMPTS = 3  # the database away: tried again after 5, then 10 seconds


class DenialRecords:
    """The denials of one process still being written to the audit trail (after their
    answer has gone): ``context.process.denials``."""

    def __init__(self) -> None:
        self._pending: set[asyncio.Task[None]] = set()

    def add(self, task: asyncio.Task[None]) -> None:
        """Keep ``task`` (recording one denial) until it is done."""
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def settled(self) -> None:
        """Wait until every denial seen so far is recorded (tests, and shutting down)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)


def _field_path(error: GraphQLError) -> str:
    return ".".join(str(p) for p in (error.path or ()) if not isinstance(p, int))


def denials(errors: list[GraphQLError]) -> tuple[list[str], list[tuple[type[Model], int]]]:
    """(paths of refused fields, (model, id) looked up in vain) among the errors."""
    fields: list[str] = []
    looked_up: list[tuple[type[Model], int]] = []
    for error in errors:
        probe = getattr(error.original_error, "looked_up", None) or getattr(
            error, "looked_up", None
        )
        if probe and probe not in looked_up:
            looked_up.append(probe)
        elif (error.extensions or {}).get("code") == "FORBIDDEN":
            path = _field_path(error)
            if path not in fields:
                fields.append(path)
    return fields[:MAX_LISTED], looked_up[:MAX_LISTED]


def _limit_of(request: object) -> RateLimit | None:
    """The callers' allowance of entries, counted in the store of the sign-in limits (so
    across processes with Redis)."""
    throttle = getattr(request, "throttle", None)
    if not isinstance(throttle, LoginThrottle):
        return None
    return RateLimit(throttle.store, "denials", MAX_PER_MINUTE, 60)


async def _allowed(limit: RateLimit | None, viewer: User | None) -> int | None:
    """Entries of the caller left out before this one, or None to leave it out too."""
    if limit is None:
        return 0
    try:
        return await limit.take(str(viewer.id if viewer else 0))
    except Exception:  # an entry too many is better than a refusal not recorded
        log.warning("Counting a caller's denial entries failed", exc_info=True)
        return 0


async def _record(
    viewer: User | None,
    client_address: str,
    operation: str,
    fields: list[str],
    looked_up: list[tuple[type[Model], int]],
    limit: RateLimit | None = None,
    settings: Settings | None = None,
) -> None:
    """Write the entry (within the caller's ``limit``); while the database does not
    answer, try again a few times. IDs beyond the caller's scope count towards the
    ``CROSS_TENANT_PROBING`` rule (actions/security_alerts.py)."""
    for attempt in range(RECORD_ATTEMPTS):
        try:
            await _write(viewer, client_address, operation, fields, looked_up, limit, settings)
        except Exception as error:  # the answer has gone regardless
            if attempt + 1 < RECORD_ATTEMPTS and unavailable_cause(error) is not None:
                await asyncio.sleep(RETRY_AFTER * 2**attempt)
                continue
            # the log keeps the gap visible, with what was refused
            log.exception("Recording a permission denial failed: %s %s", fields, looked_up)
        return


async def _of_another_customer(viewer: User, model: type[Model], object_id: int) -> bool:
    """Whether the object exists and belongs to a customer other than the contact's (by its
    own ``customer_id`` or its project's); for staff, whether it exists."""
    found = model.filter(id=object_id)
    fields_map = model._meta.fields_map
    if viewer.customer_id is None:
        return bool(await found.exists())
    if "customer_id" in fields_map:
        found = found.filter(customer_id__not=viewer.customer_id)
    elif "project_id" in fields_map:
        found = found.exclude(project__customer_id=viewer.customer_id)
    return bool(await found.exists())


async def _write(
    viewer: User | None,
    client_address: str,
    operation: str,
    fields: list[str],
    looked_up: list[tuple[type[Model], int]],
    limit: RateLimit | None = None,
    settings: Settings | None = None,
) -> None:
    outside = [
        f"{model.__name__}:{object_id}"
        for model, object_id in looked_up
        if await model.exists(id=object_id)
    ]
    if outside and viewer is not None and limit is not None and settings is not None:
        foreign = [pair for pair in looked_up if await _of_another_customer(viewer, *pair)]
        await security_alerts.count(
            limit.store,
            settings,
            SecurityRule.CROSS_TENANT_PROBING,
            f"user:{viewer.id}",
            user_id=viewer.id,
            address=client_address,
            weight=len(foreign),
        )
    if not fields and not outside:
        return
    left_out = await _allowed(limit, viewer)
    if left_out is None:
        return
    await audit.record_denial(
        viewer,
        client_address=client_address,
        operation=operation,
        fields=fields,
        outside_scope=outside,
        left_out_before=left_out,
    )


class AuditDenials(SchemaExtension):
    """Queries and mutations only: a live stream that a reader may no longer follow is
    ended (and that is not an attempt to read)."""

    async def on_execute(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context
        errors = getattr(context.result, "errors", None)
        if not errors or context.operation_type is OperationType.SUBSCRIPTION:
            return
        fields, looked_up = denials(errors)
        if not fields and not looked_up:
            return
        request = context.context
        task = asyncio.create_task(
            _record(
                getattr(request, "viewer", None),
                str(getattr(request, "client_address", "")),
                context.operation_name or "",
                fields,
                looked_up,
                _limit_of(request),
                getattr(request, "settings", None),
            ),
            name="audit a denial",
        )
        request.process.denials.add(task)
