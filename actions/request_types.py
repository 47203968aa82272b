"""Request types, their SLA policies and business calendars: what administrators define.

A lifecycle is a list of transitions ``{"from": status, "to": status, "by": [actor, ...]}``
(actors: ``STAFF``, ``REQUESTER``, ``LEAD_CONTACT``); a type created without one gets
:data:`DEFAULT_LIFECYCLE`. Reopening a resolved request (``reopenRequest``) and the moves
the product makes by itself (a customer's reply in ``NEEDS_INFO``, the last expected
document) are not transitions of the lifecycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from actions import request_reminders
from actions._common import (
    DESCRIPTION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    audit,
    limited_text,
    name_text,
    now,
)
from actions.unit_of_work import unit_of_work
from domain import forms, policy
from domain.business_hours import BusinessCalendar as Calendar
from domain.errors import BadUserInput, Conflict, Forbidden, NotFound
from domain.sla import SlaTargets
from models import (
    BusinessCalendar,
    RequestActor,
    RequestStatus,
    RequestType,
    RequestTypeOffer,
    SlaPolicy,
    User,
)

S = RequestStatus
A = RequestActor
REOPEN_DAYS_MAX = 365
DEFAULT_CALENDAR = "Office hours"


@dataclass(frozen=True, slots=True)
class Transition:
    """One allowed move of a lifecycle, and who may make it."""

    from_status: RequestStatus
    to_status: RequestStatus
    by: frozenset[RequestActor]

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.from_status.value,
            "to": self.to_status.value,
            "by": sorted(actor.value for actor in self.by),
        }


def _t(source: RequestStatus, target: RequestStatus, *by: RequestActor) -> Transition:
    return Transition(source, target, frozenset(by))


DEFAULT_LIFECYCLE: tuple[Transition, ...] = (
    _t(S.RECEIVED, S.IN_PROGRESS, A.STAFF),
    _t(S.RECEIVED, S.NEEDS_INFO, A.STAFF),
    _t(S.RECEIVED, S.REJECTED, A.STAFF),
    _t(S.RECEIVED, S.WITHDRAWN, A.REQUESTER, A.LEAD_CONTACT),
    _t(S.IN_PROGRESS, S.NEEDS_INFO, A.STAFF),
    _t(S.IN_PROGRESS, S.APPROVED, A.STAFF),
    _t(S.IN_PROGRESS, S.REJECTED, A.STAFF),
    _t(S.IN_PROGRESS, S.RESOLVED, A.STAFF),
    _t(S.IN_PROGRESS, S.WITHDRAWN, A.REQUESTER, A.LEAD_CONTACT),
    _t(S.NEEDS_INFO, S.IN_PROGRESS, A.STAFF, A.REQUESTER, A.LEAD_CONTACT),
    _t(S.NEEDS_INFO, S.REJECTED, A.STAFF),
    _t(S.NEEDS_INFO, S.WITHDRAWN, A.REQUESTER, A.LEAD_CONTACT),
    _t(S.APPROVED, S.IN_PROGRESS, A.STAFF),
    _t(S.APPROVED, S.RESOLVED, A.STAFF),
)
"""RECEIVED → IN_PROGRESS ⇄ NEEDS_INFO → APPROVED → RESOLVED, REJECTED by staff, WITHDRAWN
by the requester or the lead contact while open."""

FINAL = frozenset({S.REJECTED, S.WITHDRAWN})
"""Statuses a request never leaves (a RESOLVED one may be reopened for a while)."""


def read_lifecycle(data: Iterable[Mapping[str, Any]]) -> tuple[Transition, ...]:
    """A stored (or given) lifecycle as transitions; BAD_USER_INPUT (field ``lifecycle``)
    for an unknown status or actor, a transition to the same status, out of a final status
    (REJECTED, WITHDRAWN), or one listed twice."""
    seen: set[tuple[RequestStatus, RequestStatus]] = set()
    transitions: list[Transition] = []
    for index, item in enumerate(data):
        try:
            source, target = S(item["from"]), S(item["to"])
            by = frozenset(A(actor) for actor in item["by"])
        except (KeyError, TypeError, ValueError):
            raise BadUserInput(
                f"Transition {index + 1} of the lifecycle needs `from` and `to` (statuses) and "
                "`by` (STAFF, REQUESTER or LEAD_CONTACT).",
                field="lifecycle",
            ) from None
        if source == target or source in FINAL or not by or (source, target) in seen:
            raise BadUserInput(
                f"Transition {index + 1} of the lifecycle ({source} to {target}) goes nowhere, "
                "leaves a final status, names nobody or is listed twice.",
                field="lifecycle",
            )
        seen.add((source, target))
        transitions.append(Transition(source, target, by))
    return tuple(transitions)


def lifecycle_of(request_type: RequestType) -> tuple[Transition, ...]:
    """The type's transitions (:data:`DEFAULT_LIFECYCLE` when it stores none)."""
    if not request_type.lifecycle:
        return DEFAULT_LIFECYCLE
    return read_lifecycle(request_type.lifecycle)


