"""Timeline events as clients receive them over subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from graphql_schema.accounts.types import User, load_user
from graphql_schema.business_documents.events import (
    BusinessDocumentActivity,
    BusinessDocumentPublished,
    BusinessDocumentStatusChanged,
    QuoteAccepted,
    QuoteDeclined,
    document_activity,
)
from graphql_schema.context import Info
from graphql_schema.enums import ProjectStatus
from graphql_schema.library.events import LibraryEvent
from graphql_schema.microposts.types import Micropost
from graphql_schema.pages.types import Page, PageDiff, page_diff
from graphql_schema.projects.types import Project, load_project
from graphql_schema.requests.events import (
    REQUEST_EVENT_TYPES,
    RequestActivity,
    RequestAssigned,
    RequestDocumentAdded,
    RequestDueDateChanged,
    RequestParticipantAdded,
    RequestReminded,
    RequestReplied,
    RequestSlaBreached,
    RequestSlaWarning,
    RequestStatusChanged,
    RequestSubmitted,
    request_activity,
)
from graphql_schema.subscriptions import ResyncRequired as Resync
from graphql_schema.varies import SAME_FOR_EVERY_READER
from models import Event as EventRow
from models import EventKind
from models import events as payloads
from models.events import BUSINESS_DOCUMENT_EVENT_KINDS, LIBRARY_EVENT_KINDS
from realtime.stream import encode_cursor


@strawberry.interface(description="Something that happened on a project timeline.")
class TimelineEvent:
    row: strawberry.Private[EventRow]

    @strawberry.field(description="Resume after this event with `after: cursor`.")
    def cursor(self) -> str:
        return encode_cursor(self.row.id)

    @strawberry.field
    def occurred_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field(metadata=SAME_FOR_EVERY_READER, description="Who did it.")
    async def actor(self, info: Info) -> User:
        return await load_user(info, self.row.actor_id)

    @strawberry.field(metadata=SAME_FOR_EVERY_READER)
    async def project(self, info: Info) -> Project:
        project_id = self.row.project_id
        assert project_id is not None, "a timeline event has a project"
        return await load_project(info, project_id)


async def _micropost(info: Info, event: EventRow) -> Micropost | None:
    if event.micropost_id is None:
        return None
    row = await info.context.loaders.micropost.load(event.micropost_id)
    return Micropost.from_row(row) if row else None


async def _page(info: Info, event: EventRow) -> Page | None:
    if event.page_id is None:
        return None
    row = await info.context.loaders.page.load(event.page_id)
    return Page.from_row(row) if row else None


@strawberry.type(description="A post or reply appeared on the timeline.")
class MicropostPosted(TimelineEvent):
    @strawberry.field(metadata=SAME_FOR_EVERY_READER)
    async def micropost(self, info: Info) -> Micropost | None:
        return await _micropost(info, self.row)


@strawberry.type(description="A post was edited; its earlier text is in `edits`.")
class MicropostEdited(TimelineEvent):
    @strawberry.field(metadata=SAME_FOR_EVERY_READER)
    async def micropost(self, info: Info) -> Micropost | None:
        return await _micropost(info, self.row)


@strawberry.type(description="The project's status changed.")
class ProjectStatusChanged(TimelineEvent):
    def _details(self) -> payloads.ProjectStatusChanged:
        details = self.row.details
        assert isinstance(details, payloads.ProjectStatusChanged)
        return details

    @strawberry.field
    def from_status(self) -> ProjectStatus:
        return self._details().from_status

    @strawberry.field
    def to_status(self) -> ProjectStatus:
        return self._details().to_status

    @strawberry.field
    def reason(self) -> str:
        return self._details().reason


@strawberry.type(description="A concept page was created.")
class PageCreated(TimelineEvent):
    @strawberry.field(metadata=SAME_FOR_EVERY_READER)
    async def page(self, info: Info) -> Page | None:
        return await _page(info, self.row)


@strawberry.type(description="A concept page got a new revision.")
class PageUpdated(TimelineEvent):
    def _details(self) -> payloads.PageUpdated:
        details = self.row.details
        assert isinstance(details, payloads.PageUpdated)
        return details

    @strawberry.field(description="The revision this update created.")
    def revision(self) -> int:
        return self._details().revision

    @strawberry.field
    def summary(self) -> str:
        return self._details().summary

    @strawberry.field(
        metadata=SAME_FOR_EVERY_READER,
        description="What this update changed: its revision against the one before.",
    )
    async def diff(self, info: Info) -> PageDiff | None:
        revision = self._details().revision
        if self.row.page_id is None or revision < 2:
            return None
        return await page_diff(info, self.row.page_id, revision - 1, revision)

    @strawberry.field(metadata=SAME_FOR_EVERY_READER)
    async def page(self, info: Info) -> Page | None:
        return await _page(info, self.row)


@strawberry.type(
    description=(
        "Your cursor is older than the event log reaches: refetch what you show, then keep "
        "`cursor` as your new position. The subscription carries on live from there."
    )
)
class ResyncRequired:
    cursor: str


ProjectTimelineEvent = Annotated[
    MicropostPosted
    | MicropostEdited
    | ProjectStatusChanged
    | PageCreated
    | PageUpdated
    | RequestSubmitted
    | RequestStatusChanged
    | RequestAssigned
    | RequestReplied
    | RequestDocumentAdded
    | RequestDueDateChanged
    | RequestParticipantAdded
    | RequestSlaWarning
    | RequestSlaBreached
    | RequestReminded
    | BusinessDocumentPublished
    | BusinessDocumentStatusChanged
    | QuoteAccepted
    | QuoteDeclined
    | LibraryEvent
    | ResyncRequired,
    strawberry.union(
        "ProjectTimelineEvent",
        description=(
            "One change on a project timeline, or (in your feed and notifications) of a "
            "request you follow, a business document of your customer or a library "
            "document."
        ),
    ),
]

_BY_KIND: dict[EventKind, type[TimelineEvent]] = {
    EventKind.MICROPOST_POSTED: MicropostPosted,
    EventKind.MICROPOST_EDITED: MicropostEdited,
    EventKind.PROJECT_STATUS_CHANGED: ProjectStatusChanged,
    EventKind.PAGE_CREATED: PageCreated,
    EventKind.PAGE_UPDATED: PageUpdated,
}


def timeline_event(
    row: EventRow,
) -> TimelineEvent | RequestActivity | BusinessDocumentActivity | LibraryEvent:
    if row.kind in REQUEST_EVENT_TYPES:
        return request_activity(row)
    if row.kind in BUSINESS_DOCUMENT_EVENT_KINDS:
        return document_activity(row)
    if row.kind in LIBRARY_EVENT_KINDS:
        return LibraryEvent(row=row)
    return _BY_KIND[row.kind](row=row)


def stream_item(
    item: EventRow | Resync,
) -> TimelineEvent | RequestActivity | BusinessDocumentActivity | LibraryEvent | ResyncRequired:
    if isinstance(item, Resync):
        return ResyncRequired(cursor=encode_cursor(item.cursor))
    return timeline_event(item)
