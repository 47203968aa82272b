"""Business documents: pushed by the ERP by external ID, created and changed by staff, and
quotes accepted or declined by the customer.

Every change of what the customer sees is an event in the log (models/events.py:
``BUSINESS_DOCUMENT_PUBLISHED``, ``BUSINESS_DOCUMENT_STATUS_CHANGED``, ``QUOTE_ACCEPTED``,
``QUOTE_DECLINED``; never with amounts), published after the commit on the customer's
documents channel, and a notification for each of the customer's contacts who may see the
document (its lead contacts; the members of its project). An OPEN invoice becomes OVERDUE
by a job at its due date (:data:`OVERDUE_JOB`, keyed per document), and reads as OVERDUE
from the day after its due date even before that job ran (:func:`effective_status`).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from tortoise.exceptions import IntegrityError

from actions._common import audit, name_text, now, wake_webhooks
from actions.attachments import content_used, sniff
from actions.jobs import JobContext, cancel, enqueue, job_handler
from actions.unit_of_work import UnitOfWork, unit_of_work
from actions.upserts import Upserted, check_external_id, check_source, customer_of, object_id
from domain import policy
from domain.errors import BadUserInput, Conflict, Forbidden, NotFound
from infra.storage import BlobStorage, StoredBlob, TooLarge
from models import (
    CURRENCIES,
    STATUSES_BY_KIND,
    BusinessDocument,
    BusinessDocumentKind,
    BusinessDocumentStatus,
    Event,
    ExternalKind,
    Notification,
    NotificationReason,
    Role,
    User,
    Visibility,
)
from models.events import (
    BusinessDocumentPayload,
    BusinessDocumentPublished,
    BusinessDocumentStatusChanged,
    QuoteAccepted,
    QuoteDeclined,
    mark_event_writer,
)
from realtime.bus import EventBus

K = BusinessDocumentKind
S = BusinessDocumentStatus
OVERDUE_JOB = "business_documents.overdue"
MAX_AMOUNT = Decimal("999999999999.99")
NUMBER_MAX_LENGTH = 64
TITLE_MAX_LENGTH = 200
NOTE_MAX_LENGTH = 2_000
PDF_MAX_BYTES = 10 * 1024 * 1024
"""The largest PDF of a document, in bytes."""
_NUMBER = re.compile(r"^[^\x00-\x1f\x7f]{1,64}$")


# -- reading -----------------------------------------------------------------------------


def today() -> date:
    return now().date()


def effective_status(document: BusinessDocument, on: date | None = None) -> S:
    """The status as it is ``on`` a day (today, UTC): an OPEN invoice past its due date is
    OVERDUE and a SENT quote past its due date EXPIRED, even before the stored status
    caught up."""
    day = on or today()
    past_due = document.due_date is not None and document.due_date < day
    if past_due and document.kind is K.INVOICE and document.status is S.OPEN:
        return S.OVERDUE
    if past_due and document.kind is K.QUOTE and document.status is S.SENT:
        return S.EXPIRED
    return document.status


# -- checking input ----------------------------------------------------------------------


def check_amount(value: Decimal, field: str) -> Decimal:
    """An amount: a finite decimal with at most 2 fractional digits, from 0 to
    :data:`MAX_AMOUNT` (never rounded: an amount that does not fit is refused)."""
    try:
        if not value.is_finite() or value != value.quantize(Decimal("0.01")):
            raise BadUserInput(f"{field} has at most 2 decimal places.", field=field)
    except InvalidOperation:
        raise BadUserInput(f"{field} is too large.", field=field) from None
    if value < 0 or value > MAX_AMOUNT:
        raise BadUserInput(f"{field} is between 0 and {MAX_AMOUNT}.", field=field)
    return value.quantize(Decimal("0.01"))


def check_currency(code: str) -> str:
    """An ISO 4217 code of a currency in circulation (``EUR``), upper case."""
    if code not in CURRENCIES:
        raise BadUserInput(
            f"{code!r} is not an ISO 4217 currency code (such as EUR, USD, CHF).",
            field="currency",
        )
    return code


def check_status(kind: K, status: S | None) -> S:
    """The status, one of the kind's (None: the kind's first, such as a quote's SENT)."""
    allowed = STATUSES_BY_KIND[kind]
    if status is None:
        return allowed[0]
    if status not in allowed:
        names = ", ".join(s.value for s in allowed)
        raise BadUserInput(f"A {kind.value} is one of {names}.", field="status")
    return status


