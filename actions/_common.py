from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

from tortoise.expressions import Q

from actions import audit as audit_trail
from actions.jobs import enqueue
from domain import webhooks
from domain.errors import BadUserInput
from models import AuditEntry, Event, Project, User, Visibility, WebhookEndpoint, WebhookState
from models.events import EventPayload, mark_event_writer

MICROPOST_MAX_LENGTH = 5_000
PAGE_MAX_LENGTH = 200_000
TITLE_MAX_LENGTH = 200
NAME_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 20_000
REASON_MAX_LENGTH = 2_000
IN_LIST_MAX = 1_000
"""The most values one SQL ``IN (...)`` carries; longer lists are asked in batches."""

T = TypeVar("T")


def batches(values: Iterable[T], size: int | None = None) -> Iterator[list[T]]:
    """``values`` in lists of at most ``size`` (``IN_LIST_MAX``), in order, for
    ``field__in=`` filters."""
    size = size or IN_LIST_MAX
    batch: list[T] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def now() -> datetime:
    return datetime.now(UTC)


def required_text(value: str, field: str, max_length: int) -> str:
    """Strip surrounding space; refuse an empty value or one longer than the limit."""
    text = value.strip()
    if not text:
        raise BadUserInput(f"{field} must not be empty.", field=field)
    return limited_text(text, field, max_length)


_DIRECTION_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def name_text(value: str, field: str, max_length: int) -> str:
    """A name or title that identifies something to other people (a person's, customer's,
    project's or page's): :func:`required_text`, and refused (``BAD_USER_INPUT`` naming
    ``field``) when it holds a control character (line breaks and tabs included: U+0000 to
    U+001F, U+007F to U+009F), a line or paragraph separator (U+2028, U+2029) or a
    bidirectional control (U+061C, U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069),
    which would make it read differently from what it is, or spill into the text around
    it. Joiners (U+200C, U+200D) stay: names in many scripts and emoji need them."""
    text = required_text(value, field, max_length)
    char = invisible_control(text)
    if char is not None:
        raise BadUserInput(
            f"{field} holds the invisible character U+{ord(char):04X}: "
            "names and titles are one line of visible text.",
            field=field,
        )
    return text


def invisible_control(text: str) -> str | None:
    """The first character of ``text`` that :func:`name_text` refuses, or None."""
    for char in text:
        if (
            unicodedata.category(char) in ("Cc", "Zl", "Zp")
            or _DIRECTION_CONTROLS.match(char) is not None
        ):
            return char
    return None


def limited_text(value: str, field: str, max_length: int) -> str:
    if len(value) > max_length:
        raise BadUserInput(
            f"{field} is {len(value):,} characters long; the limit is {max_length:,}.",
            field=field,
        )
    return value


async def record_event(
    details: EventPayload,
    project: Project,
    actor: User,
    *,
    visibility: Visibility = Visibility.SHARED,
    micropost_id: int | None = None,
    page_id: int | None = None,
) -> Event:
    """Write the durable Event row of what happened (``details``, whose type is the
    event's kind); call inside the action's unit of work, then publish it there."""
    await mark_event_writer()  # before the id is drawn: see models.events.resolved_through
    event = await Event.create(
        kind=details.kind,
        customer_id=project.customer_id,
        project_id=project.id,
        actor_id=actor.id,
        visibility=visibility,
        micropost_id=micropost_id,
        page_id=page_id,
        payload=details.to_json(),
    )
    await wake_webhooks(event)
    return event


async def wake_webhooks(event: Event) -> None:
    """Schedule the delivery of the webhook endpoints that may want ``event``, in the unit
    of work that wrote it: one keyed job per active endpoint of its customer or of all."""
    ids = await WebhookEndpoint.filter(
        Q(customer_id=None) | Q(customer_id=event.customer_id), state=WebhookState.ACTIVE
    ).values_list("id", flat=True)
    for endpoint_id in ids:
        key = webhooks.deliver_key(int(str(endpoint_id)))
        await enqueue(webhooks.DELIVER_JOB, {"endpoint": int(str(endpoint_id))}, key=key)


async def audit(
    action: str,
    *,
    actor: User | None = None,
    subject: User | int | None = None,
    target: str = "",
    client_address: str = "",
    **details: Any,
) -> AuditEntry:
    """Append an entry to the audit trail (actions/audit.py): ``details`` are JSON values
    without names or e-mail addresses; ``subject`` is the user it is about, by default the
    one a ``user:<id>`` target names."""
    return await audit_trail.append(
        action,
        actor=actor,
        subject=subject,
        target=target,
        client_address=client_address,
        details=details,
    )
