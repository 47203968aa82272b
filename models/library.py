"""The document library: folders and documents of the shared library (offered to all
customers or to chosen ones) and of each customer's own library, with versions, validity,
acknowledgements, downloads and reminders.

A document's state is computed on read from its dates (domain/library.py): a document past
its end date is never VALID, whatever the background runner has done. The runner records
the transitions (``recorded_state``) and sends the reminders (:class:`DocumentReminder`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields

from models._base import TimestampedModel

if TYPE_CHECKING:
    from models.customers import Customer
    from models.users import User


class DocumentType(StrEnum):
    CERTIFICATE = "CERTIFICATE"
    CONTRACT = "CONTRACT"
    MANUAL = "MANUAL"
    PROCEDURE = "PROCEDURE"
    PRICE_LIST = "PRICE_LIST"
    TERMS = "TERMS"
    TRAINING = "TRAINING"
    OTHER = "OTHER"


class DocumentState(StrEnum):
    DRAFT = "DRAFT"
    VALID = "VALID"
    EXPIRED = "EXPIRED"
    SUPERSEDED = "SUPERSEDED"


class TextStatus(StrEnum):
    """Where the extraction of a version's text stands."""

    PENDING = "PENDING"
    EXTRACTED = "EXTRACTED"
    NOT_EXTRACTABLE = "NOT_EXTRACTABLE"


class ReminderKind(StrEnum):
    EXPIRES_IN_30_DAYS = "EXPIRES_IN_30_DAYS"
    EXPIRES_IN_7_DAYS = "EXPIRES_IN_7_DAYS"
    EXPIRES_TODAY = "EXPIRES_TODAY"
    EXPIRED = "EXPIRED"
    SUPERSEDED = "SUPERSEDED"


class LibraryFolder(TimestampedModel):
    """A folder of the shared library (``customer`` null) or of one customer's library.
    Contacts who are not lead contacts see a customer's folder only when
    ``open_to_members`` (the lead contact's choice)."""

    id = fields.IntField(primary_key=True)
    customer: fields.ForeignKeyNullableRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name=False, null=True, on_delete=fields.CASCADE
    )
    customer_id: int | None
    parent: fields.ForeignKeyNullableRelation[LibraryFolder] = fields.ForeignKeyField(
        "models.LibraryFolder", related_name="children", null=True, on_delete=fields.CASCADE
    )
    parent_id: int | None
    name = fields.CharField(max_length=200)
    open_to_members = fields.BooleanField(default=True)

    class Meta:
        table = "library_folders"


class LibraryDocument(TimestampedModel):
    """A document, its file in its :class:`DocumentVersion` rows (the newest not
    deleted one is current). ``valid_from`` null: a draft."""

    id = fields.IntField(primary_key=True)
    customer: fields.ForeignKeyNullableRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name=False, null=True, on_delete=fields.CASCADE
    )
    customer_id: int | None
    folder: fields.ForeignKeyNullableRelation[LibraryFolder] = fields.ForeignKeyField(
        "models.LibraryFolder", related_name="documents", null=True, on_delete=fields.SET_NULL
    )
    folder_id: int | None
    title = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    type = fields.CharEnumField(DocumentType, max_length=16)
    owner: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    owner_id: int
    tags: list[str] = fields.JSONField(default=list)
    offered_to_all = fields.BooleanField(default=True)
    valid_from = fields.DatetimeField(null=True)
    valid_until = fields.DatetimeField(null=True)
    superseded_by: fields.ForeignKeyNullableRelation[LibraryDocument] = fields.ForeignKeyField(
        "models.LibraryDocument", related_name="supersedes", null=True, on_delete=fields.SET_NULL
    )
    superseded_by_id: int | None
    superseded_at = fields.DatetimeField(null=True)
    requires_acknowledgement = fields.BooleanField(default=False)
    recorded_state = fields.CharEnumField(DocumentState, max_length=16, default=DocumentState.DRAFT)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "library_documents"


class LibraryDocumentOffer(TimestampedModel):
    """A customer a shared document not offered to all is offered to."""

    id = fields.IntField(primary_key=True)
    document: fields.ForeignKeyRelation[LibraryDocument] = fields.ForeignKeyField(
        "models.LibraryDocument", related_name="offers", on_delete=fields.CASCADE
    )
    document_id: int
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name=False, on_delete=fields.CASCADE
    )
    customer_id: int

    class Meta:
        table = "library_document_offers"
        unique_together = (("document", "customer"),)


class DocumentVersion(TimestampedModel):
    """One file of a document, stored by its SHA-256 (``content_key``). Never deleted by
    the system: an administrator's deletion sets ``deleted_at`` / ``deleted_by``."""

    id = fields.IntField(primary_key=True)
    document: fields.ForeignKeyRelation[LibraryDocument] = fields.ForeignKeyField(
        "models.LibraryDocument", related_name="versions", on_delete=fields.CASCADE
    )
    document_id: int
    number = fields.IntField()
    name = fields.CharField(max_length=200)
    label = fields.CharField(max_length=100, default="")
    note = fields.TextField(default="")
    content_key = fields.CharField(max_length=64, description="SHA-256 of the content")
    size = fields.BigIntField()
    content_type = fields.CharField(max_length=100)
    uploaded_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    uploaded_by_id: int
    restored_from: fields.ForeignKeyNullableRelation[DocumentVersion] = fields.ForeignKeyField(
        "models.DocumentVersion", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    restored_from_id: int | None
    deleted_at = fields.DatetimeField(null=True)
    deleted_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    deleted_by_id: int | None
    text_status = fields.CharEnumField(TextStatus, max_length=16, default=TextStatus.PENDING)
    text_error = fields.CharField(max_length=200, default="")
    text = fields.TextField(default="")

    class Meta:
        table = "library_document_versions"
        unique_together = (("document", "number"),)


class DocumentAcknowledgement(TimestampedModel):
    """A contact acknowledged one version (``created_at``: when)."""

    id = fields.IntField(primary_key=True)
    version: fields.ForeignKeyRelation[DocumentVersion] = fields.ForeignKeyField(
        "models.DocumentVersion", related_name="acknowledgements", on_delete=fields.CASCADE
    )
    version_id: int
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    user_id: int

    class Meta:
        table = "library_acknowledgements"
        unique_together = (("version", "user"),)


class DocumentDownload(TimestampedModel):
    """One download of one version by one user (``created_at``: when)."""

    id = fields.BigIntField(primary_key=True)
    version: fields.ForeignKeyRelation[DocumentVersion] = fields.ForeignKeyField(
        "models.DocumentVersion", related_name="downloads", on_delete=fields.CASCADE
    )
    version_id: int
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    user_id: int

    class Meta:
        table = "library_downloads"


class DocumentReminder(TimestampedModel):
    """A reminder sent about a document: to its owner before and on its expiry, to the
    contacts concerned when it expired or was superseded. ``moment`` (the end date or the
    supersession it is about) makes it once per moment."""

    id = fields.BigIntField(primary_key=True)
    document: fields.ForeignKeyRelation[LibraryDocument] = fields.ForeignKeyField(
        "models.LibraryDocument", related_name="reminders", on_delete=fields.CASCADE
    )
    document_id: int
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    user_id: int
    kind = fields.CharEnumField(ReminderKind, max_length=24)
    moment = fields.DatetimeField()

    class Meta:
        table = "library_reminders"
        unique_together = (("document", "user", "kind", "moment"),)
