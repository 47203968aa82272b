"""Notification mail: only for what its user has not seen, batched, current, and readable.

When notifications are recorded (actions/notifications.py calls :func:`notifications_recorded`
inside the action's unit of work), each one for a user with no client in the foreground
(realtime/activity.py) and whose preference for its category is not OFF waits as a
:class:`PendingMail`, and the user's batch of that category is scheduled: one keyed job
(``mail-notifications-<user>-<category>``) at the end of the batching window from the
first waiting item, or at the next digest time, outside quiet hours.

When the batch is due (:func:`send_batch`), the waiting notifications that are still unread
are checked against the user's rights *now* (an item they could not read in the API is
dropped, INTERNAL content never reaches a contact), each is rendered from the *current*
content (an edit made meanwhile is what is mailed; a deleted post is gone), and one mail
groups them by customer and project (``queue_mail``). Nothing is mailed when all were read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from actions._common import batches, now
from actions.jobs import JobContext, cancel, enqueue, job_handler
from actions.mail import queue_mail
from actions.unit_of_work import enclosing_bus, unit_of_work
from domain import library as library_rules
from domain import policy
from domain.errors import NotFound
from domain.mail import OutgoingMessage, mail_domain
from domain.mail_schedule import (
    DEFAULTS,
    LIST_NAMES,
    Preference,
    QuietHours,
    check_preference,
    check_quiet_hours,
    due_at,
    zone,
)
from domain.reply_addresses import ReplyKind, reply_address
from infra.settings import Settings
from models import (
    Customer,
    Event,
    EventKind,
    MailCategory,
    MailDelivery,
    MailPreference,
    MailQuietHours,
    Notification,
    NotificationReason,
    PendingMail,
    RequestMessage,
    User,
)

log = logging.getLogger(__name__)

BATCH_JOB = "mail.notifications"
TEXT_LIMIT = 1_000
"""Characters of a post's text in a mail; the link shows the rest."""


# -- preferences --------------------------------------------------------------------------


def category_of(reason: NotificationReason, event: Event) -> MailCategory:
    """The mail category of a notification: a request's events are REQUESTS; being
    mentioned or replied to is MENTIONS_AND_REPLIES; the rest comes from watches."""
    if event.request_id is not None:
        return MailCategory.REQUESTS
    if reason in (NotificationReason.MENTIONED, NotificationReason.REPLIED):
        return MailCategory.MENTIONS_AND_REPLIES
    return MailCategory.WATCHED


