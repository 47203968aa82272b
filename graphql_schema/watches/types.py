from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay

from domain import library
from graphql_schema.context import Info
from graphql_schema.customers.types import Customer
from graphql_schema.enums import WatchLevel
from graphql_schema.library.types import LibraryDocument, LibraryFolder
from graphql_schema.microposts.types import Topic
from graphql_schema.pages.types import Page
from graphql_schema.projects.types import Project
from graphql_schema.rows import FromRow
from models import Watch as WatchRow

WatchTarget = Annotated[
    Customer | Project | Page | Topic | LibraryFolder | LibraryDocument,
    strawberry.union("WatchTarget", description="What can be watched."),
]


@strawberry.type(
    description="Your chosen level of interest in a customer, project, page, topic, library "
    "folder or library document."
)
class Watch(FromRow, relay.Node):
    id: relay.NodeID[int]
    level: WatchLevel
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[WatchRow]

    @strawberry.field(description="What is watched; null once you may no longer see it.")
    async def target(self, info: Info) -> WatchTarget | None:
        info.context.require_viewer()
        loaders, row = info.context.loaders, self.row
        if row.customer_id is not None:
            customer = await loaders.visible_customer.load(row.customer_id)
            return Customer.from_row(customer) if customer else None
        if row.project_id is not None:
            project = await loaders.visible_project.load(row.project_id)
            return Project.from_row(project) if project else None
        if row.page_id is not None:
            page = await loaders.visible_page.load(row.page_id)
            return Page.from_row(page) if page else None
        if row.topic_id is not None:
            topic = await loaders.visible_topic.load(row.topic_id)
            return Topic.from_row(topic) if topic else None
        viewer = info.context.require_viewer()
        if row.folder_id is not None:
            folder = await library.visible_folders(viewer).get_or_none(id=row.folder_id)
            return LibraryFolder.from_row(folder) if folder else None
        if row.document_id is not None:
            document = await library.visible_documents(viewer).get_or_none(id=row.document_id)
            return LibraryDocument.from_row(document) if document else None
        return None
