"""Full-text search over pages, posts, files, requests and library documents, limited to
what the reader may see.

The actions write a :class:`SearchDocument` with every page and post, in the same
transaction; the database keeps its own index over it: FTS5 in SQLite (migration 0005:
the ``unicode61`` tokenizer without diacritics, Porter stemming), a ``tsvector`` with a GIN
index in PostgreSQL (migration 0013), made from :func:`words`, the same words the SQLite
tokenizer sees, stemmed by the same Porter algorithm, with no stop words. Both databases find
the same documents for a query: e-mail addresses, version numbers and identifiers are
phrases of their parts (``anna@acme.example`` is ``anna acme example``, ``2.5.1`` is
``2 5 1``, ``snake_case`` is ``snake case``), and a word matches with or without its
diacritics (``Müller``, ``muller``).

Hits are ranked by a score that depends on the document and the query alone (never on
the rest of the index), so it does not change when other documents are written; pages of
results are keyed on (score, document id), so a page never repeats an earlier one's
hits. The reader's scope (the projects :mod:`domain.policy` lets them see, and ``INTERNAL``
only for staff) is part of the query, so a hit they may not read is never counted,
ranked or returned.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import html
import re
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from tortoise import connections

from domain import policy
from domain.errors import BadUserInput
from domain.markdown import OFF_THE_LOOP
from models import SearchKind, User, Visibility

QUERY_MAX_LENGTH = 200
REQUEST_KINDS = (SearchKind.REQUEST, SearchKind.REQUEST_NOTE)
"""Entries of requests (``object_id``: the request), scoped by request, not by project."""
UNSCOPED_BY_PROJECT = (*REQUEST_KINDS, SearchKind.LIBRARY)
"""Entries scoped by their object (a request, a library document), not by project."""
MAX_TERMS = 12
SEARCH_CONFIGURATION = "extranet_search"
"""PostgreSQL's text search configuration of the index (migration 0013)."""
_WORD = re.compile(r"\w+", re.UNICODE)
_MARK_START, _MARK_END = "\x02", "\x03"


def words(text: str) -> list[str]:
    """The words of ``text`` as the SQLite index reads them (``unicode61`` with
    ``remove_diacritics 2``): lower case, runs of letters, digits and private-use
    characters; spaces, punctuation, symbols and marks separate them, except the
    diacritics of Latin letters, which are left out (``Müller`` is ``muller``). Linear in
    the text (about a microsecond a character for non-ASCII text, less for ASCII)."""
    text = unicodedata.normalize("NFC", text).lower()
    if text.isascii():
        return _ASCII_WORD.findall(text)
    word, latin_marks, latin_plain = _patterns()
    return word.findall(latin_marks.sub("", text).translate(latin_plain))


_ASCII_WORD = re.compile(r"[a-z0-9]+")
_LATIN_BLOCKS = (
    *(range(start, end) for start, end in ((0, 0x3000), (0xA700, 0xAB70), (0xFB00, 0xFB07))),
    *(range(start, end) for start, end in ((0xFF00, 0xFF70), (0x10780, 0x107C0))),
    range(0x1DF00, 0x1E000),
)
"""Where Latin letters are (by their names): the rest of Unicode has none."""


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], dict[int, str]]:
    """Made at first use (a fraction of a second), for the whole of Unicode: a run of word
    characters (marks separate words), the combining marks after a Latin letter (its
    diacritics, left out), and the Latin letters with diacritics mapped to those without."""
    categories = [unicodedata.category(chr(code)) for code in range(sys.maxunicode + 1)]
    separators = [category != "Co" and category[0] in "ZPSCM" for category in categories]
    marks = [category[0] == "M" for category in categories]
    latin = [False] * len(categories)
    plain: dict[int, str] = {}
    for block in _LATIN_BLOCKS:
        for code in block:
            if unicodedata.name(chr(code), "").startswith("LATIN"):
                latin[code] = True
                decomposed = unicodedata.normalize("NFD", chr(code))
                without = "".join(c for c in decomposed if not unicodedata.combining(c))
                if without != chr(code):
                    plain[code] = without
    return (
        re.compile(f"[^{_ranges(separators)}]+"),
        re.compile(f"(?<=[{_ranges(latin)}])[{_ranges(marks)}]+"),
        plain,
    )


def _ranges(members: list[bool]) -> str:
    """A regular expression character class's contents for the code points marked True."""
    parts: list[str] = []
    start: int | None = None
    for code, member in enumerate([*members, False]):
        if member and start is None:
            start = code
        elif not member and start is not None:
            first, last = re.escape(chr(start)), re.escape(chr(code - 1))
            parts.append(first if start == code - 1 else f"{first}-{last}")
            start = None
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class Hit:
    kind: SearchKind
    object_id: int
    score: float
    snippet: str  # safe HTML: escaped text with <mark> around the matches