def unsubscribe_token(settings: Settings, user_id: int, category: MailCategory) -> str:
    """The opaque token of the one-click unsubscribe link of a user's category (an HMAC
    of the secret key: it names nobody in clear; the preference row keeps it, so it
    outlives a rotation of the key)."""
    mac = hmac.new(
        settings.secret_key.encode(), f"unsubscribe:{user_id}:{category}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(mac[:24]).decode()


def unsubscribe_url(settings: Settings, token: str) -> str:
    return f"{settings.public_url}/mail/unsubscribe/{token}"


def _preference(row: MailPreference | None, category: MailCategory) -> Preference:
    if row is None:
        return DEFAULTS[category]
    return Preference(row.delivery, row.window_minutes, row.digest_hour, row.digest_weekday)


@dataclass(frozen=True, slots=True)
class MailSettings:
    """A user's mail preferences: one :class:`Preference` per category (the defaults
    where they chose nothing), their quiet hours (or None) and time zone (IANA)."""

    preferences: dict[MailCategory, Preference]
    quiet_hours: QuietHours | None
    time_zone: str


async def mail_settings(user: User) -> MailSettings:
    """The user's preferences as they are now."""
    return (await _settings_of([user]))[user.id]


async def _settings_of(users: list[User]) -> dict[int, MailSettings]:
    """:func:`mail_settings` of several users, in two queries per thousand users."""
    rows: dict[tuple[int, MailCategory], MailPreference] = {}
    quiet: dict[int, QuietHours] = {}
    for some in batches(sorted({user.id for user in users})):
        for row in await MailPreference.filter(user_id__in=some):
            rows[(row.user_id, row.category)] = row
        for hours in await MailQuietHours.filter(user_id__in=some):
            quiet[hours.user_id] = QuietHours(hours.start_hour, hours.end_hour)
    return {
        user.id: MailSettings(
            {c: _preference(rows.get((user.id, c)), c) for c in MailCategory},
            quiet.get(user.id),
            getattr(user, "time_zone", None) or "UTC",  # the profile's, once it has one
        )
        for user in users
    }


class Keep:
    """Leave the quiet hours as they are (``set_mail_settings``)."""


KEEP = Keep()


async def _preference_row(
    settings: Settings, user_id: int, category: MailCategory
) -> MailPreference:
    """The user's row of the category, made with the defaults when there is none."""
    row = await MailPreference.get_or_none(user_id=user_id, category=category)
    if row is None:
        default = DEFAULTS[category]
        row = await MailPreference.create(
            user_id=user_id,
            category=category,
            delivery=default.delivery,
            window_minutes=default.window_minutes,
            digest_hour=default.digest_hour,
            digest_weekday=default.digest_weekday,
            unsubscribe_token=unsubscribe_token(settings, user_id, category),
        )
    return row


async def set_mail_settings(
    user: User,
    settings: Settings,
    preferences: dict[MailCategory, Preference],
    quiet_hours: QuietHours | Keep | None = KEEP,
) -> MailSettings:
    """Change the user's own preferences of the given categories (the others stay) and,
    unless KEEP, their quiet hours (None: none). BAD_USER_INPUT naming the field for a
    value out of range; nothing is changed then. Waiting batches are scheduled again by
    the new preferences (OFF drops what waited)."""
    for preference in preferences.values():
        check_preference(preference)
    if isinstance(quiet_hours, QuietHours):
        check_quiet_hours(quiet_hours)
    async with unit_of_work():
        for category, preference in preferences.items():
            row = await _preference_row(settings, user.id, category)
            row.delivery = preference.delivery
            row.window_minutes = preference.window_minutes
            row.digest_hour = preference.digest_hour
            row.digest_weekday = preference.digest_weekday
            await row.save()
        if quiet_hours is None:
            await MailQuietHours.filter(user_id=user.id).delete()
        elif isinstance(quiet_hours, QuietHours):
            await MailQuietHours.update_or_create(
                {"start_hour": quiet_hours.start_hour, "end_hour": quiet_hours.end_hour},
                user_id=user.id,
            )
        chosen = await mail_settings(user)
        for category in MailCategory:
            await _schedule(user.id, category, chosen, now())
    return chosen


async def unsubscribe(token: str) -> MailCategory:
    """Set the category of an unsubscribe token OFF (again: nothing changes); answers the
    category. NOT_FOUND for a token that is not one."""
    async with unit_of_work():
        row = await MailPreference.get_or_none(unsubscribe_token=token)
        if row is None:
            raise NotFound("unsubscribe link")
        if row.delivery is not MailDelivery.OFF:
            row.delivery = MailDelivery.OFF
            await row.save(update_fields=["delivery", "updated_at"])
            await PendingMail.filter(user_id=row.user_id, category=row.category).delete()
            await cancel(_job_key(row.user_id, row.category))
    return row.category


# -- recording ----------------------------------------------------------------------------


def _job_key(user_id: int, category: MailCategory) -> str:
    return f"mail-notifications-{user_id}-{category.value.lower()}"


async def notifications_recorded(rows: list[Notification], event: Event) -> None:
    """Let the notifications of users not active now wait for their batch, and schedule
    it. Call inside the unit of work that recorded them."""
    if not rows:
        return
    bus = enclosing_bus()
    users = sorted({row.user_id for row in rows})
    active: set[int] = set()
    if bus is not None:
        try:
            active = await bus.activity.active(users)
        except Exception:  # not knowing, mail: the batch drops what gets read meanwhile
            log.warning("Reading who is active failed; counting nobody as active", exc_info=True)
    if len(active) == len(users):
        return
    # as written (bulk_create leaves the ids unset on some databases)
    waiting = [
        row
        for row in await Notification.filter(event_id=event.id).order_by("id")
        if row.user_id not in active
    ]
    if not waiting:
        return
    recipients = [
        user
        for some in batches(sorted({row.user_id for row in waiting}))
        for user in await User.filter(id__in=some)
    ]
    chosen = await _settings_of(recipients)
    pending = [
        PendingMail(notification_id=row.id, user_id=row.user_id, category=category)
        for row in waiting
        if row.user_id in chosen
        and chosen[row.user_id].preferences[category := category_of(row.reason, event)].delivery
        is not MailDelivery.OFF
    ]
    if not pending:
        return
    await PendingMail.bulk_create(pending)
    moment = now()
    for user_id, category in sorted({(p.user_id, p.category) for p in pending}):
        await _schedule(user_id, category, chosen[user_id], moment)


async def _schedule(
    user_id: int, category: MailCategory, chosen: MailSettings, moment: datetime
) -> None:
    """(Re)schedule the batch of the user's category from what waits (none: no job)."""
    first = (
        await PendingMail.filter(user_id=user_id, category=category).order_by("created_at").first()
    )
    first_waiting = None if first is None else first.created_at
    preference = chosen.preferences[category]
    if first_waiting is None or preference.delivery is MailDelivery.OFF:
        await PendingMail.filter(user_id=user_id, category=category).delete()
        await cancel(_job_key(user_id, category))
        return
    when = due_at(
        preference,
        first_waiting=first_waiting,
        now=moment,
        tz=zone(chosen.time_zone),
        quiet=chosen.quiet_hours,
    )
    payload = {"userId": user_id, "category": category.value}
    await enqueue(BATCH_JOB, payload, run_at=when, key=_job_key(user_id, category))


# -- sending ------------------------------------------------------------------------------


def _global_id(type_name: str, node_id: int) -> str:
    return quote(base64.b64encode(f"{type_name}:{node_id}".encode()).decode(), safe="")


def _link(settings: Settings, route: str, type_name: str, node_id: int) -> str:
    """The web client's view of an object (``#/posts/<global id>``)."""
    return f"{settings.public_url}/#/{route}/{_global_id(type_name, node_id)}"


@dataclass(slots=True)
class _Item:
    customer: str
    project: str
    project_url: str
    who: str
    what: str
    text: str
    when: str
    url: str
    reply: tuple[ReplyKind, int] | None
    thread_key: str


def _clip(text: str) -> str:
    text = text.strip()
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1].rstrip() + "…"


