"""What an argument may hold, checked once per operation before any resolver runs.

Every argument of every field the operation selects (through each fragment once) is
coerced as execution will coerce it (literals, variables, defaults) and walked against
its type. The operation is refused, with ``BAD_USER_INPUT`` errors whose extensions name
the input field (``field``) and the way to it (``argumentPath``, from the field's
coordinate such as ``createPage`` through ``input`` to ``body``), when a value:

* is text with the NUL character (U+0000) or an unpaired surrogate (U+D800 to U+DFFF),
  which PostgreSQL cannot store and UTF-8 cannot encode;
* is text longer than its limit: :data:`TEXT_LIMITS` where the default does not fit (page
  bodies: 200,000 characters, as the pages themselves; e-mail addresses and filters no
  longer than the column they meet), :data:`ID_MAX_LENGTH` for IDs and
  :data:`DEFAULT_TEXT_LIMIT` for any other text (the longest other text the product
  keeps, a description);
* is a list of more than :data:`MAX_LIST_ITEMS` items (the largest page of a connection,
  so a client can act on every item it has been shown);
* is a ``Decimal`` or ``Float`` that is not finite (NaN, Infinity, or a number JSON
  rounds to infinity such as ``1e400``), or a ``Decimal`` of :data:`DECIMAL_LIMIT` or more
  in magnitude (amounts are stored with 12 digits before the point);
* is a ``DateTime`` without a time zone offset, or one that is out of range in UTC;
* is an explicit ``null`` (through a variable) where a value is required: the input field
  has a default, and leaving it out is how to ask for the default.

Variables that do not coerce are refused here too (at most ten errors). They are coerced
from :func:`bounded_variables`, so the work is bounded by the limits however long a list
or however many unknown fields an input object carries.

The actions keep their own, often tighter, limits (a title is at most 200 characters);
this check makes sure nothing that reaches them is beyond what storage and JSON hold, on
every database alike. Refused operations answer ``data: null``.
"""

from __future__ import annotations

import logging
import math
import re
import secrets
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInputType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    Node,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableDefinitionNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    is_input_object_type,
    is_input_type,
    is_list_type,
    is_non_null_type,
    specified_rules,
    type_from_ast,
    validate,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.type import GraphQLInputObjectType
from strawberry.extensions import SchemaExtension

from actions._common import DESCRIPTION_MAX_LENGTH, PAGE_MAX_LENGTH

MAX_LIST_ITEMS = 100
DEFAULT_TEXT_LIMIT = DESCRIPTION_MAX_LENGTH
ID_MAX_LENGTH = 200
DECIMAL_LIMIT = Decimal(10) ** 12
EMAIL_MAX_LENGTH = 254
TEXT_LIMITS: Mapping[str, int] = {
    "CreatePageInput.body": PAGE_MAX_LENGTH,
    "UpdatePageInput.body": PAGE_MAX_LENGTH,
    "LoginInput.email": EMAIL_MAX_LENGTH,
    "InviteContactInput.email": EMAIL_MAX_LENGTH,
    "Query.auditLog(action:)": 64,
    "Query.auditLog(target:)": 200,
}
"""Text limits by schema coordinate (``InputType.field``, ``Type.field(argument:)``) where
the default does not fit: longer page bodies; filters and lookups no longer than the
column they compare with."""

log = logging.getLogger("extranet.errors")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_MAX_ERRORS = 10


def _refusal(message: str, path: Sequence[str | int], node: Node | None) -> GraphQLError:
    named = [p for p in path if isinstance(p, str)]
    return GraphQLError(
        message,
        nodes=[node] if node is not None else None,
        extensions={
            "code": "BAD_USER_INPUT",
            "field": named[-1] if named else "",
            "argumentPath": list(path),
        },
    )


def _text_problem(value: str, limit: int) -> str | None:
    if len(value) > limit:
        return f"is {len(value):,} characters long; the limit is {limit:,}."
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "holds the NUL character (U+0000), which cannot be stored: remove it."
    return (
        f"holds an unpaired surrogate (U+{ord(found.group()):04X}), which is not text: "
        "send characters outside the Basic Multilingual Plane as a surrogate pair."
    )


def _time_problem(value: datetime) -> str | None:
    if value.utcoffset() is None:
        return "needs a time zone offset, such as 2026-11-23T08:00:00Z or +01:00."
    try:
        value.astimezone(UTC)
    except OverflowError:
        return "is out of range: give a time between the years 1 and 9999 in UTC."
    return None


