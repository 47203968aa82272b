"""Search results: what matched, where, and how well."""

from __future__ import annotations

from typing import Annotated

import strawberry

from graphql_schema.library.types import LibraryDocument
from graphql_schema.microposts.types import Micropost
from graphql_schema.pages.types import Attachment, Page
from graphql_schema.requests.types import Request

SearchItem = Annotated[
    Page | Micropost | Attachment | Request | LibraryDocument,
    strawberry.union("SearchItem", description="Something a search can find."),
]


@strawberry.type(description="One search hit.")
class SearchResult:
    node: SearchItem
    snippet: str = strawberry.field(
        description=(
            "The text around the matches as safe HTML: escaped, with each match in <mark>…</mark>."
        )
    )
    score: float = strawberry.field(description="Higher is better; only for ordering.")
