"""The documents of clients/operations: each operation valid with the fragments it spreads,
and the folder as a whole valid as one set of documents (what GraphQL Code Generator,
graphql-inspector and the Relay compiler check): every fragment defined once."""

from collections import Counter
from pathlib import Path

import pytest
from graphql import FragmentDefinitionNode, OperationDefinitionNode, build_schema, parse, validate

from app.persisted import operation_document, operation_documents

ROOT = Path(__file__).resolve().parent.parent
DIRECTORY = ROOT / "clients" / "operations"
FILES = sorted(DIRECTORY.glob("*.graphql"))
OPERATIONS = [
    path
    for path in FILES
    if any(isinstance(d, OperationDefinitionNode) for d in parse(path.read_text()).definitions)
]
SCHEMA = build_schema((ROOT / "schema.graphql").read_text())


def test_there_are_client_operations() -> None:
    assert len(OPERATIONS) >= 5


@pytest.mark.parametrize("path", OPERATIONS, ids=lambda p: p.stem)
def test_operation_is_valid_against_the_schema(path: Path) -> None:
    errors = validate(SCHEMA, parse(operation_document(path)))
    assert errors == [], [e.message for e in errors]


def test_an_operation_using_a_removed_field_would_fail() -> None:
    errors = validate(SCHEMA, parse("{ me { nameThatDoesNotExist } }"))
    assert errors


def test_every_fragment_is_defined_once_in_a_file_of_its_name() -> None:
    # given every definition of every file, as a validator loads the folder
    definitions = [(path, d) for path in FILES for d in parse(path.read_text()).definitions]
    fragments = [(p, d) for p, d in definitions if isinstance(d, FragmentDefinitionNode)]
    # then no fragment name is defined twice, and each lives in <name>.graphql, alone
    names = Counter(d.name.value for _, d in fragments)
    assert [name for name, count in names.items() if count > 1] == []
    assert fragments
    for path, fragment in fragments:
        assert path.stem == fragment.name.value
        assert len(parse(path.read_text()).definitions) == 1


def test_the_folder_is_valid_as_one_set_of_documents() -> None:
    # as GraphQL Code Generator and graphql-inspector validate it: all files together
    together = parse("\n".join(path.read_text() for path in FILES))
    errors = validate(SCHEMA, together)
    assert errors == [], [e.message for e in errors]
    # and a fragment defined in two files would be refused
    twice = "\n".join([(DIRECTORY / "TimelinePost.graphql").read_text()] * 2)
    assert any("only one fragment named" in e.message for e in validate(SCHEMA, parse(twice)))


def test_the_server_knows_each_operation_with_its_fragments() -> None:
    documents = list(operation_documents(DIRECTORY))
    assert len(documents) == len(OPERATIONS)
    [events] = [d for d in documents if d.startswith("subscription ProjectEvents")]
    assert events.count("fragment TimelinePost on Micropost") == 1
