from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from tortoise.queryset import QuerySet

from app import cursors, policy, search
from app.errors import BadUserInput
from graphql_schema.context import Info
from graphql_schema.microposts.types import Micropost
from graphql_schema.pages.types import Attachment, Page
from graphql_schema.permissions import IsAuthenticated, rule
from graphql_schema.relay import DEFAULT_PAGE_SIZE, Connection, Edge, PageInfo, check_page_size
from graphql_schema.search.types import SearchItem, SearchResult
from models import SearchKind, User

MAX_OFFSET = 1_000


def _offset(after: str | None) -> int:
    if after is None:
        return 0
    offset = cursors.decode("search", after, lowest=1, highest=MAX_OFFSET)
    if offset is None:
        raise BadUserInput("`after` must be a cursor taken from these results.", field="after")
    return offset


_KINDS: dict[SearchKind, tuple[Callable[[User], QuerySet[Any]], Callable[[Any], Any]]] = {
    SearchKind.PAGE: (policy.visible_pages, Page.from_row),
    SearchKind.MICROPOST: (policy.visible_microposts, Micropost.from_row),
    SearchKind.ATTACHMENT: (policy.visible_attachments, Attachment.from_row),
}


@strawberry.type
class Query:
    @strawberry.field(
        extensions=rule(IsAuthenticated),
        description=(
            "Full-text search over the pages (title and body), posts and attachment names "
            "you may read, best "
            "first. Every word must match; the last one may be the start of a word."
        ),
    )
    async def search(
        self, info: Info, query: str, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[SearchResult] | None:
        viewer = info.context.require_viewer()
        check_page_size(first)
        offset = _offset(after)
        hits, total = await search.search(viewer, query, limit=first, offset=offset)
        # the scope is part of the search already; the rows are read through it once more
        found: dict[tuple[SearchKind, int], SearchItem] = {}
        for kind, (scope, to_node) in _KINDS.items():
            ids = [h.object_id for h in hits if h.kind is kind]
            if ids:
                for row in await scope(viewer).filter(id__in=ids):
                    found[(kind, row.id)] = to_node(row)
        edges = []
        for position, hit in enumerate(hits, start=offset + 1):
            node = found.get((hit.kind, hit.object_id))
            if node is not None:
                result = SearchResult(node=node, snippet=hit.snippet, score=hit.score)
                edges.append(Edge(cursor=cursors.encode("search", position), node=result))

        async def count() -> int:
            return total

        return Connection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=offset + len(hits) < min(total, MAX_OFFSET),
                has_previous_page=offset > 0,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            _count=count,
        )
