"""GraphQL documents as persisted queries know them: their hashes, printed forms and
whether they can run; and the check of a document an administrator registers."""

from __future__ import annotations

import hashlib
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    NameNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
    print_ast,
)
from graphql.language import Visitor, visit

from actions.persisted import DocumentToRegister
from domain.errors import BadUserInput
from graphql_schema.limits import check_document
from infra.settings import QueryLimits


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def normalized(text: str, limits: QueryLimits) -> str | None:
    """The document as graphql-core prints it; None for one that does not parse within the
    request limits."""
    if len(text.encode()) > limits.max_document_bytes:
        return None
    try:
        return print_ast(parse(text, max_tokens=limits.max_tokens, no_location=True))
    except GraphQLError:
        return None


class _WithoutTypename(Visitor):
    """Removes every ``__typename`` field that has no alias, arguments or directives."""

    def enter_field(self, node: FieldNode, *_: Any) -> object:
        if (
            node.name.value == "__typename"
            and node.alias is None
            and not node.arguments
            and not node.directives
        ):
            return self.REMOVE
        return None


class _WithTypename(Visitor):
    """Adds ``__typename`` at the end of every selection set below an operation's own that
    has no ``__typename`` field without alias (what Apollo Client's and urql's caches do)."""

    def enter_selection_set(self, node: SelectionSetNode, key: Any, parent: Any, *_: Any) -> object:
        if isinstance(parent, OperationDefinitionNode):
            return None
        if any(
            isinstance(s, FieldNode) and s.name.value == "__typename" and s.alias is None
            for s in node.selections
        ):
            return None
        typename = FieldNode(name=NameNode(value="__typename"), arguments=(), directives=())
        return SelectionSetNode(selections=(*node.selections, typename))


def parsed(text: str, limits: QueryLimits) -> DocumentNode | None:
    """The document, parsed without locations; None for one that does not parse within the
    request limits."""
    if len(text.encode()) > limits.max_document_bytes:
        return None
    try:
        return parse(text, max_tokens=limits.max_tokens, no_location=True)
    except GraphQLError:
        return None


def without_typename(document: DocumentNode) -> str:
    """The document as graphql-core prints it, without the ``__typename`` fields a client may
    have added (those without alias, arguments or directives): one text for a document and
    every form of it that a cache augmented with ``__typename``."""
    return print_ast(visit(document, _WithoutTypename()))


def with_typename(document: DocumentNode) -> str:
    """The document as Apollo Client's and urql's caches send it (``__typename`` added to every
    selection set below the operation's own that lacks one), printed."""
    return print_ast(visit(document, _WithTypename()))


def document_errors(schema: GraphQLSchema, text: str, limits: QueryLimits) -> list[str]:
    """Why the document cannot run (an empty list when it can, variables aside)."""
    if len(text.encode()) > limits.max_document_bytes:
        return [f"The document is larger than {limits.max_document_bytes} bytes."]
    try:
        document = parse(text, max_tokens=limits.max_tokens)
    except GraphQLError as error:
        return [error.message]
    return [e.message for e in check_document(schema, document, limits)]


def to_register(schema: GraphQLSchema, query: str, limits: QueryLimits) -> DocumentToRegister:
    """``query`` checked for registration: one operation, valid against ``schema`` within
    the request ``limits``, with its hashes and name; BAD_USER_INPUT (``field: query``)
    saying why otherwise."""
    errors = document_errors(schema, query, limits)
    if errors:
        raise BadUserInput(f"The document is not valid: {errors[0]}", field="query")
    document = parse(query, max_tokens=limits.max_tokens)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1:
        raise BadUserInput("Register one operation per document.", field="query")
    form = normalized(query, limits)
    assert form is not None  # the document parsed above
    name = operations[0].name
    return DocumentToRegister(
        query=query,
        sha256=sha256_hex(query),
        normalized_sha256=sha256_hex(form),
        operation_name=name.value if name else None,
    )