async def words_off_the_loop(title: str, body: str) -> tuple[str, str]:
    """The :func:`words` of a title and a body, each joined by spaces; in a worker thread
    for a long text (a 200,000-character page of non-ASCII text takes about 0.1 s) and for
    the first non-ASCII text (which makes the character classes)."""

    def both() -> tuple[str, str]:
        return " ".join(words(title)), " ".join(words(body))

    first = _patterns.cache_info().currsize == 0 and not (title.isascii() and body.isascii())
    if first or len(title) + len(body) > OFF_THE_LOOP:
        return await asyncio.to_thread(both)
    return both()


def attachment_text(name: str, version: int, page_title: str) -> str:
    """What a search finds an attachment by: the words of its file name on their own
    (PostgreSQL reads "racks.pdf" as one file name), its version and its page's title."""
    return f"{' '.join(_WORD.findall(name))}, version {version}, on {page_title}"


def terms(query: str) -> list[list[str]]:
    """The phrases of a query: each of its space-separated parts as its :func:`words`
    (``anna@acme.example`` is one phrase of three words), at most MAX_TERMS words in all.
    Operators and punctuation are not syntax here. BAD_USER_INPUT for a query over
    QUERY_MAX_LENGTH characters or without a word."""
    if len(query) > QUERY_MAX_LENGTH:
        raise BadUserInput(
            f"A search is at most {QUERY_MAX_LENGTH} characters long.", field="query"
        )
    phrases: list[list[str]] = []
    budget = MAX_TERMS
    for part in query.split():
        phrase = words(part)[:budget]
        if phrase:
            phrases.append(phrase)
            budget -= len(phrase)
        if budget == 0:
            break
    if not phrases:
        raise BadUserInput("Search for at least one word.", field="query")
    return phrases


POSTGRES_DOCUMENT = (
    f"setweight(to_tsvector('{SEARCH_CONFIGURATION}', $1), 'A') "
    f"|| setweight(to_tsvector('{SEARCH_CONFIGURATION}', $2), 'B')"
)
"""The indexed document in PostgreSQL, from the :func:`words` of the title ($1) and body ($2)."""


def _fts5_query(phrases: list[list[str]]) -> str:
    """Every phrase must match; the last word may be the start of a word (search as you
    type). Words are letters and digits only, so quoting them is safe."""
    return " ".join(f'"{" ".join(p)}"' for p in phrases) + "*"


def _tsquery(phrases: list[list[str]]) -> str:
    """The same query for PostgreSQL's ``to_tsquery``."""
    parts = [" <-> ".join(p) for p in phrases]
    parts[-1] += ":*"
    return " & ".join(f"({part})" for part in parts)


@dataclass(frozen=True, slots=True)
class After:
    """Where a page of hits starts: after the hit with this score and document id."""

    score: float
    document_id: int

    def encode(self) -> str:
        raw = f"search:{self.score!r}:{self.document_id}"
        return base64.urlsafe_b64encode(raw.encode()).decode()

    @classmethod
    def decode(cls, cursor: str) -> After:
        """BAD_USER_INPUT for anything but a cursor of search results."""
        try:
            kind, score, document_id = base64.urlsafe_b64decode(cursor).decode().split(":")
            after = cls(float(score), int(document_id))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            after = None
        if (
            after is None
            or kind != "search"
            or not _finite(after.score)
            or not 1 <= after.document_id <= _LARGEST_ID
        ):
            raise BadUserInput("`after` must be a cursor taken from these results.", field="after")
        return after


_LARGEST_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL


def _finite(value: float) -> bool:
    return value == value and abs(value) != float("inf")


def _snippet(raw: str | None) -> str:
    text = html.escape(raw or "", quote=False)
    return text.replace(_MARK_START, "<mark>").replace(_MARK_END, "</mark>")


@dataclass(frozen=True, slots=True)
class Found:
    """One page of hits, how many hits there are in all, and whether more follow."""

    hits: list[Hit]
    cursors: list[str]
    total: int
    has_more: bool


# A score of the document and the query alone (BM25 would change with every document
# written): matched words, a title's four times a body's, per length of the text.
_SQLITE_SCORE = (
    "(4.0 * (length(ht) - length(replace(ht, char(2), ''))) "
    "+ (length(hb) - length(replace(hb, char(2), '')))) "
    "/ (8.0 + (length(title) + length(body)) / 6.0)"
)