_STATUS_WORDS = {
    EventKind.REQUEST_SUBMITTED: "submitted the request",
    EventKind.REQUEST_STATUS_CHANGED: "changed the status of the request",
    EventKind.REQUEST_ASSIGNED: "assigned the request",
    EventKind.REQUEST_REPLIED: "replied on the request",
    EventKind.REQUEST_DOCUMENT_ADDED: "added a document to the request",
    EventKind.REQUEST_DUE_DATE_CHANGED: "changed the due date of the request",
    EventKind.REQUEST_PARTICIPANT_ADDED: "added a participant to the request",
}


async def _describe(user: User, event: Event, settings: Settings, tz: ZoneInfo) -> _Item | None:
    """What the mail says of one event, from the content as it is now and as the user may
    read it now; None when there is nothing (left) for them to read."""
    actor = await User.get_or_none(id=event.actor_id)
    who = actor.name if actor is not None else "Someone"
    when = event.created_at.astimezone(tz).strftime("%a %d %b, %H:%M")
    customer = await Customer.get_or_none(id=event.customer_id)
    customer_name = customer.name if customer is not None else ""
    if event.request_id is not None:
        request = await policy.visible_requests(user).get_or_none(id=event.request_id)
        if request is None:
            return None
        url = _link(settings, "requests", "Request", request.id)
        text = request.title
        if event.kind is EventKind.REQUEST_REPLIED:
            details = event.details
            message = await RequestMessage.get_or_none(
                id=getattr(details, "message_id", 0), request_id=request.id
            )
            if message is None or not policy.can_see_visibility(user, message.visibility):
                return None
            text = _clip(message.body)
        return _Item(
            customer_name,
            f"Request {request.reference}",
            url,
            who,
            _STATUS_WORDS.get(event.kind, "updated the request"),
            text,
            when,
            url,
            (ReplyKind.REQUEST, request.id),
            f"request-{request.id}",
        )
    if event.library_document_id is not None:
        return await _describe_library(user, event, settings, customer_name, who, when)
    project = await policy.visible_projects(user).get_or_none(id=event.project_id)
    if project is None:
        return None
    project_url = _link(settings, "projects", "Project", project.id)
    base = (customer_name, project.name, project_url, who)
    thread = f"project-{project.id}"
    if event.micropost_id is not None:
        post = await policy.visible_microposts(user).get_or_none(id=event.micropost_id)
        if post is None:  # deleted, or no longer theirs to read
            return None
        if post.page_id is not None:
            page = await policy.visible_pages(user).get_or_none(id=post.page_id)
            if page is None:
                return None
            what = f"commented on the page “{page.title}”"
            reply: tuple[ReplyKind, int] = (ReplyKind.PAGE_COMMENT, page.id)
            url = _link(settings, "pages", "Page", page.id)
        else:
            what = "replied" if post.parent_id is not None else "posted"
            reply = (ReplyKind.MICROPOST, post.id)
            url = _link(settings, "posts", "Micropost", post.id)
        if event.kind is EventKind.MICROPOST_EDITED:
            what = "edited a comment" if post.page_id is not None else "edited a post"
        return _Item(*base, what, _clip(post.body), when, url, reply, thread)
    if event.page_id is not None:
        page = await policy.visible_pages(user).get_or_none(id=event.page_id)
        if page is None:
            return None
        verb = "created" if event.kind is EventKind.PAGE_CREATED else "updated"
        url = _link(settings, "pages", "Page", page.id)
        return _Item(*base, f"{verb} the page “{page.title}”", "", when, url, None, thread)
    if event.kind is EventKind.PROJECT_STATUS_CHANGED:
        details = event.details
        to_status = getattr(details, "to_status", project.status)
        reason = str(getattr(details, "reason", ""))
        what = f"changed the project's status to {to_status}"
        return _Item(*base, what, _clip(reason), when, project_url, None, thread)
    return None


