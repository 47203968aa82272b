"""The forms of the demo request types, as an administrator would define them.

:data:`DEMO_FORMS` maps each type's name to ``(description, definition)``; every definition
passes :func:`domain.forms.check_form_definition` (a test makes sure).
"""

from __future__ import annotations

from typing import Any, Final

_SCHEMA: Final = "https://json-schema.org/draft/2020-12/schema"


def _form(
    properties: dict[str, Any],
    required: list[str],
    fields: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    return {
        "schema": {
            "$schema": _SCHEMA,
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        },
        "ui": {"order": list(properties), "fields": fields},
    }


QUOTE_REQUEST: Final = _form(
    {
        "offering": {
            "type": "string",
            "oneOf": [
                {"const": "sensors", "title": "Sensor modules"},
                {"const": "installation", "title": "Installation on site"},
                {"const": "maintenance", "title": "Maintenance contract"},
            ],
        },
        "quantity": {"type": "integer", "minimum": 1, "maximum": 100000},
        "siteAddress": {"type": "string", "minLength": 5, "maxLength": 300},
        "wantedBy": {"type": "string", "format": "date"},
        "description": {"type": "string", "minLength": 10, "maxLength": 10000},
        "contactName": {"type": "string", "maxLength": 200},
        "specifications": {"type": "array", "items": {"type": "string"}, "maxItems": 10},
    },
    ["offering", "quantity", "siteAddress", "wantedBy", "description"],
    {
        "offering": {"kind": "singleChoice", "label": "What would you like a quote for?"},
        "quantity": {"kind": "number", "label": "Quantity", "unit": "pieces"},
        "siteAddress": {
            "kind": "shortText",
            "label": "Installation address",
            "help": "Where our technicians install the modules.",
            "showIf": {"field": "offering", "equals": "installation"},
        },
        "wantedBy": {"kind": "date", "label": "Wanted by"},
        "description": {
            "kind": "longText",
            "label": "Describe what you need",
            "help": "Markdown is welcome: lists, links, tables.",
        },
        "contactName": {
            "kind": "shortText",
            "label": "Contact person for questions",
            "prefill": "contact.name",
        },
        "specifications": {
            "kind": "attachments",
            "label": "Specifications or drawings",
            "help": "Optional: up to 10 files.",
        },
    },
)

SUPPORT_TICKET: Final = _form(
    {
        "severity": {
            "type": "string",
            "oneOf": [
                {"const": "low", "title": "Low: a question or a cosmetic issue"},
                {"const": "normal", "title": "Normal: something does not work as it should"},
                {"const": "high", "title": "High: work is blocked"},
                {"const": "critical", "title": "Critical: production is down"},
            ],
        },
        "system": {
            "type": "string",
            "enum": ["Extranet", "Sensor gateway", "Reporting", "Other"],
        },
        "otherSystem": {"type": "string", "maxLength": 200},
        "description": {"type": "string", "minLength": 10, "maxLength": 20000},
        "impactedUsers": {"type": "integer", "minimum": 1, "maximum": 1000000},
        "screenshots": {"type": "array", "items": {"type": "string"}, "maxItems": 10},
    },
    ["severity", "system", "otherSystem", "description", "impactedUsers"],
    {
        "severity": {"kind": "singleChoice", "label": "Severity"},
        "system": {"kind": "singleChoice", "label": "Affected system"},
        "otherSystem": {
            "kind": "shortText",
            "label": "Which system?",
            "showIf": {"field": "system", "equals": "Other"},
        },
        "description": {
            "kind": "longText",
            "label": "What happened?",
            "help": "What you did, what you expected and what happened instead.",
        },
        "impactedUsers": {
            "kind": "number",
            "label": "People affected",
            "unit": "people",
            "showIf": {"field": "severity", "equals": "critical"},
        },
        "screenshots": {"kind": "attachments", "label": "Screenshots or logs"},
    },
)

DOCUMENT_SUBMISSION: Final = _form(
    {
        "documents": {
            "type": "array",
            "items": {
                "type": "string",
                "oneOf": [
                    {"const": "insurance", "title": "Certificate of insurance"},
                    {"const": "tax", "title": "Tax exemption certificate"},
                    {"const": "iso9001", "title": "ISO 9001 certificate"},
                    {"const": "bank", "title": "Bank details"},
                ],
            },
            "minItems": 1,
            "uniqueItems": True,
        },
        "validUntil": {"type": "string", "format": "date"},
        "files": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 10},
        "comment": {"type": "string", "maxLength": 2000},
    },
    ["documents", "files"],
    {
        "documents": {"kind": "multipleChoice", "label": "Which documents do you send?"},
        "validUntil": {"kind": "date", "label": "Valid until", "help": "If they expire."},
        "files": {"kind": "attachments", "label": "The documents"},
        "comment": {"kind": "longText", "label": "Comment"},
    },
)

ACCESS_REQUEST: Final = _form(
    {
        "personName": {"type": "string", "minLength": 2, "maxLength": 200},
        "email": {"type": "string", "format": "email", "maxLength": 254},
        "systems": {
            "type": "array",
            "items": {"type": "string", "enum": ["Extranet", "Reporting", "Sensor gateway"]},
            "minItems": 1,
            "uniqueItems": True,
        },
        "startDate": {"type": "string", "format": "date"},
        "confirmation": {"type": "boolean", "const": True},
    },
    ["personName", "email", "systems", "confirmation"],
    {
        "personName": {"kind": "shortText", "label": "Name of the person"},
        "email": {"kind": "shortText", "label": "Their e-mail address"},
        "systems": {"kind": "multipleChoice", "label": "Systems they need"},
        "startDate": {"kind": "date", "label": "Access from", "prefill": "today"},
        "confirmation": {
            "kind": "checkbox",
            "label": "I confirm that this person works for our company and needs this access.",
        },
    },
)

DEMO_FORMS: Final[dict[str, tuple[str, dict[str, Any]]]] = {
    "Quote request": (
        "Ask for a quote for our products or services; we answer within two business days.",
        QUOTE_REQUEST,
    ),
    "Support ticket": (
        "Report a problem with one of our systems.",
        SUPPORT_TICKET,
    ),
    "Document submission": (
        "Send us the certificates and documents we asked for.",
        DOCUMENT_SUBMISSION,
    ),
    "Access request": (
        "Ask for access to our systems for a colleague.",
        ACCESS_REQUEST,
    ),
}
