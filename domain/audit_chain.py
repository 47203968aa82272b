"""The hash chain of the audit trail: what an entry's hash covers, and checking a chain.

Each entry commits to the one before it: ``entry_hash = SHA-256(canonical content)``, where
the content is a JSON object with sorted keys and no spaces of the entry's sequence number,
its time (UTC, ISO 8601 with microseconds), action, pseudonymous actor and subject IDs
(``actor_ref``, ``subject_ref``: the users' random ``pseudonym``), target, details and the
previous entry's hash (64 zeros before the first). Only pseudonymous content is hashed:
the numeric user IDs and the client address are outside it, so erasing a person (which
tombstones their user row and blanks those addresses) leaves every hash valid, while a
change of anything hashed breaks the link of the entry changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

GENESIS = "0" * 64
"""The ``previous_hash`` of the first entry of a chain."""


@dataclass(frozen=True, slots=True)
class ChainedContent:
    """What an entry's hash covers."""

    sequence: int
    created_at: datetime
    action: str
    actor_ref: str
    subject_ref: str
    target: str
    details: dict[str, Any]
    previous_hash: str


def canonical(content: ChainedContent) -> bytes:
    """The bytes hashed for ``content``: compact JSON with sorted keys (UTF-8)."""
    moment = content.created_at.astimezone(UTC).isoformat(timespec="microseconds")
    return orjson.dumps(
        {
            "sequence": content.sequence,
            "at": moment,
            "action": content.action,
            "actor": content.actor_ref,
            "subject": content.subject_ref,
            "target": content.target,
            "details": content.details,
            "previous": content.previous_hash,
        },
        option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS,
    )


def entry_hash(content: ChainedContent) -> str:
    """The SHA-256 (64 hex digits) of :func:`canonical` ``content``."""
    return hashlib.sha256(canonical(content)).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """An entry as stored: its row ID, its chained content and the hash stored with it."""

    id: int
    content: ChainedContent
    stored_hash: str


@dataclass(frozen=True, slots=True)
class BrokenLink:
    """The first entry where the chain does not hold, and why."""

    id: int
    sequence: int
    reason: str

    def __str__(self) -> str:
        return f"audit entry {self.id} (sequence {self.sequence}): {self.reason}"


class ChainCheck:
    """Checks a chain entry by entry, by ascending sequence: sequences follow each other
    from 1, each entry names the hash of the one before it, and its stored hash is the hash
    of its content."""

    def __init__(self) -> None:
        self.previous = GENESIS
        self.sequence = 1
        self.checked = 0

    def add(self, entry: StoredEntry) -> BrokenLink | None:
        """None while the chain holds up to ``entry``; else why ``entry`` breaks it."""
        content = entry.content
        if content.sequence != self.sequence:
            return BrokenLink(
                entry.id,
                content.sequence,
                f"sequence {self.sequence} is missing (an entry was removed)",
            )
        if content.previous_hash != self.previous:
            return BrokenLink(
                entry.id, content.sequence, "it does not name the hash of the entry before it"
            )
        if entry_hash(content) != entry.stored_hash:
            return BrokenLink(
                entry.id, content.sequence, "its content does not match its hash (it was changed)"
            )
        self.previous, self.sequence = entry.stored_hash, self.sequence + 1
        self.checked += 1
        return None


def first_broken_link(entries: Iterable[StoredEntry]) -> BrokenLink | None:
    """The first of ``entries`` (a whole chain, by ascending sequence) that breaks it, or
    None when the chain holds (see :class:`ChainCheck`)."""
    check = ChainCheck()
    for entry in entries:
        broken = check.add(entry)
        if broken is not None:
            return broken
    return None
