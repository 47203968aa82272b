"""What an action publishes reaches subscribers only once its outermost transaction has
committed: never when it fails, never when only a nested transaction has ended."""

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import pytest
from tortoise.transactions import in_transaction

from actions import microposts
from actions.unit_of_work import UnitOfWork, unit_of_work
from models import Event, Micropost
from realtime._fanout import LocalSubscriber
from realtime.bus import EventBus
from realtime.channels import feed_channel, project_channel
from realtime.events import ChannelMessage, Control, TimelineMessage, decode_message
from tests.world import World


@asynccontextmanager
async def _listening(bus: EventBus, *channels: str) -> AsyncIterator[list[LocalSubscriber]]:
    """Subscribers of these channels, live when this returns."""
    async with AsyncExitStack() as stack:
        yield [await stack.enter_async_context(bus.subscribe(c)) for c in channels]


async def _heard_so_far(
    bus: EventBus, world: World, subscribers: list[LocalSubscriber]
) -> list[list[ChannelMessage]]:
    """What each subscriber (of the portal's or Max's channels) received before now: a
    signal is published on those channels now, and messages of a channel arrive in the
    order they were published, so whatever comes before it was published earlier."""
    await bus.rights_changed(project_ids=[world.portal.id], user_ids=[world.max.id])
    heard: list[list[ChannelMessage]] = []
    for subscriber in subscribers:
        messages: list[ChannelMessage] = []
        while (message := decode_message(await asyncio.wait_for(subscriber.get(), 5))) != (
            Control.RIGHTS_CHANGED
        ):
            messages.append(message)
        heard.append(messages)
    return heard


@pytest.mark.parametrize("failing", ["notifying", "after registering the publication"])
async def test_a_failure_after_the_event_is_written_publishes_nothing(
    world: World, bus: EventBus, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    # given subscribers of the portal's timeline and of Max's feed, and a post mentioning
    # Max that fails inside its transaction once its event is written: while writing its
    # notifications, or once it has registered the event's publication
    written: list[Event] = []
    record_notifications = microposts.record_notifications  # type: ignore[attr-defined]
    publish = UnitOfWork.publish

    async def notify_then_fail(event: Event, *args: Any, **kwargs: Any) -> set[int]:
        notified: set[int] = await record_notifications(event, *args, **kwargs)
        assert world.max.id in notified
        written.append(event)
        raise RuntimeError("the disk is full")

    def publish_then_fail(work: UnitOfWork, event: Event, *, notified: Iterable[int]) -> None:
        publish(work, event, notified=notified)
        written.append(event)
        raise RuntimeError("the disk is full")

    if failing == "notifying":
        monkeypatch.setattr(microposts, "record_notifications", notify_then_fail)
    else:
        monkeypatch.setattr(UnitOfWork, "publish", publish_then_fail)
    channels = (project_channel(world.portal.id), feed_channel(world.max.id))
    async with _listening(bus, *channels) as subscribers:
        # when
        with pytest.raises(RuntimeError, match="the disk is full"):
            await microposts.post_micropost(
                world.sam, bus, project_id=world.portal.id, body="@max is this lost?"
            )
        # then nobody heard of it, and neither the event nor the post is there
        assert await _heard_so_far(bus, world, subscribers) == [[], []]
    [event] = written
    assert not await Event.exists(id=event.id)
    assert not await Micropost.exists(body="@max is this lost?")


async def test_a_nested_transaction_publishes_only_after_the_outer_one_commits(
    world: World, bus: EventBus
) -> None:
    # given a subscriber of the portal's timeline
    async with _listening(bus, project_channel(world.portal.id)) as [timeline]:
        # when an action (with its own transaction) runs inside an enclosing transaction
        async with unit_of_work(bus):
            post = await microposts.post_micropost(
                world.sam, bus, project_id=world.portal.id, body="Posted inside"
            )
            # then its own transaction has ended, and nothing is published yet
            assert await _heard_so_far(bus, world, [timeline]) == [[]]
        # and once the enclosing one commits, its event is
        message = decode_message(await asyncio.wait_for(timeline.get(), 5))
    assert isinstance(message, TimelineMessage)
    assert message.micropost_id == post.id
    assert await Event.exists(id=message.id)


async def test_an_enclosing_rollback_drops_what_a_nested_action_published(
    world: World, bus: EventBus
) -> None:
    # given a subscriber of the portal's timeline, and a post made inside an enclosing
    # transaction that then fails
    posted: list[Micropost] = []

    async def post_then_change_mind() -> None:
        async with unit_of_work(bus):
            posted.append(
                await microposts.post_micropost(
                    world.sam, bus, project_id=world.portal.id, body="Taken back"
                )
            )
            raise RuntimeError("changed my mind")

    async with _listening(bus, project_channel(world.portal.id)) as subscribers:
        # when
        with pytest.raises(RuntimeError, match="changed my mind"):
            await post_then_change_mind()
        # then nobody heard of it, and the post is gone
        assert await _heard_so_far(bus, world, subscribers) == [[]]
    [post] = posted
    assert not await Micropost.exists(id=post.id)


async def test_an_action_refuses_to_run_in_a_transaction_whose_commit_it_cannot_see(
    world: World, bus: EventBus
) -> None:
    with pytest.raises(RuntimeError, match="unit_of_work"):
        async with in_transaction():
            await microposts.post_micropost(
                world.sam, bus, project_id=world.portal.id, body="Too early"
            )
    assert not await Micropost.exists(body="Too early")
