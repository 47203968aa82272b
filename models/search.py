from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models._base import TimestampedModel, Visibility


class SearchKind(StrEnum):
    PAGE = "PAGE"
    MICROPOST = "MICROPOST"
    ATTACHMENT = "ATTACHMENT"
    REQUEST = "REQUEST"
    """A request's number, title, answers and SHARED conversation (``object_id``: the
    request; ``project_id`` 0)."""
    REQUEST_NOTE = "REQUEST_NOTE"
    """A request's INTERNAL notes, for staff (``object_id``: the request)."""
    LIBRARY = "LIBRARY"
    """A library document's title, description, tags and its current version's text
    (``object_id``: the document; ``project_id`` 0), scoped by document."""


class SearchDocument(TimestampedModel):
    """The searchable text of one page or post, written with it by the actions. A full-text
    index over it is kept by the database: FTS5 in SQLite, a tsvector in PostgreSQL.
    In SQLite, triggers keep the index current (migration 0005): a migration that makes
    SQLite rebuild this table drops them and must create them again."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(SearchKind, max_length=12, description="What was indexed")
    object_id = fields.IntField()
    project_id = fields.IntField(db_index=True)
    visibility = fields.CharEnumField(Visibility, max_length=10)
    title = fields.CharField(max_length=200, default="")
    body = fields.TextField(default="")
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "search_documents"
        unique_together = (("kind", "object_id"),)
