from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from actions.interactions import record_read
from actions.projects import allowed_transitions
from domain import policy
from graphql_schema.accounts.types import User, load_user
from graphql_schema.context import Info
from graphql_schema.customers.types import Customer
from graphql_schema.enums import ProjectStatus, WatchLevel
from graphql_schema.permissions import CanSeeBudget, rule
from graphql_schema.relay import DEFAULT_PAGE_SIZE, Connection, paginate
from graphql_schema.rows import FromRow
from graphql_schema.varies import BY_AUDIENCE, SAME_FOR_EVERY_READER
from models import ContentKind
from models import Project as ProjectRow
from models import ProjectStatusChange as StatusChangeRow
from realtime.stream import encode_cursor

if TYPE_CHECKING:
    from graphql_schema.budgets.types import BudgetOverview
    from graphql_schema.microposts.types import Micropost
    from graphql_schema.pages.types import Page


@strawberry.type(description="One change of a project's status: from, to, who, why, when.")
class ProjectStatusChange(FromRow):
    from_status: ProjectStatus
    to_status: ProjectStatus
    reason: str
    created_at: datetime
    row: strawberry.Private[StatusChangeRow]

    @strawberry.field(metadata=SAME_FOR_EVERY_READER)
    async def actor(self, info: Info) -> User:
        return await load_user(info, self.row.actor_id)


@strawberry.type(description="A customer's project: its timeline, concept pages and status.")
class Project(FromRow, relay.Node):
    id: relay.NodeID[int]
    name: str
    description: str = strawberry.field(description="Markdown source.")
    description_html: str = strawberry.field(description="Safe HTML rendered from Markdown.")
    status: ProjectStatus
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[ProjectRow]

    @strawberry.field(extensions=rule(CanSeeBudget))
    def budget(self) -> Decimal | None:
        return self.row.budget

    @strawberry.field(
        extensions=rule(CanSeeBudget),
        description="Budget, spent, committed, remaining, monthly burn and the year-end "
        "projection, per currency.",
    )
    async def budget_overview(
        self,
    ) -> Annotated[BudgetOverview, strawberry.lazy("graphql_schema.budgets.types")] | None:
        from graphql_schema.budgets.types import project_overview

        return await project_overview(self.row)

    @strawberry.field(description="The states the workflow allows next.")
    def allowed_transitions(self) -> list[ProjectStatus]:
        return list(allowed_transitions(self.row.status))

    @strawberry.field(metadata=SAME_FOR_EVERY_READER)
    async def customer(self, info: Info) -> Customer:
        row = await info.context.loaders.customer.load(self.row.customer_id)
        assert row is not None
        return Customer.from_row(row)

    @strawberry.field(metadata=BY_AUDIENCE, description="The project's members.")
    async def members(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[User]:
        viewer = info.context.require_viewer()
        users = policy.visible_users(viewer).filter(project_memberships__project_id=self.row.id)
        return await paginate(users, first=first, after=after, to_node=User.from_row)

    @strawberry.field(description="Every status change, oldest first.")
    async def status_history(
        self, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[ProjectStatusChange]:
        changes = StatusChangeRow.filter(project_id=self.row.id)
        return await paginate(
            changes, first=first, after=after, to_node=ProjectStatusChange.from_row
        )

    @strawberry.field(
        metadata=BY_AUDIENCE, description="Top-level posts of the timeline, newest first."
    )
    async def timeline(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[Annotated[Micropost, strawberry.lazy("graphql_schema.microposts.types")]]:
        from graphql_schema.microposts.types import Micropost, prefetch

        viewer = info.context.require_viewer()
        if after is None:  # a read of the timeline, not of its next page
            await record_read(viewer, ContentKind.TIMELINE, self.row.id, info.context.session_id)
        posts = policy.visible_microposts(viewer).filter(project_id=self.row.id, parent_id=None)
        page = await paginate(
            posts, first=first, after=after, to_node=Micropost.from_row, newest_first=True
        )
        await prefetch(info, [edge.node for edge in page.edges])
        return page

    @strawberry.field(
        metadata=BY_AUDIENCE, description="The project's concept pages that you may see."
    )
    async def pages(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[Annotated[Page, strawberry.lazy("graphql_schema.pages.types")]]:
        from graphql_schema.pages.types import Page

        viewer = info.context.require_viewer()
        pages = policy.visible_pages(viewer).filter(project_id=self.row.id)
        return await paginate(pages, first=first, after=after, to_node=Page.from_row)

    @strawberry.field(
        metadata=BY_AUDIENCE,
        description=(
            "The cursor of the latest timeline event you may see here. Fetch, then subscribe "
            "to `projectTimeline(after:)` with it, and nothing in between is missed."
        ),
    )
    async def timeline_cursor(self, info: Info) -> str:
        viewer = info.context.require_viewer()
        resolved = await info.context.bus.horizon.current()  # nothing lower can still come
        latest = (
            await policy.visible_events(viewer)
            .filter(project_id=self.row.id, id__lte=resolved)
            .order_by("-id")
            .first()
        )
        return encode_cursor(latest.id if latest else 0)

    @strawberry.field(description="Whether you may post and edit shared pages here.")
    async def viewer_can_contribute(self, info: Info) -> bool:
        return await policy.can_contribute(info.context.require_viewer(), self.row)

    @strawberry.field(description="Whether you may change status and membership here.")
    async def viewer_can_manage(self, info: Info) -> bool:
        return await policy.can_manage_project(info.context.require_viewer(), self.row)

    @strawberry.field(description="The watch level that applies to you here, inherited or own.")
    async def viewer_watch_level(self, info: Info) -> WatchLevel | None:
        info.context.require_viewer()
        return await info.context.loaders.effective_watch_level(
            customer_id=self.row.customer_id, project_id=self.row.id
        )


async def load_project(info: Info, project_id: int) -> Project:
    """A project reached through an authorised reference (a post's, a page's, an event's)."""
    row = await info.context.loaders.project.load(project_id)
    if row is None:
        raise LookupError(f"project {project_id} is referenced but missing")
    return Project.from_row(row)
