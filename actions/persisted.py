"""Registered GraphQL documents: what a server that runs only registered operations accepts
besides clients/operations (see app/persisted.py). The schema layer checks a document
(graphql_schema/persisted/documents.py); these actions only store it."""

from __future__ import annotations

from dataclasses import dataclass

from actions._common import audit
from actions.unit_of_work import unit_of_work
from models import PersistedDocument, User


@dataclass(frozen=True, slots=True)
class DocumentToRegister:
    """A document checked to be one operation valid against the schema.

    ``sha256``: hex SHA-256 of ``query`` exactly as sent; ``normalized_sha256``: of its
    printed form (what clients that parse documents send); ``operation_name``: the
    operation's name, None for an anonymous one."""

    query: str
    sha256: str
    normalized_sha256: str
    operation_name: str | None


async def register_persisted_query(
    actor: User, document: DocumentToRegister, *, client_address: str = ""
) -> tuple[PersistedDocument, bool]:
    """Register ``document`` (the caller has been checked to be an administrator); the
    row, and whether it is new. Registering the same text again changes nothing; a new
    one is audited (``persisted_query.registered``)."""
    existing = await PersistedDocument.get_or_none(sha256=document.sha256)
    if existing is not None:
        return existing, False
    async with unit_of_work():
        row = await PersistedDocument.create(
            sha256=document.sha256,
            normalized_sha256=document.normalized_sha256,
            query=document.query,
            operation_name=document.operation_name,
            registered_by_id=actor.id,
        )
        await audit(
            "persisted_query.registered",
            actor=actor,
            target=f"persisted_query:{document.sha256}",
            client_address=client_address,
            operation=document.operation_name,
        )
    return row, True
