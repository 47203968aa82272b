"""Request forms: a request type's questions as data, and the server's check of the answers.

A form definition is one JSON object, stored as the administrator gave it (after
:func:`check_form_definition` accepted it)::

    {
      "schema": {                      # JSON Schema (draft 2020-12) of the answers object
        "type": "object",
        "properties": {
          "quantity": {"type": "integer", "minimum": 1, "maximum": 10000},
          "product": {"type": "string", "oneOf": [{"const": "sensor", "title": "Sensor"}]},
          ...
        },
        "required": ["product", "quantity"],
        "additionalProperties": false
      },
      "ui": {
        "order": ["product", "quantity", ...],      # every property, once, in display order
        "fields": {
          "quantity": {
            "kind": "number",           # see FIELD_KINDS
            "label": "Quantity",        # required, at most 200 characters
            "help": "How many units",   # optional, at most 1,000 characters
            "unit": "pieces",           # optional, number fields only
            "showIf": {"field": "product", "equals": "sensor"},   # optional
            "prefill": "contact.name"   # optional, see PREFILL_SOURCES
          },
          ...
        }
      }
    }

Each kind of field has one shape of property schema (:data:`FIELD_KINDS`):

==================  ===================================================================
kind                property schema
==================  ===================================================================
``shortText``       ``{"type": "string"}``; ``minLength``, ``maxLength`` (at most
                    :data:`SHORT_TEXT_MAX`, also the limit when absent), ``format``
                    ``"email"``
``longText``        ``{"type": "string"}`` (Markdown); ``minLength``, ``maxLength`` (at
                    most :data:`LONG_TEXT_MAX`, also the limit when absent)
``number``          ``{"type": "number"}`` or ``"integer"``; ``minimum``, ``maximum``,
                    ``exclusiveMinimum``, ``exclusiveMaximum``, ``multipleOf``
``date``            ``{"type": "string", "format": "date"}`` (``YYYY-MM-DD``)
``singleChoice``    ``{"type": "string", "enum": [...]}`` or ``"oneOf": [{"const": v,
                    "title": label}, ...]`` (string values)
``multipleChoice``  ``{"type": "array", "items": <a singleChoice schema>}``;
                    ``minItems``, ``maxItems``, ``uniqueItems`` (always enforced)
``checkbox``        ``{"type": "boolean"}``; ``"const": true`` for a confirmation that
                    must be ticked
``attachments``     ``{"type": "array", "items": {"type": "string"}}`` of attachment IDs;
                    ``minItems`` (required attachments), ``maxItems`` (at most
                    :data:`ATTACHMENTS_MAX`, also the limit when absent)
==================  ===================================================================

Every property may carry ``title`` and ``description``; nothing else (no ``pattern``, no
``$ref``, no combinators besides a choice's ``oneOf``), so that each answer is checked
alone and every problem names its field. A field is required when the top-level
``required`` lists it. ``showIf`` shows a field only while another (visible) field's answer
equals the given value (for a multiple choice: includes it); a hidden field is neither
required nor kept. The answers object maps field names to values (JSON); an empty string,
``null`` or an empty list is no answer.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError

from domain.errors import BadUserInput, InputProblems
from domain.wording import either

FIELD_KINDS: Final = (
    "shortText",
    "longText",
    "number",
    "date",
    "singleChoice",
    "multipleChoice",
    "checkbox",
    "attachments",
)
PREFILL_SOURCES: Final = {
    "customer.name": ("shortText", "longText"),
    "contact.name": ("shortText", "longText"),
    "contact.email": ("shortText",),
    "project": ("shortText", "longText"),
    "today": ("date",),
}
"""What a field may be pre-filled from, and the kinds of field each fits: the customer's
name, the signed-in contact's name and e-mail address, the request's project (its name),
and today's date. :func:`prefill` takes the known values under these same keys."""

