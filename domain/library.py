"""Pure rules of the document library: a document's state as of a moment, and when its
owner is reminded of its end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from models import Role, User
from models.library import (
    DocumentState,
    DocumentVersion,
    LibraryDocument,
    LibraryDocumentOffer,
    LibraryFolder,
    ReminderKind,
)

REMINDERS: tuple[tuple[ReminderKind, timedelta], ...] = (
    (ReminderKind.EXPIRES_IN_30_DAYS, timedelta(days=30)),
    (ReminderKind.EXPIRES_IN_7_DAYS, timedelta(days=7)),
    (ReminderKind.EXPIRES_TODAY, timedelta(0)),
)
"""The owner's reminders: each kind and how long before the end of validity it is due."""


def state_at(
    moment: datetime,
    *,
    valid_from: datetime | None,
    valid_until: datetime | None,
    superseded: bool,
) -> DocumentState:
    """SUPERSEDED once replaced; DRAFT without a start of validity or before it; EXPIRED
    from ``valid_until`` on (the end is exclusive); VALID otherwise. Never VALID past the
    end, whatever was recorded."""
    if superseded:
        return DocumentState.SUPERSEDED
    if valid_from is None or moment < valid_from:
        return DocumentState.DRAFT
    if valid_until is not None and moment >= valid_until:
        return DocumentState.EXPIRED
    return DocumentState.VALID


def visible_folders(viewer: User) -> QuerySet[LibraryFolder]:
    """Staff see every folder; a contact the shared library's and their customer's (a
    contact who is not a lead contact: only those opened to members)."""
    if viewer.is_staff:
        return LibraryFolder.all()
    own = Q(customer_id=viewer.customer_id)
    if viewer.role is not Role.CUSTOMER_ADMIN:
        own &= Q(open_to_members=True)
    return LibraryFolder.filter(Q(customer_id=None) | own)


def visible_documents(viewer: User, moment: datetime | None = None) -> QuerySet[LibraryDocument]:
    """Staff see every document; a contact never a DRAFT (no start of validity or before
    it), and otherwise the shared documents offered to their customer (to all or to it by
    name) and their customer's own (a contact who is not a lead contact: outside folders
    or in folders opened to members)."""
    if viewer.is_staff:
        return LibraryDocument.all()
    moment = moment or datetime.now(UTC)
    offered = Subquery(
        LibraryDocumentOffer.filter(customer_id=viewer.customer_id).values("document_id")
    )
    shared = Q(customer_id=None) & (Q(offered_to_all=True) | Q(id__in=offered))
    own = Q(customer_id=viewer.customer_id)
    if viewer.role is not Role.CUSTOMER_ADMIN:
        closed = Subquery(
            LibraryFolder.filter(customer_id=viewer.customer_id, open_to_members=False).values("id")
        )
        own &= Q(folder_id=None) | ~Q(folder_id__in=closed)
    return LibraryDocument.filter(shared | own, valid_from__lte=moment)


def visible_versions(viewer: User) -> QuerySet[DocumentVersion]:
    """Versions of the documents the viewer sees; deleted ones for staff alone."""
    if viewer.is_staff:
        return DocumentVersion.all()
    documents = Subquery(visible_documents(viewer).values("id"))
    return DocumentVersion.filter(document_id__in=documents, deleted_at=None)
