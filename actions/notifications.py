"""Who hears of an event: watches (with their levels and inheritance) and direct
involvement (mentions, replies, earlier authorship), never the actor, only readers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from actions import mail_notifications
from actions._common import batches, now
from actions.unit_of_work import unit_of_work
from actions.watches import target_key
from domain import policy
from models import (
    Event,
    Notification,
    NotificationReason,
    Page,
    Project,
    User,
    Visibility,
    Watch,
    WatchLevel,
    WatchTargetKind,
)
from realtime.bus import EventBus

R = NotificationReason


def _hierarchy_keys(project: Project, page_id: int | None) -> list[str]:
    """Most general first: customer, project, page."""
    keys = [
        target_key(WatchTargetKind.CUSTOMER, project.customer_id),
        target_key(WatchTargetKind.PROJECT, project.id),
    ]
    if page_id is not None:
        keys.append(target_key(WatchTargetKind.PAGE, page_id))
    return keys


async def _watch_levels(
    project: Project, page_id: int | None, topic_ids: Iterable[int]
) -> dict[int, WatchLevel]:
    """Each watcher's effective level here. The most specific watch on the customer →
    project → page line wins (so MUTED on a page silences an inherited WATCHING); a watched
    topic of the post counts as WATCHING unless that line says MUTED."""
    hierarchy = _hierarchy_keys(project, page_id)
    topics = [target_key(WatchTargetKind.TOPIC, t) for t in topic_ids]
    watches = [
        watch
        for keys in batches(hierarchy + topics)
        for watch in await Watch.filter(target_key__in=keys)
    ]
    rank = {key: n for n, key in enumerate(hierarchy)}
    chosen: dict[int, tuple[int, WatchLevel]] = {}
    topic_watchers: set[int] = set()
    for watch in watches:
        if watch.target_key in rank:
            previous = chosen.get(watch.user_id)
            if previous is None or rank[watch.target_key] > previous[0]:
                chosen[watch.user_id] = (rank[watch.target_key], watch.level)
        elif watch.level is WatchLevel.WATCHING:
            topic_watchers.add(watch.user_id)
    levels = {user_id: level for user_id, (_, level) in chosen.items()}
    for user_id in topic_watchers:
        if levels.get(user_id) is not WatchLevel.MUTED:
            levels[user_id] = WatchLevel.WATCHING
    return levels


async def _readers(project: Project, visibility: Visibility, user_ids: set[int]) -> set[int]:
    """Those of these users who may read content of this visibility in the project."""
    if not user_ids:
        return set()
    found: set[int] = set()
    for some in batches(sorted(user_ids)):
        readers = policy.readers_of(project, visibility).filter(id__in=some)
        found.update(int(u) for u in await readers.values_list("id", flat=True))  # type: ignore[call-overload]
    return found


async def watchers_of_page(page: Page) -> list[tuple[int, WatchLevel]]:
    """Who is told of the page's updates: every effective watch on it (own, or inherited
    from its project or customer) that is not MUTED, of people who may read it."""
    project = await Project.get(id=page.project_id)
    levels = await _watch_levels(project, page.id, ())
    active = {user: level for user, level in levels.items() if level is not WatchLevel.MUTED}
    readers = await _readers(project, page.visibility, set(active))
    return sorted((user, level) for user, level in active.items() if user in readers)


async def record_notifications(
    event: Event,
    project: Project,
    *,
    page_id: int | None = None,
    topic_ids: Iterable[int] = (),
    involved: Mapping[int, NotificationReason] | None = None,
) -> set[int]:
    """Write the notifications of an event; answers the users notified (ids), for the
    publication of the event. Call inside the action's unit of work."""
    levels = await _watch_levels(project, page_id, topic_ids)
    recipients = {uid: R.WATCHING for uid, lvl in levels.items() if lvl is WatchLevel.WATCHING}
    for user_id, reason in (involved or {}).items():
        if levels.get(user_id) is not WatchLevel.MUTED:
            recipients[user_id] = reason
    recipients.pop(event.actor_id, None)
    allowed = await _readers(project, event.visibility, set(recipients))
    rows = [
        Notification(user_id=user_id, event_id=event.id, reason=reason)
        for user_id, reason in sorted(recipients.items())
        if user_id in allowed
    ]
    if rows:
        await Notification.bulk_create(rows)
        await mail_notifications.notifications_recorded(rows, event)
    return {row.user_id for row in rows}


async def mentions_notified(micropost_id: int, user_ids: Iterable[int]) -> set[int]:
    """Those of these users who were already told of a mention in this post (by any of its
    events: posting or an earlier edit): a post notifies each user of a mention once,
    however often an edit takes the mention out and puts it back."""
    told: set[int] = set()
    for some in batches(sorted(set(user_ids))):
        rows = Notification.filter(
            user_id__in=some, reason=R.MENTIONED, event__micropost_id=micropost_id
        )
        told.update(int(u) for u in await rows.values_list("user_id", flat=True))  # type: ignore[call-overload]
    return told


async def mark_read(user: User, bus: EventBus, notification_ids: list[int] | None) -> int:
    """Mark some (or, with None, all) of the user's notifications read; answers how many,
    and tells the user's open clients that their unread count changed."""
    unread = Notification.filter(user_id=user.id, read_at=None)
    if notification_ids is not None:
        unread = unread.filter(id__in=notification_ids)
    async with unit_of_work(bus) as work:
        marked = await unread.update(read_at=now())
        if marked:
            work.inbox_changed(user.id)
    return marked