SHORT_TEXT_MAX: Final = 500
LONG_TEXT_MAX: Final = 20_000
ATTACHMENTS_MAX: Final = 20
MAX_FIELDS: Final = 60
MAX_CHOICES: Final = 100
MAX_DEFINITION_CHARS: Final = 64_000
"""Characters of a definition written as compact JSON."""
LABEL_MAX: Final = 200
HELP_MAX: Final = 1_000
UNIT_MAX: Final = 30

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_SCHEMA_URI = "https://json-schema.org/draft/2020-12/schema"
_TOP_KEYS = frozenset(
    {"$schema", "type", "properties", "required", "additionalProperties", "title", "description"}
)
_ANNOTATIONS = frozenset({"title", "description"})
_KIND_KEYS: Final[Mapping[str, frozenset[str]]] = {
    "shortText": frozenset({"type", "minLength", "maxLength", "format"}),
    "longText": frozenset({"type", "minLength", "maxLength"}),
    "number": frozenset(
        {"type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
    ),
    "date": frozenset({"type", "format"}),
    "singleChoice": frozenset({"type", "enum", "oneOf"}),
    "multipleChoice": frozenset({"type", "items", "minItems", "maxItems", "uniqueItems"}),
    "checkbox": frozenset({"type", "const"}),
    "attachments": frozenset({"type", "items", "minItems", "maxItems", "uniqueItems"}),
}
_KIND_TYPES: Final[Mapping[str, tuple[str, ...]]] = {
    "shortText": ("string",),
    "longText": ("string",),
    "number": ("number", "integer"),
    "date": ("string",),
    "singleChoice": ("string",),
    "multipleChoice": ("array",),
    "checkbox": ("boolean",),
    "attachments": ("array",),
}
_UI_FIELD_KEYS = frozenset({"kind", "label", "help", "unit", "showIf", "prefill"})


@dataclass(frozen=True, slots=True)
class Choice:
    """One option of a choice field: the ``value`` stored in the answers and its ``label``
    (the ``oneOf`` entry's ``title``, or the value itself for an ``enum``)."""

    value: str
    label: str


@dataclass(frozen=True, slots=True)
class ShowIf:
    """Show a field only while the field ``field`` is visible and answered ``equals`` (a
    multiple choice: its answer includes ``equals``)."""

    field: str
    equals: Any


@dataclass(frozen=True, slots=True)
class FormField:
    """One question of a form, read from the definition's property schema and UI hints.

    ``schema`` is the property's JSON Schema as given; ``choices`` the options of a choice
    field (empty for other kinds); ``max_length`` the text limit in characters (shortText,
    longText), ``max_items`` the limit of attachments; ``prefill`` a key of
    :data:`PREFILL_SOURCES` or None.
    """

    name: str
    kind: str
    label: str
    help: str | None
    unit: str | None
    required: bool
    show_if: ShowIf | None
    prefill: str | None
    schema: Mapping[str, Any]
    choices: tuple[Choice, ...] = ()
    max_length: int | None = None
    max_items: int | None = None

    def choice_label(self, value: Any) -> str:
        """The label of the option ``value`` (the value as text when it is no option)."""
        for choice in self.choices:
            if choice.value == value:
                return choice.label
        return str(value)


@dataclass(frozen=True, slots=True)
class FormDefinition:
    """A checked form definition: ``fields`` in display order, and ``definition``, the JSON
    object to store (the one that was checked, unchanged)."""

    definition: Mapping[str, Any]
    fields: tuple[FormField, ...]
    _by_name: Mapping[str, FormField] = field(repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {each.name: each for each in self.fields})

    def field(self, name: str) -> FormField | None:
        """The field called ``name``, or None."""
        return self._by_name.get(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(each.name for each in self.fields)


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """What is wrong with the answer to one field: ``field`` is the field's name (the key in
    the answers object), ``message`` a sentence for the person filling in the form."""

    field: str
    message: str


def problems_error(problems: Sequence[FieldProblem]) -> InputProblems:
    """The error to raise for ``problems`` (at least one): the client receives one GraphQL
    error per problem, each ``BAD_USER_INPUT`` with ``extensions.field`` the field's name."""
    return InputProblems([BadUserInput(each.message, field=each.field) for each in problems])


# -- Checking a definition -------------------------------------------------------------


def _bad(where: str, message: str) -> BadUserInput:
    return BadUserInput(f"The form definition's {where} {message}", field="form", part=where)


def check_form_definition(definition: Any) -> FormDefinition:
    """``definition`` (JSON, as an administrator gave it) read as a form, or
    :class:`~domain.errors.BadUserInput` (``extensions.field`` ``"form"``, ``part`` the
    path in the definition, e.g. ``ui.fields.quantity.kind``) naming the first bad part:
    not an object, larger than :data:`MAX_DEFINITION_CHARS`, a schema that is not valid
    draft 2020-12 or uses keywords this form model does not know, a kind that does not
    match its property's schema, an ``order`` that does not list every field once, a
    ``showIf`` on an unknown field, on itself, in a cycle or with a value the field cannot
    take, a prefill source that does not exist or does not fit the kind, labels too long."""
    if not isinstance(definition, Mapping):
        raise _bad("top level", "must be an object with schema and ui.")
    try:
        size = len(json.dumps(definition, separators=(",", ":"), allow_nan=False))
    except (TypeError, ValueError) as error:
        raise _bad("top level", "must hold JSON values only.") from error
    if size > MAX_DEFINITION_CHARS:
        raise _bad("top level", f"is {size} characters long; at most {MAX_DEFINITION_CHARS} fit.")
    _no_nul(definition, "top level")
    extra = set(definition) - {"schema", "ui"}
    if extra:
        raise _bad(sorted(extra)[0], "is not part of a form definition (schema, ui).")
    schema = definition.get("schema")
    ui = definition.get("ui")
    if not isinstance(schema, Mapping):
        raise _bad("schema", "must be a JSON Schema object.")
    if not isinstance(ui, Mapping):
        raise _bad("ui", "must be an object with order and fields.")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        where = ".".join(["schema", *map(str, error.path)]) if error.path else "schema"
        raise _bad(where, f"is not valid JSON Schema: {error.message}") from error
    properties = _check_top(schema)
    required = schema.get("required", [])
    order = ui.get("order")
    ui_fields = ui.get("fields")
    if set(ui) - {"order", "fields"}:
        raise _bad(f"ui.{sorted(set(ui) - {'order', 'fields'})[0]}", "is not a UI hint.")
    if not isinstance(order, list) or not all(isinstance(name, str) for name in order):
        raise _bad("ui.order", "must list the field names.")
    if not isinstance(ui_fields, Mapping):
        raise _bad("ui.fields", "must map each field name to its hints.")
    if len(set(order)) != len(order) or set(order) != set(properties):
        missing = either(sorted(set(properties) - set(order)), "and")
        raise _bad(
            "ui.order",
            "must name every field of schema.properties once"
            + (f" (missing: {missing})." if missing else "."),
        )
    if set(ui_fields) != set(properties):
        odd = sorted(set(ui_fields) ^ set(properties))
        raise _bad(f"ui.fields.{odd[0]}", "must match a field of schema.properties.")
    fields = tuple(
        _read_field(name, properties[name], ui_fields[name], name in required) for name in order
    )
    form = FormDefinition(definition=definition, fields=fields)
    for each in fields:
        if each.show_if is not None:
            _check_show_if(form, each)
    _check_no_cycles(form)
    return form


def _no_nul(value: Any, where: str) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise _bad(where, "holds a NUL character.")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _no_nul(key, where)
            _no_nul(item, where)
    elif isinstance(value, list):
        for item in value:
            _no_nul(item, where)


def _check_top(schema: Mapping[str, Any]) -> Mapping[str, Mapping[str, Any]]:
    unknown = set(schema) - _TOP_KEYS
    if unknown:
        raise _bad(f"schema.{sorted(unknown)[0]}", "is not supported at the top of a form.")
    if schema.get("$schema", _SCHEMA_URI) != _SCHEMA_URI:
        raise _bad("schema.$schema", f"must be {_SCHEMA_URI} (draft 2020-12) when given.")
    if schema.get("type") != "object":
        raise _bad("schema.type", 'must be "object": the answers are an object.')
    if schema.get("additionalProperties", False) is not False:
        raise _bad("schema.additionalProperties", "must be false when given.")
    properties = schema.get("properties")
    if not isinstance(properties, Mapping) or not properties:
        raise _bad("schema.properties", "must define at least one field.")
    if len(properties) > MAX_FIELDS:
        raise _bad("schema.properties", f"has {len(properties)} fields; at most {MAX_FIELDS}.")
    for name, property_schema in properties.items():
        if not _NAME.fullmatch(name):
            raise _bad(
                f"schema.properties.{name}",
                "must be named with a letter then letters, digits or _ (at most 64).",
            )
        if not isinstance(property_schema, Mapping):
            raise _bad(f"schema.properties.{name}", "must be a schema object.")
    for name in schema.get("required", []):
        if name not in properties:
            raise _bad("schema.required", f"names {name!r}, which is no field.")
    return properties


def _read_field(name: str, schema: Mapping[str, Any], hints: Any, required: bool) -> FormField:
    where = f"ui.fields.{name}"
    if not isinstance(hints, Mapping):
        raise _bad(where, "must be an object with kind and label.")
    unknown = set(hints) - _UI_FIELD_KEYS
    if unknown:
        raise _bad(f"{where}.{sorted(unknown)[0]}", "is not a field hint.")
    kind = hints.get("kind")
    if kind not in FIELD_KINDS:
        raise _bad(f"{where}.kind", f"must be one of {either(FIELD_KINDS)}.")
    label = _text_hint(hints, "label", where, LABEL_MAX, required=True)
    assert label is not None
    help_text = _text_hint(hints, "help", where, HELP_MAX)
    unit = _text_hint(hints, "unit", where, UNIT_MAX)
    if unit is not None and kind != "number":
        raise _bad(f"{where}.unit", "is for number fields only.")
    prefill = hints.get("prefill")
    if prefill is not None:
        fits = PREFILL_SOURCES.get(prefill) if isinstance(prefill, str) else None
        if fits is None:
            raise _bad(f"{where}.prefill", f"must be one of {either(sorted(PREFILL_SOURCES))}.")
        if kind not in fits:
            raise _bad(f"{where}.prefill", f"{prefill} cannot fill a {kind} field.")
    show_if = None
    if "showIf" in hints:
        raw = hints["showIf"]
        if (
            not isinstance(raw, Mapping)
            or set(raw) != {"field", "equals"}
            or not isinstance(raw["field"], str)
        ):
            raise _bad(f"{where}.showIf", 'must be {"field": <name>, "equals": <value>}.')
        show_if = ShowIf(field=raw["field"], equals=raw["equals"])
    choices, max_length, max_items = _check_kind(name, kind, schema)
    return FormField(
        name=name,
        kind=kind,
        label=label,
        help=help_text,
        unit=unit,
        required=required,
        show_if=show_if,
        prefill=prefill,
        schema=schema,
        choices=choices,
        max_length=max_length,
        max_items=max_items,
    )


def _text_hint(
    hints: Mapping[str, Any], key: str, where: str, limit: int, *, required: bool = False
) -> str | None:
    value = hints.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _bad(f"{where}.{key}", "must be a non-empty text.")
    if len(value) > limit:
        raise _bad(f"{where}.{key}", f"is {len(value)} characters long; at most {limit}.")
    return value


def _check_kind(
    name: str, kind: str, schema: Mapping[str, Any]
) -> tuple[tuple[Choice, ...], int | None, int | None]:
    where = f"schema.properties.{name}"
    types = _KIND_TYPES[kind]
    if schema.get("type", "string" if kind == "singleChoice" else None) not in types:
        raise _bad(
            f"{where}.type",
            f"must be {either(map(repr, types))} for a {kind} field (ui.fields.{name}.kind).",
        )
    unknown = set(schema) - _KIND_KEYS[kind] - _ANNOTATIONS
    if unknown:
        raise _bad(f"{where}.{sorted(unknown)[0]}", f"is not supported for a {kind} field.")
    for low, high in (("minLength", "maxLength"), ("minimum", "maximum"), ("minItems", "maxItems")):
        if low in schema and high in schema and schema[low] > schema[high]:
            raise _bad(f"{where}.{low}", f"is more than {high}.")
    if kind in ("shortText", "longText"):
        cap = SHORT_TEXT_MAX if kind == "shortText" else LONG_TEXT_MAX
        if schema.get("maxLength", 0) > cap:
            raise _bad(f"{where}.maxLength", f"may be at most {cap} for a {kind} field.")
        if schema.get("format", "email") != "email":
            raise _bad(f"{where}.format", 'may only be "email" for a text field.')
        return (), int(schema.get("maxLength", cap)), None
    if kind == "number":
        return (), None, None
    if kind == "date":
        if schema.get("format") != "date":
            raise _bad(f"{where}.format", 'must be "date" for a date field.')
        return (), None, None
    if kind == "singleChoice":
        return _choices(where, schema), None, None
    if kind == "multipleChoice":
        items = schema.get("items")
        if not isinstance(items, Mapping):
            raise _bad(f"{where}.items", "must be the schema of one option (enum or oneOf).")
        unknown = set(items) - _KIND_KEYS["singleChoice"] - _ANNOTATIONS
        if unknown:
            raise _bad(f"{where}.items.{sorted(unknown)[0]}", "is not supported for an option.")
        return _choices(f"{where}.items", items), None, None
    if kind == "checkbox":
        if "const" in schema and schema["const"] is not True:
            raise _bad(f"{where}.const", "may only be true (a box that must be ticked).")
        return (), None, None
    items = schema.get("items")
    if not isinstance(items, Mapping) or dict(items) != {"type": "string"}:
        raise _bad(f"{where}.items", 'must be {"type": "string"}: attachment IDs.')
    if schema.get("maxItems", 0) > ATTACHMENTS_MAX:
        raise _bad(f"{where}.maxItems", f"may be at most {ATTACHMENTS_MAX}.")
    if schema.get("minItems", 0) > ATTACHMENTS_MAX:
        raise _bad(f"{where}.minItems", f"may be at most {ATTACHMENTS_MAX}.")
    return (), None, int(schema.get("maxItems", ATTACHMENTS_MAX))


def _choices(where: str, schema: Mapping[str, Any]) -> tuple[Choice, ...]:
    if schema.get("type", "string") != "string":
        raise _bad(f"{where}.type", 'must be "string": options are text values.')
    if ("enum" in schema) == ("oneOf" in schema):
        raise _bad(where, 'must list the options in "enum" or in "oneOf" (one of the two).')
    choices: list[Choice] = []
    if "enum" in schema:
        values = schema["enum"]
        if not all(isinstance(value, str) for value in values):
            raise _bad(f"{where}.enum", "must list text values.")
        choices = [Choice(value, value) for value in values]
    else:
        for index, option in enumerate(schema["oneOf"]):
            if (
                not isinstance(option, Mapping)
                or set(option) - {"const", "title", "description"}
                or not isinstance(option.get("const"), str)
                or not isinstance(option.get("title", ""), str)
            ):
                raise _bad(f"{where}.oneOf.{index}", 'must be {"const": <text>, "title": <label>}.')
            choices.append(Choice(option["const"], option.get("title") or option["const"]))
    if not choices or len(choices) > MAX_CHOICES:
        raise _bad(where, f"must offer from 1 to {MAX_CHOICES} options.")
    if len({choice.value for choice in choices}) != len(choices):
        raise _bad(where, "offers the same option twice.")
    if any(len(choice.label) > LABEL_MAX for choice in choices):
        raise _bad(where, f"has an option label longer than {LABEL_MAX} characters.")
    return tuple(choices)


def _check_show_if(form: FormDefinition, subject: FormField) -> None:
    assert subject.show_if is not None
    where = f"ui.fields.{subject.name}.showIf"
    target = form.field(subject.show_if.field)
    if target is None:
        raise _bad(f"{where}.field", f"names {subject.show_if.field!r}, which is no field.")
    if target.name == subject.name:
        raise _bad(f"{where}.field", "names the field itself.")
    if target.kind == "attachments":
        raise _bad(f"{where}.field", "cannot depend on an attachments field.")
    value_schema = target.schema.get("items") if target.kind == "multipleChoice" else target.schema
    assert isinstance(value_schema, Mapping)
    if _property_errors(value_schema, subject.show_if.equals):
        raise _bad(f"{where}.equals", f"is a value that {target.name} cannot take.")


def _check_no_cycles(form: FormDefinition) -> None:
    for start in form.fields:
        seen = {start.name}
        current = start
        while current.show_if is not None:
            following = form.field(current.show_if.field)
            assert following is not None
            if following.name in seen:
                raise _bad(
                    f"ui.fields.{start.name}.showIf",
                    "makes a cycle: fields shown only if each other is shown.",
                )
            seen.add(following.name)
            current = following


# -- Checking answers ------------------------------------------------------------------


def _property_errors(schema: Mapping[str, Any], value: Any) -> list[ValidationError]:
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return list(validator.iter_errors(value))


def _is_empty(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, list) and not value)
    )