async def search(viewer: User, query: str, *, limit: int, after: str | None = None) -> Found:
    """The best ``limit`` hits the viewer may read after the cursor ``after`` (from
    :attr:`Found.cursors`), best first, and how many there are. BAD_USER_INPUT for a
    query without words or a cursor from elsewhere."""
    phrases = terms(query)
    start = After.decode(after) if after is not None else None
    projects, internal = await policy.search_scope(viewer)
    requests = await policy.search_request_scope(viewer)
    documents = await policy.search_library_scope(viewer)
    if projects == [] and requests == [] and documents == []:
        return Found([], [], 0, False)
    client = connections.get("default")
    dialect = client.capabilities.dialect
    params: list[object] = []
    if dialect == "sqlite":
        [match] = _placeholders(dialect, params, [_fts5_query(phrases)])
        ranked = (
            "SELECT d.id AS id, d.kind AS kind, d.object_id AS object_id, d.title AS title, "  # noqa: S608
            "d.body AS body, d.project_id AS project_id, d.visibility AS visibility, "
            "highlight(search_fts, 0, char(2), '') AS ht, "
            "highlight(search_fts, 1, char(2), '') AS hb, "
            f"snippet(search_fts, -1, '{_MARK_START}', '{_MARK_END}', '…', 24) AS snippet "
            f"FROM search_fts JOIN search_documents d ON d.id = search_fts.rowid "
            f"WHERE search_fts MATCH {match}"
        )
        source = f"(SELECT *, {_SQLITE_SCORE} AS score FROM ({ranked})) d"  # noqa: S608
    else:
        [match] = _placeholders(dialect, params, [_tsquery(phrases)])
        q = f"to_tsquery('{SEARCH_CONFIGURATION}', {match})"
        source = (
            f"(SELECT d.id, d.kind, d.object_id, d.project_id, d.visibility, "  # noqa: S608
            f"ts_rank_cd(d.document, {q})::float8 AS score, "
            f"ts_headline('{SEARCH_CONFIGURATION}', d.title || E'\\n' || d.body, {q}, "
            f"'StartSel={_MARK_START}, StopSel={_MARK_END}, MaxWords=30, MinWords=12, "
            "MaxFragments=2, FragmentDelimiter=…') AS snippet "
            f"FROM search_documents d WHERE d.document @@ {q}) d"
        )
    where = ["1 = 1"]
    if projects is not None or requests is not None or documents is not None:
        # a contact: pages, posts and files of their projects, their requests' text and
        # the library documents they may read
        unscoped = [k.value for k in UNSCOPED_BY_PROJECT]
        not_requests = ", ".join(_placeholders(dialect, params, unscoped))
        in_projects = ", ".join(_placeholders(dialect, params, projects or [0]))
        of_requests = ", ".join(_placeholders(dialect, params, [k.value for k in REQUEST_KINDS]))
        in_requests = ", ".join(_placeholders(dialect, params, requests or [0]))
        [of_library] = _placeholders(dialect, params, [SearchKind.LIBRARY.value])
        in_library = ", ".join(_placeholders(dialect, params, documents or [0]))
        where.append(
            f"((d.kind NOT IN ({not_requests}) AND d.project_id IN ({in_projects})) "
            f"OR (d.kind IN ({of_requests}) AND d.object_id IN ({in_requests})) "
            f"OR (d.kind = {of_library} AND d.object_id IN ({in_library})))"
        )
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
    if start is not None:
        score, same, document = _placeholders(
            dialect, params, [start.score, start.score, start.document_id]
        )
        filters += f" AND (d.score < {score} OR (d.score = {same} AND d.id < {document}))"
    [count] = _placeholders(dialect, params, [limit + 1])
    rows = await client.execute_query_dict(
        f"SELECT d.id AS id, d.kind AS kind, d.object_id AS object_id, "  # noqa: S608
        f"d.score AS score, d.snippet AS snippet FROM {source} WHERE {filters} "
        f"ORDER BY d.score DESC, d.id DESC LIMIT {count}",
        params,
    )
    hits = [
        Hit(
            kind=SearchKind(row["kind"]),
            object_id=int(row["object_id"]),
            score=float(row["score"]),
            snippet=_snippet(row["snippet"]),
        )
        for row in rows[:limit]
    ]
    cursors = [After(float(row["score"]), int(row["id"])).encode() for row in rows[:limit]]
    return Found(hits, cursors, total, len(rows) > limit)


def _placeholders(dialect: str, params: list[object], values: Sequence[object]) -> list[str]:
    """Append ``values`` to the query parameters; their placeholders in this dialect."""
    marks = []
    for value in values:
        params.append(value)
        marks.append("?" if dialect == "sqlite" else f"${len(params)}")
    return marks
