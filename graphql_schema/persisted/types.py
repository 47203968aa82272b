from __future__ import annotations

from datetime import datetime

import strawberry

from models import PersistedDocument as PersistedDocumentRow


@strawberry.type(description="A document the server runs when it takes only registered ones.")
class PersistedQuery:
    sha256_hash: str = strawberry.field(
        description="SHA-256 of the text: send it as `extensions.persistedQuery.sha256Hash`."
    )
    query: str
    operation_name: str | None
    registered_at: datetime

    @classmethod
    def from_row(cls, row: PersistedDocumentRow) -> PersistedQuery:
        return cls(
            sha256_hash=row.sha256,
            query=row.query,
            operation_name=row.operation_name,
            registered_at=row.created_at,
        )
