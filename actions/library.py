"""The document library: folders, documents, versions (stored by hash as attachments
are), validity with its background transitions and reminders, acknowledgements, and
downloads logged per version.

Background jobs (keys per document, so changing a date reschedules them):

========================  ==========================================  ===========================
job kind                  due                                         key
========================  ==========================================  ===========================
``library.transition``    at ``valid_from`` and at ``valid_until``    ``library:<id>:from`` /
                                                                      ``library:<id>:until``
``library.remind``        30 and 7 days before ``valid_until``, and   ``library:<id>:remind:<kind>``
                          at it
========================  ==========================================  ===========================

A transition records the state (``recorded_state``) and announces it (STATE_CHANGED, or
DOCUMENT_PUBLISHED); at the end of validity the contacts who rely on the document are
told. A reminder is a :class:`DocumentReminder` row for the owner, made once per end date,
and an EXPIRY_REMINDED event that notifies them. The state read by everyone is always
computed from the dates (:func:`state_of`), so nothing waits for the runner to be right.

Every change is an event (actions/library_events.py: who is notified, and the mail).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from actions import attachments, library_events, search_index
from actions._common import audit, limited_text, now, required_text
from actions.jobs import JobContext, cancel, enqueue, job_handler
from actions.library_events import announce
from actions.unit_of_work import UnitOfWork, unit_of_work
from domain import library, policy
from domain.errors import BadUserInput, Forbidden, NotFound
from infra.storage import BlobStorage, StoredBlob, TooLarge
from models import (
    Customer,
    DocumentAcknowledgement,
    DocumentDownload,
    DocumentReminder,
    DocumentState,
    DocumentType,
    DocumentVersion,
    LibraryDocument,
    LibraryDocumentOffer,
    LibraryFolder,
    ReminderKind,
    User,
)
from models.events import (
    LibraryAcknowledged,
    LibraryAcknowledgementRequired,
    LibraryDocumentMoved,
    LibraryDocumentPublished,
    LibraryDocumentSuperseded,
    LibraryExpiryReminded,
    LibraryStateChanged,
    LibraryVersionAdded,
)
from realtime.bus import EventBus

TAG_MAX_LENGTH = 50
MAX_TAGS = 20


def state_of(document: LibraryDocument, moment: datetime | None = None) -> DocumentState:
    """The document's state at ``moment`` (default now), from its dates."""
    return library.state_at(
        moment or now(),
        valid_from=document.valid_from,
        valid_until=document.valid_until,
        superseded=document.superseded_by_id is not None,
    )


async def current_version(document_id: int) -> DocumentVersion | None:
    """The newest version not deleted, or None."""
    return (
        await DocumentVersion.filter(document_id=document_id, deleted_at=None)
        .order_by("-number")
        .first()
    )


async def _announce_state(
    work: UnitOfWork,
    document: LibraryDocument,
    actor_id: int,
    before: DocumentState,
    after: DocumentState,
) -> None:
    """The events of a change of state: DOCUMENT_PUBLISHED from DRAFT to VALID (and
    ACKNOWLEDGEMENT_REQUIRED when it asks for one), STATE_CHANGED otherwise."""
    if before is after:
        return
    if before is DocumentState.DRAFT and after is DocumentState.VALID:
        version = await current_version(document.id)
        version_id = version.id if version else None
        published = LibraryDocumentPublished(document.id, version_id)
        await announce(work, published, document, actor_id, internal=False)
        if document.requires_acknowledgement:
            required = LibraryAcknowledgementRequired(document.id, version_id)
            await announce(work, required, document, actor_id, internal=False)
        return
    changed = LibraryStateChanged(document.id, None, before.value, after.value)
    await announce(work, changed, document, actor_id, internal=after is DocumentState.DRAFT)


async def reindex(document: LibraryDocument) -> None:
    """Write the document's search entry from its title, description, tags and its current
    version's text (as extracted so far); inside the caller's unit of work."""
    version = await current_version(document.id)
    await search_index.index_library_document(document, version.text if version else "")


