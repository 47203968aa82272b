"""Webhook endpoints and their deliveries: the event log is the outbox.

Each endpoint is a consumer of the durable event log with its own ``cursor``. A keyed job per
endpoint (``webhooks.deliver:<id>``) reads the events after the cursor, up to
:func:`models.events.resolved_through` (no lower id can appear any more), in id order, and
sends each the endpoint's owner may read *now* (``policy.visible_events``, the predicate the
subscriptions use), of the types and customer or project wanted; the others are skipped and
the cursor moves past them. An event is sent only once the one before it succeeded; the
cursor moves after a 2xx answer, so a worker that stops mid-delivery leaves the event to the
next one (at least once, the same ``webhook-id``).

A failed attempt is retried on the schedule of :mod:`domain.webhooks`; when it is spent the
endpoint is PAUSED (its owner gets a mail, the audit trail an entry) and probed every 30
minutes with its pending event: a 2xx answer resumes it. Paused longer than
``EXTRANET_WEBHOOK_DISABLE_AFTER`` it is DISABLED until :func:`enable_endpoint`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from tortoise.expressions import Subquery

from actions._common import audit, now
from actions.jobs import JobContext, enqueue, job_handler
from actions.mail import queue_mail
from actions.unit_of_work import unit_of_work
from domain import policy
from domain import webhooks as hooks
from domain.errors import BadUserInput, Forbidden, NotFound
from domain.mail import OutgoingMessage
from infra import metrics, tracing
from infra.egress import Answer, EgressRefused, networks, post, resolve
from infra.settings import Settings
from models import (
    Event,
    EventKind,
    Job,
    JobStatus,
    User,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookState,
)
from models.events import resolved_through
from realtime.stream import encode_cursor

log = logging.getLogger(__name__)

DELIVER_JOB = hooks.DELIVER_JOB
REDELIVER_JOB = "webhooks.redeliver"
BATCH = 50
"""Events one pass reads at most before it hands over to the next pass (a new job)."""
MAX_ENDPOINTS = 50
"""Endpoints one user may own."""


# -- registration -----------------------------------------------------------------------


async def _check_url(url: str, settings: Settings) -> str:
    url = url.strip()
    if len(url) > 2000:
        raise BadUserInput("The URL is longer than 2,000 characters.", field="url")
    try:
        await resolve(url, networks(settings.webhook_allow_networks))
    except EgressRefused as refused:
        raise BadUserInput(str(refused), field="url") from None
    return url


def _check_types(event_types: list[str]) -> list[str]:
    known = {kind.value for kind in EventKind}
    unknown = sorted(set(event_types) - known)
    if unknown:
        raise BadUserInput(
            f"Unknown event types: {', '.join(unknown)}. Known: {', '.join(sorted(known))}.",
            field="eventTypes",
        )
    return sorted(set(event_types))


async def _scope(
    owner: User, customer_id: int | None, project_id: int | None
) -> tuple[int | None, int | None]:
    """The customer and project filter of an endpoint its owner may register: an
    administrator any (or none), a lead contact their own customer (always set)."""
    if project_id is not None:
        project = await policy.get_visible(policy.visible_projects(owner), project_id, "project")
        if customer_id is not None and customer_id != project.customer_id:
            raise BadUserInput("The project belongs to another customer.", field="projectId")
        customer_id = project.customer_id
    if customer_id is not None:
        await policy.get_visible(policy.visible_customers(owner), customer_id, "customer")
    if not policy.is_admin(owner):
        customer_id = owner.customer_id
    if not policy.can_manage_webhooks(owner, customer_id):
        raise Forbidden("Only administrators and a customer's lead contacts manage webhooks.")
    return customer_id, project_id


async def create_endpoint(
    owner: User,
    settings: Settings,
    *,
    url: str,
    event_types: list[str],
    customer_id: int | None = None,
    project_id: int | None = None,
    description: str = "",
    client_address: str = "",
) -> WebhookEndpoint:
    """Register an endpoint owned by ``owner`` (an administrator, or a lead contact for
    their own customer: FORBIDDEN otherwise). It starts at the end of the log: it receives
    events from now on. BAD_USER_INPUT for a URL that is not http(s) or reaches no public
    address (outside the allowed networks), or an unknown event type; NOT_FOUND for a
    customer or project out of sight."""
    if not policy.can_manage_webhooks(owner, owner.customer_id):
        raise Forbidden("Only administrators and a customer's lead contacts manage webhooks.")
    customer_id, project_id = await _scope(owner, customer_id, project_id)
    checked = await _check_url(url, settings)
    types = _check_types(event_types)
    start = await resolved_through()
    async with unit_of_work():
        if await WebhookEndpoint.filter(owner_id=owner.id).count() >= MAX_ENDPOINTS:
            raise BadUserInput(f"You have {MAX_ENDPOINTS} endpoints already: delete one first.")
        endpoint = await WebhookEndpoint.create(
            owner_id=owner.id,
            url=checked,
            description=description.strip()[:200],
            event_types=types,
            customer_id=customer_id,
            project_id=project_id,
            secret=hooks.new_secret(),
            cursor=start,
            state=WebhookState.ACTIVE,
            state_since=now(),
        )
        await audit(
            "webhook.created",
            actor=owner,
            target=f"WebhookEndpoint:{endpoint.id}",
            client_address=client_address,
            url=checked,
        )
    return endpoint


async def endpoint_of(viewer: User, endpoint_id: int) -> WebhookEndpoint:
    """An endpoint the viewer manages (:func:`policy.visible_webhook_endpoints`), else
    NOT_FOUND."""
    return await policy.get_visible(
        policy.visible_webhook_endpoints(viewer), endpoint_id, "webhook endpoint"
    )


async def update_endpoint(
    viewer: User,
    settings: Settings,
    endpoint_id: int,
    *,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    client_address: str = "",
) -> WebhookEndpoint:
    """Change an endpoint's URL, event types or description (None: unchanged)."""
    endpoint = await endpoint_of(viewer, endpoint_id)
    changes: dict[str, Any] = {}
    if url is not None:
        changes["url"] = await _check_url(url, settings)
    if event_types is not None:
        changes["event_types"] = _check_types(event_types)
    if description is not None:
        changes["description"] = description.strip()[:200]
    async with unit_of_work():
        await WebhookEndpoint.filter(id=endpoint.id).update(**changes)
        await audit(
            "webhook.updated",
            actor=viewer,
            target=f"WebhookEndpoint:{endpoint.id}",
            client_address=client_address,
            fields=sorted(changes),
        )
        await _wake(endpoint.id)
    return await WebhookEndpoint.get(id=endpoint.id)


