"""What a request may ask of the server, checked before any resolver runs.

One extension parses and validates every document (both cached by its text) and refuses,
with one short ``BAD_USER_INPUT`` error naming the limit, a document that is:

* larger than ``max_document_bytes`` (never parsed) or longer than ``max_tokens`` tokens
  (the parser stops there);
* more than one operation (no batching in one document);
* deeper than ``max_depth``, with more than ``max_aliases`` aliases or a node with more
  than ``max_directives`` directives, counted through fragments wherever they are spread
  (so fragments cannot hide them; a fragment cycle is refused by validation);
* defining more than ``MAX_FRAGMENTS`` fragments, spreading more than ``MAX_REPEATS``
  fragments at one place, selecting one response name more than ``MAX_REPEATS`` times at
  one place of the result (the selections of the fragments that meet there included), or
  with fragments that expand to more than ``EXPANSION_FACTOR`` times the document's
  selections: the merge check of the specification (``OverlappingFieldsCanBeMerged``)
  compares such selections pairwise, and these bounds keep its work linear in the
  document's size;
* more expensive than ``max_cost``: each field costs one, times the size of every list
  it sits in (a connection's ``first`` as the operation will receive it: a literal, a
  variable or a variable's default, coerced; 20 when not given; other lists count as
  ``LIST_SIZE``). The cost of every operation is reported in ``extensions.cost``.

Introspection (``__schema`` and ``__type`` with everything below them; off in production)
is measured apart, so that every standard client's introspection query runs: graphql-js's
``getIntrospectionQuery()`` (and graphql-core's, which gql's ``fetch_schema_from_transport``
sends) with all its options and the default ``typeDepth`` of 9 is 15 levels deep and costs
about 52,000 by the count above. Its fields count against ``INTROSPECTION_DEPTH`` levels (or
``max_depth`` if larger: a ``typeDepth`` of up to 14) and ``INTROSPECTION_COST`` (or
``max_cost`` if larger), counted as above, each list of the introspection types as
``LIST_SIZE`` items; the rest of the operation counts against ``max_depth`` and
``max_cost``. graphql-js's ``MaxIntrospectionDepthRule`` (one of the validation rules)
refuses ``fields``, ``interfaces``, ``possibleTypes`` or ``inputFields`` nested three times,
and aliases, tokens, bytes, directives and repeats count as everywhere, so the answer to an
introspection query stays within a small multiple of the schema's own size (the standard
query's: about 8,500 values, 180 KB).

These checks run before the validation rules of the specification, so a refused document
never reaches them. Every walk visits each definition once: a fragment's depth, aliases,
directives, cost and expansion are computed once (in dependency order, fragments first)
and reused at every spread, so the work is linear in the document's size however often
fragments spread one another. Variables are coerced once, before the cost is computed;
invalid variables are refused with graphql-core's messages.

Validation stops after ``MAX_VALIDATION_ERRORS`` errors. In production, introspection is
refused (but for ``__type(name:) { name }``, which tells whether a type of that name exists
and nothing about it: GraphQL-over-HTTP conformance checks ask it), validation and
variable errors carry no "did you mean" suggestions and name no schema type
(:func:`public_message`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
    parse,
    specified_rules,
    validate,
)
from graphql.execution import VariableValues, get_argument_values, get_variable_values
from graphql.language import VisitorAction
from graphql.type import (
    GraphQLNamedType,
    SchemaMetaFieldDef,
    TypeMetaFieldDef,
    is_introspection_type,
)
from graphql.validation import ValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from graphql_schema.inputs import bounded_variables
from graphql_schema.relay import DEFAULT_PAGE_SIZE
from infra.lru import LRU
from infra.settings import QueryLimits

MAX_VALIDATION_ERRORS = 10
MAX_REPEATS = 20
MAX_FRAGMENTS = 50
EXPANSION_FACTOR = 20
LIST_SIZE = 10
CACHE_SIZE = 256
MAX_COSTED_VARIABLES = 2048  # characters of the variables' JSON a cost check is kept by
_REFUSED = parse("{ __typename }")  # stands in for a document that is never parsed


_NAME_ONLY = frozenset({"name", "__typename"})


class ProductionIntrospection(ValidationRule):
    """Introspection is refused, except ``__type(name:)`` selecting only its ``name``."""

    def enter_field(self, node: FieldNode, *_args: Any) -> VisitorAction:
        selections = node.selection_set.selections if node.selection_set else ()
        if node.name.value == "__type" and all(
            isinstance(s, FieldNode) and s.name.value in _NAME_ONLY for s in selections
        ):
            return self.SKIP
        kind = get_named_type(self.context.get_type())
        if kind is not None and is_introspection_type(kind):
            self.report_error(
                GraphQLError(
                    "GraphQL introspection has been disabled, but the requested query"
                    f" contained the field '{node.name.value}'.",
                    node,
                )
            )
        return None


_SPREADS = "..."  # the key under which fragment spreads are counted at one place
INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})
INTROSPECTION_DEPTH = 20
INTROSPECTION_COST = 100_000


def _refusal(message: str, limit: str, maximum: int, actual: int | None = None) -> GraphQLError:
    extensions: dict[str, Any] = {"code": "BAD_USER_INPUT", "limit": limit, "maximum": maximum}
    if actual is not None:
        extensions["actual"] = actual
    return GraphQLError(message, extensions=extensions)


@dataclass(slots=True)
class _Place:
    """A position in the result: how often each response name is selected there, and the
    positions below it. Inline fragments add to the position of their parent, and the
    sub-selections of all fields with one response name at one position share one
    position: that is how the merge check of the specification pairs selections."""

    counts: dict[str, int] = field(default_factory=dict)
    below: dict[str, _Place] = field(default_factory=dict)
    fragments: set[str] = field(default_factory=set)  # spread here (each counted once)


@dataclass(slots=True)
class _Outline:
    """What one definition (operation or fragment) holds by itself, spreads aside."""

    depth: int = 0  # deepest field; 1 is a field of the definition's own selection set
    introspection_depth: int = 0  # deepest field in an introspection field's subtree
    aliases: int = 0
    directives: int = 0  # most directives on one node
    spreads_here: int = 0  # most fragment spreads at one position
    root: _Place = field(default_factory=_Place)
    # (fragment, depth there, whether it is spread inside an introspection field's subtree)
    spreads: list[tuple[str, int, bool]] = field(default_factory=list)
    visited: int = 0  # selections visited


def _outline(definition: OperationDefinitionNode | FragmentDefinitionNode) -> _Outline:
    """One pass over the definition's own selections, with an explicit stack."""
    outline = _Outline(directives=len(definition.directives or ()))
    stack = [(definition.selection_set, 1, outline.root, False)]
    spread_counts: dict[int, int] = {}
    while stack:
        selections, depth, place, introspective = stack.pop()
        for selection in selections.selections:
            outline.visited += 1
            outline.directives = max(outline.directives, len(selection.directives or ()))
            if isinstance(selection, FieldNode):
                if selection.alias is not None:
                    outline.aliases += 1
                inside = introspective or selection.name.value in INTROSPECTION_FIELDS
                if inside:
                    outline.introspection_depth = max(outline.introspection_depth, depth)
                else:
                    outline.depth = max(outline.depth, depth)
                name = (selection.alias or selection.name).value
                place.counts[name] = place.counts.get(name, 0) + 1
                if selection.selection_set is not None:
                    inner = place.below.setdefault(name, _Place())
                    stack.append((selection.selection_set, depth + 1, inner, inside))
            elif isinstance(selection, InlineFragmentNode):
                stack.append((selection.selection_set, depth, place, introspective))
            elif isinstance(selection, FragmentSpreadNode):
                count = spread_counts[id(place)] = spread_counts.get(id(place), 0) + 1
                outline.spreads_here = max(outline.spreads_here, count)
                place.fragments.add(selection.name.value)
                outline.spreads.append((selection.name.value, depth, introspective))
    return outline


