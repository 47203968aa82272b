from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = sorted((ROOT / "clients" / "operations").glob("*.graphql"))
SCHEMA = build_schema((ROOT / "schema.graphql").read_text())


def test_there_are_client_operations() -> None:
    assert len(OPERATIONS) >= 5


@pytest.mark.parametrize("path", OPERATIONS, ids=lambda p: p.stem)
def test_operation_is_valid_against_the_schema(path: Path) -> None:
    errors = validate(SCHEMA, parse(path.read_text()))
    assert errors == [], [e.message for e in errors]


def test_an_operation_using_a_removed_field_would_fail() -> None:
    errors = validate(SCHEMA, parse("{ me { nameThatDoesNotExist } }"))
    assert errors
