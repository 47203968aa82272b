"""Who else is on a concept page: ``pagePresence`` and ``setPageEditing``."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncGenerator
from datetime import UTC, datetime

import strawberry

from app import policy
from app.errors import BadUserInput, Forbidden
from graphql_schema.accounts.types import User, load_user
from graphql_schema.context import Info
from graphql_schema.permissions import IsAuthenticated, rule
from graphql_schema.relay import fetch_by_global_id
from models import User as UserRow
from realtime import presence
from realtime._fanout import FellBehind
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


def _people(sessions: list[presence.Session]) -> list[tuple[int, bool, float]]:
    """One line per person: editing anywhere, since their first window."""
    people: dict[int, tuple[int, bool, float]] = {}
    for session in sessions:
        known = people.get(session.user_id)
        if known is None:
            people[session.user_id] = (session.user_id, session.editing, session.since)
        else:
            people[session.user_id] = (known[0], known[1] or session.editing, known[2])
    return list(people.values())


async def _still_readable(viewer: UserRow, page_id: int) -> bool:
    if not await UserRow.exists(id=viewer.id, is_active=True):
        return False
    return await policy.visible_pages(viewer).filter(id=page_id).exists()


async def _presence(
    info: Info, bus: EventBus, page_id: int, session: presence.Session
) -> AsyncGenerator[PagePresence, None]:
    viewer = info.context.require_viewer()
    last: list[tuple[int, bool, float]] | None = None
    loop = asyncio.get_running_loop()
    renew_at = loop.time() + presence.HEARTBEAT
    while True:
        async with bus.subscribe(presence_channel(page_id)) as changes:
            try:
                while True:
                    people = _people(await bus.presence.sessions(page_id))
                    if people != last:
                        last = people
                        yield PagePresence(
                            people=[
                                PagePresent(
                                    user=await load_user(info, user_id),
                                    editing=editing,
                                    since=datetime.fromtimestamp(since, UTC),
                                )
                                for user_id, editing, since in people
                            ]
                        )
                    try:
                        # a timeout scope, not asyncio.wait_for: on Python 3.11 wait_for swallows
                        # the cancellation that ends the subscription when a change arrives with it
                        async with asyncio.timeout_at(renew_at):
                            await changes.get()
                    except TimeoutError:
                        if not await _still_readable(viewer, page_id):
                            raise Forbidden("You no longer have access to this page.") from None
                        await bus.presence.renew(page_id, session)
                        renew_at = loop.time() + presence.HEARTBEAT
            except FellBehind:
                continue  # only "look again" signals were dropped: subscribe again, look again


@strawberry.type
class Subscription:
    @strawberry.subscription(
        extensions=rule(IsAuthenticated),
        description=(
            "Who is on the page right now, and who is editing: now, then at every arrival, "
            "departure or change. Subscribing puts you on the page until you stop; a window "
            "that disconnects drops out within 30 seconds."
        ),
    )
    async def page_presence(
        self, info: Info, page_id: strawberry.ID, editing: bool = False
    ) -> AsyncGenerator[PagePresence, None]:
        viewer = info.context.require_viewer()
        page = await fetch_by_global_id(policy.visible_pages(viewer), page_id, "Page")
        bus = info.context.bus
        session = presence.Session(uuid.uuid4().hex, viewer.id, editing, time.time())
        await bus.presence.renew(page.id, session)
        await bus.presence_changed(page.id)
        try:
            async for state in _presence(info, bus, page.id, session):
                yield state
        finally:
            await bus.presence.leave(page.id, session.session)
            await bus.presence_changed(page.id)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=rule(IsAuthenticated),
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