class _TooLarge(Exception):
    """The fragments expand to more selections than the budget."""


@dataclass(slots=True)
class _Expansion:
    """Definitions with the fragments they spread merged in, position by position (each
    fragment once per position, each fragment's expansion computed once and reused), to
    count the selections the merge check will pair; the work stops at ``budget``."""

    budget: int
    work: int = 0
    worst: tuple[int, str] = (0, "")  # most selections of one response name at a position
    fragments: dict[str, _Place] = field(default_factory=dict)

    def add(self, into: _Place, source: _Place) -> None:
        stack = [(into, source)]
        while stack:
            target, place = stack.pop()
            self.work += 1 + len(place.counts) + len(place.fragments)
            if self.work > self.budget:
                raise _TooLarge
            for name, count in place.counts.items():
                total = target.counts[name] = target.counts.get(name, 0) + count
                self.worst = max(self.worst, (total, name))
            for fragment in place.fragments:
                expanded = self.fragments.get(fragment)  # None: unknown, or in a cycle
                if expanded is not None:
                    stack.append((target, expanded))
            for name, below in place.below.items():
                stack.append((target.below.setdefault(name, _Place()), below))

    def expand(self, outline: _Outline) -> _Place:
        merged = _Place()
        self.add(merged, outline.root)
        return merged