def _visible(form: FormDefinition, answers: Mapping[str, Any]) -> dict[str, bool]:
    shown: dict[str, bool] = {}

    def visible(each: FormField) -> bool:
        if each.name not in shown:
            if each.show_if is None:
                shown[each.name] = True
            else:
                target = form.field(each.show_if.field)
                assert target is not None
                answer = answers.get(target.name)
                if target.kind == "multipleChoice" and isinstance(answer, list):
                    matches = each.show_if.equals in answer
                else:
                    matches = _same(answer, each.show_if.equals)
                shown[each.name] = matches and visible(target)
        return shown[each.name]

    for each in form.fields:
        visible(each)
    return shown


def _same(answer: Any, expected: Any) -> bool:
    """JSON equality: 1 and 1.0 are the same number; true is no number."""
    if isinstance(answer, bool) or isinstance(expected, bool):
        return answer is expected
    if isinstance(answer, int | float) and isinstance(expected, int | float):
        return answer == expected
    return type(answer) is type(expected) and bool(answer == expected)


def visible_fields(form: FormDefinition, answers: Mapping[str, Any]) -> tuple[FormField, ...]:
    """The fields shown for ``answers``, in display order: each without ``showIf``, and each
    whose ``showIf`` field is shown and answered with the value it names."""
    shown = _visible(form, answers)
    return tuple(each for each in form.fields if shown[each.name])


