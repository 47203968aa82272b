"""The event bus: publishes committed timeline events and control signals on broadcaster
channels, and subscribes to them. Publishing never reads the database: a publication
(realtime.events.Publication) carries the event row and the users it notified."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Hashable, Sequence
from contextlib import asynccontextmanager

from broadcaster import Broadcast

from infra import tracing
from infra.redis_clients import RedisConnections, is_redis_url
from realtime._fanout import Fanout, LocalSubscriber, Prepare
from realtime.activity import activity_store
from realtime.channels import (
    event_channels,
    feed_channel,
    inbox_channel,
    presence_channel,
    project_channel,
    rights_channel,
    sessions_channel,
)
from realtime.events import Control, LiveEvents, Publication, TimelineMessage
from realtime.horizon import TICKS, Horizon, tick
from realtime.presence import presence_store

log = logging.getLogger(__name__)


class EventBus:
    """Fan-out of committed events to every server process through broadcaster.

    Actions register what to publish on their unit of work (``actions/unit_of_work.py``),
    which calls these methods once the outermost transaction has committed. A failure to
    publish never undoes the committed change: subscribers replay from the durable Event
    log. Every publishing method logs a failure instead of raising it.
    """

    def __init__(
        self, url: str, namespace: str = "extranet", redis: RedisConnections | None = None
    ) -> None:
        """``redis``: the process's connections to the Redis of ``url`` (the application's;
        without them, a bus on Redis makes and closes its own)."""
        self.url = url
        self.namespace = namespace
        self._own_redis = None
        if redis is None and is_redis_url(url):
            redis = self._own_redis = RedisConnections(url)
        self.redis = redis
        if redis is not None:
            from realtime._redis import ResilientRedisBackend

            self.broadcast = Broadcast(backend=ResilientRedisBackend(redis))
        else:
            self.broadcast = Broadcast(url)
        self.fanout = Fanout(self.broadcast)
        self.presence = presence_store(redis, namespace)
        self.activity = activity_store(redis, namespace)
        """Whose clients are in the foreground (realtime/activity.py)."""
        self.horizon = Horizon(self)
        self.live_events = LiveEvents()
        """Live messages decoded once for every subscriber of this process."""
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
            await self.activity.close()
            if self._own_redis is not None:
                await self._own_redis.aclose()

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

    async def publish(self, publications: Sequence[Publication]) -> None:
        """Announce committed events on their project's channel (a request's: on its
        customer's and the staff's request channels), and to every user each one
        notified on that user's feed channel (the event) and inbox channel
        (:attr:`Control.NOTIFIED`); then tick each (see realtime/horizon.py)."""
        if not self._connected or not publications:
            return
        try:
            for publication in publications:
                event = publication.event
                message = TimelineMessage.from_event(event).encode(tracing.traceparent())
                channels = event_channels(
                    event.project_id, event.customer_id, event.request_id, kind=event.kind
                )
                channels += [feed_channel(user_id) for user_id in sorted(publication.notified)]
                for channel in channels:
                    await self.broadcast.publish(self._scoped(channel), message)
                for user_id in sorted(publication.notified):
                    await self._signal(inbox_channel(user_id), Control.NOTIFIED)
                # after its channels: see realtime/horizon.py
                await self.broadcast.publish(self._scoped(TICKS), tick(event.id, channels))
        except Exception:
            events = [p.event.id for p in publications]
            log.exception("Publishing events %s failed; subscribers will replay them", events)

    async def _signal(self, channel: str, signal: Control) -> None:
        await self.broadcast.publish(self._scoped(channel), signal.value)

    async def rights_changed(self, *, project_ids: Sequence[int], user_ids: Sequence[int]) -> None:
        """Tell the live streams of these projects and users to check their rights again
        (after a commit that removed someone's access)."""
        if not self._connected:
            return
        channels = [project_channel(p) for p in project_ids] + [feed_channel(u) for u in user_ids]
        channels += [rights_channel(u) for u in user_ids]
        try:
            for channel in channels:
                await self._signal(channel, Control.RIGHTS_CHANGED)
        except Exception:
            log.exception("Publishing a change of rights failed")

    async def sessions_ended(self, user_id: int) -> None:
        """Tell every process that sessions of this user ended (after the commit that ended
        them): their open websockets check theirs again and close when it is over."""
        if self._connected:
            try:
                await self._signal(sessions_channel(user_id), Control.SESSIONS_ENDED)
            except Exception:
                log.exception("Publishing the end of sessions of user %s failed", user_id)

    async def presence_changed(self, page_id: int) -> None:
        """Tell the page's presence subscribers, in every process, to look again."""
        if self._connected:
            try:
                await self._signal(presence_channel(page_id), Control.PRESENCE_CHANGED)
            except Exception:
                log.exception("Publishing a presence change of page %s failed", page_id)

    async def inbox_changed(self, user_id: int) -> None:
        """Tell the user's open clients that their unread count changed."""
        if self._connected:
            try:
                await self._signal(inbox_channel(user_id), Control.READ)
            except Exception:
                log.exception("Publishing an inbox change of user %s failed", user_id)