def _dependency_order(spreads: Mapping[str, Sequence[str]]) -> list[str]:
    """Every name of ``spreads`` after the names it spreads (an iterative depth-first
    walk; a spread that closes a cycle is left out, validation refuses cycles)."""
    order: list[str] = []
    seen: set[str] = set()
    for root in spreads:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(spreads[root]))]
        while stack:
            name, pending = stack[-1]
            for child in pending:
                if child in spreads and child not in seen:
                    seen.add(child)
                    stack.append((child, iter(spreads[child])))
                    break
            else:
                stack.pop()
                order.append(name)
    return order


@dataclass(frozen=True, slots=True)
class _Reach:
    """Depth (outside and inside introspection), aliases and directives of a definition
    through the fragments it spreads."""

    depth: int
    introspection_depth: int
    aliases: int
    directives: int


def _reach(outline: _Outline, fragments: Mapping[str, _Reach]) -> _Reach:
    depth, introspection_depth = outline.depth, outline.introspection_depth
    aliases, directives = outline.aliases, outline.directives
    for name, at, introspective in outline.spreads:
        spread = fragments.get(name)  # None: unknown, or closes a cycle (both refused)
        if spread is None:
            continue
        if introspective:  # everything the fragment selects there is introspection
            deepest = max(spread.depth, spread.introspection_depth)
            introspection_depth = max(introspection_depth, at - 1 + deepest)
        else:
            depth = max(depth, at - 1 + spread.depth)
            if spread.introspection_depth:
                introspection_depth = max(introspection_depth, at - 1 + spread.introspection_depth)
        aliases += spread.aliases
        directives = max(directives, spread.directives)
    return _Reach(depth, introspection_depth, aliases, directives)


@dataclass(slots=True)
class Walk:
    """How many nodes the shape walk visited (its work; for tests and benchmarks)."""

    nodes: int = 0


