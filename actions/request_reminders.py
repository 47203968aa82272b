"""Request timers: SLA warnings and breaches for the assignee, reminders for the requester.

After every change of a request its action calls :func:`schedule_request_timers` inside its
unit of work. That records one ``requests.timers`` job (key ``request:<id>:timers``) which,
run at once by the job runner, works out from the request's recorded history (never from
counters) when each timer is due, and (re)schedules it as a job of its own:

=========================  =========================================  ======================
job kind                   due                                        key
=========================  =========================================  ======================
``requests.sla_warning``   ``sla_warning_minutes`` business minutes   ``request:<id>:sla-
                           before a running clock breaches            warning:<clock>``
``requests.sla_breach``    when a running clock breaches              ``request:<id>:sla-
                                                                      breach:<clock>``
``requests.reminder``      ``needs_info_reminder_days`` business      ``request:<id>:
                           days into a wait in ``NEEDS_INFO``         reminder:<days>``
=========================  =========================================  ======================

(``<clock>`` is ``firstResponse`` or ``resolution``; the settings are in infra/settings.py.)
A timer no longer due (the request was answered, paused, resolved) is cancelled. Each
handler computes the SLA again at its run time and acts only when its moment has really
come; it notifies the assignee of a warning or breach, or the requester of a reminder,
through an event of the request (``REQUEST_SLA_WARNING`` and ``REQUEST_SLA_BREACHED``,
INTERNAL; ``REQUEST_REMINDED``, SHARED) and its notification. That event is the record of
what was sent: a clock's warning and breach are told once per request, a reminder once per
wait, however often the jobs run. A request without an assignee warns nobody; assigning it
schedules its timers again, and an overdue warning goes to the new assignee at once.

The calendar is that of the request's SLA policy; a request without one is reminded in
the business days of the first business calendar defined, or Monday to Friday 09:00-17:00
UTC when there is none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from actions import mail_notifications
from actions._common import wake_webhooks
from actions.jobs import JobContext, cancel, enqueue, job_handler
from actions.unit_of_work import UnitOfWork, unit_of_work
from domain import policy
from domain.business_hours import BusinessCalendar
from domain.sla import (
    NeedsInfoReminder,
    RequestHistory,
    SlaClock,
    SlaState,
    SlaTargets,
    StatusChange,
    compute_sla,
    needs_info_reminders,
)
from infra.settings import Settings
from models import BusinessCalendar as CalendarRow
from models import (
    Event,
    EventKind,
    Notification,
    NotificationReason,
    RequestStatus,
    RequestStatusChange,
    ServiceRequest,
    SlaPolicy,
    User,
    Visibility,
)
from models.events import (
    RequestPayload,
    RequestReminded,
    RequestSlaBreached,
    RequestSlaWarning,
    mark_event_writer,
)

PLAN = "requests.timers"
PLAN_ALL = "requests.timers_all"
WARNING = "requests.sla_warning"
BREACH = "requests.sla_breach"
REMINDER = "requests.reminder"
CLOCKS = ("firstResponse", "resolution")
DEFAULT_CALENDAR = BusinessCalendar()
"""Monday to Friday, 09:00-17:00 UTC: for reminders of requests under no SLA policy when
no business calendar is defined."""


def plan_key(request_id: int) -> str:
    return f"request:{request_id}:timers"


def warning_key(request_id: int, clock: str) -> str:
    return f"request:{request_id}:sla-warning:{clock}"


def breach_key(request_id: int, clock: str) -> str:
    return f"request:{request_id}:sla-breach:{clock}"


def reminder_key(request_id: int, days: int) -> str:
    return f"request:{request_id}:reminder:{days}"


async def schedule_request_timers(request_id: int, *, now: datetime) -> None:
    """(Re)schedule the timers of request ``request_id`` after a change of it made at
    ``now`` (aware): call inside the unit of work of that change, so the schedule exists if
    and only if the change committed. Cheap: it records one job, which works the timers
    out from the committed history."""
    await enqueue(PLAN, {"request": request_id}, run_at=now, key=plan_key(request_id))


async def schedule_all_request_timers(*, now: datetime) -> None:
    """(Re)schedule the timers of every request not closed, after a change that may move
    them all (a business calendar or an SLA policy): call inside that change's unit of
    work."""
    await enqueue(PLAN_ALL, {}, run_at=now, key="requests.timers:all")


# -- Working out the state of a request --------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Situation:
    request: ServiceRequest
    sla: SlaState | None
    reminders: list[NeedsInfoReminder]
    sent: list[Event]


async def _calendar_and_targets(
    request: ServiceRequest,
) -> tuple[BusinessCalendar, SlaTargets | None]:
    """The calendar and targets of the request's SLA policy (the customer's own for the
    type, else the type's); without a policy, no targets and the reminders' calendar."""
    sla = await SlaPolicy.get_or_none(
        request_type_id=request.request_type_id, customer_id=request.customer_id
    ) or await SlaPolicy.get_or_none(request_type_id=request.request_type_id, customer_id=None)
    row = None
    if sla is not None:
        row = await CalendarRow.get_or_none(id=sla.calendar_id)
    if row is None:
        row = await CalendarRow.all().order_by("id").first()
    calendar = DEFAULT_CALENDAR if row is None else BusinessCalendar.from_json(row.definition)
    if sla is None:
        return calendar, None
    return calendar, SlaTargets(sla.first_response_minutes, sla.resolution_minutes)


def history_of(request: ServiceRequest, changes: list[RequestStatusChange]) -> RequestHistory:
    """What the request's SLA and reminders are computed from: its submission, then each
    recorded status change after it (oldest first), and its first public staff reply."""
    return RequestHistory(
        submitted_at=request.created_at,
        changes=tuple(
            StatusChange(change.created_at, change.to_status.value)
            for change in changes
            if change.from_status is not None
        ),
        first_response_at=request.first_response_at,
    )


async def _situation(request: ServiceRequest, settings: Settings, now: datetime) -> _Situation:
    changes = await RequestStatusChange.filter(request_id=request.id).order_by("created_at", "id")
    history = history_of(request, changes)
    calendar, targets = await _calendar_and_targets(request)
    sla = None if targets is None else compute_sla(history, calendar, targets, now=now)
    reminders = needs_info_reminders(history, calendar, settings.needs_info_reminder_days)
    sent = await Event.filter(
        request_id=request.id,
        kind__in=[
            EventKind.REQUEST_SLA_WARNING,
            EventKind.REQUEST_SLA_BREACHED,
            EventKind.REQUEST_REMINDED,
        ],
    ).order_by("id")
    return _Situation(request, sla, reminders, sent)


def _clock(sla: SlaState | None, name: str) -> SlaClock | None:
    if sla is None:
        return None
    return sla.first_response if name == "firstResponse" else sla.resolution


def _told(situation: _Situation, kind: EventKind, **fields: Any) -> bool:
    """Whether an event of ``kind`` whose payload has these values was recorded."""
    for event in situation.sent:
        if event.kind is kind and all(event.payload.get(k) == v for k, v in fields.items()):
            return True
    return False


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


# -- Planning ----------------------------------------------------------------------------


async def _plan(request_id: int, settings: Settings, now: datetime) -> None:
    """Enqueue the request's timers that are still to come and cancel the others (inside
    a unit of work). The request's row is locked first, so that a plan made from a state
    that a change is replacing cannot be written after the plan of the new state."""
    request = await _locked(request_id)
    wanted: dict[str, tuple[str, dict[str, Any], datetime]] = {}
    reminder_days = set(settings.needs_info_reminder_days)
    if request is not None and not request.closed:
        situation = await _situation(request, settings, now)
        for name in CLOCKS:
            clock = _clock(situation.sla, name)
            if clock is None or not clock.running:
                continue
            payload = {"request": request_id, "clock": name}
            warning = clock.warning_at(settings.sla_warning_minutes)
            if (
                settings.sla_warning_minutes > 0
                and warning is not None
                and not _told(situation, EventKind.REQUEST_SLA_WARNING, clock=name)
            ):
                wanted[warning_key(request_id, name)] = (WARNING, payload, max(warning, now))
            if clock.breaches_at is not None and not _told(
                situation, EventKind.REQUEST_SLA_BREACHED, clock=name
            ):
                wanted[breach_key(request_id, name)] = (
                    BREACH,
                    payload,
                    max(clock.breaches_at, now),
                )
        for reminder in situation.reminders:
            if not _told(
                situation,
                EventKind.REQUEST_REMINDED,
                businessDays=reminder.business_days,
                waitingSince=_iso(reminder.since),
            ):
                wanted[reminder_key(request_id, reminder.business_days)] = (
                    REMINDER,
                    {"request": request_id, "days": reminder.business_days},
                    max(reminder.at, now),
                )
    keys = [
        *(warning_key(request_id, name) for name in CLOCKS),
        *(breach_key(request_id, name) for name in CLOCKS),
        *(reminder_key(request_id, days) for days in sorted(reminder_days)),
    ]
    for key in keys:
        if key in wanted:
            kind, payload, run_at = wanted[key]
            await enqueue(kind, payload, run_at=run_at, key=key)
        else:
            await cancel(key)


@job_handler(PLAN, max_attempts=8)
async def plan_timers(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Work out and (re)schedule one request's timers."""
    async with unit_of_work(ctx.bus):
        await _plan(int(payload["request"]), ctx.settings, ctx.now)


