"""``library``, ``folder``, ``document`` and ``documents``: what the viewer may see of the
document library."""

from __future__ import annotations

import strawberry
from tortoise.queryset import QuerySet

from actions import library
from actions.interactions import record_read
from domain import library as rules
from domain import policy
from graphql_schema.context import Info
from graphql_schema.library.types import Library, LibraryDocument, LibraryFolder
from graphql_schema.permissions import CanSeeLibraryDocument, rule
from graphql_schema.relay import DEFAULT_PAGE_SIZE, Connection, fetch_by_global_id, paginate
from models import ContentKind, DocumentState, DocumentType
from models import LibraryDocument as DocumentRow
from models import User as UserRow


@strawberry.input(description="Which documents to list; every condition given must hold.")
class DocumentFilter:
    state: list[DocumentState] | None = strawberry.field(
        default=None, description="As of now (a document past its end is EXPIRED)."
    )
    tag: str | None = None
    type: list[DocumentType] | None = None
    needs_my_acknowledgement: bool | None = strawberry.field(
        default=None,
        description="True: only the valid documents whose current version you have yet to "
        "acknowledge.",
    )
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this customer's library."
    )
    text: str | None = strawberry.field(
        default=None,
        description="Words found (case-insensitive) in the title, description, tags or the "
        "text of the current version's file (read in the background from PDF, DOCX, XLSX, "
        "PPTX and text files); `matchSnippet` shows where.",
    )


async def filtered(viewer: UserRow, where: DocumentFilter | None) -> QuerySet[DocumentRow]:
    """The viewer's documents that meet ``where``; a customer out of sight is NOT_FOUND."""
    documents = rules.visible_documents(viewer)
    if where is None:
        return documents
    if where.customer_id is not None:
        customer = await fetch_by_global_id(
            policy.visible_customers(viewer), where.customer_id, "Customer"
        )
        documents = documents.filter(customer_id=customer.id)
    if where.type:
        documents = documents.filter(type__in=list(where.type))
    if where.needs_my_acknowledgement:
        documents = documents.filter(id__in=await library.needs_acknowledgement(viewer))
    if where.text is not None and where.text.strip():
        documents = documents.filter(id__in=await library.matching(documents, where.text))
    if where.tag is not None or where.state:
        wanted = set(where.state or DocumentState)
        tag = where.tag.strip().lower() if where.tag is not None else None
        ids = [
            row.id
            for row in await documents
            if library.state_of(row) in wanted and (tag is None or tag in row.tags)
        ]
        documents = documents.filter(id__in=ids)
    return documents


@strawberry.type
class Query:
    @strawberry.field(
        extensions=rule(CanSeeLibraryDocument),
        description="A library: the shared one (customerId null) or a customer's, with its "
        "folders and its documents outside folders that you may see.",
    )
    async def library(self, info: Info, customer_id: strawberry.ID | None = None) -> Library:
        viewer = info.context.require_viewer()
        folders = rules.visible_folders(viewer)
        documents = rules.visible_documents(viewer).filter(folder_id=None)
        if customer_id is None:
            folders, documents = (
                folders.filter(customer_id=None),
                documents.filter(customer_id=None),
            )
        else:
            customer = await fetch_by_global_id(
                policy.visible_customers(viewer), customer_id, "Customer"
            )
            folders = folders.filter(customer_id=customer.id)
            documents = documents.filter(customer_id=customer.id)
        return Library(
            folders=[LibraryFolder.from_row(row) for row in await folders.order_by("name")],
            documents=[LibraryDocument.from_row(row) for row in await documents.order_by("title")],
        )

    @strawberry.field(extensions=rule(CanSeeLibraryDocument))
    async def folder(self, info: Info, id: strawberry.ID) -> LibraryFolder | None:
        scope = rules.visible_folders(info.context.require_viewer())
        return LibraryFolder.from_row(await fetch_by_global_id(scope, id, "LibraryFolder"))

    @strawberry.field(extensions=rule(CanSeeLibraryDocument))
    async def document(self, info: Info, id: strawberry.ID) -> LibraryDocument | None:
        viewer = info.context.require_viewer()
        row = await fetch_by_global_id(rules.visible_documents(viewer), id, "LibraryDocument")
        await record_read(viewer, ContentKind.DOCUMENT, row.id, info.context.session_id)
        return LibraryDocument.from_row(row)

    @strawberry.field(
        extensions=rule(CanSeeLibraryDocument),
        description="Library documents you may see, newest first.",
    )
    async def documents(
        self,
        info: Info,
        filter: DocumentFilter | None = None,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> Connection[LibraryDocument]:
        rows = await filtered(info.context.require_viewer(), filter)
        return await paginate(
            rows, first=first, after=after, to_node=LibraryDocument.from_row, newest_first=True
        )
