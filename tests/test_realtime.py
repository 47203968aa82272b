"""Committed timeline changes reach every process through broadcaster, after the commit."""

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest

from actions import microposts, projects
from domain.errors import RateLimited
from graphql_schema import subscriptions
from models import Event, ProjectStatus
from models.events import ProjectStatusChanged
from realtime import stream
from realtime.bus import EventBus
from realtime.channels import project_channel
from realtime.events import TimelineMessage
from tests.live import until_subscribed
from tests.world import World


@pytest.fixture
async def redis_bus(any_redis: str) -> AsyncIterator[EventBus]:
    bus = EventBus(any_redis, namespace=f"test-{secrets.token_hex(4)}")
    await bus.connect()
    try:
        yield bus
    finally:
        await bus.disconnect()


@pytest.fixture(params=["app", "redis"])
async def any_bus(request: pytest.FixtureRequest, bus: EventBus) -> AsyncIterator[EventBus]:
    """The application's own bus (memory:// or BROADCAST_URL), and a Redis one."""
    if request.param == "app":
        yield bus
        return
    url: str = request.getfixturevalue("any_redis")
    redis = EventBus(url, namespace=f"test-{secrets.token_hex(4)}")
    await redis.connect()
    try:
        yield redis
    finally:
        await redis.disconnect()


async def _next_message(bus: EventBus, channel: str, ready: asyncio.Event) -> TimelineMessage:
    async with bus.subscribe(channel) as subscriber:
        ready.set()
        message = TimelineMessage.decode(await subscriber.get())
        # the row is already committed when the message arrives: visible to a fresh query
        assert await Event.exists(id=message.id)
        return message


async def _receive_one(
    bus: EventBus, project_id: int
) -> tuple[asyncio.Task[TimelineMessage], asyncio.Event]:
    ready = asyncio.Event()
    task = asyncio.create_task(_next_message(bus, project_channel(project_id), ready))
    await asyncio.wait_for(ready.wait(), 5)
    return task, ready


async def test_a_post_is_published_on_its_project_channel(world: World, any_bus: EventBus) -> None:
    # given a subscriber of the portal timeline
    used = any_bus
    receiving, _ = await _receive_one(used, world.portal.id)
    # when
    post = await microposts.post_micropost(
        world.max, used, project_id=world.portal.id, body="Live from the yard"
    )
    # then
    message = await asyncio.wait_for(receiving, 5)
    event = await Event.get(micropost_id=post.id)
    assert message.id == event.id
    assert message.kind.value == "MICROPOST_POSTED"
    assert message.project_id == world.portal.id
    assert message.customer_id == world.acme.id
    assert message.actor_id == world.max.id


async def test_a_status_change_carries_from_to_and_why(world: World, redis_bus: EventBus) -> None:
    receiving, _ = await _receive_one(redis_bus, world.pilot.id)
    await projects.change_project_status(
        world.sam,
        redis_bus,
        project_id=world.pilot.id,
        status=ProjectStatus.CANCELLED,
        reason="Budget moved to the portal",
    )
    message = await asyncio.wait_for(receiving, 5)
    assert isinstance(message.payload, ProjectStatusChanged)
    assert message.payload.from_status is ProjectStatus.PROPOSED
    assert message.payload.to_status is ProjectStatus.CANCELLED
    assert message.payload.reason == "Budget moved to the portal"


async def test_event_messages_round_trip(world: World) -> None:
    event = await Event.filter(project_id=world.portal.id).order_by("id").first()
    assert event is not None
    message = TimelineMessage.from_event(event)
    assert TimelineMessage.decode(message.encode()) == message


async def test_a_subscriber_that_falls_behind_is_told_where_to_resume(world: World) -> None:
    # given a bus whose subscribers may queue only three messages
    small = EventBus("memory://", namespace=f"test-{secrets.token_hex(4)}")
    small.fanout._limit = 3
    await small.connect()
    try:
        timeline = subscriptions.project_timeline(world.max, small, world.portal.id, None)
        first = asyncio.ensure_future(anext(timeline))
        await until_subscribed(small, project_channel(world.portal.id))
        post = await microposts.post_micropost(
            world.sam, small, project_id=world.portal.id, body="read"
        )
        delivered = await asyncio.wait_for(first, 5)
        # when five more arrive while the client reads nothing
        for n in range(5):
            await microposts.post_micropost(
                world.sam, small, project_id=world.portal.id, body=f"unread {n}"
            )
        # then the stream ends with a coded error that names the cursor to resume from
        with pytest.raises(RateLimited) as fell_behind:
            await asyncio.wait_for(anext(timeline), 5)
        await timeline.aclose()
    finally:
        await small.disconnect()
    assert isinstance(delivered, Event)
    assert delivered.micropost_id == post.id
    assert (fell_behind.value.extensions or {})["resumeAfter"] == stream.encode_cursor(delivered.id)
