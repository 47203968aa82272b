"""Who else is on a concept page: ``pagePresence`` and ``setPageEditing``.

Windows arrive, renew and leave through actions/presence.py; the viewer's rights are
checked again (:class:`graphql_schema.subscriptions.Guard`) at every change of them and at
every heartbeat. Every subscriber of a page in this process shares one
:class:`realtime.presence.PageWatch`: a change costs one read of the store and one wake-up
per subscriber, and a person may hold at most ``WINDOWS_PER_PAGE`` windows on a page (more
answer RATE_LIMITED)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from weakref import WeakKeyDictionary

import strawberry

from actions import presence as presence_actions
from domain import policy
from domain.errors import RateLimited
from graphql_schema.accounts.types import User, load_user
from graphql_schema.context import Info
from graphql_schema.permissions import CanSeePage, rule
from graphql_schema.relay import fetch_by_global_id, node_pk
from graphql_schema.subscriptions import Guard, page_access
from realtime import presence
from realtime.bus import EventBus
from realtime.channels import presence_channel


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
    info: Info, watch: presence.PageWatch, session: presence.Session, guard: Guard
) -> AsyncGenerator[PagePresence, None]:
    """The page's people now (a snapshot that includes this session), then whenever they
    change; this session is renewed every HEARTBEAT seconds while the reader may still
    see the page (``guard``: a removal from the project or the customer, told on the
    viewer's rights channel by whichever process made it, ends it at once)."""
    loop = asyncio.get_running_loop()
    renew_at = loop.time() + presence.HEARTBEAT
    snapshot = await watch.fresh()
    while True:
        yield await _state(info, snapshot)
        seen = snapshot.version
        while snapshot.version == seen:
            changed = await guard.wait(watch.changed(seen), renew_at)
            if changed is None:  # the heartbeat
                await guard.access.confirm()
                await presence_actions.renew(info.context.bus, watch.page_id, session)
                renew_at = loop.time() + presence.HEARTBEAT
            else:
                snapshot = changed


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
                async with Guard(bus, page_access(viewer, page.id)) as guard:
                    await presence_actions.arrive(bus, page.id, session)
                    try:
                        async for state in _presence(info, watch, session, guard):
                            yield state
                    finally:
                        # to the end even when the operation is cancelled meanwhile
                        await asyncio.shield(presence_actions.leave(bus, page.id, session))
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
        await presence_actions.set_editing(
            info.context.require_viewer(),
            info.context.bus,
            page_id=node_pk(input.page_id, "Page"),
            editing=input.editing,
        )
        return SetPageEditingPayload(editing=input.editing)
