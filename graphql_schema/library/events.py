"""Library events as clients receive them (``libraryEvents``): one type whose ``kind``
says what happened, with the document and the version as the reader may see them now."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import strawberry

from domain import library as rules
from graphql_schema.accounts.types import User, load_user
from graphql_schema.context import Info
from graphql_schema.library.types import DocumentVersion, LibraryDocument
from models import DocumentState, EventKind, ReminderKind
from models import Event as EventRow
from models import events as payloads
from realtime.stream import encode_cursor


@strawberry.enum(
    description="What happened to a library document (EXPIRY_REMINDED: its owner was "
    "reminded of the end of its validity; staff only)."
)
class LibraryEventKind(StrEnum):
    DOCUMENT_PUBLISHED = "DOCUMENT_PUBLISHED"
    VERSION_ADDED = "VERSION_ADDED"
    STATE_CHANGED = "STATE_CHANGED"
    DOCUMENT_SUPERSEDED = "DOCUMENT_SUPERSEDED"
    ACKNOWLEDGEMENT_REQUIRED = "ACKNOWLEDGEMENT_REQUIRED"
    DOCUMENT_ACKNOWLEDGED = "DOCUMENT_ACKNOWLEDGED"
    DOCUMENT_MOVED = "DOCUMENT_MOVED"
    EXPIRY_REMINDED = "EXPIRY_REMINDED"


EVENT_KINDS: dict[EventKind, LibraryEventKind] = {
    EventKind.LIBRARY_DOCUMENT_PUBLISHED: LibraryEventKind.DOCUMENT_PUBLISHED,
    EventKind.LIBRARY_VERSION_ADDED: LibraryEventKind.VERSION_ADDED,
    EventKind.LIBRARY_STATE_CHANGED: LibraryEventKind.STATE_CHANGED,
    EventKind.LIBRARY_DOCUMENT_SUPERSEDED: LibraryEventKind.DOCUMENT_SUPERSEDED,
    EventKind.LIBRARY_ACK_REQUIRED: LibraryEventKind.ACKNOWLEDGEMENT_REQUIRED,
    EventKind.LIBRARY_ACKNOWLEDGED: LibraryEventKind.DOCUMENT_ACKNOWLEDGED,
    EventKind.LIBRARY_DOCUMENT_MOVED: LibraryEventKind.DOCUMENT_MOVED,
    EventKind.LIBRARY_EXPIRY_REMINDED: LibraryEventKind.EXPIRY_REMINDED,
}


def _details(row: EventRow) -> payloads.LibraryPayload:
    details = row.details
    assert isinstance(details, payloads.LibraryPayload)
    return details


@strawberry.type(description="Something that happened to a library document you may see.")
class LibraryEvent:
    row: strawberry.Private[EventRow]

    @strawberry.field(description="Resume after this event with `after: cursor`.")
    def cursor(self) -> str:
        return encode_cursor(self.row.id)

    @strawberry.field
    def kind(self) -> LibraryEventKind:
        return EVENT_KINDS[self.row.kind]

    @strawberry.field
    def occurred_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field(
        description="Who did it: the acknowledging contact, the staff member, or for a change "
        "of state by date the document's owner."
    )
    async def actor(self, info: Info) -> User | None:
        return await load_user(info, self.row.actor_id)

    @strawberry.field(description="The document as it is now (null if you may no longer see it).")
    async def document(self, info: Info) -> LibraryDocument | None:
        viewer = info.context.require_viewer()
        row = await rules.visible_documents(viewer).get_or_none(id=_details(self.row).document_id)
        return LibraryDocument.from_row(row) if row else None

    @strawberry.field(
        description="The version added, to acknowledge or acknowledged (null for other kinds, "
        "or if you may no longer see it)."
    )
    async def version(self, info: Info) -> DocumentVersion | None:
        version_id = _details(self.row).version_id
        if version_id is None:
            return None
        viewer = info.context.require_viewer()
        row = await rules.visible_versions(viewer).get_or_none(id=version_id)
        return DocumentVersion.from_row(row) if row else None

    @strawberry.field(description="STATE_CHANGED: the state before (null for other kinds).")
    def from_state(self) -> DocumentState | None:
        state = _details(self.row).from_state
        return None if state is None else DocumentState(state)

    @strawberry.field(description="STATE_CHANGED: the state after (null for other kinds).")
    def to_state(self) -> DocumentState | None:
        state = _details(self.row).to_state
        return None if state is None else DocumentState(state)

    @strawberry.field(description="EXPIRY_REMINDED: which reminder (null for other kinds).")
    def reminder(self) -> ReminderKind | None:
        reminder = _details(self.row).reminder
        return None if reminder is None else ReminderKind(reminder)
