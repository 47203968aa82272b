"""Who hears of what happens in the document library: its events, the watches of folders
and documents, the contacts who rely on a document, and the owner's reminders.

Every library event is recorded by :func:`announce` in the action's unit of work and
published after the commit (``libraryEvents``, realtime/channels.py ``library_channel``).
Its notifications (and through them the mail of actions/mail_notifications.py, by each
user's preferences):

============================  =================================================================
event                         notified (never the actor; only those who may read the event)
============================  =================================================================
DOCUMENT_PUBLISHED,           the watchers of the document or of a folder holding it (the most
VERSION_ADDED, STATE_CHANGED  specific watch wins: MUTED on the document silences its folder's)
ACKNOWLEDGEMENT_REQUIRED      the watchers, and every contact concerned (they must acknowledge)
STATE_CHANGED to EXPIRED,     the watchers, and the contacts who rely on it (every contact
DOCUMENT_SUPERSEDED           concerned when it asks for acknowledgement, else its watchers)
EXPIRY_REMINDED               the document's owner (30 and 7 days before the end, and on it)
DOCUMENT_ACKNOWLEDGED,        nobody (staff see them live)
DOCUMENT_MOVED
============================  =================================================================
"""

from __future__ import annotations

from actions import mail_notifications
from actions._common import batches, now, wake_webhooks
from actions.unit_of_work import UnitOfWork
from actions.watches import target_key
from domain import library, policy
from models import (
    DocumentState,
    Event,
    LibraryDocument,
    LibraryDocumentOffer,
    LibraryFolder,
    Notification,
    NotificationReason,
    Role,
    User,
    Visibility,
    Watch,
    WatchLevel,
    WatchTargetKind,
)
from models.events import (
    LibraryAcknowledgementRequired,
    LibraryDocumentPublished,
    LibraryDocumentSuperseded,
    LibraryExpiryReminded,
    LibraryPayload,
    LibraryStateChanged,
    LibraryVersionAdded,
    mark_event_writer,
)

_WATCHED = (
    LibraryDocumentPublished,
    LibraryVersionAdded,
    LibraryStateChanged,
    LibraryDocumentSuperseded,
    LibraryAcknowledgementRequired,
)
"""The events a watcher of the document (or of its folders) is told of."""

MAX_FOLDER_DEPTH = 50
"""Folders above a document looked at for watches (a guard against a cycle)."""


async def announce(
    work: UnitOfWork,
    details: LibraryPayload,
    document: LibraryDocument,
    actor_id: int,
    *,
    customer_id: int | None = None,
    internal: bool | None = None,
) -> Event:
    """Record a library event in ``work``, notify (see the module's table) and publish it
    once committed. Its customer is ``customer_id`` when given (an acknowledging
    contact's), else the document's (None for a shared document); INTERNAL (staff alone)
    when ``internal``, or by default while the document is a DRAFT."""
    await mark_event_writer()  # before the id is drawn: see models.events.resolved_through
    if internal is None:
        state = library.state_at(
            now(),
            valid_from=document.valid_from,
            valid_until=document.valid_until,
            superseded=document.superseded_by_id is not None,
        )
        internal = state is DocumentState.DRAFT
    event = await Event.create(
        kind=details.kind,
        customer_id=customer_id if customer_id is not None else document.customer_id,
        library_document_id=document.id,
        actor_id=actor_id,
        visibility=Visibility.INTERNAL if internal else Visibility.SHARED,
        payload=details.to_json(),
    )
    await wake_webhooks(event)
    notified = await _notify(event, details, document)
    work.publish(event, notified=notified)
    return event


async def watch_levels(document: LibraryDocument) -> dict[int, WatchLevel]:
    """Each watcher's level for the document: the most specific of their watches on the
    document and the folders holding it (nearest first) wins."""
    keys = [target_key(WatchTargetKind.DOCUMENT, document.id)]
    folder_id = document.folder_id
    while folder_id is not None and len(keys) <= MAX_FOLDER_DEPTH:
        keys.append(target_key(WatchTargetKind.FOLDER, folder_id))
        folder = await LibraryFolder.get_or_none(id=folder_id)
        folder_id = folder.parent_id if folder is not None else None
    rank = {key: n for n, key in enumerate(keys)}  # 0: the document itself
    chosen: dict[int, tuple[int, WatchLevel]] = {}
    for watch in await Watch.filter(target_key__in=keys):
        previous = chosen.get(watch.user_id)
        if previous is None or rank[watch.target_key] < previous[0]:
            chosen[watch.user_id] = (rank[watch.target_key], watch.level)
    return {user_id: level for user_id, (_, level) in chosen.items()}


async def concerned_contacts(document: LibraryDocument) -> list[User]:
    """The active contacts who may read the document now: of its customer, or of the
    customers a shared document is offered to."""
    contacts = User.filter(is_active=True, role__in=[Role.CUSTOMER_ADMIN, Role.CUSTOMER_MEMBER])
    if document.customer_id is not None:
        contacts = contacts.filter(customer_id=document.customer_id)
    elif not document.offered_to_all:
        offered = await LibraryDocumentOffer.filter(document_id=document.id).values_list(
            "customer_id", flat=True
        )
        contacts = contacts.filter(customer_id__in=list(offered))
    readers = []
    for contact in await contacts:
        if await library.visible_documents(contact).filter(id=document.id).exists():
            readers.append(contact)
    return readers


async def relying_contacts(document: LibraryDocument) -> list[User]:
    """The contacts who rely on the document: every contact concerned when it asks for
    acknowledgement, else those of them who watch it (or a folder holding it)."""
    contacts = await concerned_contacts(document)
    if document.requires_acknowledgement:
        return contacts
    levels = await watch_levels(document)
    return [c for c in contacts if levels.get(c.id) is WatchLevel.WATCHING]


async def _notify(event: Event, details: LibraryPayload, document: LibraryDocument) -> set[int]:
    """Write the notifications of ``event`` (the module's table); answers who was told."""
    reasons: dict[int, NotificationReason] = {}
    levels = await watch_levels(document)
    if isinstance(details, LibraryExpiryReminded):
        reasons[document.owner_id] = NotificationReason.PARTICIPATING
    elif isinstance(details, _WATCHED):
        for user_id, level in levels.items():
            if level is WatchLevel.WATCHING:
                reasons[user_id] = NotificationReason.WATCHING
        relying: list[User] = []
        if isinstance(details, LibraryAcknowledgementRequired):
            relying = await concerned_contacts(document)
        elif isinstance(details, LibraryDocumentSuperseded) or (
            isinstance(details, LibraryStateChanged)
            and details.to_state == DocumentState.EXPIRED.value
        ):
            relying = await relying_contacts(document)
        for contact in relying:
            if levels.get(contact.id) is not WatchLevel.MUTED:
                reasons.setdefault(contact.id, NotificationReason.PARTICIPATING)
        reasons.pop(event.actor_id, None)
    rows: list[Notification] = []
    for some in batches(sorted(reasons)):
        for user in await User.filter(id__in=some, is_active=True).order_by("id"):
            if await policy.visible_events(user).filter(id=event.id).exists():
                rows.append(
                    Notification(user_id=user.id, event_id=event.id, reason=reasons[user.id])
                )
    if rows:
        await Notification.bulk_create(rows)
        await mail_notifications.notifications_recorded(rows, event)
    return {row.user_id for row in rows}
