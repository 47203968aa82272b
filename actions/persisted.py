"""Registered GraphQL documents: what a server that runs only registered operations accepts
besides clients/operations (see app/persisted.py)."""

from __future__ import annotations

from graphql import GraphQLSchema, OperationDefinitionNode, parse

from actions._common import audit
from actions.unit_of_work import unit_of_work
from app.persisted import document_errors, normalized, sha256_hex
from domain.errors import BadUserInput
from infra.settings import QueryLimits
from models import PersistedDocument, User


async def register_persisted_query(
    actor: User,
    query: str,
    *,
    schema: GraphQLSchema,
    limits: QueryLimits,
    client_address: str = "",
) -> tuple[PersistedDocument, bool]:
    """Register a document valid against the schema (the caller has been checked to be an
    administrator); the row, and whether it is new. Registering the same text again
    changes nothing."""
    errors = document_errors(schema, query, limits)
    if errors:
        raise BadUserInput(f"The document is not valid: {errors[0]}", field="query")
    document = parse(query, max_tokens=limits.max_tokens)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1:
        raise BadUserInput("Register one operation per document.", field="query")
    digest = sha256_hex(query)
    existing = await PersistedDocument.get_or_none(sha256=digest)
    if existing is not None:
        return existing, False
    form = normalized(query, limits)
    assert form is not None  # the document parsed above
    name = operations[0].name.value if operations[0].name else None
    async with unit_of_work():
        row = await PersistedDocument.create(
            sha256=digest,
            normalized_sha256=sha256_hex(form),
            query=query,
            operation_name=name,
            registered_by_id=actor.id,
        )
        await audit(
            "persisted_query.registered",
            actor=actor,
            target=f"persisted_query:{digest}",
            client_address=client_address,
            operation=name,
        )
    return row, True