def check_number(number: str) -> str:
    number = number.strip()
    if not _NUMBER.match(number):
        raise BadUserInput(
            "number is 1 to 64 characters, without control characters.", field="number"
        )
    return number


@dataclass(frozen=True, slots=True)
class DocumentFields:
    """What a document says (every field given; see :func:`upsert_business_document`)."""

    kind: K
    number: str
    title: str
    issue_date: date
    due_date: date | None
    net_amount: Decimal
    gross_amount: Decimal
    currency: str
    status: S | None = None
    project_id: int | None = None

    def checked(self) -> DocumentFields:
        if self.due_date is not None and self.due_date < self.issue_date:
            raise BadUserInput("dueDate is not before issueDate.", field="dueDate")
        net = check_amount(self.net_amount, "netAmount")
        gross = check_amount(self.gross_amount, "grossAmount")
        return DocumentFields(
            kind=self.kind,
            number=check_number(self.number),
            title=name_text(self.title, "title", TITLE_MAX_LENGTH),
            issue_date=self.issue_date,
            due_date=self.due_date,
            net_amount=net,
            gross_amount=gross,
            currency=check_currency(self.currency),
            status=check_status(self.kind, self.status),
            project_id=self.project_id,
        )


# -- events and notifications ------------------------------------------------------------


async def _readers(document: BusinessDocument) -> list[int]:
    """The customer's active contacts who may see the document (lead contacts; members of
    its project)."""
    contacts = await User.filter(customer_id=document.customer_id, is_active=True)
    ids = []
    for contact in contacts:
        if contact.role is Role.CUSTOMER_ADMIN or (
            document.project_id is not None
            and await policy.is_project_member(contact, document.project_id)
        ):
            ids.append(contact.id)
    return ids


async def _announce(
    work: UnitOfWork, details: BusinessDocumentPayload, document: BusinessDocument, actor_id: int
) -> Event:
    """Record the event (no project, no request: the payload names the document), notify
    the contacts who may see the document (not the actor), publish after the commit."""
    await mark_event_writer()  # before the id is drawn: see models.events.resolved_through
    event = await Event.create(
        kind=details.kind,
        customer_id=document.customer_id,
        project_id=None,
        request_id=None,
        actor_id=actor_id,
        visibility=Visibility.SHARED,
        payload=details.to_json(),
    )
    await wake_webhooks(event)
    recipients = [user_id for user_id in await _readers(document) if user_id != actor_id]
    if recipients:
        await Notification.bulk_create(
            [
                Notification(user_id=u, event_id=event.id, reason=NotificationReason.WATCHING)
                for u in recipients
            ]
        )
    work.publish(event, notified=recipients)
    return event


def _overdue_key(document_id: int) -> str:
    return f"{OVERDUE_JOB}:{document_id}"


async def _schedule_overdue(document: BusinessDocument) -> None:
    """An OPEN invoice with a due date: a job at the start of the day after it (UTC);
    anything else: none."""
    key = _overdue_key(document.id)
    if document.kind is K.INVOICE and document.status is S.OPEN and document.due_date:
        run_at = datetime.combine(document.due_date + timedelta(days=1), time(), tzinfo=UTC)
        await enqueue(OVERDUE_JOB, {"documentId": document.id}, run_at=run_at, key=key)
    else:
        await cancel(key)


@job_handler(OVERDUE_JOB)
async def _overdue(ctx: JobContext, payload: dict[str, Any]) -> None:
    """An OPEN invoice past its due date (at the runner's clock) becomes OVERDUE, with an
    event (``automatic``); anything else is left as it is."""
    async with unit_of_work(ctx.bus) as work:
        document = (
            await BusinessDocument.filter(id=int(payload["documentId"])).select_for_update().first()
        )
        if document is None or effective_status(document, ctx.now.date()) is not S.OVERDUE:
            return
        if document.status is S.OVERDUE:
            return
        document.status = S.OVERDUE
        await document.save(update_fields=["status", "updated_at"])
        await _announce(
            work,
            BusinessDocumentStatusChanged(document.id, S.OPEN.value, S.OVERDUE.value, True),
            document,
            document.published_by_id,
        )