_LIBRARY_WORDS = {
    EventKind.LIBRARY_DOCUMENT_PUBLISHED: "published the document",
    EventKind.LIBRARY_VERSION_ADDED: "added a new version of the document",
    EventKind.LIBRARY_STATE_CHANGED: "changed the state of the document",
    EventKind.LIBRARY_DOCUMENT_SUPERSEDED: "superseded the document",
    EventKind.LIBRARY_ACK_REQUIRED: "asks you to acknowledge the document",
    EventKind.LIBRARY_ACKNOWLEDGED: "acknowledged the document",
    EventKind.LIBRARY_DOCUMENT_MOVED: "moved the document",
}


async def _describe_library(
    user: User, event: Event, settings: Settings, customer: str, who: str, when: str
) -> _Item | None:
    """A library event, if the user may still read its document."""
    documents = library_rules.visible_documents(user)
    document = await documents.get_or_none(id=event.library_document_id)
    if document is None:
        return None
    details = event.details
    what = f"{_LIBRARY_WORDS.get(event.kind, 'changed the document')} “{document.title}”"
    to_state = getattr(details, "to_state", None)
    if event.kind is EventKind.LIBRARY_STATE_CHANGED and to_state:
        who, what = "Update:", f"“{document.title}” is now {to_state}"
    if event.kind is EventKind.LIBRARY_EXPIRY_REMINDED and document.valid_until is not None:
        end = document.valid_until.strftime("%d %b %Y, %H:%M UTC")
        who, what = "Reminder:", f"“{document.title}” is valid until {end}: replace or extend it"
    url = _link(settings, "library", "LibraryDocument", document.id)
    library_url = f"{settings.public_url}/#/library"
    name = customer or "Shared library"
    return _Item(name, "Document library", library_url, who, what, "", when, url, None, "library")


def _reply_address(
    settings: Settings, user: User, target: tuple[ReplyKind, int], moment: datetime
) -> str:
    kind, target_id = target
    return reply_address(settings, mail_domain(settings), kind, target_id, user.id, now=moment)


