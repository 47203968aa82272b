from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields

from models._base import TimestampedModel, Visibility

if TYPE_CHECKING:
    from models.pages import Page
    from models.projects import Project
    from models.users import User


class Topic(TimestampedModel):
    """A #hashtag shared across projects, stored lower-case."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64, unique=True)

    class Meta:
        table = "topics"


class Micropost(TimestampedModel):
    """A short Markdown post on a project timeline, or a reply to one."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="microposts", on_delete=fields.CASCADE
    )
    project_id: int
    author: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="microposts", on_delete=fields.RESTRICT
    )
    author_id: int
    parent: fields.ForeignKeyNullableRelation[Micropost] = fields.ForeignKeyField(
        "models.Micropost", related_name="replies", null=True, on_delete=fields.CASCADE
    )
    parent_id: int | None
    page: fields.ForeignKeyNullableRelation[Page] = fields.ForeignKeyField(
        "models.Page", related_name="comments", null=True, on_delete=fields.CASCADE
    )
    page_id: int | None
    body = fields.TextField()
    body_html = fields.TextField()
    visibility = fields.CharEnumField(Visibility, max_length=10, default=Visibility.SHARED)
    edited_at = fields.DatetimeField(null=True)

    class Meta:
        table = "microposts"


class MicropostEdit(TimestampedModel):
    """The text a micropost had before an edit."""

    id = fields.IntField(primary_key=True)
    micropost: fields.ForeignKeyRelation[Micropost] = fields.ForeignKeyField(
        "models.Micropost", related_name="edits", on_delete=fields.CASCADE
    )
    micropost_id: int
    previous_body = fields.TextField()
    editor: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    editor_id: int

    class Meta:
        table = "micropost_edits"


class MicropostTopic(TimestampedModel):
    id = fields.IntField(primary_key=True)
    micropost: fields.ForeignKeyRelation[Micropost] = fields.ForeignKeyField(
        "models.Micropost", related_name="topic_links", on_delete=fields.CASCADE
    )
    micropost_id: int
    topic: fields.ForeignKeyRelation[Topic] = fields.ForeignKeyField(
        "models.Topic", related_name="micropost_links", on_delete=fields.CASCADE
    )
    topic_id: int

    class Meta:
        table = "micropost_topics"
        unique_together = (("micropost", "topic"),)


class MicropostMention(TimestampedModel):
    id = fields.IntField(primary_key=True)
    micropost: fields.ForeignKeyRelation[Micropost] = fields.ForeignKeyField(
        "models.Micropost", related_name="mention_links", on_delete=fields.CASCADE
    )
    micropost_id: int
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="mention_links", on_delete=fields.CASCADE
    )
    user_id: int

    class Meta:
        table = "micropost_mentions"
        unique_together = (("micropost", "user"),)
