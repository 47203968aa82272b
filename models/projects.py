from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields

from models._base import TimestampedModel

if TYPE_CHECKING:
    from models.customers import Customer
    from models.users import User


class ProjectStatus(StrEnum):
    PROPOSED = "PROPOSED"
    ACTIVE = "ACTIVE"
    ON_HOLD = "ON_HOLD"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class Project(TimestampedModel):
    id = fields.IntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="projects", on_delete=fields.RESTRICT
    )
    customer_id: int
    name = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    description_html = fields.TextField(default="")
    status = fields.CharEnumField(ProjectStatus, max_length=20, default=ProjectStatus.PROPOSED)
    budget = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "projects"


class ProjectMembership(TimestampedModel):
    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="memberships", on_delete=fields.CASCADE
    )
    project_id: int
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="project_memberships", on_delete=fields.CASCADE
    )
    user_id: int

    class Meta:
        table = "project_memberships"
        unique_together = (("project", "user"),)


class ProjectStatusChange(TimestampedModel):
    """One recorded transition of a project's status: from, to, who, why, when."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="status_changes", on_delete=fields.CASCADE
    )
    project_id: int
    from_status = fields.CharEnumField(ProjectStatus, max_length=20)
    to_status = fields.CharEnumField(ProjectStatus, max_length=20)
    actor: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    actor_id: int
    reason = fields.TextField(default="")

    class Meta:
        table = "project_status_changes"