async def rotate_secret(
    viewer: User,
    endpoint_id: int,
    *,
    overlap: timedelta = hooks.ROTATION_OVERLAP,
    client_address: str = "",
) -> WebhookEndpoint:
    """A new secret signs from now on; the current one keeps signing too (both signatures
    are sent) for ``overlap`` (at most 7 days; 0: it stops at once)."""
    if not timedelta(0) <= overlap <= hooks.ROTATION_OVERLAP_MOST:
        raise BadUserInput("The overlap is from 0 to 7 days.", field="overlapSeconds")
    endpoint = await endpoint_of(viewer, endpoint_id)
    async with unit_of_work():
        await WebhookEndpoint.filter(id=endpoint.id).update(
            secret=hooks.new_secret(),
            previous_secret=endpoint.secret if overlap else None,
            previous_secret_expires_at=now() + overlap if overlap else None,
        )
        await audit(
            "webhook.secret_rotated",
            actor=viewer,
            target=f"WebhookEndpoint:{endpoint.id}",
            client_address=client_address,
        )
    return await WebhookEndpoint.get(id=endpoint.id)


async def enable_endpoint(
    viewer: User, endpoint_id: int, *, client_address: str = ""
) -> WebhookEndpoint:
    """Make a paused or disabled endpoint ACTIVE: its pending event is sent at once."""
    endpoint = await endpoint_of(viewer, endpoint_id)
    async with unit_of_work():
        await WebhookEndpoint.filter(id=endpoint.id).update(
            state=WebhookState.ACTIVE,
            state_since=now(),
            state_reason="",
            consecutive_failures=0,
            next_attempt_at=None,
        )
        await audit(
            "webhook.enabled",
            actor=viewer,
            target=f"WebhookEndpoint:{endpoint.id}",
            client_address=client_address,
        )
        await _wake(endpoint.id)
    return await WebhookEndpoint.get(id=endpoint.id)


