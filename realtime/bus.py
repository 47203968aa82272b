"""The event bus: publishes committed timeline events on broadcaster channels."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Hashable, Sequence
from contextlib import asynccontextmanager

from broadcaster import Broadcast

from infra.redis_clients import is_redis_url
from models import Event, Notification
from realtime._fanout import Fanout, LocalSubscriber, Prepare
from realtime.channels import (
    feed_channel,
    inbox_channel,
    presence_channel,
    project_channel,
    rights_channel,
    sessions_channel,
)
from realtime.events import TimelineMessage
from realtime.horizon import TICKS, Horizon, tick
from realtime.presence import presence_store

log = logging.getLogger(__name__)

RIGHTS_CHANGED = "__rights__"
SESSIONS_ENDED = "__sessions__"


class EventBus:
    """Fan-out of committed events to every server process through broadcaster.

    Actions call :meth:`publish` only after their transaction has committed. A failure to
    publish never undoes the committed change: subscribers replay from the durable Event log.
    """

    def __init__(self, url: str, namespace: str = "extranet") -> None:
        self.url = url
        self.namespace = namespace
        if is_redis_url(url):
            from realtime._redis import ResilientRedisBackend

            self.broadcast = Broadcast(backend=ResilientRedisBackend(url))
        else:
            self.broadcast = Broadcast(url)
        self.fanout = Fanout(self.broadcast)
        self.presence = presence_store(url, namespace)
        self.horizon = Horizon(self)
        self._connected = False

    @property
    def connected(self) -> bool:
        return self._connected

    async def connect(self) -> None:
        if not self._connected:
            await self.broadcast.connect()
            self._connected = True

    async def disconnect(self) -> None:
        if self._connected:
            self._connected = False
            await self.horizon.close()
            await self.broadcast.disconnect()
            await self.presence.close()

    def _scoped(self, channel: str) -> str:
        """Deployments (and test runs) sharing one Redis never hear each other."""
        return f"{self.namespace}.{channel}"

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[LocalSubscriber]:
        """A bounded subscription; it is live upstream when this returns."""
        async with self.fanout.subscribe(self._scoped(channel)) as subscriber:
            yield subscriber

    def prepare(self, channel: str, key: Hashable, prepare: Prepare) -> Callable[[], None]:
        """See :meth:`Fanout.prepare`: work done once per message before this process's
        subscribers of the channel get it."""
        return self.fanout.prepare(self._scoped(channel), key, prepare)

    async def publish(self, events: Sequence[Event]) -> None:
        """Announce committed events on their project's channel, and to every user they
        notified on that user's feed and inbox channels; then tick each (see
        realtime/horizon.py)."""
        if not self._connected or not events:
            return
        try:
            notified = await Notification.filter(event_id__in=[e.id for e in events]).values_list(
                "event_id", "user_id"
            )
            for event in events:
                message = TimelineMessage.from_event(event).encode()
                channels = [project_channel(event.project_id)]
                await self.broadcast.publish(self._scoped(channels[0]), message)
                for event_id, user_id in notified:
                    if event_id == event.id:
                        channels.append(feed_channel(user_id))
                        await self.broadcast.publish(self._scoped(channels[-1]), message)
                        await self.broadcast.publish(self._scoped(inbox_channel(user_id)), "new")
                # after its channels: see realtime/horizon.py
                await self.broadcast.publish(self._scoped(TICKS), tick(event.id, channels))
        except Exception:
            log.exception("Publishing events %s failed; subscribers will replay them", events)

    async def rights_changed(self, *, project_ids: Sequence[int], user_ids: Sequence[int]) -> None:
        """Tell the live streams of these projects and users to check their rights again
        (after a commit that removed someone's access)."""
        if not self._connected:
            return
        channels = [project_channel(p) for p in project_ids] + [feed_channel(u) for u in user_ids]
        channels += [rights_channel(u) for u in user_ids]
        try:
            for channel in channels:
                await self.broadcast.publish(self._scoped(channel), RIGHTS_CHANGED)
        except Exception:
            log.exception("Publishing a change of rights failed")

    async def sessions_ended(self, user_id: int) -> None:
        """Tell every process that sessions of this user ended (after the commit that ended
        them): their open websockets check theirs again and close when it is over."""
        if self._connected:
            try:
                channel = self._scoped(sessions_channel(user_id))
                await self.broadcast.publish(channel, SESSIONS_ENDED)
            except Exception:
                log.exception("Publishing the end of sessions of user %s failed", user_id)

    async def presence_changed(self, page_id: int) -> None:
        """Tell the page's presence subscribers, in every process, to look again."""
        if self._connected:
            try:
                await self.broadcast.publish(self._scoped(presence_channel(page_id)), "changed")
            except Exception:
                log.exception("Publishing a presence change of page %s failed", page_id)

    async def inbox_changed(self, user_id: int) -> None:
        """Tell the user's open clients that their unread count changed."""
        if self._connected:
            try:
                await self.broadcast.publish(self._scoped(inbox_channel(user_id)), "read")
            except Exception:
                log.exception("Publishing an inbox change of user %s failed", user_id)
