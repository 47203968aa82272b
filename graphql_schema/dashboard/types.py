"""The dashboard's types: the items waiting for the viewer, their counts by reason, and the
union of what an item is about."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

import strawberry

from actions import dashboard as reading
from actions.dashboard import ActionReason
from domain.errors import BadUserInput
from graphql_schema.business_documents.types import BusinessDocument
from graphql_schema.library.types import LibraryDocument
from graphql_schema.microposts.types import Micropost
from graphql_schema.notifications.types import Notification
from graphql_schema.pages.types import Page
from graphql_schema.relay import DEFAULT_PAGE_SIZE, Connection, Edge, PageInfo, check_page_size
from graphql_schema.requests.types import Request
from models import BusinessDocument as BusinessDocumentRow
from models import LibraryDocument as LibraryDocumentRow
from models import Micropost as MicropostRow
from models import Notification as NotificationRow
from models import Page as PageRow
from models import ServiceRequest

strawberry.enum(
    ActionReason,
    description=(
        "Why an item waits for you. Staff: SLA_BREACHED, SLA_AT_RISK (a request's SLA clock "
        "breached, or within the warning time of its breach), ASSIGNED (a request assigned to "
        "you needs a step), UNASSIGNED (a request of your account team's customers nobody is "
        "assigned to), UNANSWERED_POST (a customer's post on your projects without a staff "
        "reply for the set business hours). Contacts: NEEDS_INFO (your request waits for "
        "your information), QUOTE_DECISION (a quote waits for your decision), "
        "ACKNOWLEDGEMENT (a library document waits for your acknowledgement). Everyone: "
        "MENTION and REPLY (unread), KEPT_DRAFT (your edit of a page kept after a conflict)."
    ),
)

ActionObject = Annotated[
    Request | Micropost | Page | BusinessDocument | LibraryDocument | Notification,
    strawberry.union(
        "ActionObject",
        description=(
            "What an item is about: a request, a customer's post, the page of your kept "
            "draft (its `draft`), a quote, a library document or a notification."
        ),
    ),
]


def _object(row: reading.ActionObject) -> ActionObject:
    if isinstance(row, ServiceRequest):
        return Request.from_row(row)
    if isinstance(row, MicropostRow):
        return Micropost.from_row(row)
    if isinstance(row, PageRow):
        return Page.from_row(row)
    if isinstance(row, BusinessDocumentRow):
        return BusinessDocument.from_row(row)
    if isinstance(row, LibraryDocumentRow):
        return LibraryDocument.from_row(row)
    assert isinstance(row, NotificationRow)
    return Notification.from_row(row)


@strawberry.type(description="One thing that waits for you.")
class ActionItem:
    reason: ActionReason
    since: datetime = strawberry.field(
        description=(
            "Since when it waits: when the request entered its status, the SLA clock breached "
            "or reached its warning, the post's answer became due, the draft was kept, the "
            "quote, notification or document version appeared."
        )
    )
    object: ActionObject = strawberry.field(description="What it is about.")


@strawberry.type(description="How many items of one reason wait for you.")
class ActionCount:
    kind: ActionReason
    count: int


_CURSOR = "action"


def _cursor(item: reading.ActionItem) -> str:
    since, reason, kind, pk = item.key
    text = f"{_CURSOR}|{since.isoformat()}|{reason}|{kind}|{pk}"
    return base64.urlsafe_b64encode(text.encode()).decode()


def _position(cursor: str) -> tuple[datetime, str, str, int]:
    try:
        prefix, since, reason, kind, pk = (
            base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        )
        moment = datetime.fromisoformat(since)
        if prefix != _CURSOR or moment.tzinfo is None:
            raise ValueError(prefix)
        return (moment, reason, kind, int(pk))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadUserInput(
            "`after` must be a cursor taken from this list's edges or pageInfo.", field="after"
        ) from None


async def page_of(
    items: Sequence[reading.ActionItem], *, first: int, after: str | None
) -> Connection[ActionItem]:
    """The items after the cursor ``after`` (all from the start without one), ``first`` of
    them; a cursor names a position, so the list may change between pages without repeats."""
    check_page_size(first)
    rest = list(items)
    if after is not None:
        position = _position(after)
        rest = [item for item in items if item.key > position]
    shown = rest[:first]
    rows = await reading.rows_of(shown)
    edges = [
        Edge(
            cursor=_cursor(item),
            node=ActionItem(reason=item.reason, since=item.since, object=_object(row)),
        )
        for item, row in zip(shown, rows, strict=True)
    ]
    total = len(items)

    async def count() -> int:
        return total

    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rest) > first,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        _count=count,
    )


@strawberry.type(description="What waits for you: each item with its reason and since when.")
class Dashboard:
    board: strawberry.Private[reading.Dashboard]

    @strawberry.field(description="How many items wait for you (the `actionCount`).")
    def action_count(self) -> int:
        return len(self.board.items)

    @strawberry.field(
        description="How many items wait for you, by reason (reasons with none left out)."
    )
    def counts(self) -> list[ActionCount]:
        counts = self.board.counts
        return [
            ActionCount(kind=kind, count=counts[kind]) for kind in ActionReason if kind in counts
        ]

    @strawberry.field(description="The items, the longest waiting first.")
    async def items(
        self, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[ActionItem]:
        return await page_of(self.board.items, first=first, after=after)