async def delete_endpoint(viewer: User, endpoint_id: int, *, client_address: str = "") -> None:
    """Delete an endpoint and its delivery log; nothing more is sent to it."""
    endpoint = await endpoint_of(viewer, endpoint_id)
    async with unit_of_work():
        await WebhookEndpoint.filter(id=endpoint.id).delete()
        await audit(
            "webhook.deleted",
            actor=viewer,
            target=f"WebhookEndpoint:{endpoint.id}",
            client_address=client_address,
            url=endpoint.url,
        )


async def redeliver(
    viewer: User,
    *,
    delivery_id: int | None = None,
    endpoint_id: int | None = None,
    event_id: int | None = None,
) -> WebhookEndpoint:
    """Send an event to an endpoint once more, soon (a background job), outside the order
    of the log and with its usual ``webhook-id``: the event of a logged delivery, or
    ``event_id`` at ``endpoint_id``. NOT_FOUND for a delivery, endpoint or event out of
    sight (an event its owner may not read now is one)."""
    if delivery_id is not None:
        mine = Subquery(policy.visible_webhook_endpoints(viewer).values("id"))
        delivery = await WebhookDelivery.filter(id=delivery_id, endpoint_id__in=mine).first()
        if delivery is None:
            raise NotFound("No webhook delivery with this ID.")
        endpoint = await endpoint_of(viewer, delivery.endpoint_id)
        event_id = delivery.event_id
    elif endpoint_id is not None:
        endpoint = await endpoint_of(viewer, endpoint_id)
        if event_id is None:
            raise BadUserInput("Name the event to send again by its cursor.", field="cursor")
    else:
        raise BadUserInput("Name a delivery, or an endpoint and an event.")
    owner = await User.get(id=endpoint.owner_id)
    if not await policy.visible_events(owner).filter(id=event_id).exists():
        raise NotFound("No event with this ID (it may have been pruned).")
    async with unit_of_work():
        await enqueue(REDELIVER_JOB, {"endpoint": endpoint.id, "event": event_id})
    return endpoint


# -- what an endpoint receives ------------------------------------------------------------


async def readable_events(
    endpoint: WebhookEndpoint, owner: User, after: int, through: int, limit: int
) -> list[Event]:
    """The events after ``after`` up to ``through`` that the endpoint receives: of its
    types, customer and project, and readable by its owner now; oldest first."""
    events = policy.visible_events(owner).filter(id__gt=after, id__lte=through)
    if endpoint.event_types:
        events = events.filter(kind__in=endpoint.event_types)
    if endpoint.customer_id is not None:
        events = events.filter(customer_id=endpoint.customer_id)
    if endpoint.project_id is not None:
        events = events.filter(project_id=endpoint.project_id)
    return list(await events.order_by("id").limit(limit))


def message_of(event: Event, cursor: str) -> bytes:
    """The body of ``event``'s delivery (``cursor``: the cursor subscriptions use)."""
    return hooks.message(
        event.kind.value,
        cursor,
        event.created_at,
        hooks.event_data(
            event.payload,
            customer_id=event.customer_id,
            project_id=event.project_id,
            request_id=event.request_id,
            actor_id=event.actor_id,
            visibility=event.visibility.value,
        ),
    )


def _secrets(endpoint: WebhookEndpoint, at: datetime) -> list[str]:
    signing = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > at:
        signing.append(endpoint.previous_secret)
    return signing


@dataclass(frozen=True, slots=True)
class Attempt:
    ok: bool
    answer: Answer | None
    error: str
    duration_ms: int


async def _send(
    endpoint: WebhookEndpoint, event: Event, settings: Settings, at: datetime, cursor: str
) -> Attempt:
    body = message_of(event, cursor)
    headers = hooks.signature_headers(
        hooks.webhook_id(endpoint.id, event.id), at, body, _secrets(endpoint, at)
    )
    headers.update(tracing.headers())  # the trace of the operation behind the delivery
    started = time.monotonic()
    try:
        target = await resolve(endpoint.url, networks(settings.webhook_allow_networks))
        answer = await post(
            target, body, headers, timeout=hooks.TIMEOUT, body_limit=hooks.RESPONSE_KEPT
        )
    except EgressRefused as refused:
        return Attempt(False, None, str(refused), int((time.monotonic() - started) * 1000))
    except (httpx.HTTPError, TimeoutError, OSError) as error:
        what = "No answer within 15 s" if isinstance(error, TimeoutError) else repr(error)
        return Attempt(False, None, what[:1000], int((time.monotonic() - started) * 1000))
    problem = "" if answer.ok else f"The endpoint answered {answer.status}"
    if 300 <= answer.status < 400:
        problem += " (a redirect: redirects are not followed)"
    return Attempt(answer.ok, answer, problem, answer.duration_ms)


