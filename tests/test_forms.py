"""Request forms: what an administrator may define, and what a submission must answer."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest
import strawberry
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import BadUserInput, InputProblems
from domain.forms import (
    FieldProblem,
    answers_text,
    attachment_ids,
    check_answers,
    check_form_definition,
    prefill,
    problems_error,
    validate_answers,
    visible_answers,
)
from domain.request_forms import (
    ACCESS_REQUEST,
    DEMO_FORMS,
    DOCUMENT_SUBMISSION,
    QUOTE_REQUEST,
    SUPPORT_TICKET,
)
from graphql_schema.errors import ErrorCodes

QUOTE = check_form_definition(QUOTE_REQUEST)
TICKET = check_form_definition(SUPPORT_TICKET)
DOCUMENTS = check_form_definition(DOCUMENT_SUBMISSION)
ACCESS = check_form_definition(ACCESS_REQUEST)

A_QUOTE: dict[str, Any] = {
    "offering": "sensors",
    "quantity": 40,
    "wantedBy": "2026-03-31",
    "description": "Forty modules for the new hall, delivered in two batches.",
}


def _fields(problems: list[FieldProblem]) -> list[str]:
    return [problem.field for problem in problems]


def _refusal(definition: Any) -> str:
    with pytest.raises(BadUserInput) as refused:
        check_form_definition(definition)
    assert refused.value.extensions["field"] == "form"
    return str(refused.value.extensions["part"])


# -- The demo forms ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(DEMO_FORMS))
def test_every_demo_form_is_a_valid_definition(name: str) -> None:
    _description, definition = DEMO_FORMS[name]
    form = check_form_definition(definition)
    assert form.names == tuple(definition["ui"]["order"])


def test_a_complete_quote_request_is_accepted_and_stored_cleaned() -> None:
    answers = {**A_QUOTE, "contactName": "  Ann Smith ", "siteAddress": "shown only for work"}
    assert validate_answers(QUOTE, answers) == []
    assert check_answers(QUOTE, answers) == {**A_QUOTE, "contactName": "Ann Smith"}


# -- Answers -----------------------------------------------------------------------------


def test_every_problem_is_reported_at_once_in_form_order() -> None:
    answers = {
        "offering": "installation",
        "quantity": 0,
        "wantedBy": "2026-02-30",
        "description": "short",
        "specifications": ["QXR0YWNobWVudDox", "QXR0YWNobWVudDox"],
        "colour": "red",
    }
    problems = validate_answers(QUOTE, answers)
    assert _fields(problems) == [
        "colour",
        "quantity",
        "siteAddress",
        "wantedBy",
        "description",
        "specifications",
    ]
    messages = {problem.field: problem.message for problem in problems}
    assert messages["quantity"] == "Quantity: at least 1 pieces."
    assert "YYYY-MM-DD" in messages["wantedBy"]
    assert "at least 10 characters (5 now)" in messages["description"]
    assert "colour" in messages["colour"]


def test_a_field_hidden_by_its_condition_is_neither_required_nor_kept() -> None:
    ticket = {"severity": "low", "system": "Reporting", "description": "The totals are wrong."}
    assert validate_answers(TICKET, ticket) == []
    other = {**ticket, "system": "Other"}
    assert _fields(validate_answers(TICKET, other)) == ["otherSystem"]
    assert visible_answers(TICKET, {**ticket, "otherSystem": "Mail", "impactedUsers": 3}) == (
        ticket
    )


def test_a_field_shown_by_a_multiple_choice_depends_on_the_option_being_chosen() -> None:
    definition = copy.deepcopy(DOCUMENT_SUBMISSION)
    definition["ui"]["fields"]["validUntil"]["showIf"] = {
        "field": "documents",
        "equals": "insurance",
    }
    definition["schema"]["required"].append("validUntil")
    form = check_form_definition(definition)
    base = {"documents": ["tax"], "files": ["QXR0YWNobWVudDox"]}
    assert validate_answers(form, base) == []
    assert _fields(validate_answers(form, {**base, "documents": ["tax", "insurance"]})) == [
        "validUntil"
    ]


def test_conditions_chain_a_field_hidden_hides_those_that_depend_on_it() -> None:
    definition = copy.deepcopy(SUPPORT_TICKET)
    definition["schema"]["properties"]["otherSystemOwner"] = {"type": "string"}
    definition["schema"]["required"].append("otherSystemOwner")
    definition["ui"]["order"].append("otherSystemOwner")
    definition["ui"]["fields"]["otherSystemOwner"] = {
        "kind": "shortText",
        "label": "Who runs it?",
        "showIf": {"field": "otherSystem", "equals": "Mail"},
    }
    form = check_form_definition(definition)
    answers = {
        "severity": "low",
        "system": "Reporting",
        "description": "The totals are wrong.",
        "otherSystem": "Mail",
    }
    assert validate_answers(form, answers) == []
    assert _fields(validate_answers(form, {**answers, "system": "Other"})) == ["otherSystemOwner"]


def test_required_attachments_are_counted_from_the_ids_or_from_what_the_caller_found() -> None:
    answers = {"documents": ["insurance"], "files": []}
    assert [p.message for p in validate_answers(DOCUMENTS, answers)] == [
        "The documents: attach at least 1 file."
    ]
    assert validate_answers(DOCUMENTS, {**answers, "files": ["QXR0YWNobWVudDox"]}) == []
    # The caller resolved the IDs and found none of them usable.
    assert _fields(
        validate_answers(
            DOCUMENTS, {**answers, "files": ["bm9wZQ=="]}, attachment_counts={"files": 0}
        )
    ) == ["files"]
    eleven = [f"id{number}" for number in range(11)]
    assert (
        "at most 10 files" in validate_answers(DOCUMENTS, {**answers, "files": eleven})[0].message
    )
    assert attachment_ids(DOCUMENTS, {**answers, "files": ["a", 3, "b"]}) == {"files": ["a", "b"]}


def test_choices_confirmations_and_e_mail_addresses() -> None:
    answers = {
        "personName": "Jo Doe",
        "email": "not an address",
        "systems": ["Extranet", "Payroll", "Extranet"],
        "confirmation": False,
    }
    messages = {p.field: p.message for p in validate_answers(ACCESS, answers)}
    assert set(messages) == {"email", "systems", "confirmation"}
    assert "'Payroll' is not an option" in messages["systems"]
    assert "tick this box" in messages["confirmation"]
    fixed = {**answers, "email": "jo@acme.example", "systems": ["Extranet"], "confirmation": True}
    assert validate_answers(ACCESS, fixed) == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("forty", "Quantity: enter a whole number."),
        (True, "Quantity: enter a whole number."),
        (2.5, "Quantity: enter a whole number."),
        (100001, "Quantity: at most 100000 pieces."),
    ],
)
def test_numbers_are_checked_against_their_type_and_range(value: Any, message: str) -> None:
    problems = validate_answers(QUOTE, {**A_QUOTE, "quantity": value})
    assert problems == [FieldProblem("quantity", message)]


def test_a_whole_float_is_an_integer_and_text_limits_count_characters() -> None:
    assert check_answers(QUOTE, {**A_QUOTE, "quantity": 40.0})["quantity"] == 40
    description = "é" * 10_000
    assert validate_answers(QUOTE, {**A_QUOTE, "description": description}) == []
    longer = validate_answers(QUOTE, {**A_QUOTE, "description": description + "x"})
    assert longer == [
        FieldProblem("description", "Describe what you need: at most 10000 characters (10001 now).")
    ]


def test_text_with_control_characters_is_refused() -> None:
    problems = validate_answers(QUOTE, {**A_QUOTE, "description": "ten chars\x00 and more"})
    assert _fields(problems) == ["description"]


def test_answers_that_are_not_an_object_are_one_problem() -> None:
    assert _fields(validate_answers(QUOTE, ["offering"])) == ["answers"]
    assert _fields(validate_answers(QUOTE, {f"x{n}": 1 for n in range(1000)})) == ["answers"]


@settings(max_examples=60, deadline=2000)
@given(
    st.dictionaries(
        st.sampled_from([*QUOTE.names, "other"]),
        st.none()
        | st.booleans()
        | st.integers(-5, 200_000)
        | st.floats(allow_nan=True)
        | st.text(max_size=30)
        | st.lists(st.text(max_size=5), max_size=12),
    )
)
def test_any_answers_get_problems_or_store_answers_that_check_again(answers: Any) -> None:
    problems = validate_answers(QUOTE, answers)
    if not problems:
        stored = visible_answers(QUOTE, answers)
        assert validate_answers(QUOTE, stored) == []
        assert visible_answers(QUOTE, stored) == stored
    else:
        assert all(problem.message for problem in problems)
        assert len({problem.field for problem in problems}) == len(problems)


# -- Pre-filling and text ----------------------------------------------------------------


def test_prefill_takes_known_values_that_fit_the_field() -> None:
    known = {"contact.name": "Ann Smith", "today": date(2026, 3, 2), "customer.name": "ACME"}
    assert prefill(QUOTE, known) == {"contactName": "Ann Smith"}
    assert prefill(ACCESS, known) == {"startDate": "2026-03-02"}
    assert prefill(QUOTE, {"contact.name": "x" * 201}) == {}


def test_answers_text_reads_labels_and_values_for_search() -> None:
    answers = {**A_QUOTE, "specifications": ["a", "b"]}
    assert answers_text(QUOTE, answers) == (
        "What would you like a quote for?: Sensor modules\n"
        "Quantity: 40 pieces\n"
        "Wanted by: 2026-03-31\n"
        "Describe what you need: Forty modules for the new hall, delivered in two batches.\n"
        "Specifications or drawings: 2 files"
    )
    assert answers_text(ACCESS, {"systems": ["Extranet"], "confirmation": True}) == (
        "Systems they need: Extranet\n"
        "I confirm that this person works for our company and needs this access.: yes"
    )


# -- Definitions an administrator may not save -------------------------------------------


def _broken(change: Any) -> dict[str, Any]:
    definition = copy.deepcopy(QUOTE_REQUEST)
    change(definition)
    return definition


@pytest.mark.parametrize(
    ("change", "part"),
    [
        (lambda d: d["ui"]["fields"]["quantity"].update(kind="slider"), "ui.fields.quantity.kind"),
        (
            lambda d: d["ui"]["fields"]["wantedBy"].update(kind="checkbox"),
            "schema.properties.wantedBy.type",
        ),
        (
            lambda d: d["ui"]["fields"]["offering"].update(kind="multipleChoice"),
            "schema.properties.offering.type",
        ),
        (
            lambda d: d["schema"]["properties"]["wantedBy"].pop("format"),
            "schema.properties.wantedBy.format",
        ),
        (
            lambda d: d["ui"]["fields"]["siteAddress"].update(
                showIf={"field": "nothing", "equals": 1}
            ),
            "ui.fields.siteAddress.showIf.field",
        ),
        (
            lambda d: d["ui"]["fields"]["siteAddress"].update(
                showIf={"field": "offering", "equals": "consulting"}
            ),
            "ui.fields.siteAddress.showIf.equals",
        ),
        (
            lambda d: d["ui"]["fields"]["offering"].update(
                showIf={"field": "siteAddress", "equals": "x"}
            ),
            "ui.fields.offering.showIf",
        ),
        (lambda d: d["ui"]["order"].pop(), "ui.order"),
        (lambda d: d["ui"]["fields"].pop("quantity"), "ui.fields.quantity"),
        (lambda d: d["schema"]["required"].append("colour"), "schema.required"),
        (
            lambda d: d["schema"]["properties"]["description"].update(pattern="^(a+)+$"),
            "schema.properties.description.pattern",
        ),
        (
            lambda d: d["schema"]["properties"]["description"].update(maxLength=10**6),
            "schema.properties.description.maxLength",
        ),
        (lambda d: d["schema"]["properties"]["quantity"].update(minimum="one"), "schema.minimum"),
        (lambda d: d["schema"].update(allOf=[]), "schema.allOf"),
        (
            lambda d: d["ui"]["fields"]["contactName"].update(prefill="contact.salary"),
            "ui.fields.contactName.prefill",
        ),
        (
            lambda d: d["ui"]["fields"]["wantedBy"].update(prefill="contact.name"),
            "ui.fields.wantedBy.prefill",
        ),
        (lambda d: d["ui"]["fields"]["offering"].update(label=""), "ui.fields.offering.label"),
        (lambda d: d["ui"]["fields"]["offering"].update(unit="kg"), "ui.fields.offering.unit"),
    ],
)
def test_a_definition_that_does_not_hold_together_is_refused_naming_the_part(
    change: Any, part: str
) -> None:
    assert _refusal(_broken(change)).startswith(part.split(".minimum")[0])


def test_a_condition_cycle_is_refused() -> None:
    def cycle(definition: dict[str, Any]) -> None:
        fields = definition["ui"]["fields"]
        fields["siteAddress"]["showIf"] = {"field": "contactName", "equals": "Ann Smith"}
        fields["contactName"]["showIf"] = {"field": "siteAddress", "equals": "1 Main Street"}

    assert _refusal(_broken(cycle)) == "ui.fields.siteAddress.showIf"


def test_oversized_and_odd_definitions_are_refused() -> None:
    many = {f"field{number}": {"type": "string"} for number in range(61)}
    oversized = {
        "schema": {"type": "object", "properties": many},
        "ui": {
            "order": list(many),
            "fields": {name: {"kind": "shortText", "label": "x" * 1000} for name in many},
        },
    }
    assert _refusal(oversized) == "top level"
    assert _refusal([]) == "top level"
    assert _refusal({"schema": {}, "ui": {}, "extra": 1}) == "extra"
    assert _refusal({"schema": {"type": "array"}, "ui": {}}) == "schema.type"


# -- All problems as separate GraphQL errors ---------------------------------------------


def test_problems_become_one_graphql_error_each_naming_its_field() -> None:
    @strawberry.type
    class Query:
        @strawberry.field
        def submit(self) -> int | None:
            raise problems_error(validate_answers(QUOTE, {"offering": "sensors"}))

    result = strawberry.Schema(Query, extensions=[ErrorCodes]).execute_sync("{ submit }")
    assert result.errors is not None
    shaped = [error.formatted for error in result.errors]
    assert [error["extensions"] for error in shaped] == [
        {"code": "BAD_USER_INPUT", "field": name}
        for name in ("quantity", "wantedBy", "description")
    ]
    assert all(error["path"] == ["submit"] for error in shaped)
    assert shaped[0]["message"] == "Quantity: this answer is required."


def test_check_answers_raises_every_problem() -> None:
    with pytest.raises(InputProblems) as refused:
        check_answers(ACCESS, {})
    assert [problem.extensions["field"] for problem in refused.value.problems] == [
        "personName",
        "email",
        "systems",
        "confirmation",
    ]


def test_a_condition_on_a_number_compares_numbers() -> None:
    definition = copy.deepcopy(SUPPORT_TICKET)
    definition["ui"]["fields"]["screenshots"]["showIf"] = {"field": "impactedUsers", "equals": 1}
    form = check_form_definition(definition)
    critical = {
        "severity": "critical",
        "system": "Reporting",
        "description": "Nothing loads any more.",
        "screenshots": ["a"],
    }
    for count, shown in ((1, True), (1.0, True), (2, False), (True, False)):
        answers = {**critical, "impactedUsers": count}
        assert ("screenshots" in visible_answers(form, answers)) is shown
