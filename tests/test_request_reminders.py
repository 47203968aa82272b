"""Request timers run by the job runner: SLA warnings and breaches reach the assignee once
each, a request waiting for the customer reminds its requester, and nothing is sent twice.

The request's history is written with chosen times (the actions stamp the clock's), so the
runner can be moved through a working week with ``run_due(now=...)``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.applications import Starlette

from actions import request_reminders
from actions.unit_of_work import unit_of_work
from app.runner import JobRunner
from domain.request_forms import SUPPORT_TICKET
from infra.settings import SettingsError
from models import (
    BusinessCalendar,
    Event,
    EventKind,
    Job,
    JobStatus,
    Notification,
    RequestStatus,
    RequestStatusChange,
    RequestType,
    ServiceRequest,
    SlaPolicy,
    User,
)
from tests.conftest import make_settings
from tests.world import World

MONDAY = datetime(2026, 3, 2, 9, tzinfo=UTC)
"""Monday 2 March 2026, 09:00 UTC: the calendar's working days are Monday to Friday,
09:00 to 17:00 UTC."""


def at(days: int = 0, hours: float = 0) -> datetime:
    return MONDAY + timedelta(days=days, hours=hours)


@pytest.fixture
def jobs(app: Starlette) -> JobRunner:
    return app.state.jobs  # type: ignore[no-any-return]


async def _request(world: World, *, assignee: User | None) -> ServiceRequest:
    """A request of max's submitted on Monday 09:00 under an SLA of 4 business hours to
    the first response and 16 to the resolution."""
    calendar = await BusinessCalendar.create(
        name="Timers",
        definition={
            "timeZone": "UTC",
            "hours": {
                day: [["09:00", "17:00"]]
                for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
            },
            "holidays": [],
        },
    )
    request_type = await RequestType.create(name="Timed ticket", form=SUPPORT_TICKET)
    await SlaPolicy.create(
        request_type_id=request_type.id,
        calendar_id=calendar.id,
        first_response_minutes=4 * 60,
        resolution_minutes=16 * 60,
    )
    request = await ServiceRequest.create(
        customer_id=world.acme.id,
        request_type_id=request_type.id,
        number=900,
        reference="ACME-900",
        title="Readings stop at night",
        requester_id=world.max.id,
        assignee_id=None if assignee is None else assignee.id,
    )
    await ServiceRequest.filter(id=request.id).update(created_at=MONDAY)
    first = await RequestStatusChange.create(
        request_id=request.id, from_status=None, to_status=RequestStatus.RECEIVED, actor=world.max
    )
    await RequestStatusChange.filter(id=first.id).update(created_at=MONDAY)
    await _changed(request.id, MONDAY)
    return await ServiceRequest.get(id=request.id)


async def _changed(request_id: int, moment: datetime) -> None:
    """What every action does after changing a request: schedule its timers."""
    async with unit_of_work():
        await request_reminders.schedule_request_timers(request_id, now=moment)


async def _move(request: ServiceRequest, to: RequestStatus, moment: datetime, by: User) -> None:
    change = await RequestStatusChange.create(
        request_id=request.id, from_status=request.status, to_status=to, actor=by
    )
    await RequestStatusChange.filter(id=change.id).update(created_at=moment)
    request.status = to
    await request.save(update_fields=["status"])
    await _changed(request.id, moment)


async def _told(user: User, request: ServiceRequest) -> list[tuple[str, dict[str, Any], int]]:
    """The user's notifications of timer events of the request: (kind, payload, actor)."""
    rows = await Notification.filter(user_id=user.id, event__request_id=request.id).order_by("id")
    events = {e.id: e for e in await Event.filter(id__in=[row.event_id for row in rows])}
    timers = (
        EventKind.REQUEST_SLA_WARNING,
        EventKind.REQUEST_SLA_BREACHED,
        EventKind.REQUEST_REMINDED,
    )
    return [
        (
            events[row.event_id].kind.value,
            events[row.event_id].payload,
            events[row.event_id].actor_id,
        )
        for row in rows
        if events[row.event_id].kind in timers
    ]


async def test_the_assignee_is_warned_before_each_breach_and_told_of_it_once(
    world: World, jobs: JobRunner
) -> None:
    # given a request submitted on Monday 09:00, assigned to sam, nobody answering
    request = await _request(world, assignee=world.sam)
    await jobs.run_due(MONDAY)

    # when the runner reaches two business hours before the first response's target
    await jobs.run_due(at(hours=1.99))
    assert await _told(world.sam, request) == []
    await jobs.run_due(at(hours=2))

    # then sam is warned, in a staff-only event
    warned = await _told(world.sam, request)
    assert warned == [
        (
            "REQUEST_SLA_WARNING",
            {
                "requestId": request.id,
                "clock": "firstResponse",
                "breachesAt": "2026-03-02T13:00:00+00:00",
            },
            world.max.id,
        )
    ]
    assert await Event.filter(request_id=request.id, kind="REQUEST_SLA_WARNING").count() == 1
    event = await Event.get(request_id=request.id, kind="REQUEST_SLA_WARNING")
    assert event.visibility.value == "INTERNAL"

    # when the target passes, and the request changes (its timers are worked out again)
    await jobs.run_due(at(hours=4))
    await _changed(request.id, at(hours=5))
    await jobs.run_due(at(hours=5))

    # then sam is told of the breach once, and of nothing twice
    kinds = [(kind, payload["clock"]) for kind, payload, _ in await _told(world.sam, request)]
    assert kinds == [
        ("REQUEST_SLA_WARNING", "firstResponse"),
        ("REQUEST_SLA_BREACHED", "firstResponse"),
    ]

    # and the resolution clock (16 business hours: Tuesday 17:00) warns and breaches too
    await jobs.run_due(at(days=1, hours=6))
    await jobs.run_due(at(days=1, hours=8))
    kinds = [(kind, payload["clock"]) for kind, payload, _ in await _told(world.sam, request)]
    assert kinds[2:] == [
        ("REQUEST_SLA_WARNING", "resolution"),
        ("REQUEST_SLA_BREACHED", "resolution"),
    ]
    await jobs.run_due(at(days=7))
    assert len(await _told(world.sam, request)) == 4
    assert await _told(world.max, request) == []  # the customer never hears of SLAs