def validate_answers(
    form: FormDefinition,
    answers: Any,
    *,
    attachment_counts: Mapping[str, int] | None = None,
) -> list[FieldProblem]:
    """Every problem of ``answers`` (a JSON object mapping field names to values), in display
    order, at most one per field; empty when the answers may be stored (then store
    :func:`visible_answers`).

    A problem is: an unknown field name (more than twice :data:`MAX_FIELDS` names are one
    problem of ``answers``); a visible required field without an answer; a
    value of the wrong type or outside its field's limits (text length in characters,
    number range, date format, an option that does not exist, the same option twice, a
    confirmation not ticked, too few or too many attachments); text holding control
    characters other than line breaks and tabs. Hidden fields' answers are ignored.

    ``attachment_counts`` maps an attachments field's name to the number of its attachments
    that the caller found usable (uploaded by this person and not yet used elsewhere, say);
    when given for a field, its ``minItems`` and ``maxItems`` are checked against that
    count rather than the length of the list of IDs in the answer.
    """
    if not isinstance(answers, Mapping):
        return [FieldProblem("answers", "The answers must be an object of field names.")]
    if len(answers) > 2 * MAX_FIELDS:
        return [
            FieldProblem(
                "answers",
                f"The answers name {len(answers)} fields; this form has {len(form.fields)}.",
            )
        ]
    problems: list[FieldProblem] = [
        FieldProblem(name, f"This form has no field named {name!r}.")
        for name in answers
        if not isinstance(name, str) or form.field(name) is None
    ]
    shown = _visible(form, answers)
    for each in form.fields:
        if not shown[each.name]:
            continue
        value = answers.get(each.name)
        count = (attachment_counts or {}).get(each.name)
        if _is_empty(value) and not (count and each.kind == "attachments"):
            if each.required or _min_items(each) > 0:
                problems.append(FieldProblem(each.name, _required_message(each)))
            continue
        message = _answer_problem(each, value, count)
        if message is not None:
            problems.append(FieldProblem(each.name, message))
    order = {name: index for index, name in enumerate(form.names)}
    problems.sort(key=lambda problem: order.get(problem.field, -1))
    return problems