# -- writing -----------------------------------------------------------------------------


async def _project_of(customer_id: int, project_id: int | None, actor: User) -> int | None:
    if project_id is None:
        return None
    project = await policy.get_visible(policy.visible_projects(actor), project_id, "project")
    if project.customer_id != customer_id:
        raise NotFound("project")
    return project.id


def _apply(document: BusinessDocument, fields: DocumentFields) -> list[str]:
    """Copy ``fields`` into the document; answers the names of the columns changed."""
    changed = []
    wanted: dict[str, object] = {
        "number": fields.number,
        "title": fields.title,
        "issue_date": fields.issue_date,
        "due_date": fields.due_date,
        "net_amount": fields.net_amount,
        "gross_amount": fields.gross_amount,
        "currency": fields.currency,
        "status": fields.status,
        "project_id": fields.project_id,
    }
    for name, value in wanted.items():
        if getattr(document, name) != value:
            setattr(document, name, value)
            changed.append(name)
    return changed


async def _save(
    work: UnitOfWork,
    actor: User,
    document: BusinessDocument,
    fields: DocumentFields,
    *,
    created: bool,
) -> bool:
    """Write a new or changed document, with its events and overdue job; answers whether
    anything changed. CONFLICT when its number is taken (per customer and kind)."""
    before = document.status
    if not created and document.kind is not fields.kind:
        raise BadUserInput("A document's kind does not change.", field="kind")
    changed = _apply(document, fields)
    if not created and not changed:
        return False
    taken = BusinessDocument.filter(
        customer_id=document.customer_id, kind=document.kind, number=document.number
    )
    if not created:
        taken = taken.exclude(id=document.id)
    if await taken.exists():
        raise Conflict(
            f"The customer has a {document.kind.value} numbered {document.number} already.",
            field="number",
        )
    await document.save()
    target = f"business_document:{document.id}"
    if created:
        await audit("business_document.created", actor=actor, target=target)
        details: BusinessDocumentPayload = BusinessDocumentPublished(
            document.id, document.kind.value, document.number
        )
        await _announce(work, details, document, actor.id)
    else:
        await audit("business_document.updated", actor=actor, target=target, fields=changed)
        if document.status is not before:
            status = BusinessDocumentStatusChanged(document.id, before.value, document.status.value)
            await _announce(work, status, document, actor.id)
    await _schedule_overdue(document)
    return True


async def _race_safe(
    attempt: Callable[[], Awaitable[Upserted[BusinessDocument]]],
) -> Upserted[BusinessDocument]:
    try:
        return await attempt()
    except IntegrityError:
        return await attempt()


async def _customer_id(
    actor: User, source: str, customer_id: int | None, customer_external_id: str | None
) -> int:
    customer = await customer_of(actor, source, customer_id, customer_external_id)
    if not await policy.can_manage_business_documents(actor, customer.id):
        raise Forbidden("Only the customer's account team or an administrator may do this.")
    return customer.id


