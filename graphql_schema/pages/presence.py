"""Who else is on a concept page: ``pagePresence`` and ``setPageEditing``.

Every subscriber of a page in this process shares one :class:`realtime.presence.PageWatch`:
a change costs one read of the store and one wake-up per subscriber, and a person may hold
at most ``WINDOWS_PER_PAGE`` windows on a page (more answer RATE_LIMITED)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from weakref import WeakKeyDictionary

import strawberry

from domain import policy
from domain.errors import BadUserInput, Forbidden, RateLimited
from graphql_schema.accounts.types import User, load_user
from graphql_schema.context import Info
from graphql_schema.permissions import CanSeePage, rule
from graphql_schema.relay import fetch_by_global_id
from models import User as UserRow
from realtime import presence
from realtime._fanout import LocalSubscriber
from realtime.bus import EventBus
from realtime.channels import presence_channel, rights_channel


@strawberry.type(description="Someone on a page, in one or more windows.")
class PagePresent:
    user: User
    editing: bool = strawberry.field(description="Editing in at least one window.")
    since: datetime = strawberry.field(description="When they opened the page.")


@strawberry.type(description="Everyone on a page right now, yourself included.")
class PagePresence:
    people: list[PagePresent]


@strawberry.input
class SetPageEditingInput:
    page_id: strawberry.ID
    editing: bool


@strawberry.type
class SetPageEditingPayload:
    editing: bool


_hubs: WeakKeyDictionary[EventBus, presence.PresenceHub] = WeakKeyDictionary()


def presence_hub(bus: EventBus) -> presence.PresenceHub:
    """The process's watches of pages with presence subscribers, one per event bus."""
    hub = _hubs.get(bus)
    if hub is None:
        hub = _hubs[bus] = presence.PresenceHub(bus.presence, bus.subscribe, presence_channel)
    return hub


async def _still_readable(viewer: UserRow, page_id: int) -> bool:
    if not await UserRow.exists(id=viewer.id, is_active=True):
        return False
    return await policy.visible_pages(viewer).filter(id=page_id).exists()


async def _leave(bus: EventBus, page_id: int, session: presence.Session) -> None:
    """Take the window off the page, and tell the page's other windows."""
    await bus.presence.leave(page_id, session.session)
    await bus.presence_changed(page_id)


async def _state(info: Info, snapshot: presence.Snapshot) -> PagePresence:
    return PagePresence(
        people=[
            PagePresent(
                user=await load_user(info, user_id),
                editing=editing,
                since=datetime.fromtimestamp(since, UTC),
            )
            for user_id, editing, since in snapshot.people
        ]
    )


async def _presence(
    info: Info, watch: presence.PageWatch, session: presence.Session, rights: LocalSubscriber
) -> AsyncGenerator[PagePresence, None]:
    """The page's people now (a snapshot that includes this session), then whenever they
    change; this session is renewed every HEARTBEAT seconds while the reader may still
    see the page."""
    viewer = info.context.require_viewer()
    bus = info.context.bus
    loop = asyncio.get_running_loop()
    renew_at = loop.time() + presence.HEARTBEAT
    # a removal from the project (or the customer) is told at once on the viewer's rights
    # channel (``rights``), by whichever process made it: the page's people stop reaching
    # them then
    signal = asyncio.ensure_future(rights.get())
    try:
        snapshot = await watch.fresh()
        while True:
            yield await _state(info, snapshot)
            seen = snapshot.version
            while snapshot.version == seen:
                changed = asyncio.ensure_future(watch.changed(seen))
                try:
                    # a timeout scope, not asyncio.wait_for: on Python 3.11 wait_for
                    # swallows the cancellation that ends the subscription
                    async with asyncio.timeout_at(renew_at):
                        await asyncio.wait({changed, signal}, return_when=asyncio.FIRST_COMPLETED)
                except TimeoutError:
                    if not await _still_readable(viewer, watch.page_id):
                        raise Forbidden("You no longer have access to this page.") from None
                    await bus.presence.renew(watch.page_id, session)
                    renew_at = loop.time() + presence.HEARTBEAT
                    continue
                finally:
                    if not changed.done():
                        changed.cancel()
                if signal.done():
                    signal.result()  # a transport failure ends the view as before
                    if not await _still_readable(viewer, watch.page_id):
                        raise Forbidden("You no longer have access to this page.")
                    signal = asyncio.ensure_future(rights.get())
                if changed.done() and not changed.cancelled():
                    snapshot = changed.result()
    finally:
        signal.cancel()


@strawberry.type
class Subscription:
    @strawberry.subscription(
        extensions=rule(CanSeePage),
        description=(
            "Who is on the page right now, and who is editing: now, then at every arrival, "
            "departure or change. Subscribing puts you on the page until you stop; a window "
            "that disconnects drops out within 30 seconds. You may be on a page in up to "
            "five windows at once (RATE_LIMITED beyond)."
        ),
    )
    async def page_presence(
        self, info: Info, page_id: strawberry.ID, editing: bool = False
    ) -> AsyncGenerator[PagePresence, None]:
        viewer = info.context.require_viewer()
        page = await fetch_by_global_id(policy.visible_pages(viewer), page_id, "Page")
        bus = info.context.bus
        session = presence.Session(uuid.uuid4().hex, viewer.id, editing, time.time())
        async with presence_hub(bus).watch(page.id) as watch:
            # counted here before anything is awaited: windows opened at once all count
            mine = watch.local_windows.get(viewer.id, 0)
            seen = watch.snapshot.windows.get(viewer.id, 0) if watch.snapshot else 0
            if max(mine, seen) >= presence.WINDOWS_PER_PAGE:
                raise RateLimited(
                    f"You have this page open in {presence.WINDOWS_PER_PAGE} windows already: "
                    "close one to open another."
                )
            watch.local_windows[viewer.id] = mine + 1
            try:
                async with bus.subscribe(rights_channel(viewer.id)) as rights:
                    await bus.presence.renew(page.id, session)
                    await bus.presence_changed(page.id)
                    try:
                        async for state in _presence(info, watch, session, rights):
                            yield state
                    finally:
                        # to the end even when the operation is cancelled meanwhile
                        await asyncio.shield(_leave(bus, page.id, session))
            finally:
                left = watch.local_windows.get(viewer.id, 1) - 1
                if left > 0:
                    watch.local_windows[viewer.id] = left
                else:
                    watch.local_windows.pop(viewer.id, None)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=rule(CanSeePage),
        description="Show the others on the page that you started or stopped editing.",
    )
    async def set_page_editing(
        self, info: Info, input: SetPageEditingInput
    ) -> SetPageEditingPayload | None:
        viewer = info.context.require_viewer()
        page = await fetch_by_global_id(policy.visible_pages(viewer), input.page_id, "Page")
        bus = info.context.bus
        if not await bus.presence.set_editing(page.id, viewer.id, input.editing):
            raise BadUserInput(
                "You are not on this page: subscribe to pagePresence first.", field="pageId"
            )
        await bus.presence_changed(page.id)
        return SetPageEditingPayload(editing=input.editing)