async def _log(
    endpoint: WebhookEndpoint, event: Event, attempt: Attempt, number: int, *, manual: bool
) -> None:
    metrics.WEBHOOK_DELIVERIES.labels("succeeded" if attempt.ok else "failed").inc()
    await WebhookDelivery.create(
        endpoint_id=endpoint.id,
        event_id=event.id,
        event_type=event.kind.value,
        webhook_id=hooks.webhook_id(endpoint.id, event.id),
        attempt=number,
        manual=manual,
        status=WebhookDeliveryStatus.SUCCEEDED if attempt.ok else WebhookDeliveryStatus.FAILED,
        duration_ms=attempt.duration_ms,
        response_code=attempt.answer.status if attempt.answer else None,
        response_body=attempt.answer.body if attempt.answer else "",
        error=attempt.error,
    )


# -- the delivery jobs ----------------------------------------------------------------------


async def _wake(endpoint_id: int, at: datetime | None = None) -> None:
    await enqueue(
        DELIVER_JOB, {"endpoint": endpoint_id}, run_at=at, key=hooks.deliver_key(endpoint_id)
    )


async def _another_pass_runs(ctx: JobContext) -> bool:
    """Whether another job of this endpoint's key holds a live lease (a pass of the same
    endpoint must not run beside it: the order would break)."""
    return (
        await Job.filter(key=ctx.key, status=JobStatus.RUNNING, leased_until__gt=ctx.now)
        .exclude(id=ctx.job_id)
        .exists()
    )


async def _pause(endpoint: WebhookEndpoint, at: datetime, reason: str) -> None:
    owner = await User.get(id=endpoint.owner_id)
    await WebhookEndpoint.filter(id=endpoint.id).update(
        state=WebhookState.PAUSED,
        state_since=at,
        state_reason=reason[:500],
        next_attempt_at=at + hooks.PROBE_EVERY,
    )
    await audit(
        "webhook.paused", target=f"WebhookEndpoint:{endpoint.id}", url=endpoint.url, why=reason
    )
    message = OutgoingMessage(
        to_address=owner.email,
        to_user_id=owner.id,
        template="notice",
        subject="A webhook endpoint was paused",
        context={
            "heading": "A webhook endpoint was paused",
            "paragraphs": [
                f"Deliveries to {endpoint.url} failed on every attempt of the retry "
                f"schedule; the last said: {reason}",
                "It is tried again every 30 minutes and resumes by itself once it "
                "answers with a 2xx status; nothing is lost meanwhile. Left paused "
                "for days, it is disabled and must be enabled again.",
            ],
            "link": None,
        },
        category=None,
        thread_key=f"webhook-{endpoint.id}",
    )
    if owner.is_active and not owner.email.endswith(".invalid"):  # not a service account
        await queue_mail(message)


async def _disable(endpoint: WebhookEndpoint, at: datetime) -> None:
    reason = f"Paused since {endpoint.state_since}: {endpoint.state_reason}"
    await WebhookEndpoint.filter(id=endpoint.id).update(
        state=WebhookState.DISABLED, state_since=at, state_reason=reason[:500], next_attempt_at=None
    )
    await audit("webhook.disabled", target=f"WebhookEndpoint:{endpoint.id}", url=endpoint.url)


