"""Demo data: requests handled in past weeks, recorded as an import of the past would be
(their submission, first answer and resolution at the moments given, with their history),
without notifications, mail or events, which belong to things happening now. They give the
demo customer's figures and charts weeks to show."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from actions.requests import _next_number, reference
from actions.unit_of_work import unit_of_work
from domain.markdown import render_markdown
from models import (
    Customer,
    RequestMessage,
    RequestStatus,
    RequestStatusChange,
    RequestType,
    ServiceRequest,
    User,
)


@dataclass(frozen=True)
class PastRequest:
    title: str
    submitted: datetime
    answered: datetime
    """The first answer of staff (the request's first response), when work began."""
    resolved: datetime
    answer: str
    answers: dict[str, Any] = field(default_factory=dict)
    """The form's answers, as checked ones are stored."""


async def record_past_requests(
    customer: Customer,
    request_type: RequestType,
    requester: User,
    staff: User,
    past: Sequence[PastRequest],
) -> list[ServiceRequest]:
    """Record ``past`` requests of ``customer``: submitted by ``requester``, answered,
    worked on and resolved by ``staff``, each at its moments; RESOLVED now."""
    S = RequestStatus
    made = []
    async with unit_of_work():
        for each in past:
            number = await _next_number(customer.id)
            request = await ServiceRequest.create(
                customer_id=customer.id,
                request_type_id=request_type.id,
                number=number,
                reference=reference(customer, number),
                title=each.title,
                requester_id=requester.id,
                assignee_id=staff.id,
                status=S.RESOLVED,
                answers=each.answers,
                first_response_at=each.answered,
                resolved_at=each.resolved,
            )
            await ServiceRequest.filter(id=request.id).update(created_at=each.submitted)
            for moment, before, after, actor in (
                (each.submitted, None, S.RECEIVED, requester),
                (each.answered, S.RECEIVED, S.IN_PROGRESS, staff),
                (each.resolved, S.IN_PROGRESS, S.RESOLVED, staff),
            ):
                change = await RequestStatusChange.create(
                    request_id=request.id, from_status=before, to_status=after, actor_id=actor.id
                )
                await RequestStatusChange.filter(id=change.id).update(created_at=moment)
            message = await RequestMessage.create(
                request_id=request.id,
                author_id=staff.id,
                body=each.answer,
                body_html=render_markdown(each.answer),
            )
            await RequestMessage.filter(id=message.id).update(created_at=each.answered)
            made.append(request)
    return made
