from __future__ import annotations

from decimal import Decimal

import strawberry

from actions import projects
from graphql_schema.accounts.types import User
from graphql_schema.context import Info
from graphql_schema.enums import ProjectStatus
from graphql_schema.permissions import (
    CanManageProject,
    CanManageProjectMembers,
    IsAccountTeamMember,
    rule,
)
from graphql_schema.projects.types import Project, ProjectStatusChange
from graphql_schema.relay import global_ids_to_ints, node_pk
from models import Project as ProjectRow
from models import User as UserRow


@strawberry.input
class CreateProjectInput:
    customer_id: strawberry.ID
    name: str
    description: str = ""
    budget: Decimal | None = None
    member_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.type
class CreateProjectPayload:
    project: Project


@strawberry.input
class ProjectMemberInput:
    project_id: strawberry.ID
    user_id: strawberry.ID


@strawberry.type
class ProjectMemberPayload:
    project: Project
    user: User


@strawberry.input
class ChangeProjectStatusInput:
    project_id: strawberry.ID
    status: ProjectStatus
    reason: str = ""


@strawberry.type
class ChangeProjectStatusPayload:
    project: Project
    status_change: ProjectStatusChange


def _ids(input: ProjectMemberInput) -> dict[str, int]:
    return {
        "project_id": node_pk(input.project_id, "Project"),
        "user_id": node_pk(input.user_id, "User"),
    }


async def _member_payload(input: ProjectMemberInput) -> ProjectMemberPayload:
    ids = _ids(input)
    project = await ProjectRow.get(id=ids["project_id"])
    user = await UserRow.get(id=ids["user_id"])
    return ProjectMemberPayload(project=Project.from_row(project), user=User.from_row(user))


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=rule(IsAccountTeamMember),
        description="Start a project for a customer (its account team or an administrator).",
    )
    async def create_project(
        self, info: Info, input: CreateProjectInput
    ) -> CreateProjectPayload | None:
        project = await projects.create_project(
            info.context.require_viewer(),
            customer_id=node_pk(input.customer_id, "Customer"),
            name=input.name,
            description=input.description,
            budget=input.budget,
            member_ids=global_ids_to_ints(input.member_ids, "User"),
        )
        return CreateProjectPayload(project=Project.from_row(project))

    @strawberry.mutation(extensions=rule(CanManageProjectMembers))
    async def add_project_member(
        self, info: Info, input: ProjectMemberInput
    ) -> ProjectMemberPayload | None:
        await projects.add_project_member(info.context.require_viewer(), **_ids(input))
        return await _member_payload(input)

    @strawberry.mutation(extensions=rule(CanManageProjectMembers))
    async def remove_project_member(
        self, info: Info, input: ProjectMemberInput
    ) -> ProjectMemberPayload | None:
        await projects.remove_project_member(
            info.context.require_viewer(), info.context.bus, **_ids(input)
        )
        return await _member_payload(input)

    @strawberry.mutation(
        extensions=rule(CanManageProject),
        description="Move the project along its workflow; the change is recorded.",
    )
    async def change_project_status(
        self, info: Info, input: ChangeProjectStatusInput
    ) -> ChangeProjectStatusPayload | None:
        project, change = await projects.change_project_status(
            info.context.require_viewer(),
            info.context.bus,
            project_id=node_pk(input.project_id, "Project"),
            status=input.status,
            reason=input.reason,
        )
        return ChangeProjectStatusPayload(
            project=Project.from_row(project),
            status_change=ProjectStatusChange.from_row(change),
        )