def _compose(
    user: User,
    category: MailCategory,
    delivery: MailDelivery,
    items: list[_Item],
    settings: Settings,
    token: str,
    moment: datetime,
) -> OutgoingMessage:
    targets = {item.reply for item in items if item.reply is not None}
    single = next(iter(targets)) if len(targets) == 1 else None
    grouped: dict[str, dict[str, list[_Item]]] = defaultdict(lambda: defaultdict(list))
    for item in items:
        grouped[item.customer][item.project].append(item)
    customers: list[dict[str, Any]] = []
    for customer, projects in grouped.items():
        listed = []
        for project, its in projects.items():
            rendered = []
            for item in its:
                address = None
                if item.reply is not None and single is None:
                    address = _reply_address(settings, user, item.reply, moment)
                rendered.append(
                    {
                        "who": item.who,
                        "what": item.what,
                        "text": item.text,
                        "when": item.when,
                        "url": item.url,
                        "reply_address": address,
                    }
                )
            listed.append({"name": project, "url": its[0].project_url, "entries": rendered})
        customers.append({"name": customer, "projects": listed})
    threads = {item.thread_key for item in items}
    if len(items) == 1:
        subject = f"{items[0].who} {items[0].what}"
        if items[0].project:
            subject += f" in {items[0].project}"
    elif delivery in (MailDelivery.DAILY, MailDelivery.WEEKLY):
        period = "daily" if delivery is MailDelivery.DAILY else "weekly"
        subject = f"Your {period} digest: {len(items)} updates"
    else:
        places = {item.project for item in items}
        where = next(iter(places)) if len(places) == 1 else f"{len(places)} places"
        subject = f"{len(items)} updates in {where}"
    return OutgoingMessage(
        to_address=user.email,
        to_user_id=user.id,
        template="notification",
        subject=subject,
        context={
            "name": user.name,
            "count": len(items),
            "customers": customers,
            "reply_by_mail": single is not None,
        },
        category=LIST_NAMES[category],
        thread_key=next(iter(threads)) if len(threads) == 1 else None,
        unsubscribe_url=unsubscribe_url(settings, token),
        reply_to=None if single is None else _reply_address(settings, user, single, moment),
    )


@job_handler(BATCH_JOB, max_attempts=8)
async def send_batch(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Mail the user's waiting notifications of the category that are still unread and
    readable, rendered as they are now; outside quiet hours (inside: later)."""
    user_id = int(payload["userId"])
    category = MailCategory(payload["category"])
    user = await User.get_or_none(id=user_id)
    if user is None:  # erased meanwhile: what waited for them goes too
        async with unit_of_work():
            await PendingMail.filter(user_id=user_id).delete()
        return
    chosen = await mail_settings(user)
    tz = zone(chosen.time_zone)
    async with unit_of_work(ctx.bus):
        waiting = await PendingMail.filter(user_id=user_id, category=category).select_for_update()
        if not waiting:
            return
        quiet = chosen.quiet_hours
        if quiet is not None and quiet.contains(ctx.now.astimezone(tz).hour):
            await _schedule(user_id, category, chosen, ctx.now)  # after the quiet hours
            return
        await PendingMail.filter(id__in=[row.id for row in waiting]).delete()
        preference = chosen.preferences[category]
        if preference.delivery is MailDelivery.OFF or not await policy.is_active_account(user):
            return
        ids = [row.notification_id for row in waiting]
        unread = await Notification.filter(id__in=ids, read_at=None).order_by("id")
        visible = policy.visible_events(user).filter(id__in=[n.event_id for n in unread])
        readable = [int(e) for e in await visible.values_list("id", flat=True)]  # type: ignore[call-overload]
        events = {e.id: e for e in await Event.filter(id__in=readable).order_by("id")}
        items: list[_Item] = []
        seen: set[tuple[str, int]] = set()
        for event in sorted(events.values(), key=lambda e: e.id):
            item = await _describe(user, event, ctx.settings, tz)
            if item is None:
                continue
            subject = ("post", event.micropost_id) if event.micropost_id else ("event", event.id)
            if subject in seen:  # a post and its edits: once, as it reads now
                continue
            seen.add(subject)
            items.append(item)
        if not items:
            return
        row = await _preference_row(ctx.settings, user_id, category)
        message = _compose(
            user, category, preference.delivery, items, ctx.settings, row.unsubscribe_token, ctx.now
        )
        await queue_mail(message)


__all__ = [
    "KEEP",
    "MailSettings",
    "category_of",
    "mail_settings",
    "notifications_recorded",
    "send_batch",
    "set_mail_settings",
    "unsubscribe",
]