class _Values:
    """Walks coerced argument values against their types, collecting refusals."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.errors: list[GraphQLError] = []

    def refuse(self, what: str, path: Sequence[str | int]) -> None:
        if len(self.errors) < _MAX_ERRORS:
            shown = ".".join(str(p) for p in path)
            self.errors.append(_refusal(f"{shown} {what}", path, self.node))

    def check(
        self, value: Any, type_: GraphQLInputType, path: list[str | int], coordinate: str
    ) -> None:
        if value is None:
            return
        nullable = get_nullable_type(type_)
        if is_list_type(nullable):
            items = value if isinstance(value, list) else [value]
            if len(items) > MAX_LIST_ITEMS:
                self.refuse(
                    f"holds more than {MAX_LIST_ITEMS} items: send at most that many.", path
                )
                return
            for index, item in enumerate(items):
                self.check(item, nullable.of_type, [*path, index], coordinate)
        elif is_input_object_type(nullable) and isinstance(value, Mapping):
            self.fields(value, nullable, path)
        else:
            self.leaf(value, get_named_type(nullable).name, path, coordinate)

    def fields(
        self, value: Mapping[str, Any], type_: GraphQLInputObjectType, path: list[str | int]
    ) -> None:
        for name, field in type_.fields.items():
            key = field.out_name or name
            if key in value:
                self.check(value[key], field.type, [*path, name], f"{type_.name}.{name}")

    def leaf(self, value: Any, scalar: str, path: list[str | int], coordinate: str) -> None:
        if isinstance(value, str):
            default = ID_MAX_LENGTH if scalar == "ID" else DEFAULT_TEXT_LIMIT
            problem = _text_problem(value, TEXT_LIMITS.get(coordinate, default))
            if problem is not None:
                self.refuse(problem, path)
        elif isinstance(value, Decimal):
            # copy_abs is exact: abs() rounds to the context and overflows on 1e999999999
            if not value.is_finite() or value.copy_abs() >= DECIMAL_LIMIT:
                self.refuse(f"must be a finite number below {DECIMAL_LIMIT:,}.", path)
        elif isinstance(value, float) and not math.isfinite(value):
            self.refuse("must be a finite number.", path)
        elif isinstance(value, datetime):
            problem = _time_problem(value)
            if problem is not None:
                self.refuse(problem, path)
        elif isinstance(value, Mapping):  # a JSON scalar: its texts must be storable
            for key, item in value.items():
                self.leaf(key, scalar, path, coordinate)
                self.leaf(item, scalar, path, coordinate)
        elif isinstance(value, list):
            for item in value:
                self.leaf(item, scalar, path, coordinate)


def _required_null(
    node: Node, type_: GraphQLInputType, variables: Mapping[str, Any], path: list[str | int]
) -> list[str | int] | None:
    """Where a variable that is ``null`` stands for a value that is required."""
    if isinstance(node, VariableNode):
        name = node.name.value
        required = is_non_null_type(type_)
        return path if required and name in variables and variables[name] is None else None
    nullable = get_nullable_type(type_)
    if isinstance(node, ObjectValueNode) and is_input_object_type(nullable):
        for field_node in node.fields:
            field = nullable.fields.get(field_node.name.value)
            if field is not None:
                name = field_node.name.value
                found = _required_null(field_node.value, field.type, variables, [*path, name])
                if found is not None:
                    return found
    if isinstance(node, ListValueNode) and is_list_type(nullable):
        for index, item in enumerate(node.values):
            found = _required_null(item, nullable.of_type, variables, [*path, index])
            if found is not None:
                return found
    return None


class _Operation:
    """The arguments of one operation's fields, each fragment walked once."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: VariableValues,
        given: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.given = given  # as sent: a null the coercion may have replaced is seen here
        self.walked: set[str] = set()
        self.errors: list[GraphQLError] = []

    def selections(self, selections: SelectionSetNode, parent: Any) -> None:
        for selection in selections.selections:
            if len(self.errors) >= _MAX_ERRORS:
                return
            if isinstance(selection, FieldNode):
                self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                self.selections(selection.selection_set, target)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in self.walked:
                    self.walked.add(name)
                    target = self.schema.get_type(fragment.type_condition.name.value)
                    self.selections(fragment.selection_set, target)

    def field(self, node: FieldNode, parent: Any) -> None:
        fields: Mapping[str, GraphQLField] = getattr(parent, "fields", None) or {}
        definition = fields.get(node.name.value)
        if definition is None:
            return  # __typename and the introspection fields
        if node.arguments:
            self.arguments(node, definition, f"{parent.name}.{node.name.value}")
        if node.selection_set is not None:
            self.selections(node.selection_set, get_named_type(definition.type))

    def arguments(self, node: FieldNode, definition: GraphQLField, coordinate: str) -> None:
        try:
            values = get_argument_values(definition, node, self.variables)
        except GraphQLError as error:
            self.errors.append(self.coercion_refusal(node, definition, error))
            return
        for argument in node.arguments or ():
            name = argument.name.value
            known = definition.args.get(name)
            if known is None or (known.out_name or name) not in values:
                continue
            walk = _Values(argument)
            path: list[str | int] = [node.name.value, name]
            walk.check(values[known.out_name or name], known.type, path, f"{coordinate}({name}:)")
            self.errors.extend(walk.errors)

    def coercion_refusal(
        self, node: FieldNode, definition: GraphQLField, error: GraphQLError
    ) -> GraphQLError:
        for argument in node.arguments or ():
            known = definition.args.get(argument.name.value)
            if known is None:
                continue
            path: list[str | int] = [node.name.value, argument.name.value]
            found = _required_null(argument.value, known.type, self.given, path)
            if found is not None:
                shown = ".".join(str(p) for p in found)
                return _refusal(
                    f"{shown} may not be null: leave it out for its default.", found, argument
                )
        return _refusal(error.message, [node.name.value], node)


