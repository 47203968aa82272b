"""Relay conventions: global IDs, ``node(id:)`` resolution and cursor connections."""

from __future__ import annotations

import binascii
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import strawberry
from strawberry import relay
from tortoise.models import Model
from tortoise.queryset import QuerySet

from domain import cursors, policy
from domain.errors import BadUserInput, NotFound
from domain.text import normalise_topic
from models import Topic, User

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
# The largest primary key behind an ID or a cursor (an ``integer`` column in PostgreSQL): a
# larger number was never given out, and would fail in the database instead of not matching.
MAX_ROW_ID = 2**31 - 1

NodeT = TypeVar("NodeT")
RowT = TypeVar("RowT", bound=Model)


_NOT_AN_ID = "That is not an ID this API gave out; IDs are opaque strings from `id` fields."


def parse_global_id(value: str | relay.GlobalID) -> relay.GlobalID:
    """The type name and key of a global ID; a malformed ID is bad input."""
    try:
        return value if isinstance(value, relay.GlobalID) else relay.GlobalID.from_id(value)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise BadUserInput(_NOT_AN_ID, field="id") from None


def topic_global_id(name: str) -> str:
    """A topic's global ID: made of its (normalised) name alone, so it tells nothing that
    the name does not, such as whether or when anyone else used the topic first."""
    return str(relay.GlobalID("Topic", name))


def decode_global_id(value: str | relay.GlobalID, expected: str | None = None) -> tuple[str, int]:
    """The type name and database id behind a global ID (of any type but ``Topic``, whose
    key is its name: ``parse_global_id``).

    A malformed ID is bad input; an ID of another type answers as a missing object.
    """
    gid = parse_global_id(value)
    try:
        node_id = int(gid.node_id)
    except ValueError:
        raise BadUserInput(_NOT_AN_ID, field="id") from None
    if expected is not None and gid.type_name != expected:
        raise NotFound(expected[:1].lower() + expected[1:])
    if not 0 < node_id <= MAX_ROW_ID:
        raise NotFound(expected[:1].lower() + expected[1:] if expected else "object")
    return gid.type_name, node_id


def node_pk(value: str | relay.GlobalID, type_name: str) -> int:
    """The database id behind a global ID of ``type_name`` (``"Project"``, ``"User"``...).

    Errors as :func:`decode_global_id`: BAD_USER_INPUT (field ``id``) for a malformed ID,
    NOT_FOUND naming the type (``project``) for an ID of another type or beyond any row.
    """
    return decode_global_id(value, type_name)[1]


def global_id(type_name: str, node_id: int) -> str:
    return str(relay.GlobalID(type_name, str(node_id)))


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    _count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many items the whole list has for you.")
    async def total_count(self) -> int:
        return await self._count()


def _encode_cursor(row_id: int) -> str:
    return cursors.encode("cursor", row_id)


def _decode_cursor(cursor: str) -> int:
    row_id = cursors.decode("cursor", cursor, lowest=1, highest=MAX_ROW_ID)
    if row_id is None:
        raise BadUserInput(
            "`after` must be a cursor taken from this list's edges or pageInfo.", field="after"
        )
    return row_id


def check_page_size(first: int) -> int:
    if first < 0 or first > MAX_PAGE_SIZE:
        raise BadUserInput(
            f"`first` must be between 0 and {MAX_PAGE_SIZE}; ask for the next page with `after`.",
            field="first",
        )
    return first


async def paginate(
    queryset: QuerySet[RowT],
    *,
    first: int,
    after: str | None,
    to_node: Callable[[RowT], NodeT],
    newest_first: bool = False,
) -> Connection[NodeT]:
    """Keyset pagination on the primary key: stable while rows are added."""
    check_page_size(first)
    page = queryset
    if after is not None:
        last_id = _decode_cursor(after)
        page = page.filter(id__lt=last_id) if newest_first else page.filter(id__gt=last_id)
    rows: Sequence[RowT] = (
        await page.order_by("-id" if newest_first else "id").limit(first + 1) if first else []
    )
    has_next = len(rows) > first
    rows = rows[:first]
    edges = [Edge(cursor=_encode_cursor(int(row.pk)), node=to_node(row)) for row in rows]

    async def count() -> int:
        return await queryset.count()

    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        _count=count,
    )


async def fetch_by_global_id(
    queryset: QuerySet[RowT], value: str | relay.GlobalID, type_name: str
) -> RowT:
    """The row behind a global ID of this type, within the viewer's scope, or NOT_FOUND."""
    node_id = node_pk(value, type_name)
    return await policy.get_visible(queryset, node_id, type_name[:1].lower() + type_name[1:])


def global_ids_to_ints(values: Sequence[str], type_name: str) -> list[int]:
    """The database ids behind global IDs of ``type_name``, in order; errors as
    :func:`node_pk`."""
    return [node_pk(v, type_name) for v in values]


async def topic_by_id(viewer: User, value: str | relay.GlobalID, what: str = "topic") -> Topic:
    """The topic behind a global ID, if the viewer may know of it; otherwise NOT_FOUND,
    the same whether nobody or only someone else used the name. An ID made before names
    were normalised (``Topic:Straße``) finds the topic under its normal name."""
    gid = parse_global_id(value)
    row = None
    if gid.type_name == "Topic":
        name = normalise_topic(gid.node_id) or gid.node_id
        row = await policy.visible_topics(viewer).get_or_none(name=name)
    if row is None:
        raise NotFound(what)
    return row
