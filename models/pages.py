from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields

from models._base import TimestampedModel, Visibility

if TYPE_CHECKING:
    from models.projects import Project
    from models.users import User


class Page(TimestampedModel):
    """A concept page of a project, whose current text mirrors its newest revision."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="pages", on_delete=fields.CASCADE
    )
    project_id: int
    title = fields.CharField(max_length=200)
    body = fields.TextField(default="")
    body_html = fields.TextField(default="")
    visibility = fields.CharEnumField(Visibility, max_length=10, default=Visibility.SHARED)
    revision = fields.IntField(default=1)
    parent: fields.ForeignKeyNullableRelation[Page] = fields.ForeignKeyField(
        "models.Page", related_name="children", null=True, on_delete=fields.SET_NULL
    )
    parent_id: int | None
    created_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    created_by_id: int
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "pages"


class PageRevision(TimestampedModel):
    """An append-only snapshot of a page."""

    id = fields.IntField(primary_key=True)
    page: fields.ForeignKeyRelation[Page] = fields.ForeignKeyField(
        "models.Page", related_name="revisions", on_delete=fields.CASCADE
    )
    page_id: int
    number = fields.IntField()
    author: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    author_id: int
    summary = fields.CharField(max_length=500, default="")
    title = fields.CharField(max_length=200)
    body = fields.TextField(default="")

    class Meta:
        table = "page_revisions"
        unique_together = (("page", "number"),)


class PageDraft(TimestampedModel):
    """An edit that could not be merged into the page, kept for its author to resolve."""

    id = fields.IntField(primary_key=True)
    page: fields.ForeignKeyRelation[Page] = fields.ForeignKeyField(
        "models.Page", related_name="drafts", on_delete=fields.CASCADE
    )
    page_id: int
    author: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    author_id: int
    base_revision = fields.IntField()
    title = fields.CharField(max_length=200, null=True)
    body = fields.TextField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "page_drafts"
        unique_together = (("page", "author"),)