def shape_errors(
    document: DocumentNode, limits: QueryLimits, walk: Walk | None = None
) -> list[GraphQLError]:
    """The limits ``document`` breaks (empty when none), each a ``BAD_USER_INPUT`` error
    with ``extensions.limit``, ``maximum`` and, when counted, ``actual``; work linear in
    the document's size (``walk`` counts it)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) > 1:
        return [_refusal("Send one operation per request.", "operations", 1, len(operations))]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    defined = len(document.definitions) - len(operations)
    if defined > MAX_FRAGMENTS:
        message = f"The document defines {defined} fragments; at most {MAX_FRAGMENTS}."
        return [_refusal(message, "fragments", MAX_FRAGMENTS, defined)]
    outlines = {name: _outline(fragment) for name, fragment in fragments.items()}
    operation_outlines = [_outline(operation) for operation in operations]
    if walk is not None:
        walk.nodes += sum(o.visited for o in (*outlines.values(), *operation_outlines))
    spreads_here = max(
        (o.spreads_here for o in (*outlines.values(), *operation_outlines)), default=0
    )
    if spreads_here > MAX_REPEATS:
        message = f"The query spreads {spreads_here} fragments at one place; at most {MAX_REPEATS}."
        return [_refusal(message, "repeats", MAX_REPEATS, spreads_here)]
    order = _dependency_order({n: [s for s, _, _ in o.spreads] for n, o in outlines.items()})
    reached: dict[str, _Reach] = {}
    for name in order:
        reached[name] = _reach(outlines[name], reached)
    errors = []
    for outline in operation_outlines:
        shape = _reach(outline, reached)
        if shape.depth > limits.max_depth:
            message = f"The query is {shape.depth} levels deep; at most {limits.max_depth}."
            errors.append(_refusal(message, "depth", limits.max_depth, shape.depth))
        deepest = max(limits.max_depth, INTROSPECTION_DEPTH)
        if shape.introspection_depth > deepest:
            message = (
                f"The introspection query is {shape.introspection_depth} levels deep; "
                f"at most {deepest}."
            )
            errors.append(
                _refusal(message, "introspectionDepth", deepest, shape.introspection_depth)
            )
        if shape.aliases > limits.max_aliases:
            message = f"The query uses {shape.aliases} aliases; at most {limits.max_aliases}."
            errors.append(_refusal(message, "aliases", limits.max_aliases, shape.aliases))
        if shape.directives > limits.max_directives:
            message = f"At most {limits.max_directives} directives may sit on one field."
            errors.append(_refusal(message, "directives", limits.max_directives))
    if errors:
        return errors
    selections = sum(o.visited for o in (*outlines.values(), *operation_outlines))
    expansion = _Expansion(EXPANSION_FACTOR * selections)
    try:
        for name in order:
            expansion.fragments[name] = expansion.expand(outlines[name])
        for outline in operation_outlines:
            expansion.expand(outline)
    except _TooLarge:
        message = (
            f"The fragments of this query expand to more than {EXPANSION_FACTOR} times its "
            "selections; spread fewer fragments in fewer places."
        )
        return [_refusal(message, "fragmentExpansion", EXPANSION_FACTOR)]
    if walk is not None:
        walk.nodes += expansion.work
    repeats, repeated = expansion.worst
    if repeats > MAX_REPEATS:
        message = f"The query selects '{repeated}' {repeats} times at one place"
        message += f" (fragments included); at most {MAX_REPEATS}."
        return [_refusal(message, "repeats", MAX_REPEATS, repeats)]
    return []


@dataclass(frozen=True, slots=True)
class Cost:
    """The cost of selections: outside introspection, and of introspection fields (the
    ``__schema`` and ``__type`` fields with everything below them)."""

    regular: int = 0
    introspection: int = 0

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.regular + other.regular, self.introspection + other.introspection)

    def times(self, size: int) -> Cost:
        return Cost(self.regular * size, self.introspection * size)


_INTROSPECTION = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}


class _Cost:
    """Cost of selection sets; each fragment's cost is computed once, then reused."""

    def __init__(self, schema: GraphQLSchema, variables: VariableValues | None) -> None:
        self.schema = schema
        self.variables = variables
        self.fragments: dict[str, Cost] = {}  # a spread of an unknown one costs nothing
        self.visited = 0  # selections visited

    def selections(self, selections: SelectionSetNode, parent: Any) -> Cost:
        total = Cost()
        for selection in selections.selections:
            self.visited += 1
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(selection.selection_set, target)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragments.get(selection.name.value, Cost())
        return total

    def first(self, definition: GraphQLField, node: FieldNode) -> int:
        """The ``first`` the resolver will receive (literal, variable or default)."""
        try:
            first = get_argument_values(definition, node, self.variables).get("first")
        except GraphQLError:  # refused by execution before any resolver runs
            return DEFAULT_PAGE_SIZE
        return first if isinstance(first, int) else DEFAULT_PAGE_SIZE

    def field(self, node: FieldNode, parent: Any) -> Cost:
        fields = getattr(parent, "fields", None) or {}
        definition = fields.get(node.name.value)
        if parent is self.schema.query_type and node.name.value in _INTROSPECTION:
            definition = _INTROSPECTION[node.name.value]
            if node.selection_set is None:
                return Cost(introspection=1)
            below = self.selections(node.selection_set, get_named_type(definition.type))
            return Cost(introspection=1 + below.regular + below.introspection)
        if definition is None or node.selection_set is None:
            return Cost(regular=1)
        named = get_named_type(definition.type)
        size = 1
        if getattr(parent, "name", "").endswith("Connection") and node.name.value == "edges":
            size = 1  # a connection's size is its `first`, counted on the connection field
        elif named.name.endswith("Connection"):
            size = self.first(definition, node)
        elif is_list_type(get_nullable_type(definition.type)):
            size = LIST_SIZE
        return Cost(regular=1) + self.selections(node.selection_set, named).times(max(size, 0))


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: VariableValues | None,
    walk: Walk | None = None,
) -> int:
    """The cost of the document's operations outside introspection (see
    :func:`operation_costs`)."""
    return operation_costs(schema, document, operation_name, variables, walk).regular


