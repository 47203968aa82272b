from __future__ import annotations

import strawberry

from domain import policy
from graphql_schema.context import Info
from graphql_schema.enums import ProjectStatus
from graphql_schema.permissions import CanSeeProject, rule
from graphql_schema.projects.types import Project
from graphql_schema.relay import (
    DEFAULT_PAGE_SIZE,
    Connection,
    fetch_by_global_id,
    node_pk,
    paginate,
)


@strawberry.type
class Query:
    @strawberry.field(extensions=rule(CanSeeProject), description="Projects you may see.")
    async def projects(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        customer_id: strawberry.ID | None = None,
        status: ProjectStatus | None = None,
    ) -> Connection[Project]:
        projects = policy.visible_projects(info.context.require_viewer())
        if customer_id is not None:
            projects = projects.filter(customer_id=node_pk(customer_id, "Customer"))
        if status is not None:
            projects = projects.filter(status=status)
        return await paginate(projects, first=first, after=after, to_node=Project.from_row)

    @strawberry.field(extensions=rule(CanSeeProject))
    async def project(self, info: Info, id: strawberry.ID) -> Project | None:
        scope = policy.visible_projects(info.context.require_viewer())
        return Project.from_row(await fetch_by_global_id(scope, id, "Project"))
