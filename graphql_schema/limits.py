"""What a request may ask of the server, checked before any resolver runs.

One extension parses and validates every document (both cached by its text) and refuses,
with one short ``BAD_USER_INPUT`` error naming the limit, a document that is:

* larger than ``max_document_bytes`` (never parsed) or longer than ``max_tokens`` tokens
  (the parser stops there);
* more than one operation (no batching in one document);
* deeper than ``max_depth``, with more than ``max_aliases`` aliases or a node with more
  than ``max_directives`` directives, counted through fragments wherever they are spread
  (so fragments cannot hide them; a fragment cycle is refused by validation);
* more expensive than ``max_cost``: each field costs one, times the size of every list
  it sits in (a connection's ``first``, 20 when not given; other lists count as
  ``LIST_SIZE``). The cost of every operation is reported in ``extensions.cost``.

Validation stops after ``MAX_VALIDATION_ERRORS`` errors. In production, introspection is
refused and validation errors carry no "did you mean" suggestions.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
    parse,
    specified_rules,
    validate,
)
from graphql.type import GraphQLObjectType
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from app.settings import QueryLimits
from graphql_schema.relay import DEFAULT_PAGE_SIZE

MAX_VALIDATION_ERRORS = 10
LIST_SIZE = 10
CACHE_SIZE = 256
_REFUSED = parse("{ __typename }")  # stands in for a document that is never parsed


def _refusal(message: str, limit: str, maximum: int, actual: int | None = None) -> GraphQLError:
    extensions: dict[str, Any] = {"code": "BAD_USER_INPUT", "limit": limit, "maximum": maximum}
    if actual is not None:
        extensions["actual"] = actual
    return GraphQLError(message, extensions=extensions)


class _Shape:
    """Depth, aliases and directives of an operation, through its fragments."""

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.aliases = 0
        self.depth = 0
        self.directives = 0

    def selections(self, selections: SelectionSetNode, depth: int, seen: frozenset[str]) -> None:
        for selection in selections.selections:
            self.directives = max(self.directives, len(selection.directives or ()))
            if isinstance(selection, FieldNode):
                if selection.alias is not None:
                    self.aliases += 1
                self.depth = max(self.depth, depth)
                if selection.selection_set is not None:
                    self.selections(selection.selection_set, depth + 1, seen)
            elif isinstance(selection, InlineFragmentNode):
                self.selections(selection.selection_set, depth, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen:  # cycles: refused by validation
                    self.directives = max(self.directives, len(fragment.directives or ()))
                    self.selections(fragment.selection_set, depth, seen | {name})


def _shape_errors(document: DocumentNode, limits: QueryLimits) -> list[GraphQLError]:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) > 1:
        return [_refusal("Send one operation per request.", "operations", 1, len(operations))]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    errors = []
    for operation in operations:
        shape = _Shape(fragments)
        shape.directives = len(operation.directives or ())
        shape.selections(operation.selection_set, 1, frozenset())
        if shape.depth > limits.max_depth:
            message = f"The query is {shape.depth} levels deep; at most {limits.max_depth}."
            errors.append(_refusal(message, "depth", limits.max_depth, shape.depth))
        if shape.aliases > limits.max_aliases:
            message = f"The query uses {shape.aliases} aliases; at most {limits.max_aliases}."
            errors.append(_refusal(message, "aliases", limits.max_aliases, shape.aliases))
        if shape.directives > limits.max_directives:
            message = f"At most {limits.max_directives} directives may sit on one field."
            errors.append(_refusal(message, "directives", limits.max_directives))
    return errors


def _first(node: FieldNode, variables: Mapping[str, Any]) -> int | None:
    for argument in node.arguments or ():
        if argument.name.value != "first":
            continue
        value: Node = argument.value
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, VariableNode):
            given = variables.get(value.name.value)
            return given if isinstance(given, int) else None
    return None


class _Cost:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def selections(self, selections: SelectionSetNode, parent: Any, seen: frozenset[str]) -> int:
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, seen)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(selection.selection_set, target, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen:
                    target = self.schema.get_type(fragment.type_condition.name.value)
                    total += self.selections(fragment.selection_set, target, seen | {name})
        return total

    def field(self, node: FieldNode, parent: Any, seen: frozenset[str]) -> int:
        fields = getattr(parent, "fields", None) or {}
        definition = fields.get(node.name.value)
        if definition is None or node.selection_set is None:
            return 1
        named = get_named_type(definition.type)
        size = 1
        if getattr(parent, "name", "").endswith("Connection") and node.name.value == "edges":
            size = 1  # a connection's size is its `first`, counted on the connection field
        elif named.name.endswith("Connection"):
            first = _first(node, self.variables)
            size = first if first is not None else DEFAULT_PAGE_SIZE
        elif is_list_type(get_nullable_type(definition.type)):
            size = LIST_SIZE
        return 1 + max(size, 0) * self.selections(node.selection_set, named, seen)


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any],
) -> int:
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    total = 0
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if operation_name and definition.name and definition.name.value != operation_name:
            continue
        root: GraphQLObjectType | None = {
            "query": schema.query_type,
            "mutation": schema.mutation_type,
            "subscription": schema.subscription_type,
        }[definition.operation.value]
        total += _Cost(schema, fragments, variables).selections(
            definition.selection_set, root, frozenset()
        )
    return total


class _Recent(OrderedDict[Any, Any]):
    def remember(self, key: Any, value: Any) -> Any:
        self[key] = value
        while len(self) > CACHE_SIZE:
            self.popitem(last=False)
        return value


_parsed: _Recent = _Recent()
_validated: _Recent = _Recent()


def _limits_of(context: Any) -> QueryLimits:
    settings = getattr(context, "settings", None)
    limits = getattr(settings, "query_limits", None)
    return limits if isinstance(limits, QueryLimits) else QueryLimits()


class CheckedDocuments(SchemaExtension):
    """Parse and validate (both cached by the document's text) within the request limits."""

    refusal: GraphQLError | None = None
    cost: int | None = None

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        limits = _limits_of(context.context)
        query = context.query or ""
        if len(query.encode()) > limits.max_document_bytes:
            self.refusal = _refusal(
                f"The document is larger than {limits.max_document_bytes} bytes.",
                "documentBytes",
                limits.max_document_bytes,
            )
            context.graphql_document = _REFUSED
        else:
            context.parse_options["max_tokens"] = limits.max_tokens
            document = _parsed.get((query, limits.max_tokens))
            if document is None:
                try:
                    document = parse(query, max_tokens=limits.max_tokens)
                    _parsed.remember((query, limits.max_tokens), document)
                except GraphQLError:
                    document = None  # strawberry parses it again and reports the error
            context.graphql_document = document
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if self.refusal is not None:
            context.pre_execution_errors = [self.refusal]
            yield
            return
        limits = _limits_of(context.context)
        document = context.graphql_document
        assert document is not None
        key = (context.query, limits)
        errors = _validated.get(key)
        if errors is None:
            errors = _shape_errors(document, limits)
            if not errors:
                rules = list(specified_rules)
                if limits.production:
                    rules.append(NoSchemaIntrospectionCustomRule)
                errors = validate(
                    context.schema._schema,
                    document,
                    rules,
                    max_errors=MAX_VALIDATION_ERRORS,
                    hide_suggestions=limits.production,
                )
            _validated.remember(key, errors)
        if not errors:
            self.cost = operation_cost(
                context.schema._schema, document, context.operation_name, context.variables or {}
            )
            if self.cost > limits.max_cost:
                errors = [
                    _refusal(
                        f"The query would cost {self.cost}; at most {limits.max_cost}. Ask "
                        "for fewer items (`first`) or fewer nested lists.",
                        "cost",
                        limits.max_cost,
                        self.cost,
                    )
                ]
        context.pre_execution_errors = list(errors)
        yield

    def get_results(self) -> dict[str, Any]:
        if self.cost is None or self.execution_context.operation_type is OperationType.SUBSCRIPTION:
            return {}
        limit = _limits_of(self.execution_context.context).max_cost
        return {"cost": {"requested": self.cost, "limit": limit}}
