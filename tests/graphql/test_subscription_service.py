"""The parts every subscription is made of (graphql_schema/subscriptions.py): signals that
survive falling behind, and rights checked again when the viewer's rights channel says so."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest

from actions import projects
from domain.errors import Forbidden
from graphql_schema.subscriptions import Guard, Signals, page_access
from realtime.bus import EventBus
from realtime.channels import inbox_channel
from tests.world import World


@pytest.fixture
async def small_bus() -> AsyncIterator[EventBus]:
    """A bus whose subscribers may queue only two messages."""
    bus = EventBus("memory://", namespace=f"test-{secrets.token_hex(4)}")
    bus.fanout._limit = 2
    await bus.connect()
    try:
        yield bus
    finally:
        await bus.disconnect()


async def test_signals_that_fell_behind_say_look_again_and_keep_coming(
    world: World, small_bus: EventBus
) -> None:
    # given a reader of max's inbox signals that reads nothing while five arrive
    async with Signals(small_bus, inbox_channel(world.max.id)) as changes:
        for _ in range(5):
            await small_bus.inbox_changed(world.max.id)
        # then it is told to look again once, not ended
        assert await asyncio.wait_for(changes.next(), 5) is None
        # and it hears the next signal
        await small_bus.inbox_changed(world.max.id)
        assert await asyncio.wait_for(changes.next(), 5) == "read"


async def test_a_guard_ends_at_a_removal_and_not_before(world: World, bus: EventBus) -> None:
    # given max watching a page of the portal, with nothing else happening
    loop = asyncio.get_running_loop()
    async with Guard(bus, page_access(world.max, world.portal_page.id)) as guard:
        # the heartbeat comes first while nothing changes
        assert await guard.wait(loop.create_future(), loop.time() + 0.05) is None
        # when he is taken off the project, in any process
        waiting = asyncio.ensure_future(guard.wait(loop.create_future(), loop.time() + 30))
        await projects.remove_project_member(
            world.sam, bus, project_id=world.portal.id, user_id=world.max.id
        )
        # then the wait ends with FORBIDDEN
        with pytest.raises(Forbidden):
            await asyncio.wait_for(waiting, 5)
