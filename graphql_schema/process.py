"""What one server process keeps for all of its requests: made once by the application (in
``create_app``, on ``app.state.graphql``), reached from each request's context as
``context.process``, and gone with the application. Nothing here is a module global, so
two applications in one interpreter (tests, benchmarks) never share it."""

from __future__ import annotations

from typing import Any

from domain.diffing import DiffCache
from graphql_schema.denials import DenialRecords
from graphql_schema.limits import CheckedDocumentCache


class ProcessState:
    """``documents``: parsed and checked documents by their text; ``diffs``: page diffs
    by the page and its two revisions (revisions never change); ``denials``: refusals
    still being written to the audit trail."""

    def __init__(self) -> None:
        self.documents = CheckedDocumentCache()
        self.diffs: DiffCache[Any] = DiffCache()
        self.denials = DenialRecords()
