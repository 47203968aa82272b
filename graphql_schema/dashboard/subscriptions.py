"""``actionCount``: the viewer's dashboard count, now and whenever it changes.

It is counted again when something that may change it is heard: an event of the requests
the viewer may see (the staff's request channel, a contact's customer's), a change of their
unread notifications, a change of their rights, and for a contact an event of their
customer's business documents or of the library (a document to acknowledge, an
acknowledgement); a burst of those is counted once (:data:`COALESCE` seconds gather it).
Changes that come with time alone (an SLA warning reached, a post's answer falling due, a
document becoming valid) are counted every :data:`RECOUNT_EVERY` seconds. A count equal to the last
one sent is not sent again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence
from contextlib import AsyncExitStack

import strawberry

from actions import dashboard as reading
from graphql_schema import subscriptions
from graphql_schema.context import Info
from graphql_schema.permissions import IsAuthenticated, rule
from models import User
from realtime.bus import EventBus
from realtime.channels import (
    customer_documents_channel,
    customer_requests_channel,
    inbox_channel,
    library_channel,
    requests_channel,
    rights_channel,
)

COALESCE = 0.05
"""Seconds a first change waits for the rest of its burst before counting."""
RECOUNT_EVERY = 60.0
"""Seconds after which the count is taken again without any change heard."""


def channels_of(viewer: User) -> list[str]:
    """Where the changes that may move the viewer's count are heard."""
    channels = [inbox_channel(viewer.id), rights_channel(viewer.id)]
    if viewer.is_staff:
        return [*channels, requests_channel()]
    assert viewer.customer_id is not None
    return [
        *channels,
        customer_requests_channel(viewer.customer_id),
        customer_documents_channel(viewer.customer_id),
        library_channel(),
    ]


class Changes:
    """``async with Changes(bus, channels) as changes``: any message on any of the channels
    (subscribed live once entered) wakes :meth:`wait`."""

    def __init__(self, bus: EventBus, channels: Sequence[str]) -> None:
        self._signals = [subscriptions.Signals(bus, channel) for channel in channels]
        self._stack = AsyncExitStack()
        self._heard = asyncio.Event()
        self._listeners: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Changes:
        for signals in self._signals:
            await self._stack.enter_async_context(signals)
        self._listeners = [asyncio.create_task(self._listen(s)) for s in self._signals]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for listener in self._listeners:
            listener.cancel()
        await asyncio.gather(*self._listeners, return_exceptions=True)
        await self._stack.aclose()

    async def _listen(self, signals: subscriptions.Signals) -> None:
        while True:
            await signals.next()  # None (fell behind) is a change too
            self._heard.set()

    async def wait(self, longest: float) -> None:
        """Until something is heard (then :data:`COALESCE` more seconds) or ``longest``
        seconds pass. Raises what a channel's transport raised."""
        heard = asyncio.create_task(self._heard.wait())
        try:
            done, _ = await asyncio.wait(
                [heard, *self._listeners], timeout=longest, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            heard.cancel()
        for listener in self._listeners:
            if listener in done:
                listener.result()  # a failed transport ends the subscription
        if heard in done:
            await asyncio.sleep(COALESCE)
        self._heard.clear()


@strawberry.type
class Subscription:
    @strawberry.subscription(
        extensions=rule(IsAuthenticated),
        description=(
            "How many items your dashboard lists (`dashboard { actionCount }`): now, then "
            "whenever it changes."
        ),
    )
    async def action_count(self, info: Info) -> AsyncGenerator[int, None]:
        viewer = info.context.require_viewer()
        settings = info.context.settings
        access = subscriptions.account_access(viewer)
        last: int | None = None
        async with Changes(info.context.bus, channels_of(viewer)) as changes:
            while True:
                await access.confirm()
                count = await reading.action_count(viewer, settings)
                if count != last:
                    last = count
                    yield count
                await changes.wait(RECOUNT_EVERY)
