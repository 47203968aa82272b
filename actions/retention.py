"""Retention per class of data: each class is kept for its setting's days, and the
background runner deletes what is older once a day, at 03:00 UTC (job ``retention.purge``).

A purge never deletes what a user still needs:

- ``events``: the event log's horizon rules (actions/events.py ``prune_events``): events
  that notifications refer to, events of open requests (not APPROVED, REJECTED, RESOLVED or
  WITHDRAWN) and of library documents still shown (DRAFT or VALID) stay, and while a
  webhook endpoint exists, 30 days at least;
- ``notifications``: read ones only, by when they were read; unread ones stay whatever
  their age;
- ``audit``: kept for ever unless ``EXTRANET_RETENTION_AUDIT_DAYS`` is set; then only a
  whole prefix of the hash chain goes (every entry up to the newest old one, never the
  newest entry), the hash of the last one deleted is kept as the chain's anchor (where
  ``extranet verify-audit`` starts), and an ``audit.pruned`` entry says so;
- ``interactions``: the days of counts before ``EXTRANET_INTERACTIONS_KEPT_DAYS``
  (actions/interactions.py);
- ``mail``: SENT and FAILED mails of the outbox (``EXTRANET_MAIL_KEPT_DAYS``); mails still
  to send stay;
- ``webhook_deliveries``: the delivery log; the last delivery of each endpoint stays, so an
  endpoint always shows how its last attempt went.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.functions import Max

from actions import audit as audit_trail
from actions import events, interactions, mail
from actions._common import audit, now
from actions.jobs import JobContext, enqueue, job_handler
from actions.unit_of_work import unit_of_work
from domain.sla import STOPPED_STATUSES
from infra.settings import Settings
from models import (
    AuditEntry,
    DocumentState,
    Event,
    LibraryDocument,
    Notification,
    ServiceRequest,
    WebhookDelivery,
)

log = logging.getLogger(__name__)

PURGE_JOB = "retention.purge"
PURGE_AT = 3  # o'clock UTC: the purge runs daily then


class DataClass(StrEnum):
    EVENTS = "events"
    NOTIFICATIONS = "notifications"
    AUDIT = "audit"
    INTERACTIONS = "interactions"
    MAIL = "mail"
    WEBHOOK_DELIVERIES = "webhook_deliveries"


def retention_of(settings: Settings, data_class: DataClass) -> timedelta | None:
    """How long ``data_class`` is kept by the settings; None: for ever."""
    days: int | None = {
        DataClass.EVENTS: settings.retention_events_days,
        DataClass.NOTIFICATIONS: settings.retention_notifications_days,
        DataClass.AUDIT: settings.retention_audit_days,
        DataClass.INTERACTIONS: settings.interactions_kept_days,
        DataClass.MAIL: settings.mail_kept_days,
        DataClass.WEBHOOK_DELIVERIES: settings.retention_webhook_deliveries_days,
    }[data_class]
    return None if days is None else timedelta(days=days)


@dataclass(frozen=True, slots=True)
class Purged:
    """What one purge of a class did: rows ``deleted``, and old rows ``kept`` because a
    user still needs them (counted where the class tells)."""

    data_class: DataClass
    deleted: int
    kept: int = 0


def still_shown() -> Q:
    """The events a purge of the event log keeps whatever their age: those of open requests
    and of library documents still shown."""
    open_requests = ServiceRequest.exclude(status__in=sorted(STOPPED_STATUSES)).values("id")
    # (an event of no request must not compare as NULL: NOT NULL would keep it too)
    keep = Q(request_id__isnull=False, request_id__in=Subquery(open_requests))
    if "library_document_id" in Event._meta.fields_map:
        shown = LibraryDocument.filter(
            recorded_state__in=(DocumentState.DRAFT, DocumentState.VALID)
        ).values("id")
        keep |= Q(library_document_id__isnull=False, library_document_id__in=Subquery(shown))
    return keep


async def purge(data_class: DataClass, older_than: timedelta, *, force: bool = False) -> Purged:
    """Delete what of ``data_class`` is older than ``older_than``, within the rules above.
    For ``events``, ages below a day are refused (BAD_USER_INPUT) unless ``force``."""
    cutoff = now() - older_than
    if data_class is DataClass.EVENTS:
        pruned = await events.prune_events(older_than, force=force, keep=still_shown())
        return Purged(data_class, pruned.events, pruned.kept_for_notifications)
    if data_class is DataClass.NOTIFICATIONS:
        async with unit_of_work():
            deleted = await Notification.filter(read_at__isnull=False, read_at__lt=cutoff).delete()
        return Purged(data_class, deleted)
    if data_class is DataClass.AUDIT:
        return Purged(data_class, await _purge_audit(cutoff))
    if data_class is DataClass.INTERACTIONS:
        return Purged(data_class, await interactions.purge_interactions(cutoff))
    if data_class is DataClass.MAIL:
        return Purged(data_class, await mail.prune_outbox(cutoff))
    return Purged(data_class, await _purge_webhook_deliveries(cutoff))


async def _purge_webhook_deliveries(cutoff: datetime) -> int:
    last = WebhookDelivery.annotate(last=Max("id")).group_by("endpoint_id").values("last")
    async with unit_of_work():
        old = WebhookDelivery.filter(created_at__lt=cutoff)
        return int(await old.exclude(id__in=Subquery(last)).delete())


async def _purge_audit(cutoff: datetime) -> int:
    """Delete the chain's whole prefix up to its newest entry older than ``cutoff`` (never
    its newest entry, which the next one chains to), record the anchor (the last entry
    deleted and its hash, where ``verify`` starts now) and an ``audit.pruned`` entry."""
    async with unit_of_work():
        chained = AuditEntry.filter(sequence__not_isnull=True)
        head = await chained.order_by("-sequence").first()
        newest_old = await chained.filter(created_at__lt=cutoff).order_by("-sequence").first()
        if head is None or newest_old is None or head.sequence is None:
            return 0
        through = min(newest_old.sequence or 0, head.sequence - 1)
        last = await chained.get_or_none(sequence=through)
        if last is None:
            return 0
        deleted = int(await chained.filter(sequence__lte=through).delete())
        await audit_trail.set_anchor(through, last.entry_hash)
        await audit("audit.pruned", target=f"audit<={through}", count=deleted)
    return deleted


async def purge_all(settings: Settings) -> list[Purged]:
    """Purge every class that has a retention, each past its own; a class that fails is
    logged and the others go on."""
    done: list[Purged] = []
    for data_class in DataClass:
        kept_for = retention_of(settings, data_class)
        if kept_for is None:
            continue
        try:
            done.append(await purge(data_class, kept_for))
        except Exception:
            log.exception("Purging %s past its retention failed", data_class.value)
    return done


@job_handler(PURGE_JOB, max_attempts=3)
async def _purge_daily(ctx: JobContext, payload: dict[str, Any]) -> None:
    for purged in await purge_all(ctx.settings):
        if purged.deleted:
            log.info("Deleted %s %s past retention", purged.deleted, purged.data_class.value)
    async with unit_of_work():
        await schedule_purge(ctx.now)


def next_purge(moment: datetime) -> datetime:
    """When the purge after ``moment`` is due: the next :data:`PURGE_AT` o'clock UTC."""
    moment = moment.astimezone(UTC)
    due = datetime.combine(moment.date(), time(PURGE_AT), tzinfo=UTC)
    return due if due > moment else due + timedelta(days=1)


async def schedule_purge(moment: datetime) -> None:
    """Schedule the purge due next after ``moment`` (:func:`next_purge`), once however often
    it is asked (keyed by its day), in the caller's unit of work. Each purge schedules the
    next; a sign-in checked by the runner schedules one too, so a new deployment starts."""
    due = next_purge(moment)
    await enqueue(PURGE_JOB, {}, run_at=due, key=f"{PURGE_JOB}:{due.date().isoformat()}")
