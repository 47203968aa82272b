from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields

from models._base import TimestampedModel

if TYPE_CHECKING:
    from models.customers import Customer
    from models.library import LibraryDocument, LibraryFolder
    from models.microposts import Topic
    from models.pages import Page
    from models.projects import Project
    from models.users import User


class WatchLevel(StrEnum):
    WATCHING = "WATCHING"
    PARTICIPATING = "PARTICIPATING"
    MUTED = "MUTED"


class WatchTargetKind(StrEnum):
    CUSTOMER = "CUSTOMER"
    PROJECT = "PROJECT"
    PAGE = "PAGE"
    TOPIC = "TOPIC"
    FOLDER = "FOLDER"
    """A library folder (its documents' versions, states and acknowledgements)."""
    DOCUMENT = "DOCUMENT"
    """A library document."""


class Watch(TimestampedModel):
    """A user's chosen level of interest in one customer, project, page, topic, library
    folder or library document.

    Exactly one of the target foreign keys is set, matching ``kind``, and ``target_key`` is
    ``"<KIND>:<id>"`` so that one unique constraint covers every kind on every database.
    """

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="watches", on_delete=fields.CASCADE
    )
    user_id: int
    kind = fields.CharEnumField(WatchTargetKind, max_length=10)
    target_key = fields.CharField(max_length=32)
    level = fields.CharEnumField(WatchLevel, max_length=16)
    customer: fields.ForeignKeyNullableRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="watches", null=True, on_delete=fields.CASCADE
    )
    customer_id: int | None
    project: fields.ForeignKeyNullableRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="watches", null=True, on_delete=fields.CASCADE
    )
    project_id: int | None
    page: fields.ForeignKeyNullableRelation[Page] = fields.ForeignKeyField(
        "models.Page", related_name="watches", null=True, on_delete=fields.CASCADE
    )
    page_id: int | None
    topic: fields.ForeignKeyNullableRelation[Topic] = fields.ForeignKeyField(
        "models.Topic", related_name="watches", null=True, on_delete=fields.CASCADE
    )
    topic_id: int | None
    folder: fields.ForeignKeyNullableRelation[LibraryFolder] = fields.ForeignKeyField(
        "models.LibraryFolder", related_name="watches", null=True, on_delete=fields.CASCADE
    )
    folder_id: int | None
    document: fields.ForeignKeyNullableRelation[LibraryDocument] = fields.ForeignKeyField(
        "models.LibraryDocument", related_name="watches", null=True, on_delete=fields.CASCADE
    )
    document_id: int | None
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "watches"
        unique_together = (("user", "target_key"),)