@job_handler(PLAN_ALL, max_attempts=8)
async def plan_all_timers(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Schedule the planning of every request not closed (one job each)."""
    ids = await ServiceRequest.filter(closed=False).order_by("id").values_list("id", flat=True)
    async with unit_of_work(ctx.bus):
        for request_id in ids:
            await schedule_request_timers(int(str(request_id)), now=ctx.now)


# -- Telling -----------------------------------------------------------------------------


async def _tell(
    work: UnitOfWork,
    request: ServiceRequest,
    details: RequestPayload,
    *,
    actor_id: int,
    recipient_id: int,
    visibility: Visibility,
) -> Event | None:
    """Record the event and notify ``recipient_id`` if they are active and may read it;
    None (nothing recorded) when they may not."""
    recipient = await User.get_or_none(id=recipient_id, is_active=True)
    if recipient is None or not policy.can_see_visibility(recipient, visibility):
        return None
    if not recipient.is_staff and not await policy.can_see_request(recipient, request.id):
        return None
    await mark_event_writer()
    event = await Event.create(
        kind=details.kind,
        customer_id=request.customer_id,
        project_id=None,
        request_id=request.id,
        actor_id=actor_id,
        visibility=visibility,
        payload=details.to_json(),
    )
    await wake_webhooks(event)
    notification = await Notification.create(
        user_id=recipient_id, event_id=event.id, reason=NotificationReason.PARTICIPATING
    )
    await mail_notifications.notifications_recorded([notification], event)
    work.publish(event, notified={recipient_id})
    return event


async def _locked(request_id: int) -> ServiceRequest | None:
    return await ServiceRequest.filter(id=request_id).select_for_update().first()


@job_handler(WARNING, max_attempts=8)
async def warn_assignee(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Warn the assignee that a clock will breach soon, once, if it still will."""
    request_id, name = int(payload["request"]), str(payload["clock"])
    async with unit_of_work(ctx.bus) as work:
        request = await _locked(request_id)
        if request is None or request.closed:
            return
        situation = await _situation(request, ctx.settings, ctx.now)
        clock = _clock(situation.sla, name)
        warning = None if clock is None else clock.warning_at(ctx.settings.sla_warning_minutes)
        if clock is None or warning is None or clock.breaches_at is None:
            return  # paused, stopped or breached meanwhile: planned again on each change
        if warning > ctx.now or ctx.settings.sla_warning_minutes <= 0:
            await _plan(request_id, ctx.settings, ctx.now)  # the target moved away
            return
        if _told(situation, EventKind.REQUEST_SLA_WARNING, clock=name):
            return
        if request.assignee_id is None:
            return
        await _tell(
            work,
            request,
            RequestSlaWarning(request_id, name, _iso(clock.breaches_at)),
            actor_id=request.requester_id,
            recipient_id=request.assignee_id,
            visibility=Visibility.INTERNAL,
        )


@job_handler(BREACH, max_attempts=8)
async def tell_breach(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Tell the assignee that a clock breached, once, if it did."""
    request_id, name = int(payload["request"]), str(payload["clock"])
    async with unit_of_work(ctx.bus) as work:
        request = await _locked(request_id)
        if request is None:
            return
        situation = await _situation(request, ctx.settings, ctx.now)
        clock = _clock(situation.sla, name)
        if clock is None or clock.breached_at is None:
            if clock is not None and clock.running:
                await _plan(request_id, ctx.settings, ctx.now)  # the target moved away
            return
        if _told(situation, EventKind.REQUEST_SLA_BREACHED, clock=name):
            return
        if request.assignee_id is None:
            return
        await _tell(
            work,
            request,
            RequestSlaBreached(request_id, name, _iso(clock.breached_at)),
            actor_id=request.requester_id,
            recipient_id=request.assignee_id,
            visibility=Visibility.INTERNAL,
        )


@job_handler(REMINDER, max_attempts=8)
async def remind_requester(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Remind the requester that the request waits for their answer, once per wait and
    number of business days, if it still waits and that many days have passed."""
    request_id, days = int(payload["request"]), int(payload["days"])
    async with unit_of_work(ctx.bus) as work:
        request = await _locked(request_id)
        if request is None or request.closed or request.status is not RequestStatus.NEEDS_INFO:
            return
        situation = await _situation(request, ctx.settings, ctx.now)
        due = [r for r in situation.reminders if r.business_days == days]
        if not due:
            return
        reminder = due[0]
        if reminder.at > ctx.now:
            await _plan(request_id, ctx.settings, ctx.now)
            return
        since = _iso(reminder.since)
        if _told(situation, EventKind.REQUEST_REMINDED, businessDays=days, waitingSince=since):
            return
        # On behalf of whoever asked for the information (else the assignee): never the
        # requester, whom the notification is for.
        asked = (
            await RequestStatusChange.filter(
                request_id=request_id, to_status=RequestStatus.NEEDS_INFO
            )
            .order_by("-created_at", "-id")
            .first()
        )
        candidates = [asked.actor_id if asked is not None else None, request.assignee_id]
        actor_id = next((c for c in candidates if c not in (None, request.requester_id)), None)
        if actor_id is None:
            return
        await _tell(
            work,
            request,
            RequestReminded(request_id, days, since),
            actor_id=actor_id,
            recipient_id=request.requester_id,
            visibility=Visibility.SHARED,
        )