def check_answers(
    form: FormDefinition,
    answers: Any,
    *,
    attachment_counts: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """:func:`visible_answers` of ``answers``, or :func:`problems_error` of all its problems
    (see :func:`validate_answers`)."""
    problems = validate_answers(form, answers, attachment_counts=attachment_counts)
    if problems:
        raise problems_error(problems)
    return visible_answers(form, answers)


def _min_items(each: FormField) -> int:
    return int(each.schema.get("minItems", 0)) if each.kind in ("attachments",) else 0


def _required_message(each: FormField) -> str:
    if each.kind == "attachments":
        least = max(1, _min_items(each))
        return f"{each.label}: attach at least {_plural(least, 'file')}."
    if each.kind in ("singleChoice", "multipleChoice"):
        return f"{each.label}: choose an option."
    if each.kind == "checkbox" and each.schema.get("const") is True:
        return f"{each.label}: tick this box to go on."
    return f"{each.label}: this answer is required."


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _bad_characters(text: str) -> bool:
    return any(unicodedata.category(char) == "Cc" and char not in "\n\r\t" for char in text) or any(
        0xD800 <= ord(char) <= 0xDFFF for char in text
    )


def _answer_problem(each: FormField, value: Any, count: int | None) -> str | None:
    label = each.label
    if each.kind in ("shortText", "longText"):
        if not isinstance(value, str):
            return f"{label}: enter text."
        if _bad_characters(value) or (each.kind == "shortText" and "\n" in value.strip()):
            return f"{label}: remove the control characters (or line breaks) from the text."
        text = value.strip() if each.kind == "shortText" else value
        limit = each.max_length or 0
        if len(text) > limit:
            return f"{label}: at most {limit} characters ({len(text)} now)."
        least = int(each.schema.get("minLength", 0))
        if len(text) < least:
            return f"{label}: at least {least} characters ({len(text)} now)."
        if each.schema.get("format") == "email" and _property_errors(each.schema, text):
            return f"{label}: enter an e-mail address such as name@example.com."
        return None
    if each.kind == "number":
        return _number_problem(each, value)
    if each.kind == "date":
        if not isinstance(value, str) or _property_errors(each.schema, value):
            return f"{label}: enter a date as YYYY-MM-DD, such as 2026-03-31."
        return None
    if each.kind == "singleChoice":
        if not isinstance(value, str) or value not in {c.value for c in each.choices}:
            return f"{label}: choose one of {either(c.label for c in each.choices)}."
        return None
    if each.kind == "multipleChoice":
        return _many_problem(each, value, "option", len(value) if isinstance(value, list) else 0)
    if each.kind == "checkbox":
        if not isinstance(value, bool):
            return f"{label}: answer with ticked (true) or not (false)."
        if each.schema.get("const") is True and value is not True:
            return f"{label}: tick this box to go on."
        return None
    return _many_problem(each, value, "file", count if count is not None else None)


def _many_problem(each: FormField, value: Any, noun: str, count: int | None) -> str | None:
    label = each.label
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        if each.kind == "attachments" and count:
            value = []
        else:
            what = "options" if noun == "option" else "attachment IDs"
            return f"{label}: answer with a list of {what}."
    if noun == "option":
        values = {c.value for c in each.choices}
        wrong = [item for item in value if item not in values]
        if wrong:
            return (
                f"{label}: {wrong[0]!r} is not an option; choose from "
                + either((c.label for c in each.choices), "and")
                + "."
            )
    if len(set(value)) != len(value):
        return f"{label}: the same {noun} is given twice."
    number = len(value) if count is None else count
    least = int(each.schema.get("minItems", 0))
    most = int(each.schema.get("maxItems", each.max_items or 10**9))
    verb = "choose" if noun == "option" else "attach"
    if number < least:
        return f"{label}: {verb} at least {_plural(least, noun)}."
    if number > most:
        return f"{label}: {verb} at most {_plural(most, noun)}."
    return None


def _number_problem(each: FormField, value: Any) -> str | None:
    label = each.label
    unit = f" {each.unit}" if each.unit else ""
    integer = each.schema.get("type") == "integer"
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (isinstance(value, float) and not math.isfinite(value))
    ):
        return f"{label}: enter a {'whole ' if integer else ''}number."
    if integer and not (isinstance(value, int) or value.is_integer()):
        return f"{label}: enter a whole number."
    schema = each.schema
    if "minimum" in schema and value < schema["minimum"]:
        return f"{label}: at least {_number(schema['minimum'])}{unit}."
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        return f"{label}: more than {_number(schema['exclusiveMinimum'])}{unit}."
    if "maximum" in schema and value > schema["maximum"]:
        return f"{label}: at most {_number(schema['maximum'])}{unit}."
    if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
        return f"{label}: less than {_number(schema['exclusiveMaximum'])}{unit}."
    if _property_errors(schema, value):
        return f"{label}: a multiple of {_number(schema.get('multipleOf', 1))}{unit}."
    return None


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def visible_answers(form: FormDefinition, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers to store: those of visible fields that are answered, in display order,
    short texts stripped of surrounding spaces and whole-number floats of integer fields
    as integers; hidden fields' answers, empty answers and unknown names are dropped."""
    cleaned: dict[str, Any] = {}
    for each in visible_fields(form, answers):
        value = answers.get(each.name)
        if _is_empty(value):
            continue
        if each.kind == "shortText" and isinstance(value, str):
            value = value.strip()
        elif (
            each.kind == "number"
            and each.schema.get("type") == "integer"
            and isinstance(value, float)
            and value.is_integer()
        ):
            value = int(value)
        cleaned[each.name] = value
    return cleaned


def attachment_ids(form: FormDefinition, answers: Mapping[str, Any]) -> dict[str, list[str]]:
    """The attachment IDs each visible attachments field's answer lists (texts only, in
    order), by field name: what the caller resolves before :func:`validate_answers`."""
    found: dict[str, list[str]] = {}
    for each in visible_fields(form, answers):
        value = answers.get(each.name)
        if each.kind == "attachments" and isinstance(value, list):
            found[each.name] = [item for item in value if isinstance(item, str)]
    return found


def prefill(form: FormDefinition, known: Mapping[str, Any]) -> dict[str, Any]:
    """Initial answers for a new request: for each field with a ``prefill`` source that
    ``known`` holds (keys of :data:`PREFILL_SOURCES`: ``{"customer.name": "ACME",
    "contact.email": "ann@acme.example", "today": date(...)}``), that value, when the field
    accepts it (a date as ``YYYY-MM-DD``, texts within the field's limits)."""
    values: dict[str, Any] = {}
    for each in form.fields:
        if each.prefill is None or known.get(each.prefill) is None:
            continue
        value = known[each.prefill]
        if isinstance(value, date):
            value = value.isoformat()
        if not isinstance(value, str):
            value = str(value)
        if _answer_problem(each, value, None) is None:
            values[each.name] = value.strip() if each.kind == "shortText" else value
    return values


def answers_text(form: FormDefinition, answers: Mapping[str, Any]) -> str:
    """The answers as text for the search index and plain-text views: one ``Label: value``
    line per answered visible field in display order (options by their labels, a number
    with its unit, a ticked box as ``yes``, attachments as their count)."""
    lines: list[str] = []
    for each in visible_fields(form, answers):
        value = answers.get(each.name)
        if _is_empty(value):
            continue
        lines.append(f"{each.label}: {_as_text(each, value)}")
    return "\n".join(lines)


def _as_text(each: FormField, value: Any) -> str:
    if each.kind == "singleChoice":
        return each.choice_label(value)
    if each.kind == "multipleChoice" and isinstance(value, list):
        return ", ".join(each.choice_label(item) for item in value)
    if each.kind == "checkbox":
        return "yes" if value is True else "no"
    if each.kind == "attachments" and isinstance(value, list):
        return _plural(len(value), "file")
    if each.kind == "number":
        return f"{_number(value)} {each.unit}" if each.unit else _number(value)
    return str(value)
