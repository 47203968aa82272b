"""Library folders, documents and versions as a reader sees them: the state always as of
now, acknowledgements, downloads and reminders for staff alone."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from actions import library
from domain import extraction
from domain import library as rules
from domain.tokens import DownloadKind
from graphql_schema.accounts.types import User, load_user
from graphql_schema.context import Info
from graphql_schema.downloads import download_link
from graphql_schema.relay import global_id
from graphql_schema.rows import FromRow
from models import DocumentAcknowledgement as AcknowledgementRow
from models import DocumentDownload as DownloadRow
from models import DocumentReminder as ReminderRow
from models import DocumentState, DocumentType, ReminderKind, TextStatus
from models import DocumentVersion as VersionRow
from models import LibraryDocument as DocumentRow
from models import LibraryFolder as FolderRow

strawberry.enum(
    DocumentType,
    description="CERTIFICATE, CONTRACT, MANUAL, PROCEDURE, PRICE_LIST, TERMS, TRAINING or OTHER.",
)
strawberry.enum(
    DocumentState,
    description=(
        "DRAFT (no start of validity yet, or before it; staff only), VALID (from its start "
        "until its end, exclusive), EXPIRED (from its end on) or SUPERSEDED (replaced by "
        "another document). Always computed as of now from the dates."
    ),
)
strawberry.enum(ReminderKind, description="What a reminder about a document said.")
strawberry.enum(TextStatus, description="Whether a file's text was read for search.")


@strawberry.type(description="A folder of the shared library or of a customer's library.")
class LibraryFolder(FromRow, relay.Node):
    id: relay.NodeID[int]
    name: str
    open_to_members: bool = strawberry.field(
        description="Whether the customer's members (not only its lead contacts) see it."
    )
    row: strawberry.Private[FolderRow]

    @strawberry.field(description="The customer's ID, or null for the shared library.")
    def customer_id(self) -> strawberry.ID | None:
        cid = self.row.customer_id
        return strawberry.ID(global_id("Customer", cid)) if cid is not None else None

    @strawberry.field(description="The parent folder's ID, or null at the top.")
    def parent_id(self) -> strawberry.ID | None:
        pid = self.row.parent_id
        return strawberry.ID(global_id("LibraryFolder", pid)) if pid is not None else None

    @strawberry.field(description="The documents in it that you may see, by title.")
    async def documents(self, info: Info) -> list[LibraryDocument]:
        viewer = info.context.require_viewer()
        rows = await rules.visible_documents(viewer).filter(folder_id=self.row.id).order_by("title")
        return [LibraryDocument.from_row(row) for row in rows]


@strawberry.type(description="One file of a document.")
class DocumentVersion(FromRow, relay.Node):
    id: relay.NodeID[int]
    number: int = strawberry.field(description="1 for the first version, then counting up.")
    name: str = strawberry.field(description="The file's name.")
    label: str
    note: str
    size: int = strawberry.field(description="In bytes.")
    content_type: str = strawberry.field(description="Sniffed from the content.")
    content_key: str = strawberry.field(description="The SHA-256 of the content (hex).")
    created_at: datetime
    deleted_at: datetime | None = strawberry.field(
        description="When an administrator deleted it (staff see deleted versions)."
    )
    row: strawberry.Private[VersionRow]

    @strawberry.field
    async def uploaded_by(self, info: Info) -> User:
        return await load_user(info, self.row.uploaded_by_id)

    @strawberry.field(description="The version it restores, if it is a restoration.")
    async def restored_from_number(self) -> int | None:
        if self.row.restored_from_id is None:
            return None
        old = await VersionRow.get_or_none(id=self.row.restored_from_id)
        return old.number if old else None

    @strawberry.field(
        description=(
            "A link to download this version for you alone: valid for five minutes while "
            "your session lasts and you may still see the document; each download is "
            "logged. Null for a deleted version."
        )
    )
    def download_url(self, info: Info) -> str | None:
        if self.row.deleted_at is not None:
            return None
        path = f"/library/versions/{global_id('DocumentVersion', self.row.id)}"
        return download_link(info, path, DownloadKind.LIBRARY_VERSION, self.row.id)

    @strawberry.field(
        description="Who acknowledged this version and when (staff only; empty for others)."
    )
    async def acknowledgements(self, info: Info) -> list[Acknowledgement]:
        if not info.context.require_viewer().is_staff:
            return []
        rows = await AcknowledgementRow.filter(version_id=self.row.id).order_by("created_at")
        return [Acknowledgement(row=row) for row in rows]

    @strawberry.field(description="Who downloaded this version and when (staff only).")
    async def downloads(self, info: Info) -> list[Download]:
        if not info.context.require_viewer().is_staff:
            return []
        rows = await DownloadRow.filter(version_id=self.row.id).order_by("created_at")
        return [Download(row=row) for row in rows]


@strawberry.type(description="A contact acknowledged a version.")
class Acknowledgement:
    row: strawberry.Private[AcknowledgementRow]

    @strawberry.field
    async def user(self, info: Info) -> User:
        return await load_user(info, self.row.user_id)

    @strawberry.field(description="The number of the version acknowledged.")
    async def version_number(self) -> int:
        version = await VersionRow.get(id=self.row.version_id)
        return version.number

    @strawberry.field
    def at(self) -> datetime:
        return self.row.created_at


@strawberry.type(description="A version was downloaded.")
class Download:
    row: strawberry.Private[DownloadRow]

    @strawberry.field
    async def user(self, info: Info) -> User:
        return await load_user(info, self.row.user_id)

    @strawberry.field
    def at(self) -> datetime:
        return self.row.created_at


@strawberry.type(description="A reminder sent about a document.")
class DocumentReminder:
    row: strawberry.Private[ReminderRow]

    @strawberry.field
    def kind(self) -> ReminderKind:
        return self.row.kind

    @strawberry.field
    async def user(self, info: Info) -> User:
        return await load_user(info, self.row.user_id)

    @strawberry.field(description="When it was sent.")
    def at(self) -> datetime:
        return self.row.created_at


@strawberry.type(
    description="A document of the library: the current version first, its history below."
)
class LibraryDocument(FromRow, relay.Node):
    id: relay.NodeID[int]
    title: str
    description: str
    type: DocumentType
    tags: list[str]
    valid_from: datetime | None
    valid_until: datetime | None = strawberry.field(
        description="The end of validity (exclusive); null: open-ended."
    )
    requires_acknowledgement: bool
    offered_to_all: bool = strawberry.field(
        description="A shared document: offered to every customer (else to chosen ones)."
    )
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[DocumentRow]

    @strawberry.field(description="As of now, from the dates: never VALID past the end.")
    def state(self) -> DocumentState:
        return library.state_of(self.row)

    @strawberry.field(description="The customer's ID, or null for the shared library.")
    def customer_id(self) -> strawberry.ID | None:
        cid = self.row.customer_id
        return strawberry.ID(global_id("Customer", cid)) if cid is not None else None

    @strawberry.field(description="The folder's ID, or null outside folders.")
    def folder_id(self) -> strawberry.ID | None:
        fid = self.row.folder_id
        return strawberry.ID(global_id("LibraryFolder", fid)) if fid is not None else None

    @strawberry.field
    async def owner(self, info: Info) -> User:
        return await load_user(info, self.row.owner_id)

    @strawberry.field(description="The document that replaces it, if you may see it.")
    async def superseded_by(self, info: Info) -> LibraryDocument | None:
        if self.row.superseded_by_id is None:
            return None
        viewer = info.context.require_viewer()
        row = await rules.visible_documents(viewer).get_or_none(id=self.row.superseded_by_id)
        return LibraryDocument.from_row(row) if row else None

    @strawberry.field(description="The documents it replaces that you may see.")
    async def supersedes(self, info: Info) -> list[LibraryDocument]:
        viewer = info.context.require_viewer()
        rows = await rules.visible_documents(viewer).filter(superseded_by_id=self.row.id)
        return [LibraryDocument.from_row(row) for row in rows]

    @strawberry.field(description="The newest version not deleted, or null.")
    async def current_version(self) -> DocumentVersion | None:
        row = await library.current_version(self.row.id)
        return DocumentVersion.from_row(row) if row else None

    @strawberry.field(
        description="Every version, newest first (the current one first); deleted ones "
        "for staff alone."
    )
    async def versions(self, info: Info) -> list[DocumentVersion]:
        rows = VersionRow.filter(document_id=self.row.id)
        if not info.context.require_viewer().is_staff:
            rows = rows.filter(deleted_at=None)
        return [DocumentVersion.from_row(row) for row in await rows.order_by("-number")]

    @strawberry.field(
        description="Whether you still have to acknowledge the current version (always "
        "false for staff and for a document that asks for no acknowledgement)."
    )
    async def needs_my_acknowledgement(self, info: Info) -> bool:
        viewer = info.context.require_viewer()
        if viewer.is_staff or not self.row.requires_acknowledgement:
            return False
        if library.state_of(self.row) is not DocumentState.VALID:
            return False
        version = await library.current_version(self.row.id)
        return version is not None and not await AcknowledgementRow.exists(
            version_id=version.id, user_id=viewer.id
        )

    @strawberry.field(
        description="Who acknowledged which version and when, newest first (staff only)."
    )
    async def acknowledgements(self, info: Info) -> list[Acknowledgement]:
        if not info.context.require_viewer().is_staff:
            return []
        rows = await AcknowledgementRow.filter(version__document_id=self.row.id).order_by(
            "-created_at"
        )
        return [Acknowledgement(row=row) for row in rows]

    @strawberry.field(description="Who downloaded which version and when (staff only).")
    async def downloads(self, info: Info) -> list[Download]:
        if not info.context.require_viewer().is_staff:
            return []
        rows = await DownloadRow.filter(version__document_id=self.row.id).order_by("-created_at")
        return [Download(row=row) for row in rows]

    @strawberry.field(
        description="Where `text` occurs in its title, description, tags or current file's "
        "text: about 60 characters either side; null without a match."
    )
    async def match_snippet(self, text: str) -> str | None:
        return extraction.snippet(await library.document_text(self.row), text.strip())

    @strawberry.field(
        description="Whether the current file's text was read for search: PENDING, "
        "EXTRACTED or NOT_EXTRACTABLE (staff see the reason in `textError`)."
    )
    async def text_status(self) -> TextStatus | None:
        version = await library.current_version(self.row.id)
        return version.text_status if version else None

    @strawberry.field(description="Why the current file's text could not be read (staff).")
    async def text_error(self, info: Info) -> str | None:
        version = await library.current_version(self.row.id)
        if version is None or not info.context.require_viewer().is_staff:
            return None
        return version.text_error or None

    @strawberry.field(description="Reminders sent about it (staff only).")
    async def reminders(self, info: Info) -> list[DocumentReminder]:
        if not info.context.require_viewer().is_staff:
            return []
        rows = await ReminderRow.filter(document_id=self.row.id).order_by("created_at")
        return [DocumentReminder(row=row) for row in rows]


@strawberry.type(description="A library: its folders and its documents (outside folders).")
class Library:
    folders: list[LibraryFolder]
    documents: list[LibraryDocument] = strawberry.field(
        description="The documents outside folders that you may see."
    )