def operation_costs(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: VariableValues | None,
    walk: Walk | None = None,
) -> Cost:
    """The cost of the document's operations (the one named ``operation_name`` if given),
    outside and inside introspection, with ``variables`` as
    :func:`graphql.get_variable_values` coerced them (None: none); ``walk`` counts the
    selections visited."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    cost = _Cost(schema, variables)
    spreads = {name: _spread_names(fragment.selection_set) for name, fragment in fragments.items()}
    for name in _dependency_order(spreads):
        fragment = fragments[name]
        target = schema.get_type(fragment.type_condition.name.value)
        cost.fragments[name] = cost.selections(fragment.selection_set, target)
    total = Cost()
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if operation_name and definition.name and definition.name.value != operation_name:
            continue
        root: GraphQLNamedType | None = {
            "query": schema.query_type,
            "mutation": schema.mutation_type,
            "subscription": schema.subscription_type,
        }[definition.operation.value]
        total += cost.selections(definition.selection_set, root)
    if walk is not None:
        walk.nodes += cost.visited
    return total


def _spread_names(selection_set: SelectionSetNode) -> list[str]:
    names: list[str] = []
    stack = [selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                names.append(selection.name.value)
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                stack.append(selection.selection_set)
    return names


_TYPE = r"'[^']*'"
_REWRITES = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (rf"Cannot query field ('[^']*') on type {_TYPE}\.", r"Cannot query field \1 here."),
        (rf"Field ('[^']*') of type {_TYPE} must have", r"Field \1 must have"),
        (
            rf"Field ('[^']*') must not have a selection since type {_TYPE} has no subfields\.",
            r"Field \1 must not have a selection since it has no subfields.",
        ),
        (rf"('[^']*') of (?:required |non-null )?type {_TYPE}", r"\1"),
        (
            rf"Fragment( '[^']*')? cannot be spread here as objects of type {_TYPE} can never "
            rf"be of type {_TYPE}\.",
            r"Fragment\1 cannot be spread here: its type condition never matches here.",
        ),
        (
            rf"Fragment( '[^']*')? cannot condition on non composite type {_TYPE}\.",
            r"Fragment\1 cannot condition on a type without fields.",
        ),
        (
            rf"Variable ('\$[^']*') cannot be non-input type {_TYPE}\.",
            r"Variable \1 must be of an input type.",
        ),
        (
            rf"Variable ('\$[^']*') used in position expecting type {_TYPE}\.",
            r"Variable \1 is used where a value of another type is expected.",
        ),
        (
            rf"Variable ('\$[^']*') is of type {_TYPE} but must be non-nullable to be used for "
            rf"OneOf Input Object {_TYPE}\.",
            r"Variable \1 must be non-nullable to be used for a OneOf input object.",
        ),
        (rf"they return conflicting types {_TYPE} and {_TYPE}", "they return conflicting types"),
        (
            rf"(Stream|Defer) directive cannot be used on root (\w+) type {_TYPE}\.",
            r"\1 directive cannot be used on the root \2 type.",
        ),
        (rf"(non-list field(?: '[^']*')?) on type {_TYPE}", r"\1"),
        (
            rf"Expected (?:a )?value of (?:non-null )?type {_TYPE} to include required field",
            "Missing the required field",
        ),
        (
            rf"Expected (?:a )?value of (?:non-null )?type {_TYPE} not to include unknown field",
            "Unknown field",
        ),
        (
            rf"Expected (?:a )?value of (?:non-null )?type {_TYPE} to be provided",
            "A value is required",
        ),
        (
            rf"Expected (?:a )?value of (?:non-null )?type {_TYPE} not to be None",
            "The value may not be null",
        ),
        (
            rf"Expected (?:a )?value of (?:non-null )?type {_TYPE} to be an object",
            "Expected an object",
        ),
        (
            rf"Expected (?:a )?value of (?:non-null )?type {_TYPE}",
            "Expected a value of another type",
        ),
        (rf"provided to (?:non-null )?type {_TYPE}", "provided here"),
        (rf"(?:for|Within) OneOf Input Object(?: type)? {_TYPE}", "for this OneOf input object"),
        (rf"Enum {_TYPE} cannot represent", "The enum cannot represent"),
        (r"Value cannot represent an? [_A-Za-z][_0-9A-Za-z]*:", "Invalid value:"),
        (rf" in {_TYPE} enum", " in this enum"),
        (rf"Expected type {_TYPE}", "Expected another type"),
        (rf" (?:on|by|to) type {_TYPE}", ""),
    )
)
_QUALIFIED = re.compile(r"'@?([_A-Za-z][_0-9A-Za-z]*)\.([^']*)'")
_QUOTED = re.compile(r"'\[*([_A-Za-z][_0-9A-Za-z]*)[\]!]*'")


def public_message(message: str, schema: GraphQLSchema) -> str:
    """``message`` (of validation or variable coercion) without the schema's type names:
    what is wrong, said in the terms of the request (its fields, arguments, variables)."""
    for pattern, replacement in _REWRITES:
        message = pattern.sub(replacement, message)
    types = schema.type_map
    message = _QUALIFIED.sub(lambda m: f"'{m[2]}'" if m[1] in types else m[0], message)
    return _QUOTED.sub(lambda m: "a type" if m[1] in types else m[0], message)


def _public(error: GraphQLError, schema: GraphQLSchema) -> GraphQLError:
    return GraphQLError(
        public_message(error.message, schema),
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions=error.extensions,
    )


def check_document(
    schema: GraphQLSchema, document: DocumentNode, limits: QueryLimits
) -> list[GraphQLError]:
    """Why ``document`` may not run (empty when it may, variables aside): the request
    limits first, then, for a document within them, the rules of the specification (at
    most ``MAX_VALIDATION_ERRORS`` errors; in production without suggestions, type names
    or introspection)."""
    errors = shape_errors(document, limits)
    if errors:
        return errors
    rules = list(specified_rules)
    if limits.production:
        rules.append(ProductionIntrospection)
    errors = validate(
        schema,
        document,
        rules,
        max_errors=MAX_VALIDATION_ERRORS,
        hide_suggestions=limits.production,
    )
    return [_public(e, schema) for e in errors] if limits.production else errors


def coerced_variables(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Any,
    limits: QueryLimits,
) -> VariableValues | list[GraphQLError] | None:
    """The operation's variables as execution will see them (defaults applied, values
    coerced), or why they are invalid; None when there is no such operation. Lists are
    coerced only as far as the input limits let them through (:func:`bounded_variables`),
    so the work is bounded however long a list was sent."""
    operation = next(
        (
            d
            for d in document.definitions
            if isinstance(d, OperationDefinitionNode)
            and (not operation_name or (d.name is not None and d.name.value == operation_name))
        ),
        None,
    )
    if operation is None:
        return None
    definitions = operation.variable_definitions or ()
    values = get_variable_values(
        schema,
        definitions,
        bounded_variables(schema, definitions, variables if isinstance(variables, Mapping) else {}),
        max_errors=MAX_VALIDATION_ERRORS,
        hide_suggestions=limits.production,
    )
    if isinstance(values, list) and limits.production:
        return [_public(e, schema) for e in values]
    return values


class CheckedDocumentCache:
    """Parsed documents by their text and token limit, what :func:`check_document`
    found in them by their text and the request limits, and what the cost check found (the
    refusal and the cost) by the text, the limits, the operation's name and the variables'
    JSON as sent (at most ``MAX_COSTED_VARIABLES`` characters; longer ones are checked each
    time): the ``size`` least recently used of each. One per process, made by the
    application and reached from each request's context (``context.process.documents``).

    strawberry's ``ParserCache`` and ``ValidationCache`` do not serve here: their caches
    are shared by every schema and application of the interpreter (one per size, for
    ever), the parser's does not refuse a document by its size before parsing it, and the
    validation's keeps the stock rules' errors only, not the limits checked before them
    (whose walk stays ours: strawberry's ``MaxAliasesLimiter`` and ``QueryDepthLimiter``
    walk a fragment again at every spread, so nested spreads multiply their work, where
    :func:`shape_errors` measures each fragment once)."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.parsed: LRU[tuple[str, int], DocumentNode] = LRU(size)
        self.checked: LRU[tuple[str | None, QueryLimits], list[GraphQLError]] = LRU(size)
        self.costed: LRU[
            tuple[str | None, QueryLimits, str | None, str], tuple[list[GraphQLError], int | None]
        ] = LRU(size)


