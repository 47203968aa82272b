from pathlib import Path

from graphql_schema.schema import schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_checked_in_schema_matches_the_code() -> None:
    committed = SCHEMA_FILE.read_text()
    generated = schema.as_str()
    assert committed.strip() == generated.strip(), (
        "schema.graphql is out of date: run `make schema` and commit the result"
    )