async def upsert_business_document(
    actor: User,
    bus: EventBus | None,
    *,
    source: str,
    external_id: str,
    fields: DocumentFields,
    customer_id: int | None = None,
    customer_external_id: str | None = None,
    project_external_id: str | None = None,
) -> Upserted[BusinessDocument]:
    """Create or update the document ``external_id`` of ``source`` names (the ERP's
    push), for the customer given by ID or by its external ID of the same source; the
    project (optional) by ID (``fields.project_id``) or by its external ID. Running it
    again with the same fields changes nothing (``created`` false, no event).

    Allowed to administrators and service accounts (:func:`policy.can_sync`) within the
    customer's account team (:func:`policy.can_manage_business_documents`). Errors:
    NOT_FOUND (a customer or project out of sight), FORBIDDEN, BAD_USER_INPUT (a bad
    amount, currency, status of the kind, number, or a kind or customer that changes),
    CONFLICT (the number is another document's of that customer and kind)."""
    if not await policy.can_sync(actor):
        raise Forbidden("Only administrators and service accounts may sync by external ID.")
    source, external_id = check_source(source), check_external_id(external_id)
    fields = fields.checked()
    owner = await _customer_id(actor, source, customer_id, customer_external_id)
    project_id = fields.project_id
    if project_external_id is not None:
        project_external_id = check_external_id(project_external_id, "projectExternalId")
        project_id = await object_id(source, ExternalKind.PROJECT, project_external_id)
        if project_id is None:
            raise NotFound("project")
    project_id = await _project_of(owner, project_id, actor)
    fields = DocumentFields(**{**_as_dict(fields), "project_id": project_id})

    async def attempt() -> Upserted[BusinessDocument]:
        async with unit_of_work(bus) as work:
            document = await BusinessDocument.get_or_none(source=source, external_id=external_id)
            if document is None:
                document = BusinessDocument(
                    customer_id=owner,
                    kind=fields.kind,
                    source=source,
                    external_id=external_id,
                    published_by_id=actor.id,
                )
                await _save(work, actor, document, fields, created=True)
                return Upserted(document, True)
            if document.customer_id != owner:
                raise BadUserInput(
                    "This external ID names a document of another customer.", field="externalId"
                )
            await _save(work, actor, document, fields, created=False)
            return Upserted(document, False)

    return await _race_safe(attempt)


def _as_dict(fields: DocumentFields) -> dict[str, Any]:
    return {name: getattr(fields, name) for name in DocumentFields.__dataclass_fields__}


async def create_business_document(
    actor: User, bus: EventBus | None, *, customer_id: int, fields: DocumentFields
) -> BusinessDocument:
    """Staff create a document by hand (no external ID): the customer's account team.
    Errors as :func:`upsert_business_document`."""
    fields = fields.checked()
    owner = await _customer_id(actor, "manual", customer_id, None)
    fields = DocumentFields(
        **{**_as_dict(fields), "project_id": await _project_of(owner, fields.project_id, actor)}
    )
    async with unit_of_work(bus) as work:
        document = BusinessDocument(customer_id=owner, kind=fields.kind, published_by_id=actor.id)
        await _save(work, actor, document, fields, created=True)
    return document


async def _editable(actor: User, document_id: int) -> BusinessDocument:
    document = await policy.get_visible(
        policy.visible_business_documents(actor), document_id, "business document"
    )
    if not await policy.can_manage_business_documents(actor, document.customer_id):
        raise Forbidden("Only the customer's account team or an administrator may do this.")
    return document


async def update_business_document(
    actor: User, bus: EventBus | None, document_id: int, fields: DocumentFields
) -> BusinessDocument:
    """Staff change a document by hand (every field; its kind stays). NOT_FOUND out of
    sight, FORBIDDEN unless its customer's account team; errors otherwise as
    :func:`upsert_business_document`."""
    fields = fields.checked()
    document = await _editable(actor, document_id)
    fields = DocumentFields(
        **{
            **_as_dict(fields),
            "project_id": await _project_of(document.customer_id, fields.project_id, actor),
        }
    )
    async with unit_of_work(bus) as work:
        locked = await BusinessDocument.filter(id=document.id).select_for_update().get()
        await _save(work, actor, locked, fields, created=False)
    return locked


async def change_business_document_status(
    actor: User, bus: EventBus | None, document_id: int, status: S
) -> BusinessDocument:
    """Staff set a document's status (one of its kind's: BAD_USER_INPUT otherwise)."""
    document = await _editable(actor, document_id)
    check_status(document.kind, status)
    async with unit_of_work(bus) as work:
        locked = await BusinessDocument.filter(id=document.id).select_for_update().get()
        fields = DocumentFields(**{**_fields_of(locked), "status": status})
        await _save(work, actor, locked, fields, created=False)
    return locked


def _fields_of(document: BusinessDocument) -> dict[str, Any]:
    return {
        "kind": document.kind,
        "number": document.number,
        "title": document.title,
        "issue_date": document.issue_date,
        "due_date": document.due_date,
        "net_amount": document.net_amount,
        "gross_amount": document.gross_amount,
        "currency": document.currency,
        "status": document.status,
        "project_id": document.project_id,
    }