@job_handler(DELIVER_JOB, max_attempts=20)
async def deliver(ctx: JobContext, payload: dict[str, Any]) -> None:
    """One pass over an endpoint's pending events (see the module's docstring)."""
    endpoint = await WebhookEndpoint.get_or_none(id=int(payload["endpoint"]))
    if endpoint is None or endpoint.state is WebhookState.DISABLED:
        return
    if await _another_pass_runs(ctx):
        async with unit_of_work(ctx.bus):
            await _wake(endpoint.id, ctx.now + timedelta(seconds=1))
        return
    started = time.monotonic()
    paused_for = timedelta(seconds=ctx.settings.webhook_disable_after)

    def clock() -> datetime:
        return ctx.now + timedelta(seconds=time.monotonic() - started)

    since = endpoint.state_since
    if endpoint.state is WebhookState.PAUSED and since and ctx.now >= since + paused_for:
        async with unit_of_work(ctx.bus):
            await _disable(endpoint, ctx.now)
        return
    due = endpoint.next_attempt_at
    if due is not None and due > ctx.now:  # woken early by a new event: keep the schedule
        async with unit_of_work(ctx.bus):
            await _wake(endpoint.id, due)
        return
    owner = await User.get(id=endpoint.owner_id)
    if not owner.is_active:
        return
    through = await resolved_through()
    events = await readable_events(endpoint, owner, endpoint.cursor, through, BATCH)
    for event in events:
        at = clock()
        attempt = await _send(endpoint, event, ctx.settings, at, encode_cursor(event.id))
        failures = endpoint.consecutive_failures + 1
        async with unit_of_work(ctx.bus):
            await _log(endpoint, event, attempt, failures, manual=False)
            if attempt.ok:
                resumed = endpoint.state is WebhookState.PAUSED
                await WebhookEndpoint.filter(id=endpoint.id).update(
                    cursor=event.id,
                    consecutive_failures=0,
                    next_attempt_at=None,
                    **(
                        {"state": WebhookState.ACTIVE, "state_since": at, "state_reason": ""}
                        if resumed
                        else {}
                    ),
                )
                if resumed:
                    await audit("webhook.resumed", target=f"WebhookEndpoint:{endpoint.id}")
                endpoint = await WebhookEndpoint.get(id=endpoint.id)
                continue
            delay = hooks.next_retry(failures)
            if endpoint.state is WebhookState.PAUSED or delay is None:
                if endpoint.state is WebhookState.ACTIVE:
                    await _pause(endpoint, at, attempt.error)
                await WebhookEndpoint.filter(id=endpoint.id).update(
                    consecutive_failures=failures, next_attempt_at=at + hooks.PROBE_EVERY
                )
                await _wake(endpoint.id, at + hooks.PROBE_EVERY)
            else:
                await WebhookEndpoint.filter(id=endpoint.id).update(
                    consecutive_failures=failures, next_attempt_at=at + delay
                )
                await _wake(endpoint.id, at + delay)
        return
    last = events[-1].id if len(events) == BATCH else through
    async with unit_of_work(ctx.bus):
        # past what was delivered, the events it does not receive are skipped
        await WebhookEndpoint.filter(id=endpoint.id, cursor__lt=last).update(cursor=last)
        if len(events) == BATCH:
            await _wake(endpoint.id)


@job_handler(REDELIVER_JOB, max_attempts=1)
async def redeliver_one(ctx: JobContext, payload: dict[str, Any]) -> None:
    """A manual redelivery: one attempt, logged, that changes neither cursor nor state."""
    endpoint = await WebhookEndpoint.get_or_none(id=int(payload["endpoint"]))
    if endpoint is None:
        return
    owner = await User.get(id=endpoint.owner_id)
    event = await policy.visible_events(owner).filter(id=int(payload["event"])).first()
    if event is None:
        return
    attempt = await _send(endpoint, event, ctx.settings, ctx.now, encode_cursor(event.id))
    async with unit_of_work(ctx.bus):
        number = await WebhookDelivery.filter(endpoint_id=endpoint.id, event_id=event.id).count()
        await _log(endpoint, event, attempt, number + 1, manual=True)


async def pull_events(
    viewer: User, endpoint_id: int, after: int, first: int
) -> tuple[WebhookEndpoint, list[tuple[Event, bytes]]]:
    """What the endpoint receives after the cursor ``after`` (at most ``first``), each with
    its delivery body: how a receiver catches up with what it missed."""
    endpoint = await endpoint_of(viewer, endpoint_id)
    owner = await User.get(id=endpoint.owner_id)
    through = await resolved_through()
    events = await readable_events(endpoint, owner, after, through, first)
    return endpoint, [(event, message_of(event, encode_cursor(event.id))) for event in events]
