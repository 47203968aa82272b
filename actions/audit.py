"""The audit trail: appending hash-chained entries (domain/audit_chain.py), checking the
chain, and the entries that no other action writes as part of its own change.

An entry names people by their pseudonymous ID (``User.pseudonym``), never by name or
e-mail address: the administrators' audit log shows who they are from the live user row
(a tombstone once erased). Appending takes the chain's lock for the rest of the caller's
transaction (PostgreSQL: a transaction-level advisory lock; SQLite has one writer at a
time), so concurrent writers never fork the chain: an entry is inserted, then every entry
not chained yet is given the next sequence number and its hash, in ID order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tortoise import connections
from tortoise.transactions import in_transaction

from domain.audit_chain import (
    GENESIS,
    BrokenLink,
    ChainCheck,
    ChainedContent,
    StoredEntry,
    entry_hash,
)
from models import AuditEntry, SiteSetting, User

CHAIN_LOCK = 0x61756469  # PostgreSQL advisory lock key of the chain ("audi")
_USER_TARGET = re.compile(r"user:(\d+)")
_VERIFY_BATCH = 1000
ANCHOR_KEY = "audit.chain_anchor"
"""The site setting naming where the chain starts once a prefix of it was purged."""


async def _lock_chain() -> None:
    """Hold the chain's lock until the current transaction ends (PostgreSQL)."""
    client = connections.get("default")
    if str(client.capabilities.dialect) != "sqlite":
        await client.execute_query("SELECT pg_advisory_xact_lock($1)", [CHAIN_LOCK])


async def _pseudonym(user_id: int | None) -> str:
    if user_id is None:
        return ""
    found = await User.filter(id=user_id).values_list("pseudonym", flat=True)
    return str(found[0]) if found else ""


def _content(row: AuditEntry, sequence: int, previous_hash: str) -> ChainedContent:
    return ChainedContent(
        sequence=sequence,
        created_at=row.created_at,
        action=row.action,
        actor_ref=row.actor_ref,
        subject_ref=row.subject_ref,
        target=row.target,
        details=dict(row.details),
        previous_hash=previous_hash,
    )


async def seal() -> int:
    """Chain every entry not chained yet (in ID order), in the caller's transaction or one
    of its own; answers how many were chained."""
    async with in_transaction():
        await _lock_chain()
        head = await AuditEntry.filter(sequence__not_isnull=True).order_by("-sequence").first()
        sequence = (head.sequence or 0) if head is not None else 0
        previous = head.entry_hash if head is not None else GENESIS
        # read as stored, so the hash covers exactly what a later check reads
        pending = await AuditEntry.filter(sequence__isnull=True).order_by("id")
        for row in pending:
            sequence += 1
            digest = entry_hash(_content(row, sequence, previous))
            await AuditEntry.filter(id=row.id).update(
                sequence=sequence, previous_hash=previous, entry_hash=digest
            )
            previous = digest
        return len(pending)


async def append(
    action: str,
    *,
    actor: User | None = None,
    subject: User | int | None = None,
    target: str = "",
    client_address: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write one chained entry of ``action`` by ``actor`` about ``subject`` (a user or a
    user's ID; by default the user a ``user:<id>`` target names). ``details`` must be JSON
    and hold no names or e-mail addresses (IDs of rows instead)."""
    subject_id = subject.id if isinstance(subject, User) else subject
    if subject_id is None and (match := _USER_TARGET.fullmatch(target)) is not None:
        subject_id = int(match.group(1))
    async with in_transaction():
        entry = await AuditEntry.create(
            action=action,
            actor_id=actor.id if actor else None,
            actor_ref=actor.pseudonym if actor else "",
            subject_id=subject_id,
            subject_ref=(
                subject.pseudonym if isinstance(subject, User) else await _pseudonym(subject_id)
            ),
            target=target,
            client_address=client_address[:64],
            details=details or {},
        )
        await seal()
    return entry


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of :func:`verify`: how many entries were checked, the first broken link
    (None when the chain holds) and how many entries are not chained yet."""

    checked: int
    broken: BrokenLink | None
    unchained: int


async def anchor() -> tuple[int, str]:
    """(sequence, hash) of the last entry of the prefix purged past its retention
    (actions/retention.py), where the chain now starts; (0, GENESIS) while none was."""
    row = await SiteSetting.get_or_none(key=ANCHOR_KEY)
    if row is None:
        return 0, GENESIS
    return int(str(row.value["sequence"])), str(row.value["hash"])


async def set_anchor(sequence: int, digest: str) -> None:
    """Record that the chain now starts after entry ``sequence`` whose hash was ``digest``
    (in the caller's transaction, with the deletion of the entries up to it)."""
    await SiteSetting.update_or_create(
        key=ANCHOR_KEY, defaults={"value": {"sequence": sequence, "hash": digest}}
    )


async def verify() -> Verification:
    """Check the whole chain, from its anchor (the start, or where a purge left it), in
    batches (reads only; see domain/audit_chain.ChainCheck)."""
    check = ChainCheck()
    after, check.previous = await anchor()
    check.sequence = after + 1
    while True:
        rows = await AuditEntry.filter(sequence__gt=after).order_by("sequence").limit(_VERIFY_BATCH)
        for row in rows:
            assert row.sequence is not None
            content = _content(row, row.sequence, row.previous_hash)
            broken = check.add(StoredEntry(row.id, content, row.entry_hash))
            if broken is not None:
                return Verification(check.checked, broken, 0)
        if len(rows) < _VERIFY_BATCH:
            break
        after = rows[-1].sequence or after
    unchained = await AuditEntry.filter(sequence__isnull=True).count()
    return Verification(check.checked, None, unchained)


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
    details: dict[str, Any] = {
        "operation": operation,
        "fields": fields,
        "outside_scope": outside_scope,
    }
    if left_out_before:
        details["left_out_before"] = left_out_before
    return await append(
        "permission.denied",
        actor=viewer,
        target=outside_scope[0] if outside_scope else fields[0],
        client_address=client_address,
        details=details,
    )
