"""Full-text search over pages and posts, limited to what the reader may see.

The actions write a :class:`SearchDocument` with every page and post, in the same
transaction; the database keeps its own index over it (migration 0005): FTS5 with the
Porter stemmer in SQLite, an English ``tsvector`` with a GIN index in PostgreSQL. Both
rank (BM25 / cover density, a title match weighing more than a body match) and cut a
snippet around the matches. The reader's scope (the projects :mod:`app.policy` lets them
see, and ``INTERNAL`` only for staff) is part of the query, so a hit they may not read is
never counted, ranked or returned.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from tortoise import connections

from app import policy
from app.errors import BadUserInput
from models import Attachment, Micropost, Page, SearchDocument, SearchKind, User, Visibility

QUERY_MAX_LENGTH = 200
MAX_TERMS = 12
_WORD = re.compile(r"\w+", re.UNICODE)
_MARK_START, _MARK_END = "\x02", "\x03"


@dataclass(frozen=True, slots=True)
class Hit:
    kind: SearchKind
    object_id: int
    score: float
    snippet: str  # safe HTML: escaped text with <mark> around the matches


async def index_page(page: Page) -> None:
    await _index(SearchKind.PAGE, page.id, page.project_id, page.visibility, page.title, page.body)


async def index_micropost(post: Micropost) -> None:
    await _index(SearchKind.MICROPOST, post.id, post.project_id, post.visibility, "", post.body)


async def _index(
    kind: SearchKind, object_id: int, project_id: int, visibility: str, title: str, body: str
) -> None:
    await SearchDocument.update_or_create(
        kind=kind,
        object_id=object_id,
        defaults={
            "project_id": project_id,
            "visibility": visibility,
            "title": title,
            "body": body,
        },
    )


async def index_attachment(attachment: Attachment, page: Page) -> None:
    await _index(
        SearchKind.ATTACHMENT,
        attachment.id,
        page.project_id,
        page.visibility,
        attachment.name,
        # the words of the name on their own: PostgreSQL reads "racks.pdf" as one file name
        f"{' '.join(_WORD.findall(attachment.name))}, version {attachment.version}, "
        f"on {page.title}",
    )


async def forget_attachments(attachment_ids: list[int]) -> None:
    """Older versions: a search finds a file once, at its latest version."""
    if attachment_ids:
        await SearchDocument.filter(
            kind=SearchKind.ATTACHMENT, object_id__in=attachment_ids
        ).delete()


def terms(query: str) -> list[str]:
    """The words of a query (operators and punctuation are not syntax here)."""
    if len(query) > QUERY_MAX_LENGTH:
        raise BadUserInput(
            f"A search is at most {QUERY_MAX_LENGTH} characters long.", field="query"
        )
    words = _WORD.findall(query.lower())[:MAX_TERMS]
    if not words:
        raise BadUserInput("Search for at least one word.", field="query")
    return words


async def _scope(viewer: User) -> tuple[list[int] | None, bool]:
    """The project ids the viewer may search (None: all) and whether INTERNAL counts."""
    if viewer.is_staff:
        return None, True
    projects = await policy.visible_projects(viewer).only("id")
    return [project.id for project in projects], False


def _snippet(raw: str | None) -> str:
    text = html.escape(raw or "", quote=False)
    return text.replace(_MARK_START, "<mark>").replace(_MARK_END, "</mark>")


async def search(viewer: User, query: str, *, limit: int, offset: int) -> tuple[list[Hit], int]:
    """The best hits the viewer may read, from ``offset``, and how many there are."""
    words = terms(query)
    projects, internal = await _scope(viewer)
    if projects == []:
        return [], 0
    client = connections.get("default")
    dialect = client.capabilities.dialect
    params: list[object] = []
    if dialect == "sqlite":
        # every word must match; the last one may be the start of a word (search as you type)
        match = " ".join(f'"{w}"' for w in words[:-1]) + f' "{words[-1]}"*'
        source = "search_fts JOIN search_documents d ON d.id = search_fts.rowid"
        condition = "search_fts MATCH ?"
        params.append(match.strip())
        score = "-bm25(search_fts, 4.0, 1.0)"
        snippet = f"snippet(search_fts, -1, '{_MARK_START}', '{_MARK_END}', '…', 24)"
        mark = "?"
    else:
        tsquery = " & ".join([*words[:-1], f"{words[-1]}:*"])
        source = "search_documents d, to_tsquery('english', $1) q"
        condition = "d.document @@ q"
        params.append(tsquery)
        score = "ts_rank_cd(d.document, q)"
        snippet = (
            "ts_headline('english', d.title || E'\\n' || d.body, q, "
            f"'StartSel={_MARK_START}, StopSel={_MARK_END}, MaxWords=30, MinWords=12, "
            "MaxFragments=2, FragmentDelimiter=…')"
        )
        mark = ""
    where = [condition]
    if projects is not None:
        where.append(f"d.project_id IN ({', '.join(_placeholders(dialect, params, projects))})")
    if not internal:
        where.append(
            f"d.visibility = {_placeholders(dialect, params, [Visibility.SHARED.value])[0]}"
        )
    filters = " AND ".join(where)
    count_rows = await client.execute_query_dict(
        f"SELECT COUNT(*) AS n FROM {source} WHERE {filters}",  # noqa: S608 (no user text)
        params,
    )
    total = int(count_rows[0]["n"])
    page_params = [*params, limit, offset]
    limit_sql = (
        "LIMIT ? OFFSET ?" if mark else f"LIMIT ${len(page_params) - 1} OFFSET ${len(page_params)}"
    )
    rows = await client.execute_query_dict(
        f"SELECT d.kind AS kind, d.object_id AS object_id, {score} AS score, "  # noqa: S608
        f"{snippet} AS snippet FROM {source} WHERE {filters} "
        f"ORDER BY score DESC, d.id DESC {limit_sql}",
        page_params,
    )
    hits = [
        Hit(
            kind=SearchKind(row["kind"]),
            object_id=int(row["object_id"]),
            score=float(row["score"]),
            snippet=_snippet(row["snippet"]),
        )
        for row in rows
    ]
    return hits, total


def _placeholders(dialect: str, params: list[object], values: Sequence[object]) -> list[str]:
    """Append ``values`` to the query parameters; their placeholders in this dialect."""
    marks = []
    for value in values:
        params.append(value)
        marks.append("?" if dialect == "sqlite" else f"${len(params)}")
    return marks