async def decide_quote(
    actor: User, bus: EventBus | None, document_id: int, *, accept: bool, note: str = ""
) -> BusinessDocument:
    """Accept (``accept``) or decline a quote, with an optional note: recorded on the
    quote (who, when, the note), audited, an event (``QUOTE_ACCEPTED`` /
    ``QUOTE_DECLINED``) and notifications. NOT_FOUND out of sight; FORBIDDEN unless
    :func:`policy.can_decide_quote`; BAD_USER_INPUT unless a SENT quote whose due date
    has not passed."""
    note = note.strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise BadUserInput(f"note is at most {NOTE_MAX_LENGTH:,} characters.", field="note")
    seen = await policy.get_visible(
        policy.visible_business_documents(actor), document_id, "business document"
    )
    if not await policy.can_decide_quote(actor, seen):
        raise Forbidden("Only the customer's lead contacts may accept or decline a quote.")
    async with unit_of_work(bus) as work:
        document = await BusinessDocument.filter(id=seen.id).select_for_update().get()
        if document.kind is not K.QUOTE:
            raise BadUserInput("Only a quote is accepted or declined.", field="id")
        status = effective_status(document)
        if status is not S.SENT:
            raise BadUserInput(
                f"This quote is {status.value.lower()}: only a sent quote that has not "
                "expired is accepted or declined.",
                field="id",
                status=status.value,
            )
        document.status = S.ACCEPTED if accept else S.DECLINED
        document.decided_by_id = actor.id
        document.decided_at = now()
        document.decision_note = note
        await document.save(
            update_fields=["status", "decided_by_id", "decided_at", "decision_note", "updated_at"]
        )
        verb = "accepted" if accept else "declined"
        await audit(
            f"quote.{verb}",
            actor=actor,
            target=f"business_document:{document.id}",
            number=document.number,
        )
        details = QuoteAccepted(document.id, note) if accept else QuoteDeclined(document.id, note)
        await _announce(work, details, document, actor.id)
    return document


# -- the PDF -----------------------------------------------------------------------------


async def attach_pdf(
    actor: User,
    storage: BlobStorage,
    document_id: int,
    *,
    name: str,
    chunks: AsyncIterator[bytes],
    declared_size: int | None = None,
) -> BusinessDocument:
    """Store the document's PDF (replacing any earlier one): the account team and service
    accounts of the provider. BAD_USER_INPUT for a file that is not a PDF or is empty,
    ``maxBytes`` over :data:`PDF_MAX_BYTES`."""
    document = await _editable(actor, document_id)
    if declared_size is not None and declared_size > PDF_MAX_BYTES:
        raise BadUserInput("The PDF is too large.", field="file", maxBytes=PDF_MAX_BYTES)
    try:
        blob: StoredBlob = await storage.put(chunks, PDF_MAX_BYTES)
    except TooLarge:
        raise BadUserInput("The PDF is too large.", field="file", maxBytes=PDF_MAX_BYTES) from None
    try:
        if blob.size == 0 or sniff(blob.head) != "application/pdf":
            raise BadUserInput("The file is not a PDF.", field="file")
        async with unit_of_work():
            locked = await BusinessDocument.filter(id=document.id).select_for_update().get()
            locked.pdf_key, locked.pdf_size = blob.key, blob.size
            locked.pdf_name = name_text(name or f"{locked.number}.pdf", "name", 200)
            await locked.save(update_fields=["pdf_key", "pdf_size", "pdf_name", "updated_at"])
            await audit(
                "business_document.pdf", actor=actor, target=f"business_document:{document.id}"
            )
    except BaseException:
        await storage.discard(blob, content_used(blob.key))
        raise
    await storage.keep(blob)
    return locked


async def for_download(viewer: User, document_id: int) -> BusinessDocument:
    """The document whose PDF the viewer may download now; NOT_FOUND otherwise (no PDF,
    or out of sight)."""
    document = await policy.get_visible(
        policy.visible_business_documents(viewer), document_id, "business document"
    )
    if document.pdf_key is None:
        raise NotFound("business document")
    return document
