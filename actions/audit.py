"""Entries of the audit trail that no other action writes as part of its own change."""

from __future__ import annotations

from actions._common import audit
from models import AuditEntry, User


async def record_denial(
    viewer: User | None,
    *,
    client_address: str,
    operation: str,
    fields: list[str],
    outside_scope: list[str],
    left_out_before: int = 0,
) -> AuditEntry:
    """One ``permission.denied`` entry for a request that was refused something.

    ``fields``: paths of the fields refused (``project.budget``); ``outside_scope``: the
    objects looked up that exist beyond the caller's scope, as ``Model:id``; the target is
    the first of those, else the first field. ``left_out_before``: how many entries of the
    same caller were left out just before this one (kept in the details when not 0).
    """
    return await audit(
        "permission.denied",
        actor=viewer,
        target=outside_scope[0] if outside_scope else fields[0],
        client_address=client_address,
        operation=operation,
        fields=fields,
        outside_scope=outside_scope,
        **({"left_out_before": left_out_before} if left_out_before else {}),
    )