def _cache_of(context: Any) -> CheckedDocumentCache:
    process = getattr(context, "process", None)
    documents = getattr(process, "documents", None)
    # executed without the application's context: nothing is kept
    return documents if isinstance(documents, CheckedDocumentCache) else CheckedDocumentCache(1)


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
            parsed = _cache_of(context.context).parsed
            document = parsed.get((query, limits.max_tokens))
            if document is None:
                try:
                    document = parse(query, max_tokens=limits.max_tokens)
                    parsed.put((query, limits.max_tokens), document)
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
        schema = context.schema._schema
        document = context.graphql_document
        assert document is not None
        key = (context.query, limits)
        checked = _cache_of(context.context).checked
        errors = checked.get(key)
        if errors is None:
            errors = checked.put(key, check_document(schema, document, limits))
        if not errors:
            errors = self._costed(schema, document, limits)
        context.pre_execution_errors = list(errors)
        yield

    def _costed(
        self, schema: GraphQLSchema, document: DocumentNode, limits: QueryLimits
    ) -> list[GraphQLError]:
        """:meth:`_cost_errors`, kept by the document's text, the limits, the operation's
        name and the variables' JSON (the only things it depends on: a reconnecting client
        sends the same subscription again)."""
        context = self.execution_context
        try:
            variables = json.dumps(context.variables, ensure_ascii=False, allow_nan=True)
        except (TypeError, ValueError):  # not JSON (not from a client's request): not kept
            return self._cost_errors(schema, document, limits)
        if len(variables) > MAX_COSTED_VARIABLES:
            return self._cost_errors(schema, document, limits)
        costed = _cache_of(context.context).costed
        key = (context.query, limits, context.operation_name, variables)
        found = costed.get(key)
        if found is None:
            errors = self._cost_errors(schema, document, limits)
            found = costed.put(key, (errors, self.cost))
        errors, self.cost = found
        return errors

    def _cost_errors(
        self, schema: GraphQLSchema, document: DocumentNode, limits: QueryLimits
    ) -> list[GraphQLError]:
        context = self.execution_context
        variables = coerced_variables(
            schema, document, context.operation_name, context.variables, limits
        )
        if isinstance(variables, list):
            return variables
        costs = operation_costs(schema, document, context.operation_name, variables)
        self.cost = costs.regular
        budget = max(limits.max_cost, INTROSPECTION_COST)
        if costs.introspection > budget:
            return [
                _refusal(
                    f"The introspection query would cost {costs.introspection}; at most "
                    f"{budget}. Select fewer nested lists of the schema.",
                    "introspectionCost",
                    budget,
                    costs.introspection,
                )
            ]
        if self.cost <= limits.max_cost:
            return []
        return [
            _refusal(
                f"The query would cost {self.cost}; at most {limits.max_cost}. Ask "
                "for fewer items (`first`) or fewer nested lists.",
                "cost",
                limits.max_cost,
                self.cost,
            )
        ]

    def get_results(self) -> dict[str, Any]:
        if self.cost is None or self.execution_context.operation_type is OperationType.SUBSCRIPTION:
            return {}
        limit = _limits_of(self.execution_context.context).max_cost
        return {"cost": {"requested": self.cost, "limit": limit}}
