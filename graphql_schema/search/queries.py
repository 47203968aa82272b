from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from tortoise.queryset import QuerySet

from actions.interactions import record_search
from domain import library, policy, search
from graphql_schema.context import Info
from graphql_schema.library.types import LibraryDocument
from graphql_schema.microposts.types import Micropost
from graphql_schema.pages.types import Attachment, Page
from graphql_schema.permissions import CanSee, rule
from graphql_schema.relay import DEFAULT_PAGE_SIZE, Connection, Edge, PageInfo, check_page_size
from graphql_schema.requests.types import Request
from graphql_schema.search.types import SearchItem, SearchResult
from models import SearchKind, User

_KINDS: dict[SearchKind, tuple[Callable[[User], QuerySet[Any]], Callable[[Any], Any]]] = {
    SearchKind.PAGE: (policy.visible_pages, Page.from_row),
    SearchKind.MICROPOST: (policy.visible_microposts, Micropost.from_row),
    SearchKind.ATTACHMENT: (policy.visible_attachments, Attachment.from_row),
    SearchKind.REQUEST: (policy.visible_requests, Request.from_row),
    SearchKind.REQUEST_NOTE: (policy.visible_requests, Request.from_row),
    SearchKind.LIBRARY: (library.visible_documents, LibraryDocument.from_row),
}
_READ_SCOPES: dict[SearchKind, str] = {
    SearchKind.PAGE: "pages:read",
    SearchKind.MICROPOST: "projects:read",
    SearchKind.ATTACHMENT: "pages:read",
    SearchKind.REQUEST: "requests:read",
    SearchKind.REQUEST_NOTE: "requests:read",
    SearchKind.LIBRARY: "documents:read",
}
"""What an access token needs to receive a hit of each kind (a session receives all)."""


@strawberry.type
class Query:
    @strawberry.field(
        extensions=rule(CanSee),
        description=(
            "Full-text search over the pages (title and body), posts, attachment names, "
            "requests (number, title, answers, conversation) and library documents (title, "
            "description, tags and the text of the current version's PDF or office file) you "
            "may read, best first. Every word must match (the parts of an e-mail address, a "
            "version number or an identifier in their order), with or without its "
            "diacritics; the last one may be the start of a word. Pages never repeat a hit, "
            "even while others write. An access token receives only the kinds its scopes read "
            "(pages and attachments: `pages:read`, requests: `requests:read`, library "
            "documents: `documents:read`)."
        ),
    )
    async def search(
        self, info: Info, query: str, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[SearchResult] | None:
        viewer = info.context.require_viewer()
        check_page_size(first)
        found_hits = await search.search(viewer, query, limit=first, after=after)
        if after is None:  # a search, not the next page of one
            await record_search(viewer, query, found=found_hits.total > 0)
        # the scope is part of the search already; the rows are read through it once more
        found: dict[tuple[SearchKind, int], SearchItem] = {}
        for kind, (scope, to_node) in _KINDS.items():
            if not policy.has_scope(info.context.scopes, _READ_SCOPES[kind]):
                continue  # an access token without the area's read scope
            ids = [h.object_id for h in found_hits.hits if h.kind is kind]
            if ids:
                for row in await scope(viewer).filter(id__in=ids):
                    found[(kind, row.id)] = to_node(row)
        edges = []
        for hit, cursor in zip(found_hits.hits, found_hits.cursors, strict=True):
            node = found.get((hit.kind, hit.object_id))
            if node is not None:
                result = SearchResult(node=node, snippet=hit.snippet, score=hit.score)
                edges.append(Edge(cursor=cursor, node=result))

        async def count() -> int:
            return found_hits.total

        return Connection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=found_hits.has_more,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=found_hits.cursors[-1] if found_hits.cursors else None,
            ),
            _count=count,
        )
