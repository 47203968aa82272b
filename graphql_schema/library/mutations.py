"""Changing the document library: folders, documents, validity, supersession,
acknowledgements, tags, moves, and the administrator's deletion and restoration of
versions. A version's file is uploaded over HTTP (``POST /library/documents/{id}/versions``,
app/files.py)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from actions import library
from graphql_schema.context import Info
from graphql_schema.library.types import DocumentVersion, LibraryDocument, LibraryFolder
from graphql_schema.permissions import (
    CanAcknowledgeDocument,
    CanDeleteDocumentVersion,
    CanManageLibrary,
    CanOpenFolder,
    rule,
)
from graphql_schema.relay import node_pk
from models import DocumentType


def _pk(value: strawberry.ID | None, type_name: str) -> int | None:
    return node_pk(value, type_name) if value is not None else None


@strawberry.input(description="A new document (a DRAFT until its validity is set).")
class CreateDocumentInput:
    title: str
    type: DocumentType
    description: str = ""
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="The customer's library; null: the shared library."
    )
    folder_id: strawberry.ID | None = None
    tags: list[str] = strawberry.field(default_factory=list)
    offered_to_all: bool = strawberry.field(
        default=True, description="A shared document: for every customer, else `customerIds`."
    )
    customer_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="A shared document's chosen customers."
    )
    requires_acknowledgement: bool = False


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=rule(CanManageLibrary),
        description="A folder of the shared library (customerId null) or a customer's.",
    )
    async def create_folder(
        self,
        info: Info,
        name: str,
        customer_id: strawberry.ID | None = None,
        parent_folder_id: strawberry.ID | None = None,
        open_to_members: bool = True,
    ) -> LibraryFolder:
        row = await library.create_folder(
            info.context.require_viewer(),
            customer_id=_pk(customer_id, "Customer"),
            parent_id=_pk(parent_folder_id, "LibraryFolder"),
            name=name,
            open_to_members=open_to_members,
        )
        return LibraryFolder.from_row(row)

    @strawberry.mutation(
        extensions=rule(CanOpenFolder),
        description="Whether the customer's members see a folder of its library.",
    )
    async def open_folder_to_members(
        self, info: Info, id: strawberry.ID, open: bool
    ) -> LibraryFolder:
        row = await library.open_folder_to_members(
            info.context.require_viewer(), node_pk(id, "LibraryFolder"), open
        )
        return LibraryFolder.from_row(row)

    @strawberry.mutation(extensions=rule(CanManageLibrary))
    async def create_document(self, info: Info, input: CreateDocumentInput) -> LibraryDocument:
        row = await library.create_document(
            info.context.require_viewer(),
            customer_id=_pk(input.customer_id, "Customer"),
            folder_id=_pk(input.folder_id, "LibraryFolder"),
            title=input.title,
            description=input.description,
            type=input.type,
            tags=input.tags,
            offered_to_all=input.offered_to_all,
            customer_ids=[node_pk(c, "Customer") for c in input.customer_ids],
            requires_acknowledgement=input.requires_acknowledgement,
        )
        return LibraryDocument.from_row(row)

    @strawberry.mutation(
        extensions=rule(CanManageLibrary),
        description="Publish from `validFrom` (null: back to DRAFT) until `validUntil` "
        "(exclusive; null: open-ended); times with their time zone. Needs a version.",
    )
    async def set_document_validity(
        self,
        info: Info,
        id: strawberry.ID,
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
    ) -> LibraryDocument:
        row = await library.set_validity(
            info.context.require_viewer(),
            node_pk(id, "LibraryDocument"),
            valid_from,
            valid_until,
            bus=info.context.bus,
        )
        return LibraryDocument.from_row(row)

    @strawberry.mutation(
        extensions=rule(CanManageLibrary),
        description="Replace a document by another of the same library; its contacts are told.",
    )
    async def supersede_document(
        self, info: Info, id: strawberry.ID, by_id: strawberry.ID
    ) -> LibraryDocument:
        row = await library.supersede(
            info.context.require_viewer(),
            node_pk(id, "LibraryDocument"),
            node_pk(by_id, "LibraryDocument"),
            bus=info.context.bus,
        )
        return LibraryDocument.from_row(row)

    @strawberry.mutation(extensions=rule(CanManageLibrary))
    async def require_acknowledgement(
        self, info: Info, id: strawberry.ID, required: bool = True
    ) -> LibraryDocument:
        row = await library.require_acknowledgement(
            info.context.require_viewer(),
            node_pk(id, "LibraryDocument"),
            required,
            bus=info.context.bus,
        )
        return LibraryDocument.from_row(row)

    @strawberry.mutation(
        extensions=rule(CanAcknowledgeDocument),
        description="Acknowledge the current version (a new version asks again).",
    )
    async def acknowledge_document(self, info: Info, id: strawberry.ID) -> LibraryDocument:
        viewer = info.context.require_viewer()
        await library.acknowledge(viewer, node_pk(id, "LibraryDocument"), bus=info.context.bus)
        return LibraryDocument.from_row(
            await library.visible_document(viewer, node_pk(id, "LibraryDocument"))
        )

    @strawberry.mutation(
        extensions=rule(CanManageLibrary),
        description="Into a folder of the same library (null: out of folders).",
    )
    async def move_document(
        self, info: Info, id: strawberry.ID, folder_id: strawberry.ID | None = None
    ) -> LibraryDocument:
        row = await library.move(
            info.context.require_viewer(),
            node_pk(id, "LibraryDocument"),
            _pk(folder_id, "LibraryFolder"),
            bus=info.context.bus,
        )
        return LibraryDocument.from_row(row)

    @strawberry.mutation(
        extensions=rule(CanManageLibrary), description="Replace the document's tags."
    )
    async def tag_document(self, info: Info, id: strawberry.ID, tags: list[str]) -> LibraryDocument:
        row = await library.tag(info.context.require_viewer(), node_pk(id, "LibraryDocument"), tags)
        return LibraryDocument.from_row(row)

    @strawberry.mutation(
        extensions=rule(CanDeleteDocumentVersion),
        description="Mark a version deleted (its file is kept; audited).",
    )
    async def delete_document_version(self, info: Info, id: strawberry.ID) -> DocumentVersion:
        row = await library.delete_version(
            info.context.require_viewer(), node_pk(id, "DocumentVersion")
        )
        return DocumentVersion.from_row(row)

    @strawberry.mutation(
        extensions=rule(CanManageLibrary),
        description="A new version copying an old one's file, name and label.",
    )
    async def restore_document_version(self, info: Info, id: strawberry.ID) -> DocumentVersion:
        row = await library.restore_version(
            info.context.require_viewer(), node_pk(id, "DocumentVersion"), bus=info.context.bus
        )
        return DocumentVersion.from_row(row)