async def visible_document(viewer: User, document_id: int) -> LibraryDocument:
    """The document if the viewer may see it now; NOT_FOUND otherwise."""
    return await policy.get_visible(library.visible_documents(viewer), document_id, "document")


async def _managed_document(actor: User, document_id: int) -> LibraryDocument:
    document = await visible_document(actor, document_id)
    if not await policy.can_manage_library(actor, document.customer_id):
        raise Forbidden("Only the customer's account team may change its library's documents.")
    return document


def _clean_tags(tags: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for tag in tags:
        text = limited_text(" ".join(tag.split()).lower(), "tags", TAG_MAX_LENGTH)
        if text and text not in cleaned:
            cleaned.append(text)
    if len(cleaned) > MAX_TAGS:
        raise BadUserInput(f"A document has at most {MAX_TAGS} tags.", field="tags")
    return cleaned


async def _folder_for(actor: User, folder_id: int | None, customer_id: int | None) -> int | None:
    """The folder's ID, when the actor may see it and it is of the same library."""
    if folder_id is None:
        return None
    folder = await policy.get_visible(library.visible_folders(actor), folder_id, "folder")
    if folder.customer_id != customer_id:
        raise BadUserInput("The folder belongs to another library.", field="folderId")
    return folder.id


async def _library_customer(actor: User, customer_id: int | None) -> None:
    """NOT_FOUND for a customer out of sight, FORBIDDEN for a library the actor may not
    change."""
    if customer_id is not None:
        await policy.get_visible(policy.visible_customers(actor), customer_id, "customer")
    if not await policy.can_manage_library(actor, customer_id):
        raise Forbidden("Only the customer's account team may change its library.")


async def create_folder(
    actor: User,
    *,
    customer_id: int | None,
    parent_id: int | None,
    name: str,
    open_to_members: bool = True,
) -> LibraryFolder:
    """A folder of the shared library (``customer_id`` None) or of a customer's; its
    parent, if any, must be of the same library (BAD_USER_INPUT)."""
    await _library_customer(actor, customer_id)
    name = required_text(name, "name", 200)
    parent = await _folder_for(actor, parent_id, customer_id)
    async with unit_of_work():
        folder = await LibraryFolder.create(
            customer_id=customer_id, parent_id=parent, name=name, open_to_members=open_to_members
        )
        await audit("library.folder_created", actor=actor, target=f"folder:{folder.id}")
    return folder


async def open_folder_to_members(actor: User, folder_id: int, is_open: bool) -> LibraryFolder:
    """Whether the customer's members (contacts who are not lead contacts) see the folder:
    the lead contacts' and account team's decision (FORBIDDEN for others)."""
    folder = await policy.get_visible(library.visible_folders(actor), folder_id, "folder")
    if not await policy.can_open_folder(actor, folder.customer_id):
        raise Forbidden("Only the customer's lead contacts decide who sees its folders.")
    async with unit_of_work():
        folder.open_to_members = is_open
        await folder.save(update_fields=["open_to_members"])
        await audit(
            "library.folder_opened" if is_open else "library.folder_closed",
            actor=actor,
            target=f"folder:{folder.id}",
        )
    return folder


async def create_document(
    actor: User,
    *,
    customer_id: int | None,
    folder_id: int | None,
    title: str,
    description: str = "",
    type: DocumentType = DocumentType.OTHER,
    tags: Iterable[str] = (),
    offered_to_all: bool = True,
    customer_ids: Iterable[int] = (),
    requires_acknowledgement: bool = False,
) -> LibraryDocument:
    """A DRAFT document owned by the actor. A shared one (``customer_id`` None) is offered
    to all customers or to ``customer_ids`` (each must exist: NOT_FOUND)."""
    await _library_customer(actor, customer_id)
    title = required_text(title, "title", 200)
    description = limited_text(description.strip(), "description", 20_000)
    folder = await _folder_for(actor, folder_id, customer_id)
    chosen = sorted(set(customer_ids))
    if customer_id is not None:
        offered_to_all, chosen = True, []
    for chosen_id in chosen:
        await policy.get_visible(Customer.all(), chosen_id, "customer")
    async with unit_of_work():
        document = await LibraryDocument.create(
            customer_id=customer_id,
            folder_id=folder,
            title=title,
            description=description,
            type=type,
            owner_id=actor.id,
            tags=_clean_tags(tags),
            offered_to_all=offered_to_all,
            requires_acknowledgement=requires_acknowledgement,
        )
        for chosen_id in chosen:
            await LibraryDocumentOffer.create(document_id=document.id, customer_id=chosen_id)
        await reindex(document)
        await audit("library.document_created", actor=actor, target=f"document:{document.id}")
    return document


async def add_version(
    actor: User,
    storage: BlobStorage,
    *,
    document_id: int,
    name: str,
    chunks: AsyncIterator[bytes],
    max_bytes: int,
    label: str = "",
    note: str = "",
    bus: EventBus | None = None,
) -> DocumentVersion:
    """Store the file and record it as the document's next version (numbered from 1),
    announced as VERSION_ADDED (and ACKNOWLEDGEMENT_REQUIRED for a VALID document that
    asks for one). NOT_FOUND / FORBIDDEN as for changing the document; BAD_USER_INPUT for
    a bad name, an empty file or one over ``max_bytes`` (``maxBytes``)."""
    name = attachments.clean_name(name)
    label = limited_text(label.strip(), "label", 100)
    note = limited_text(note.strip(), "note", 2000)
    document = await _managed_document(actor, document_id)
    try:
        blob: StoredBlob = await storage.put(chunks, max_bytes)
    except TooLarge:
        raise attachments.too_large(max_bytes) from None
    try:
        if blob.size == 0:
            raise BadUserInput("The file is empty.", field="file")
        version = await _record_version(
            actor,
            document,
            name=name,
            label=label,
            note=note,
            key=blob.key,
            size=blob.size,
            content_type=attachments.sniff(blob.head),
            bus=bus,
        )
    except BaseException:
        await storage.discard(blob, content_used(blob.key))
        raise
    await storage.keep(blob)
    return version


def content_used(key: str) -> Any:
    """Whether an attachment or a library version holds the content ``key``."""
    others = attachments.content_used(key)

    async def used() -> bool:
        return await DocumentVersion.exists(content_key=key) or await others()

    return used


async def _record_version(
    actor: User,
    document: LibraryDocument,
    *,
    name: str,
    label: str,
    note: str,
    key: str,
    size: int,
    content_type: str,
    restored_from: int | None = None,
    bus: EventBus | None = None,
) -> DocumentVersion:
    async with unit_of_work(bus) as work:
        await LibraryDocument.filter(id=document.id).select_for_update().get()
        latest = await DocumentVersion.filter(document_id=document.id).order_by("-number").first()
        version = await DocumentVersion.create(
            document_id=document.id,
            number=latest.number + 1 if latest else 1,
            name=name,
            label=label,
            note=note,
            content_key=key,
            size=size,
            content_type=content_type,
            uploaded_by_id=actor.id,
            restored_from_id=restored_from,
        )
        await enqueue("library.extract", {"version": version.id}, key=f"library:{version.id}:text")
        await reindex(document)
        await audit(
            "library.version_added",
            actor=actor,
            target=f"document:{document.id}",
            version=version.number,
            restoredFrom=restored_from,
        )
        await announce(work, LibraryVersionAdded(document.id, version.id), document, actor.id)
        if document.requires_acknowledgement and state_of(document) is DocumentState.VALID:
            required = LibraryAcknowledgementRequired(document.id, version.id)
            await announce(work, required, document, actor.id)
    return version


def _check_dates(valid_from: datetime | None, valid_until: datetime | None) -> None:
    for moment, field in ((valid_from, "validFrom"), (valid_until, "validUntil")):
        if moment is not None and moment.tzinfo is None:
            raise BadUserInput("Give the time with its time zone.", field=field)
    if valid_until is not None and valid_from is None:
        raise BadUserInput("An end of validity needs a start.", field="validFrom")
    if valid_from is not None and valid_until is not None and valid_until <= valid_from:
        raise BadUserInput("The end of validity must come after its start.", field="validUntil")


async def set_validity(
    actor: User,
    document_id: int,
    valid_from: datetime | None,
    valid_until: datetime | None,
    *,
    bus: EventBus | None = None,
) -> LibraryDocument:
    """Publish a document from ``valid_from`` (None: back to DRAFT) until ``valid_until``
    (exclusive; None: open-ended), and schedule its transitions and the owner's reminders.
    A change of state as of now is announced (DOCUMENT_PUBLISHED or STATE_CHANGED); later
    ones by the runner. A document needs a version to be published (BAD_USER_INPUT)."""
    _check_dates(valid_from, valid_until)
    # stored in UTC: SQLite compares the stored text, whatever offset it was given with
    valid_from = valid_from.astimezone(UTC) if valid_from is not None else None
    valid_until = valid_until.astimezone(UTC) if valid_until is not None else None
    document = await _managed_document(actor, document_id)
    if valid_from is not None and await current_version(document.id) is None:
        raise BadUserInput("Add a version before publishing the document.", field="validFrom")
    async with unit_of_work(bus) as work:
        before = state_of(document)
        document.valid_from, document.valid_until = valid_from, valid_until
        after = state_of(document)
        document.recorded_state = after
        await document.save(
            update_fields=["valid_from", "valid_until", "recorded_state", "updated_at"]
        )
        await _schedule(document)
        await _announce_state(work, document, actor.id, before, after)
        await audit(
            "library.validity_set",
            actor=actor,
            target=f"document:{document.id}",
            validFrom=valid_from.isoformat() if valid_from else None,
            validUntil=valid_until.isoformat() if valid_until else None,
        )
    return document


async def _schedule(document: LibraryDocument) -> None:
    """(Re)schedule the document's transitions and reminders from its dates."""
    prefix = f"library:{document.id}"
    payload: dict[str, Any] = {"document": document.id}
    if document.valid_from is not None:
        await enqueue(
            "library.transition", payload, run_at=document.valid_from, key=f"{prefix}:from"
        )
    else:
        await cancel(f"{prefix}:from")
    for kind, before in library.REMINDERS:
        key = f"{prefix}:remind:{kind.value}"
        if document.valid_until is None or document.superseded_by_id is not None:
            await cancel(key)
            continue
        until = document.valid_until.isoformat()
        await enqueue(
            "library.remind",
            {**payload, "kind": kind.value, "until": until},
            run_at=document.valid_until - before,
            key=key,
        )
    if document.valid_until is not None:
        await enqueue(
            "library.transition", payload, run_at=document.valid_until, key=f"{prefix}:until"
        )
    else:
        await cancel(f"{prefix}:until")


async def supersede(
    actor: User, document_id: int, by_id: int, *, bus: EventBus | None = None
) -> LibraryDocument:
    """Mark the document SUPERSEDED by another of the same library (BAD_USER_INPUT for
    itself, another library's, one already superseded, or a replacement superseded itself,
    so that no chain of replacements loops); its contacts are told."""
    document = await _managed_document(actor, document_id)
    replacement = await _managed_document(actor, by_id)
    if replacement.id == document.id or replacement.customer_id != document.customer_id:
        raise BadUserInput("Choose another document of the same library.", field="byId")
    moment = now()
    async with unit_of_work(bus) as work:
        locked = {
            row.id: row
            for row in await LibraryDocument.filter(id__in=[document.id, replacement.id])
            .order_by("id")
            .select_for_update()
        }
        if locked[document.id].superseded_by_id is not None:
            raise BadUserInput("The document was superseded already.", field="id")
        if locked[replacement.id].superseded_by_id is not None:
            raise BadUserInput("The replacement is superseded itself.", field="byId")
        document.superseded_by_id, document.superseded_at = replacement.id, moment
        document.recorded_state = DocumentState.SUPERSEDED
        await document.save(
            update_fields=["superseded_by_id", "superseded_at", "recorded_state", "updated_at"]
        )
        await _schedule(document)
        await _remind_contacts(document, ReminderKind.SUPERSEDED, moment)
        await audit(
            "library.superseded", actor=actor, target=f"document:{document.id}", by=replacement.id
        )
        await announce(work, LibraryDocumentSuperseded(document.id), document, actor.id)
    return document


async def require_acknowledgement(
    actor: User, document_id: int, required: bool, *, bus: EventBus | None = None
) -> LibraryDocument:
    """Whether each contact concerned must acknowledge the current version; newly asked of
    a VALID document, it is announced (ACKNOWLEDGEMENT_REQUIRED)."""
    document = await _managed_document(actor, document_id)
    async with unit_of_work(bus) as work:
        newly = required and not document.requires_acknowledgement
        document.requires_acknowledgement = required
        await document.save(update_fields=["requires_acknowledgement", "updated_at"])
        if newly and state_of(document) is DocumentState.VALID:
            version = await current_version(document.id)
            details = LibraryAcknowledgementRequired(document.id, version.id if version else None)
            await announce(work, details, document, actor.id)
    return document


async def acknowledge(
    actor: User, document_id: int, *, bus: EventBus | None = None
) -> DocumentAcknowledgement:
    """The actor (a contact) acknowledges the document's current version, announced as
    DOCUMENT_ACKNOWLEDGED to staff and the actor's customer; again is a no-op. FORBIDDEN
    for staff; BAD_USER_INPUT when it asks for no acknowledgement or is not VALID."""
    document = await visible_document(actor, document_id)
    if not policy.can_acknowledge_document(actor):
        raise Forbidden("Contacts acknowledge documents; staff see who did.")
    if not document.requires_acknowledgement:
        raise BadUserInput("This document asks for no acknowledgement.", field="id")
    if state_of(document) is not DocumentState.VALID:
        raise BadUserInput("Only a valid document can be acknowledged.", field="id")
    version = await current_version(document.id)
    if version is None:
        raise NotFound("document")
    async with unit_of_work(bus) as work:
        found, created = await DocumentAcknowledgement.get_or_create(
            version_id=version.id, user_id=actor.id
        )
        if created:
            details = LibraryAcknowledged(document.id, version.id)
            await announce(work, details, document, actor.id, customer_id=actor.customer_id)
    return found


async def needs_acknowledgement(viewer: User) -> list[int]:
    """IDs of the VALID documents the viewer (a contact) has yet to acknowledge."""
    if viewer.is_staff:
        return []
    moment = now()
    documents = await library.visible_documents(viewer, moment).filter(
        Q(valid_until=None) | Q(valid_until__gt=moment),
        requires_acknowledgement=True,
        superseded_by_id=None,
    )
    waiting = []
    for document in documents:
        version = await current_version(document.id)
        if version is not None and not await DocumentAcknowledgement.exists(
            version_id=version.id, user_id=viewer.id
        ):
            waiting.append(document.id)
    return waiting


async def move(
    actor: User, document_id: int, folder_id: int | None, *, bus: EventBus | None = None
) -> LibraryDocument:
    """Into a folder of the same library (None: out of folders); announced as
    DOCUMENT_MOVED."""
    document = await _managed_document(actor, document_id)
    folder = await _folder_for(actor, folder_id, document.customer_id)
    async with unit_of_work(bus) as work:
        moved = document.folder_id != folder
        document.folder_id = folder
        await document.save(update_fields=["folder_id", "updated_at"])
        if moved:
            await announce(work, LibraryDocumentMoved(document.id), document, actor.id)
    return document


async def tag(actor: User, document_id: int, tags: Iterable[str]) -> LibraryDocument:
    """Replace the document's tags (lower-cased, each at most 50 characters, at most 20)."""
    document = await _managed_document(actor, document_id)
    async with unit_of_work():
        document.tags = _clean_tags(tags)
        await document.save(update_fields=["tags", "updated_at"])
        await reindex(document)
    return document


async def _visible_version(viewer: User, version_id: int) -> DocumentVersion:
    return await policy.get_visible(library.visible_versions(viewer), version_id, "version")


async def delete_version(actor: User, version_id: int) -> DocumentVersion:
    """Mark a version deleted (its file is kept): administrators alone (FORBIDDEN for
    others), audited as ``library.version_deleted``; the previous one becomes current."""
    version = await _visible_version(actor, version_id)
    if not policy.can_delete_document_version(actor):
        raise Forbidden("Only administrators delete versions of documents.")
    if version.deleted_at is not None:
        return version
    async with unit_of_work():
        version.deleted_at, version.deleted_by_id = now(), actor.id
        await version.save(update_fields=["deleted_at", "deleted_by_id"])
        await audit(
            "library.version_deleted",
            actor=actor,
            target=f"document:{version.document_id}",
            version=version.number,
            contentKey=version.content_key,
        )
        await reindex(await LibraryDocument.get(id=version.document_id))
    return version


async def restore_version(
    actor: User, version_id: int, *, bus: EventBus | None = None
) -> DocumentVersion:
    """A new version with the old one's file, name and label: nothing is lost."""
    old = await _visible_version(actor, version_id)
    document = await _managed_document(actor, old.document_id)
    return await _record_version(
        actor,
        document,
        name=old.name,
        label=old.label,
        note=f"Restored from version {old.number}",
        key=old.content_key,
        size=old.size,
        content_type=old.content_type,
        restored_from=old.id,
        bus=bus,
    )


async def for_download(viewer: User, version_id: int) -> DocumentVersion:
    """The version, if the viewer may see its document now (a deleted one: NOT_FOUND);
    the download is logged."""
    version = await _visible_version(viewer, version_id)
    if version.deleted_at is not None:
        raise NotFound("version")
    async with unit_of_work():
        await DocumentDownload.create(version_id=version.id, user_id=viewer.id)
    return version


async def _remind(
    document: LibraryDocument, user_id: int, kind: ReminderKind, moment: datetime
) -> bool:
    """Record the reminder once per moment; answers whether it is new."""
    _, created = await DocumentReminder.get_or_create(
        document_id=document.id, user_id=user_id, kind=kind, moment=moment
    )
    return created


async def _remind_contacts(document: LibraryDocument, kind: ReminderKind, moment: datetime) -> None:
    """Record that the contacts who rely on the document were told (their notification
    comes with the event of the change)."""
    for contact in await library_events.relying_contacts(document):
        await _remind(document, contact.id, kind, moment)


@job_handler("library.transition")
async def run_transition(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Record the document's state as of the runner's clock; at the end of validity remind
    the contacts concerned (once per end date)."""
    async with unit_of_work(ctx.bus) as work:
        document = await LibraryDocument.filter(id=payload["document"]).select_for_update().first()
        if document is None:
            return
        state = state_of(document, ctx.now)
        if state is document.recorded_state:
            return
        before = document.recorded_state
        document.recorded_state = state
        await document.save(update_fields=["recorded_state"])
        if state is DocumentState.EXPIRED and document.valid_until is not None:
            await _remind_contacts(document, ReminderKind.EXPIRED, document.valid_until)
        await audit("library.state_changed", target=f"document:{document.id}", state=state.value)
        await _announce_state(work, document, document.owner_id, before, state)


@job_handler("library.remind")
async def run_reminder(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Remind the owner of the coming end of validity (a notification, mailed by their
    preferences, of an INTERNAL EXPIRY_REMINDED event), if the end date is still the one
    the reminder was scheduled for; once per end date."""
    async with unit_of_work(ctx.bus) as work:
        document = await LibraryDocument.get_or_none(id=payload["document"])
        if document is None or document.valid_until is None:
            return
        if document.valid_until.isoformat() != payload["until"]:
            return
        kind = ReminderKind(payload["kind"])
        if await _remind(document, document.owner_id, kind, document.valid_until):
            details = LibraryExpiryReminded(document.id, reminder=kind.value)
            await announce(work, details, document, document.owner_id, internal=True)


async def document_text(document: LibraryDocument) -> str:
    """What search reads of a document: title, description, tags and its current
    version's extracted text."""
    version = await current_version(document.id)
    parts = [document.title, document.description, " ".join(document.tags)]
    return "\n".join([*parts, version.text if version else ""])


async def matching(documents: QuerySet[LibraryDocument], text: str) -> list[int]:
    """IDs of ``documents`` whose title, description, tags or current text hold ``text``
    (case-insensitive)."""
    wanted = text.strip().casefold()
    return [row.id for row in await documents if wanted in (await document_text(row)).casefold()]
