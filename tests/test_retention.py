"""Retention per class of data: each class is purged past its setting by the daily job, and
nothing a user still needs goes (unread notifications, events of open requests and those an
inbox shows, mails still to send, an endpoint's last delivery, the audit chain's validity)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from starlette.applications import Starlette

from actions import audit as audit_trail
from actions import retention
from actions._common import audit, now
from actions.unit_of_work import unit_of_work
from infra.settings import Settings
from models import (
    AuditEntry,
    Event,
    Job,
    JobStatus,
    MailStatus,
    Notification,
    OutgoingMail,
    RequestStatus,
    SearchCount,
    ServiceRequest,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookState,
)
from tests.world import World

LONG_AGO = timedelta(days=800)


async def test_each_class_is_purged_past_its_retention_and_what_users_need_stays(
    app: Starlette, world: World, settings: Settings
) -> None:
    # given a world whose every row is 800 days old: Globex's request is resolved, Acme's open
    old = now() - LONG_AGO
    await ServiceRequest.filter(id=world.globex_request.id).update(status=RequestStatus.RESOLVED)
    await Event.all().update(created_at=old)
    unread = await Notification.filter(read_at=None).first()
    assert unread is not None
    read = await Notification.exclude(id=unread.id).first()
    assert read is not None
    await Notification.filter(id=read.id).update(read_at=old)
    await Notification.exclude(id__in=[unread.id, read.id]).delete()
    notified = {unread.event_id, read.event_id}
    acme_request_events = {e.id for e in await Event.filter(request_id=world.acme_request.id)}
    assert acme_request_events
    # and mails, searches and webhook deliveries of then, and some of now
    sent = await _mail(MailStatus.SENT)
    waiting = await _mail(MailStatus.QUEUED)
    await OutgoingMail.filter(id__in=[sent, waiting]).update(created_at=old)
    await SearchCount.create(customer_id=world.acme.id, day=old.date(), terms="racking")
    await SearchCount.create(customer_id=world.acme.id, day=now().date(), terms="pallets")
    endpoint = await WebhookEndpoint.create(
        owner_id=world.admin.id,
        url="https://hooks.example/x",
        secret="whsec_" + "A" * 44,
        state=WebhookState.DISABLED,
    )
    deliveries = [await _delivery(endpoint.id, n) for n in (1, 2)]
    await WebhookDelivery.filter(id__in=deliveries).update(created_at=old)

    # when the daily purge runs, at 03:00 UTC
    async with unit_of_work():
        await retention.schedule_purge(now())
    due = retention.next_purge(now())
    assert (due.hour, due > now(), due - now() <= timedelta(days=1)) == (3, True, True)
    await app.state.jobs.run_due(due)
    assert await Job.filter(kind=retention.PURGE_JOB, status=JobStatus.DONE).count() == 1

    # then the events went, but those of the open request and those inboxes showed
    kept = {e.id for e in await Event.filter(created_at__lte=old)}  # (jobs due add new ones)
    assert kept == acme_request_events | {e for e in notified if e is not None}
    # and the notification read long ago went, the unread one stays
    assert not await Notification.exists(id=read.id)
    assert await Notification.exists(id=unread.id)
    # and the sent mail went, the one still to send stays
    assert [m.id for m in await OutgoingMail.filter(id__in=[sent, waiting])] == [waiting]
    # and the old search counts went
    assert [s.terms for s in await SearchCount.all()] == ["pallets"]
    # and the old deliveries went but the endpoint's last one
    assert [d.id for d in await WebhookDelivery.all()] == [deliveries[-1]]
    # and the audit trail is kept for ever by default
    assert not await AuditEntry.filter(action="audit.pruned").exists()
    # and the next purge is due a day later, once however often it is asked for
    async with unit_of_work():
        await retention.schedule_purge(due)
    pending = await Job.filter(kind=retention.PURGE_JOB, status=JobStatus.PENDING)
    assert [_aware(job.run_at) for job in pending] == [due + timedelta(days=1)]


async def test_the_audit_trail_past_its_retention_loses_a_prefix_and_its_chain_still_holds(
    world: World, settings: Settings
) -> None:
    # given an audit trail whose older half is 800 days old
    for n in range(4):
        await audit("test.entry", target=f"thing:{n}")
    entries = await AuditEntry.all().order_by("sequence")
    old = [e.id for e in entries[: len(entries) // 2]]
    await AuditEntry.filter(id__in=old).update(created_at=now() - LONG_AGO)
    newest = entries[-1]
    # when the trail is kept 30 days
    kept_30_days = replace(settings, retention_audit_days=30)
    [purged] = [p for p in await retention.purge_all(kept_30_days) if p.data_class == "audit"]
    # then exactly the old prefix went, and the chain checks from where it now starts
    assert purged.deleted == len(old)
    assert not await AuditEntry.filter(id__in=old).exists()
    assert await AuditEntry.exists(id=newest.id)
    assert (await audit_trail.verify()).broken is None
    assert await AuditEntry.filter(action="audit.pruned").count() == 1
    # when a kept entry is changed by hand, the check still names it
    await AuditEntry.filter(id=newest.id).update(target="thing:forged")
    broken = (await audit_trail.verify()).broken
    assert broken is not None
    assert broken.id == newest.id


async def _mail(status: MailStatus) -> int:
    row = await OutgoingMail.create(
        to_address="anna@acme.example",
        template="notice",
        subject="x",
        message_token=f"retention-{status.value}",
        status=status,
    )
    return int(row.id)


async def _delivery(endpoint_id: int, event_id: int) -> int:
    row = await WebhookDelivery.create(
        endpoint_id=endpoint_id,
        event_id=event_id,
        event_type="MICROPOST_POSTED",
        webhook_id=f"msg_{endpoint_id}_{event_id}",
        attempt=1,
        status=WebhookDeliveryStatus.SUCCEEDED,
    )
    return int(row.id)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
