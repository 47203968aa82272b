"""The documents of clients/operations: each operation valid with the fragments it spreads,
and the folder as a whole valid as one set of documents (what GraphQL Code Generator,
graphql-inspector and the Relay compiler check): every fragment defined once."""

import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from extranet_client.operations import operation_document
from graphql import FragmentDefinitionNode, OperationDefinitionNode, build_schema, parse, validate

from app.persisted import operation_documents
from tests.services import in_ci

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


def test_every_fragment_is_defined_once_and_a_shared_one_in_a_file_of_its_name() -> None:
    # given every definition of every file, as a validator loads the folder
    definitions = [(path, d) for path in FILES for d in parse(path.read_text()).definitions]
    fragments = [(p, d) for p, d in definitions if isinstance(d, FragmentDefinitionNode)]
    # then no fragment name is defined twice
    names = Counter(d.name.value for _, d in fragments)
    assert [name for name, count in names.items() if count > 1] == []
    # and a file of fragments alone holds one, named like the file (where clients find it)
    shared = [path for path in FILES if path not in OPERATIONS]
    assert shared
    for path in shared:
        [fragment] = parse(path.read_text()).definitions
        assert isinstance(fragment, FragmentDefinitionNode)
        assert fragment.name.value == path.stem


def test_an_operation_with_its_own_fragment_needs_no_other_file(tmp_path: Path) -> None:
    # given an operation that defines one fragment and spreads another from its file
    (tmp_path / "Shared.graphql").write_text("fragment Shared on User { id ...Inner }\n")
    (tmp_path / "Inner.graphql").write_text("fragment Inner on User { name }\n")
    own = "query Me { me { ...Own ...Shared } }\n\nfragment Own on User { handle }\n"
    (tmp_path / "Me.graphql").write_text(own)
    # when
    document = operation_document(tmp_path / "Me.graphql")
    # then each fragment is in it once, the files' ones in the order of their names
    assert document == (
        own + "\nfragment Inner on User { name }\n\nfragment Shared on User { id ...Inner }\n"
    )
    assert validate(SCHEMA, parse(document)) == []


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


NODE_DOCUMENTS = """
import { operationDocument } from "./clients/web/operations.mjs";
const paths = JSON.parse(process.argv[1]);
const documents = await Promise.all(paths.map((path) => operationDocument(path)));
process.stdout.write(JSON.stringify(documents));
"""


def test_the_web_client_assembles_each_document_as_the_server_does(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        if in_ci():
            pytest.fail("Node.js is needed to build the web client; CI=true requires it")
        pytest.skip("Node.js is not installed")
    test_an_operation_with_its_own_fragment_needs_no_other_file(tmp_path)  # a few more files
    paths = [*OPERATIONS, tmp_path / "Me.graphql"]
    done = subprocess.run(
        [node, "--input-type=module", "-e", NODE_DOCUMENTS, json.dumps([str(p) for p in paths])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout) == [operation_document(path) for path in paths]