def _bounded(value: Any, type_: GraphQLInputType) -> Any:
    """A copy of a variable's value as sent, whose coercion takes time bounded by the
    limits: lists cut to one item over :data:`MAX_LIST_ITEMS` (refused below, as the
    original would be), and of the fields an input object does not have, only the first
    kept (refused by coercion, as all of them would be). Coercing every item of a long
    list takes about 3 µs each, and reporting every unknown field takes quadratic time."""
    nullable = get_nullable_type(type_)
    if is_list_type(nullable) and isinstance(value, list):
        return [_bounded(item, nullable.of_type) for item in value[: MAX_LIST_ITEMS + 1]]
    if is_input_object_type(nullable) and isinstance(value, dict):
        fields = nullable.fields
        unknown = next((key for key in value if key not in fields), None)
        bounded = {
            key: _bounded(item, fields[key].type) for key, item in value.items() if key in fields
        }
        if unknown is not None:
            bounded[unknown] = value[unknown]
        return bounded
    return value


def bounded_variables(
    schema: GraphQLSchema,
    definitions: Sequence[VariableDefinitionNode],
    variables: Mapping[str, Any],
) -> dict[str, Any]:
    """The variables as sent, each list cut to one item over :data:`MAX_LIST_ITEMS` and each
    input object to its own fields and one other: coercing them takes time bounded by the
    limits, and refuses just what coercing the originals would."""
    bounded = dict(variables)
    for definition in definitions:
        name = definition.variable.name.value
        type_ = type_from_ast(schema, definition.type)
        if name in bounded and is_input_type(type_):
            bounded[name] = _bounded(bounded[name], type_)
    return bounded


def _coercion_refusal(error: GraphQLError) -> GraphQLError:
    extensions = {**(error.extensions or {}), "code": "BAD_USER_INPUT"}
    return GraphQLError(error.message, nodes=error.nodes, extensions=extensions)


def argument_errors(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    raw_variables: Mapping[str, Any] | None,
    *,
    hide_suggestions: bool = False,
) -> list[GraphQLError]:
    """The refusals for one validated operation's arguments (empty when all may be used),
    variables that do not coerce included (at most ten errors)."""
    given = dict(raw_variables or {})
    definitions = operation.variable_definitions or ()
    bounded = bounded_variables(schema, definitions, given)
    coerced = get_variable_values(
        schema, definitions, bounded, max_errors=_MAX_ERRORS, hide_suggestions=hide_suggestions
    )
    if isinstance(coerced, list):
        return [_coercion_refusal(error) for error in coerced]
    walk = _Operation(schema, fragments, coerced, given)
    root = schema.get_root_type(operation.operation)
    walk.selections(operation.selection_set, root)
    return walk.errors


def _is_production(context: Any) -> bool:
    settings = getattr(context, "settings", None)
    return bool(getattr(settings, "is_production", True))


class CheckedInputs(SchemaExtension):
    """Refuse an operation whose arguments hold what storage or JSON cannot (see module).

    Runs in validation, after the document has been validated (by ``CheckedDocuments``,
    which this follows in the schema's extensions, or here when nothing validated it).
    """

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if context.pre_execution_errors is None and document is not None:
            context.pre_execution_errors = validate(
                context.schema._schema, document, specified_rules
            )
        if document is not None and not context.pre_execution_errors:
            operation = get_operation_ast(document, context.operation_name)
            if operation is not None:
                fragments = {
                    d.name.value: d
                    for d in document.definitions
                    if isinstance(d, FragmentDefinitionNode)
                }
                variables = context.variables if isinstance(context.variables, dict) else None
                try:
                    errors = argument_errors(
                        context.schema._schema,
                        operation,
                        fragments,
                        variables,
                        hide_suggestions=_is_production(context.context),
                    )
                except Exception:  # a defect here must neither skip the check nor leak
                    reference = secrets.token_hex(6)
                    log.exception("Checking the arguments failed (reference %s)", reference)
                    message = f"Something went wrong on our side (reference {reference})."
                    extensions = {"code": "INTERNAL", "reference": reference}
                    errors = [GraphQLError(message, extensions=extensions)]
                if errors:
                    context.pre_execution_errors = errors
        yield