def transitions_from(
    request_type: RequestType, status: RequestStatus, roles: Iterable[str] | None = None
) -> list[Transition]:
    """The transitions out of ``status``; with ``roles`` (policy.request_roles), only those
    one of them may make."""
    wanted = None if roles is None else set(roles)
    return [
        t
        for t in lifecycle_of(request_type)
        if t.from_status == status
        and (wanted is None or any(actor.value in wanted for actor in t.by))
    ]


def offered_types(customer_id: int | None) -> QuerySet[RequestType]:
    """The request types offered to the customer (None: every type), by name."""
    types = RequestType.all()
    if customer_id is not None:
        offers = RequestTypeOffer.filter(customer_id=customer_id).values("request_type_id")
        types = types.filter(Q(offered_to_all=True) | Q(id__in=Subquery(offers)))
    return types.order_by("name", "id")


async def is_offered(request_type: RequestType, customer_id: int) -> bool:
    return request_type.offered_to_all or await RequestTypeOffer.exists(
        request_type_id=request_type.id, customer_id=customer_id
    )


def _require_admin(actor: User) -> None:
    if not policy.is_admin(actor):
        raise Forbidden("Only administrators may define request types, SLAs and calendars.")


async def _staff_assignee(actor: User, user_id: int | None) -> int | None:
    if user_id is None:
        return None
    user = await policy.get_visible(policy.visible_users(actor), user_id, "user")
    if not user.is_staff or not user.is_active:
        raise BadUserInput(
            "A request's assignee is a member of the staff.", field="defaultAssigneeId"
        )
    return user.id


async def _offers(actor: User, customer_ids: Sequence[int]) -> list[int]:
    found = await policy.visible_customers(actor).filter(id__in=list(customer_ids)).count()
    if found != len(set(customer_ids)):
        raise NotFound("customer")
    return sorted(set(customer_ids))


def _reopen_days(days: int) -> int:
    if not 0 <= days <= REOPEN_DAYS_MAX:
        raise BadUserInput(
            f"Reopening is allowed for 0 to {REOPEN_DAYS_MAX} days.", field="reopenDays"
        )
    return days


async def create_request_type(
    actor: User,
    *,
    name: str,
    description: str = "",
    form: Any,
    lifecycle: Sequence[Mapping[str, Any]] | None = None,
    reopen_days: int = 14,
    default_assignee_id: int | None = None,
    offered_to_all: bool = True,
    customer_ids: Sequence[int] = (),
) -> RequestType:
    """A new request type (administrators; FORBIDDEN otherwise). BAD_USER_INPUT for a form
    that is not a valid definition (domain/forms.py, field ``form``), a bad lifecycle,
    reopening days outside 0 to 365, an assignee who is not staff; CONFLICT for a name in use."""
    _require_admin(actor)
    name = name_text(name, "name", NAME_MAX_LENGTH)
    description = limited_text(description, "description", DESCRIPTION_MAX_LENGTH)
    checked = forms.check_form_definition(form)
    transitions = read_lifecycle(lifecycle) if lifecycle else DEFAULT_LIFECYCLE
    assignee_id = await _staff_assignee(actor, default_assignee_id)
    offers = await _offers(actor, customer_ids)
    async with unit_of_work():
        if await RequestType.exists(name=name):
            raise Conflict("A request type with this name exists: choose another name.")
        request_type = await RequestType.create(
            name=name,
            description=description,
            form=dict(checked.definition),
            lifecycle=[t.to_json() for t in transitions],
            reopen_days=_reopen_days(reopen_days),
            default_assignee_id=assignee_id,
            offered_to_all=offered_to_all,
        )
        for customer_id in offers:
            await RequestTypeOffer.create(request_type_id=request_type.id, customer_id=customer_id)
        await audit("request_type.created", actor=actor, target=f"request_type:{request_type.id}")
    return request_type


_UNSET: Any = object()