async def test_waiting_for_the_customer_pauses_the_warnings_and_reminds_the_requester(
    world: World, jobs: JobRunner
) -> None:
    # given sam asks max for information an hour after max submitted
    request = await _request(world, assignee=world.sam)
    await _move(request, RequestStatus.NEEDS_INFO, at(hours=1), world.sam)
    await jobs.run_due(at(hours=1))

    # when the day passes: no clock runs, so nothing warns
    await jobs.run_due(at(hours=8))
    assert await _told(world.sam, request) == []

    # then on Tuesday 10:00, one business day later, max is reminded, by sam
    await jobs.run_due(at(days=1, hours=0.99))
    assert await _told(world.max, request) == []
    await jobs.run_due(at(days=1, hours=1))
    assert await _told(world.max, request) == [
        (
            "REQUEST_REMINDED",
            {
                "requestId": request.id,
                "businessDays": 1,
                "waitingSince": "2026-03-02T10:00:00+00:00",
            },
            world.sam.id,
        )
    ]
    await _changed(request.id, at(days=1, hours=2))
    await jobs.run_due(at(days=1, hours=2))
    assert len(await _told(world.max, request)) == 1  # once

    # when max answers on Wednesday, the five-day reminder is dropped
    await _move(request, RequestStatus.IN_PROGRESS, at(days=2), world.max)
    await jobs.run_due(at(days=2))
    assert not await Job.filter(
        key=request_reminders.reminder_key(request.id, 5), status=JobStatus.PENDING
    ).exists()
    await jobs.run_due(at(days=7, hours=1))
    assert [kind for kind, _, _ in await _told(world.max, request)] == ["REQUEST_REMINDED"]

    # and the first response clock ran only Monday's hour before the wait, then from
    # Wednesday: its breach comes on Wednesday 12:00, not on Monday
    breaches = await Event.filter(request_id=request.id, kind="REQUEST_SLA_BREACHED")
    assert {e.payload["clock"]: e.payload["breachedAt"] for e in breaches}["firstResponse"] == (
        "2026-03-04T12:00:00+00:00"
    )


async def test_an_unassigned_request_warns_its_assignee_once_assigned(
    world: World, jobs: JobRunner
) -> None:
    # given an unassigned request whose first response warning time has passed
    request = await _request(world, assignee=None)
    await jobs.run_due(at(hours=3))
    assert await Event.filter(request_id=request.id, kind="REQUEST_SLA_WARNING").count() == 0

    # when sam is assigned (an action: the timers are worked out again)
    request.assignee_id = world.sam.id
    await request.save(update_fields=["assignee_id"])
    await _changed(request.id, at(hours=3))
    await jobs.run_due(at(hours=3))

    # then the overdue warning reaches sam at once
    assert [kind for kind, _, _ in await _told(world.sam, request)] == ["REQUEST_SLA_WARNING"]


async def test_a_closed_request_has_no_timers_left(world: World, jobs: JobRunner) -> None:
    request = await _request(world, assignee=world.sam)
    await jobs.run_due(MONDAY)
    assert await Job.filter(key__startswith=f"request:{request.id}:", status="PENDING").count() == 4
    await _move(request, RequestStatus.RESOLVED, at(hours=1), world.sam)
    request.closed = True
    await request.save(update_fields=["closed"])
    await _changed(request.id, at(hours=1))
    await jobs.run_due(at(hours=1))
    assert await Job.filter(key__startswith=f"request:{request.id}:", status="PENDING").count() == 0


def test_the_warning_and_the_reminders_are_settings() -> None:
    settings = make_settings(
        "sqlite://:memory:",
        EXTRANET_SLA_WARNING_MINUTES="30",
        EXTRANET_NEEDS_INFO_REMINDER_DAYS="5, 2",
    )
    assert (settings.sla_warning_minutes, settings.needs_info_reminder_days) == (30, (2, 5))
    assert make_settings("sqlite://:memory:").needs_info_reminder_days == (1, 5)
    quiet = make_settings("sqlite://:memory:", EXTRANET_NEEDS_INFO_REMINDER_DAYS="none")
    assert quiet.needs_info_reminder_days == ()
    with pytest.raises(SettingsError, match="EXTRANET_NEEDS_INFO_REMINDER_DAYS"):
        make_settings("sqlite://:memory:", EXTRANET_NEEDS_INFO_REMINDER_DAYS="0")
