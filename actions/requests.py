"""Requests: submission, conversation, workflow, assignment, participants and due dates.

Every change writes its :class:`models.Event` (kinds ``REQUEST_*``, with the request and no
project) and its notifications in the same unit of work, and publishes them after the
commit on the request channels of its customer and of the staff (realtime/channels.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from actions import mail_notifications, request_reminders, request_types, search_index
from actions._common import (
    REASON_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    audit,
    limited_text,
    name_text,
    now,
    required_text,
    wake_webhooks,
)
from actions.attachments import UploadLimits, clean_name, content_used, sniff, too_large
from actions.unit_of_work import UnitOfWork, unit_of_work
from actions.watches import target_key
from domain import forms, policy
from domain.errors import BadUserInput, Forbidden, NotFound, RateLimited
from domain.markdown import render_markdown_off_loop
from domain.wording import either, with_article, words
from infra.storage import BlobStorage, StoredBlob, TooLarge
from models import (
    Customer,
    Event,
    ExpectedDocument,
    Notification,
    NotificationReason,
    Project,
    RequestAttachment,
    RequestMessage,
    RequestParticipant,
    RequestStatus,
    RequestStatusChange,
    RequestType,
    ServiceRequest,
    User,
    Visibility,
    Watch,
    WatchLevel,
    WatchTargetKind,
)
from models.events import (
    RequestAssigned,
    RequestDocumentAdded,
    RequestDueDateChanged,
    RequestParticipantAdded,
    RequestPayload,
    RequestReplied,
    RequestStatusChanged,
    RequestSubmitted,
    mark_event_writer,
)
from models.requests import RequestCounter
from realtime.bus import EventBus

S = RequestStatus
R = NotificationReason
MESSAGE_MAX_LENGTH = 20_000
NEXT_STEP_MAX_LENGTH = 500
DOCUMENT_NAME_MAX_LENGTH = 200
OPEN = frozenset({S.RECEIVED, S.IN_PROGRESS, S.NEEDS_INFO, S.APPROVED})
"""Statuses in which a request is still being worked on."""


# -- reading -----------------------------------------------------------------------------


async def visible_request(viewer: User, request_id: int) -> ServiceRequest:
    """The request, if the viewer may see it; NOT_FOUND otherwise (as for a missing ID)."""
    return await policy.get_visible(policy.visible_requests(viewer), request_id, "request")


def reference(customer: Customer, number: int) -> str:
    """A request's human-readable number: the customer's slug in capitals, then the
    number (``ACME-42``)."""
    return f"{customer.slug.upper()}-{number}"


def is_closed(request: ServiceRequest, request_type: RequestType, moment: datetime) -> bool:
    """Closed for good: withdrawn, rejected, or resolved longer ago than the type's
    reopening window."""
    if request.closed or request.status in request_types.FINAL:
        return True
    if request.status is S.RESOLVED and request.resolved_at is not None:
        return moment > request.resolved_at + timedelta(days=request_type.reopen_days)
    return False


def open_transitions(
    request: ServiceRequest, request_type: RequestType, roles: frozenset[str], moment: datetime
) -> list[RequestStatus]:
    """The statuses its type's lifecycle lets ``roles`` (policy.request_roles) move the
    request to at ``moment``: none once it is closed for good (:func:`is_closed`), whatever
    the lifecycle says."""
    if is_closed(request, request_type, moment):
        return []
    return [
        t.to_status for t in request_types.transitions_from(request_type, request.status, roles)
    ]


async def allowed_statuses(viewer: User, request: ServiceRequest) -> list[RequestStatus]:
    """The statuses the viewer may move the request to now (its type's lifecycle)."""
    request_type = await RequestType.get(id=request.request_type_id)
    roles = await policy.request_roles(viewer, request)
    return open_transitions(request, request_type, roles, now())


# -- writing helpers ---------------------------------------------------------------------


async def _record(
    details: RequestPayload,
    request: ServiceRequest,
    actor: User,
    *,
    visibility: Visibility = Visibility.SHARED,
) -> Event:
    """Write the request's Event row (call inside the action's unit of work)."""
    await mark_event_writer()  # before the id is drawn: see models.events.resolved_through
    event = await Event.create(
        kind=details.kind,
        customer_id=request.customer_id,
        project_id=None,
        request_id=request.id,
        actor_id=actor.id,
        visibility=visibility,
        payload=details.to_json(),
    )
    await wake_webhooks(event)
    return event


async def followers(request: ServiceRequest) -> dict[int, NotificationReason]:
    """Who follows the request: its requester and participants (PARTICIPATING), and those
    watching its customer at WATCHING (each is told only of what they may read:
    :func:`_notify`)."""
    found: dict[int, NotificationReason] = {request.requester_id: R.PARTICIPATING}
    for user_id in await RequestParticipant.filter(request_id=request.id).values_list(
        "user_id", flat=True
    ):
        found[int(str(user_id))] = R.PARTICIPATING
    key = target_key(WatchTargetKind.CUSTOMER, request.customer_id)
    for watch in await Watch.filter(target_key=key, level=WatchLevel.WATCHING):
        found.setdefault(watch.user_id, R.WATCHING)
    return found


async def _notify(
    event: Event,
    request: ServiceRequest,
    *,
    also: Mapping[int, NotificationReason] | None = None,
) -> set[int]:
    """Write the notifications of a request event: its followers and ``also`` (the
    assignee, when the event is for them), never the actor, only those who may read it now
    (INTERNAL events: staff). Answers the users notified."""
    recipients = await followers(request)
    for user_id, reason in (also or {}).items():
        recipients.setdefault(user_id, reason)
    recipients.pop(event.actor_id, None)
    if not recipients:
        return set()
    users = await User.filter(id__in=sorted(recipients), is_active=True)
    allowed = set()
    for user in users:
        if not policy.can_see_visibility(user, event.visibility):
            continue
        if user.is_staff or await policy.can_see_request(user, request.id):
            allowed.add(user.id)
    rows = [
        Notification(user_id=user_id, event_id=event.id, reason=reason)
        for user_id, reason in sorted(recipients.items())
        if user_id in allowed
    ]
    if rows:
        await Notification.bulk_create(rows)
        await mail_notifications.notifications_recorded(rows, event)
    return {row.user_id for row in rows}


async def _announce(
    work: UnitOfWork,
    details: RequestPayload,
    request: ServiceRequest,
    actor: User,
    *,
    visibility: Visibility = Visibility.SHARED,
    also: Mapping[int, NotificationReason] | None = None,
) -> Event:
    event = await _record(details, request, actor, visibility=visibility)
    notified = await _notify(event, request, also=also)
    work.publish(event, notified=notified)
    return event


async def _index(request: ServiceRequest) -> None:
    """Write the request's search entries (in the caller's unit of work)."""
    request_type = await RequestType.get(id=request.request_type_id)
    form = forms.check_form_definition(request_type.form)
    await search_index.index_request(request, forms.answers_text(form, request.answers))


async def _timers(request: ServiceRequest, moment: datetime) -> None:
    """(Re)schedule the request's reminders and SLA warnings, in the same transaction."""
    await request_reminders.schedule_request_timers(request.id, now=moment)


async def _locked(request_id: int) -> ServiceRequest:
    request = await ServiceRequest.filter(id=request_id).select_for_update().first()
    if request is None:
        raise NotFound("request")  # deleted meanwhile
    return request


async def _next_number(customer_id: int) -> int:
    """The customer's next request number, drawn in the caller's transaction: the counter
    row's UPDATE holds its lock until the commit, so concurrent submissions wait in turn."""
    bump = RequestCounter.filter(customer_id=customer_id)
    if not await bump.update(last_number=F("last_number") + 1):
        try:
            async with unit_of_work():  # a savepoint: another submission may create it first
                await RequestCounter.create(customer_id=customer_id, last_number=0)
        except IntegrityError:
            pass
        await bump.update(last_number=F("last_number") + 1)
    counter = await RequestCounter.get(customer_id=customer_id)
    return counter.last_number


async def _change_status(
    work: UnitOfWork,
    request: ServiceRequest,
    actor: User,
    to: RequestStatus,
    *,
    reason: str = "",
    next_step: str | None = None,
    automatic: bool = False,
    moment: datetime,
) -> RequestStatusChange:
    """Move the locked ``request`` to ``to``, record the change and its event."""
    change = await RequestStatusChange.create(
        request_id=request.id,
        from_status=request.status,
        to_status=to,
        actor_id=actor.id,
        reason=reason,
    )
    previous = request.status
    request.status = to
    if next_step is not None:
        request.next_step = next_step
    if to is S.RESOLVED:
        request.resolved_at = moment
    elif previous is S.RESOLVED:
        request.resolved_at = None
    if to in request_types.FINAL:
        request.closed = True
    await request.save()
    also: dict[int, NotificationReason] = {}
    if request.assignee_id is not None and not actor.is_staff:
        also[request.assignee_id] = R.PARTICIPATING
    details = RequestStatusChanged(
        request.id, previous, to, reason, request.next_step, automatic, change.id
    )
    await _announce(work, details, request, actor, also=also)
    return change


def _refused(current: RequestStatus, to: RequestStatus, allowed: Sequence[RequestStatus]) -> None:
    subject = with_article(words(current)).capitalize()
    options = either(words(s) for s in allowed) or "none for you"
    raise BadUserInput(
        f"{subject} request cannot become {words(to)}. Allowed next states: {options}.",
        field="status",
        allowedStatuses=[s.value for s in allowed],
    )


# -- attachments -------------------------------------------------------------------------


async def _usable_attachments(
    actor: User, customer_id: int, ids: Sequence[int], field: str
) -> list[RequestAttachment]:
    """The actor's own pending uploads of the customer with these ids; NOT_FOUND (field)
    for any other."""
    if not ids:
        return []
    found = await RequestAttachment.filter(
        id__in=list(set(ids)), uploaded_by_id=actor.id, customer_id=customer_id, request_id=None
    )
    if len(found) != len(set(ids)):
        raise NotFound("attachment", field=field)
    return found


async def record_upload(
    actor: User,
    *,
    customer_id: int,
    name: str,
    content_type: str,
    size: int,
    content_key: str,
) -> RequestAttachment:
    """Record a file stored for a request of the customer (pending until a submission or a
    reply uses it). The caller stored the content; the actor must be able to submit or
    reply for the customer (NOT_FOUND for another customer)."""
    await policy.get_visible(policy.visible_customers(actor), customer_id, "customer")
    async with unit_of_work():
        return await RequestAttachment.create(
            customer_id=customer_id,
            name=name,
            content_type=content_type,
            size=size,
            content_key=content_key,
            uploaded_by_id=actor.id,
        )


# -- actions -----------------------------------------------------------------------------


async def submit_request(
    actor: User,
    bus: EventBus | None,
    *,
    type_id: int,
    title: str,
    answers: Any,
    customer_id: int | None = None,
    project_id: int | None = None,
    attachments: Mapping[str, int] | None = None,
    moment: datetime | None = None,
) -> ServiceRequest:
    """Submit a request of a type offered to the customer (the actor's own, or
    ``customer_id`` for staff on its account team), optionally for one of its projects.

    The answers are checked against the type's form: every problem is one BAD_USER_INPUT
    naming its field (``extensions.field``), all at once, and nothing is written.
    ``attachments`` maps the references an attachments field's answer may hold (the IDs the
    client got for its uploads) to the actor's pending uploads of the customer (row ids;
    NOT_FOUND, field ``attachmentIds``, for any other); an answer naming a file not in
    ``attachments`` is a problem of its field. The request gets the customer's
    next number, the type's default assignee, a received checklist item per answered
    attachments field, and is RECEIVED."""
    moment = moment or now()
    if customer_id is None:
        if actor.customer_id is None:
            raise BadUserInput("Say which customer the request is for.", field="customerId")
        customer_id = actor.customer_id
    customer = await policy.get_visible(policy.visible_customers(actor), customer_id, "customer")
    if not await policy.can_submit_request(actor, customer.id):
        raise Forbidden("Only the customer's contacts and account team may submit requests.")
    request_type = await RequestType.get_or_none(id=type_id)
    if request_type is None or not await request_types.is_offered(request_type, customer.id):
        raise NotFound("request type", field="typeId")
    project: Project | None = None
    if project_id is not None:
        project = await policy.get_visible(policy.visible_projects(actor), project_id, "project")
        if project.customer_id != customer.id:
            raise NotFound("project", field="projectId")
    title = name_text(title, "title", TITLE_MAX_LENGTH)
    form = forms.check_form_definition(request_type.form)
    refs = dict(attachments or {})
    uploads = await _usable_attachments(actor, customer.id, list(refs.values()), "attachmentIds")
    counts: dict[str, int] = {}
    unknown: list[forms.FieldProblem] = []
    if isinstance(answers, Mapping):
        for name, ids in forms.attachment_ids(form, answers).items():
            counts[name] = len({refs[i] for i in ids if i in refs})
            if any(i not in refs for i in ids):
                field = form.field(name)
                label = field.label if field is not None else name
                unknown.append(
                    forms.FieldProblem(name, f"{label}: a file given is not one of your uploads.")
                )
    problems = [*forms.validate_answers(form, answers, attachment_counts=counts), *unknown]
    if problems:
        order = {name: n for n, name in enumerate(form.names)}
        raise forms.problems_error(sorted(problems, key=lambda p: order.get(p.field, len(order))))
    stored = forms.visible_answers(form, answers)
    async with unit_of_work(bus) as work:
        number = await _next_number(customer.id)
        request = await ServiceRequest.create(
            customer_id=customer.id,
            project_id=project.id if project else None,
            request_type_id=request_type.id,
            number=number,
            reference=reference(customer, number),
            title=title,
            requester_id=actor.id,
            assignee_id=request_type.default_assignee_id,
            status=S.RECEIVED,
            answers=stored,
        )
        await RequestStatusChange.create(
            request_id=request.id, from_status=None, to_status=S.RECEIVED, actor_id=actor.id
        )
        for each in form.fields:
            if each.kind == "attachments" and each.name in stored:
                document = await ExpectedDocument.create(
                    request_id=request.id, name=each.label, required=True, received_at=moment
                )
                wanted = [refs[i] for i in stored[each.name] if i in refs]
                await RequestAttachment.filter(id__in=wanted).update(
                    request_id=request.id, expected_document_id=document.id
                )
        await RequestAttachment.filter(id__in=[a.id for a in uploads], request_id=None).update(
            request_id=request.id
        )
        also = {}
        if request.assignee_id is not None:
            also[request.assignee_id] = R.PARTICIPATING
        details = RequestSubmitted(request.id, request.reference, request.title)
        await _announce(work, details, request, actor, also=also)
        await audit("request.submitted", actor=actor, target=f"request:{request.id}")
        await _index(request)
        await _timers(request, moment)
    return request


async def reply_to_request(
    actor: User,
    bus: EventBus | None,
    *,
    request_id: int,
    body: str,
    visibility: Visibility = Visibility.SHARED,
    attachment_ids: Sequence[int] = (),
    expected_document_id: int | None = None,
    moment: datetime | None = None,
) -> RequestMessage:
    """Add a message to the request's conversation (INTERNAL notes: staff who handle it).

    A contact's reply to a request in NEEDS_INFO moves it back to IN_PROGRESS; files sent
    for the last missing expected document do too (from NEEDS_INFO or RECEIVED), while
    files for one of several missing documents leave it waiting for the others. The first
    SHARED reply of staff is the request's first response (its SLA)."""
    moment = moment or now()
    request = await visible_request(actor, request_id)
    if not await policy.can_reply_to_request(actor, request):
        raise Forbidden("Only staff who handle this request, and its contacts, may reply.")
    if not policy.can_see_visibility(actor, visibility):
        raise Forbidden("Only staff may write INTERNAL notes.")
    body = limited_text(body.strip(), "body", MESSAGE_MAX_LENGTH)
    uploads = await _usable_attachments(actor, request.customer_id, attachment_ids, "attachmentIds")
    document: ExpectedDocument | None = None
    if expected_document_id is not None:
        document = await ExpectedDocument.get_or_none(
            id=expected_document_id, request_id=request.id
        )
        if document is None:
            raise NotFound("expected document", field="expectedDocumentId")
    if not body and not uploads:
        raise BadUserInput("Write a message or attach a file.", field="body")
    if document is not None and not uploads:
        raise BadUserInput("Attach the document's files.", field="attachmentIds")
    if visibility is Visibility.INTERNAL and (document is not None):
        raise BadUserInput("Documents are sent in SHARED replies.", field="visibility")
    html = await render_markdown_off_loop(body)
    async with unit_of_work(bus) as work:
        request = await _locked(request.id)
        message = await RequestMessage.create(
            request_id=request.id,
            author_id=actor.id,
            body=body,
            body_html=html,
            visibility=visibility,
        )
        await RequestAttachment.filter(id__in=[a.id for a in uploads]).update(
            request_id=request.id,
            message_id=message.id,
            expected_document_id=document.id if document else None,
        )
        await _index(request)
        also: dict[int, NotificationReason] = {}
        if not actor.is_staff and request.assignee_id is not None:
            also[request.assignee_id] = R.REPLIED
        await _announce(
            work,
            RequestReplied(request.id, message.id, actor.id),
            request,
            actor,
            visibility=visibility,
            also=also,
        )
        if actor.is_staff and visibility is Visibility.SHARED and request.first_response_at is None:
            request.first_response_at = moment
            await request.save(update_fields=["first_response_at", "updated_at"])
        if document is not None:
            if document.received_at is None:
                document.received_at = moment
                await document.save(update_fields=["received_at"])
            await _announce(
                work,
                RequestDocumentAdded(
                    request.id, document.id, document.name, tuple(a.id for a in uploads)
                ),
                request,
                actor,
                also=also,
            )
            missing = await ExpectedDocument.exists(
                request_id=request.id, required=True, received_at=None
            )
            if not missing and request.status in (S.NEEDS_INFO, S.RECEIVED):
                await _change_status(
                    work,
                    request,
                    actor,
                    S.IN_PROGRESS,
                    reason="Every expected document arrived.",
                    automatic=True,
                    moment=moment,
                )
        if (
            document is None  # a document sent while others are missing: still waiting
            and not actor.is_staff
            and visibility is Visibility.SHARED
            and request.status is S.NEEDS_INFO
        ):
            await _change_status(
                work,
                request,
                actor,
                S.IN_PROGRESS,
                reason="The customer replied.",
                automatic=True,
                moment=moment,
            )
        await _timers(request, moment)
    return message


async def change_request_status(
    actor: User,
    bus: EventBus | None,
    *,
    request_id: int,
    status: RequestStatus,
    reason: str = "",
    next_step: str | None = None,
    expected_documents: Sequence[str] = (),
    moment: datetime | None = None,
) -> ServiceRequest:
    """Move the request along its type's lifecycle. A transition the lifecycle does not
    allow the actor (STAFF, REQUESTER, LEAD_CONTACT) answers BAD_USER_INPUT naming the
    allowed ones (``allowedStatuses``; none once it is closed for good). ``next_step``
    (staff) replaces the line shown to the customer; ``expected_documents`` (staff) adds
    checklist items, by name."""
    moment = moment or now()
    request = await visible_request(actor, request_id)
    if not await policy.can_change_request_status(actor, request):
        raise Forbidden("Only staff who handle this request, its requester or lead contact may.")
    reason = limited_text(reason.strip(), "reason", REASON_MAX_LENGTH)
    if next_step is not None:
        if not actor.is_staff:
            raise Forbidden("Only staff set a request's next step.")
        next_step = limited_text(next_step.strip(), "nextStep", NEXT_STEP_MAX_LENGTH)
    names = [
        required_text(n, "expectedDocuments", DOCUMENT_NAME_MAX_LENGTH) for n in expected_documents
    ]
    if names and not actor.is_staff:
        raise Forbidden("Only staff ask for documents.")
    request_type = await RequestType.get(id=request.request_type_id)
    roles = await policy.request_roles(actor, request)
    async with unit_of_work(bus) as work:
        request = await _locked(request.id)
        allowed = open_transitions(request, request_type, roles, moment)
        if status not in allowed:
            _refused(request.status, status, allowed)
        for name in names:
            await ExpectedDocument.create(request_id=request.id, name=name, required=True)
        await _change_status(
            work, request, actor, status, reason=reason, next_step=next_step, moment=moment
        )
        await _timers(request, moment)
    return request


async def withdraw_request(
    actor: User, bus: EventBus | None, *, request_id: int, reason: str = ""
) -> ServiceRequest:
    """Withdraw the request (its lifecycle's transition to WITHDRAWN: by default its
    requester or lead contact while it is open)."""
    return await change_request_status(
        actor, bus, request_id=request_id, status=S.WITHDRAWN, reason=reason
    )


async def reopen_request(
    actor: User,
    bus: EventBus | None,
    *,
    request_id: int,
    reason: str = "",
    moment: datetime | None = None,
) -> ServiceRequest:
    """Reopen a RESOLVED request (back to IN_PROGRESS): its requester, within its type's
    ``reopenDays`` of the resolution; after that it is closed for good (BAD_USER_INPUT)."""
    moment = moment or now()
    request = await visible_request(actor, request_id)
    if not policy.can_reopen_request(actor, request):
        raise Forbidden("Only the request's requester may reopen it.")
    reason = limited_text(reason.strip(), "reason", REASON_MAX_LENGTH)
    request_type = await RequestType.get(id=request.request_type_id)
    async with unit_of_work(bus) as work:
        request = await _locked(request.id)
        if request.status is not S.RESOLVED:
            raise BadUserInput("Only a resolved request can be reopened.", field="requestId")
        if is_closed(request, request_type, moment):
            raise BadUserInput(
                f"This request was resolved more than {request_type.reopen_days} days ago and "
                "is closed for good: submit a new request.",
                field="requestId",
            )
        await _change_status(work, request, actor, S.IN_PROGRESS, reason=reason, moment=moment)
        await _timers(request, moment)
    return request


async def assign_request(
    actor: User, bus: EventBus | None, *, request_id: int, assignee_id: int | None
) -> ServiceRequest:
    """Give the request to a member of the staff (None: nobody). Staff who handle it only;
    the assignee must be active staff (BAD_USER_INPUT otherwise)."""
    request = await visible_request(actor, request_id)
    if not await policy.can_handle_request(actor, request):
        raise Forbidden("Only the customer's account team or the assignee may assign it.")
    assignee: User | None = None
    if assignee_id is not None:
        assignee = await policy.get_visible(policy.visible_users(actor), assignee_id, "user")
        if not assignee.is_staff or not assignee.is_active:
            raise BadUserInput(
                "A request is assigned to a member of the staff.", field="assigneeId"
            )
    async with unit_of_work(bus) as work:
        request = await _locked(request.id)
        previous = request.assignee_id
        new = assignee.id if assignee else None
        if previous == new:
            return request
        request.assignee_id = new
        await request.save(update_fields=["assignee_id", "updated_at"])
        also = {new: R.PARTICIPATING} if new is not None else {}
        await _announce(work, RequestAssigned(request.id, new, previous), request, actor, also=also)
        await _timers(request, now())
    return request


async def add_request_participant(
    actor: User, bus: EventBus | None, *, request_id: int, user_id: int
) -> ServiceRequest:
    """Let another contact of the request's customer see and follow it: by its requester,
    the customer's lead contacts or staff who handle it. Another customer's user is
    NOT_FOUND, as is a removed (deactivated) contact; staff are not participants
    (BAD_USER_INPUT)."""
    request = await visible_request(actor, request_id)
    if not await policy.can_add_request_participant(actor, request):
        raise Forbidden(
            "Only the requester, the lead contact or the request's staff may add people."
        )
    user = await policy.get_visible(policy.visible_users(actor), user_id, "user")
    if not user.is_active or not policy.is_contact_of(user, request.customer_id):
        if user.is_staff and user.is_active:
            raise BadUserInput("Participants are the customer's contacts.", field="userId")
        raise NotFound("user", field="userId")
    async with unit_of_work(bus) as work:
        request = await _locked(request.id)
        if user.id == request.requester_id:
            return request
        _, created = await RequestParticipant.get_or_create(request_id=request.id, user_id=user.id)
        if created:
            await _announce(
                work,
                RequestParticipantAdded(request.id, user.id),
                request,
                actor,
                also={user.id: R.PARTICIPATING},
            )
    return request


async def set_request_due_date(
    actor: User, bus: EventBus | None, *, request_id: int, due_at: datetime | None
) -> ServiceRequest:
    """Set (or clear, with None) the date the provider promises an answer by: staff who
    handle it."""
    request = await visible_request(actor, request_id)
    if not await policy.can_handle_request(actor, request):
        raise Forbidden("Only staff who handle this request set its due date.")
    if due_at is not None and due_at.tzinfo is None:
        raise BadUserInput("Give the due date with its time zone.", field="dueAt")
    async with unit_of_work(bus) as work:
        request = await _locked(request.id)
        request.due_at = due_at
        await request.save(update_fields=["due_at", "updated_at"])
        text = due_at.isoformat() if due_at is not None else None
        await _announce(work, RequestDueDateChanged(request.id, text), request, actor)
    return request


async def upload_for_requests(
    actor: User,
    storage: BlobStorage,
    *,
    name: str,
    chunks: AsyncIterator[bytes],
    limits: UploadLimits,
    customer_id: int | None = None,
    declared_size: int | None = None,
) -> RequestAttachment:
    """Store a file for a request of the actor's customer (staff: of ``customer_id``),
    pending until a submission or reply uses it (:func:`record_upload`).

    Refused before any byte is read: a bad name (BAD_USER_INPUT, field ``name``), a
    customer out of sight (NOT_FOUND), more than ``limits.per_minute`` uploads a minute
    (RATE_LIMITED, ``retryAfter``), a ``declared_size`` over ``limits.max_bytes``
    (BAD_USER_INPUT with ``maxBytes``); an empty file is BAD_USER_INPUT (field ``file``)."""
    name = clean_name(name)
    if customer_id is None:
        if actor.customer_id is None:
            raise BadUserInput("Say which customer the file is for.", field="customerId")
        customer_id = actor.customer_id
    await policy.get_visible(policy.visible_customers(actor), customer_id, "customer")
    since = now() - timedelta(minutes=1)
    recent = await RequestAttachment.filter(uploaded_by_id=actor.id, created_at__gte=since).count()
    if recent >= limits.per_minute:
        raise RateLimited(
            f"You may upload at most {limits.per_minute} files a minute. Try again in a minute.",
            retryAfter=60,
        )
    if declared_size is not None and declared_size > limits.max_bytes:
        raise too_large(limits.max_bytes)
    try:
        blob: StoredBlob = await storage.put(chunks, limits.max_bytes)
    except TooLarge:
        raise too_large(limits.max_bytes) from None
    try:
        if blob.size == 0:
            raise BadUserInput("The file is empty.", field="file")
        upload = await record_upload(
            actor,
            customer_id=customer_id,
            name=name,
            content_type=sniff(blob.head),
            size=blob.size,
            content_key=blob.key,
        )
    except BaseException:
        await storage.discard(blob, content_used(blob.key))
        raise
    await storage.keep(blob)
    return upload


async def file_for_download(viewer: User, file_id: int) -> RequestAttachment:
    """A request's file, if the viewer may read it now: a file of a request they see (one
    sent with an INTERNAL note: staff only), or their own upload not sent yet; NOT_FOUND
    otherwise."""
    upload = await RequestAttachment.get_or_none(id=file_id)
    if upload is None:
        raise NotFound("attachment")
    if upload.request_id is None:
        if upload.uploaded_by_id != viewer.id:
            raise NotFound("attachment")
        return upload
    if not await policy.can_see_request(viewer, upload.request_id):
        raise NotFound("attachment")
    if upload.message_id is not None:
        message = await RequestMessage.get(id=upload.message_id)
        if not policy.can_see_visibility(viewer, message.visibility):
            raise NotFound("attachment")
    return upload