async def update_request_type(
    actor: User,
    *,
    type_id: int,
    name: str | None = None,
    description: str | None = None,
    form: Any = _UNSET,
    lifecycle: Sequence[Mapping[str, Any]] | None = None,
    reopen_days: int | None = None,
    default_assignee_id: int | None = _UNSET,
    offered_to_all: bool | None = None,
    customer_ids: Sequence[int] | None = None,
) -> RequestType:
    """Change what is given of a request type (as :func:`create_request_type` checks it).
    Requests already submitted keep their answers; a new lifecycle applies to them from
    their current status on."""
    _require_admin(actor)
    async with unit_of_work():
        request_type = await RequestType.filter(id=type_id).select_for_update().first()
        if request_type is None:
            raise NotFound("request type")
        if name is not None:
            name = name_text(name, "name", NAME_MAX_LENGTH)
            if await RequestType.exists(name=name, id__not=type_id):
                raise Conflict("A request type with this name exists: choose another name.")
            request_type.name = name
        if description is not None:
            request_type.description = limited_text(
                description, "description", DESCRIPTION_MAX_LENGTH
            )
        if form is not _UNSET:
            request_type.form = dict(forms.check_form_definition(form).definition)
        if lifecycle is not None:
            request_type.lifecycle = [t.to_json() for t in read_lifecycle(lifecycle)]
        if reopen_days is not None:
            request_type.reopen_days = _reopen_days(reopen_days)
        if default_assignee_id is not _UNSET:
            request_type.default_assignee_id = await _staff_assignee(actor, default_assignee_id)
        if offered_to_all is not None:
            request_type.offered_to_all = offered_to_all
        if customer_ids is not None:
            offers = await _offers(actor, customer_ids)
            await RequestTypeOffer.filter(request_type_id=type_id).delete()
            for customer_id in offers:
                await RequestTypeOffer.create(request_type_id=type_id, customer_id=customer_id)
        await request_type.save()
        await audit("request_type.updated", actor=actor, target=f"request_type:{type_id}")
    return request_type


def check_calendar(definition: Any) -> dict[str, Any]:
    """``definition`` as a calendar's JSON (domain/business_hours.py), or BAD_USER_INPUT
    (field ``calendar``)."""
    try:
        calendar = Calendar.from_json(definition)
    except BadUserInput as error:
        error.extensions.setdefault("field", "calendar")
        raise
    except (KeyError, TypeError, ValueError) as error:
        raise BadUserInput(f"The calendar is not valid: {error}.", field="calendar") from None
    return calendar.to_json()


async def set_business_calendar(
    actor: User, *, name: str, definition: Any, calendar_id: int | None = None
) -> BusinessCalendar:
    """Create a business calendar, or change the one ``calendar_id`` names (administrators).
    Open requests' SLAs are computed from their history against the calendar as it is now,
    so a change applies to all of them alike."""
    _require_admin(actor)
    name = name_text(name, "name", NAME_MAX_LENGTH)
    data = check_calendar(definition)
    async with unit_of_work():
        if await BusinessCalendar.filter(name=name).exclude(id=calendar_id or 0).exists():
            raise Conflict("A calendar with this name exists: choose another name.")
        if calendar_id is None:
            calendar = await BusinessCalendar.create(name=name, definition=data)
        else:
            found = await BusinessCalendar.filter(id=calendar_id).select_for_update().first()
            if found is None:
                raise NotFound("business calendar")
            calendar = found
            calendar.name, calendar.definition = name, data
            await calendar.save()
        await audit("business_calendar.set", actor=actor, target=f"calendar:{calendar.id}")
        await request_reminders.schedule_all_request_timers(now=now())
    return calendar


async def set_sla_policy(
    actor: User,
    *,
    type_id: int,
    calendar_id: int,
    customer_id: int | None = None,
    first_response_minutes: int | None = None,
    resolution_minutes: int | None = None,
) -> SlaPolicy:
    """The SLA of a request type (for one customer, overriding the type's, with
    ``customer_id``): targets in business minutes of the calendar (None: no target)."""
    _require_admin(actor)
    targets = SlaTargets.checked(first_response_minutes, resolution_minutes)
    first, resolution = targets.first_response_minutes, targets.resolution_minutes
    if not await RequestType.exists(id=type_id):
        raise NotFound("request type")
    if not await BusinessCalendar.exists(id=calendar_id):
        raise NotFound("business calendar")
    if customer_id is not None:
        await policy.get_visible(policy.visible_customers(actor), customer_id, "customer")
    async with unit_of_work():
        found = (
            await SlaPolicy.filter(request_type_id=type_id, customer_id=customer_id)
            .select_for_update()
            .first()
        )
        if found is None:
            sla = await SlaPolicy.create(
                request_type_id=type_id,
                customer_id=customer_id,
                calendar_id=calendar_id,
                first_response_minutes=first,
                resolution_minutes=resolution,
            )
        else:
            sla = found
            sla.calendar_id = calendar_id
            sla.first_response_minutes, sla.resolution_minutes = first, resolution
            await sla.save()
        await audit(
            "sla_policy.set", actor=actor, target=f"request_type:{type_id}", customer=customer_id
        )
        await request_reminders.schedule_all_request_timers(now=now())
    return sla


async def sla_policy_for(request_type_id: int, customer_id: int) -> SlaPolicy | None:
    """The customer's own policy for the type, else the type's general one, else None."""
    own = await SlaPolicy.get_or_none(request_type_id=request_type_id, customer_id=customer_id)
    if own is not None:
        return own
    return await SlaPolicy.get_or_none(request_type_id=request_type_id, customer_id=None)
