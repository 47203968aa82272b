"""The inbox: watches at their levels, mentions and replies notify exactly the right people."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette

from actions import microposts, pages, projects, watches
from models import (
    Notification,
    ProjectStatus,
    Topic,
    User,
    Visibility,
    WatchLevel,
    WatchTargetKind,
)
from realtime.bus import EventBus
from realtime.channels import feed_channel
from realtime.stream import encode_cursor
from tests.conftest import Api
from tests.live import GraphQLSocket, serve, until_subscribed
from tests.world import World

INBOX = """
query ($unread: Boolean! = false) {
  notifications(unreadOnly: $unread) {
    unreadCount totalCount
    edges { node { id reason readAt event { __typename
      ... on MicropostPosted { micropost { body } } ... on PageUpdated { revision } } } }
  }
}
"""
MARK = """
mutation ($ids: [ID!]) { markNotificationsRead(input: {notificationIds: $ids}) {
  marked unreadCount } }
"""
K, L = WatchTargetKind, WatchLevel


@pytest.fixture(autouse=True)
async def _empty_inboxes(world: World) -> None:
    """Start each story with the world built and everybody's inbox empty."""
    await Notification.all().delete()


async def _reasons(user: User) -> list[tuple[str, int]]:
    rows = await Notification.filter(user_id=user.id).order_by("id")
    return [(row.reason.value, row.event_id) for row in rows]


async def _post(world: World, bus: EventBus, author: User, body: str, **kw: object) -> int:
    post = await microposts.post_micropost(
        author,
        bus,
        project_id=world.portal.id,
        body=body,
        **kw,  # type: ignore[arg-type]
    )
    return post.id


async def test_a_mention_notifies_the_mentioned_and_never_the_author(
    api: Api, world: World, bus: EventBus
) -> None:
    # when sam mentions anna and himself
    await _post(world, bus, world.sam, "@anna please approve, cc @sam")
    # then anna has one unread MENTIONED notification and sam none
    inbox = await api(INBOX, as_user=world.anna)
    assert inbox.data["notifications"]["unreadCount"] == 1
    [edge] = inbox.data["notifications"]["edges"]
    assert edge["node"]["reason"] == "MENTIONED"
    assert edge["node"]["event"] == {
        "__typename": "MicropostPosted",
        "micropost": {"body": "@anna please approve, cc @sam"},
    }
    assert await _reasons(world.sam) == []


async def test_watch_levels_decide_who_hears_of_a_post(world: World, bus: EventBus) -> None:
    # given anna watches all of Acme, max only participates in the portal,
    # and mia... is not a member; stan (staff) muted the portal under a watched customer
    await watches.watch(world.anna, kind=K.CUSTOMER, target_id=world.acme.id, level=L.WATCHING)
    await watches.watch(world.max, kind=K.PROJECT, target_id=world.portal.id, level=L.PARTICIPATING)
    await watches.watch(world.stan, kind=K.CUSTOMER, target_id=world.acme.id, level=L.WATCHING)
    await watches.watch(world.stan, kind=K.PROJECT, target_id=world.portal.id, level=L.MUTED)
    # when sam posts, then replies to max, then mentions stan
    await _post(world, bus, world.sam, "plain update")
    max_post = await _post(world, bus, world.max, "question from max")
    await _post(world, bus, world.sam, "answer", parent_id=max_post)
    await _post(world, bus, world.sam, "@stan see this")
    # then
    anna = [reason for reason, _ in await _reasons(world.anna)]
    max_ = [reason for reason, _ in await _reasons(world.max)]
    assert anna == ["WATCHING", "WATCHING", "WATCHING", "WATCHING"]
    assert max_ == ["REPLIED"]
    assert await _reasons(world.stan) == []  # MUTED overrides the customer watch and mentions


async def test_internal_notes_notify_staff_watchers_only(world: World, bus: EventBus) -> None:
    await watches.watch(world.anna, kind=K.PROJECT, target_id=world.portal.id, level=L.WATCHING)
    await watches.watch(world.stan, kind=K.PROJECT, target_id=world.portal.id, level=L.WATCHING)
    await _post(world, bus, world.sam, "@anna internal", visibility=Visibility.INTERNAL)
    assert await _reasons(world.anna) == []
    assert [r for r, _ in await _reasons(world.stan)] == ["WATCHING"]


async def test_a_watched_topic_never_reaches_another_customer(world: World, bus: EventBus) -> None:
    # given gus (Globex) and olivia (staff) watch #launch
    launch = await Topic.get(name="launch")
    await watches.watch(world.gus, kind=K.TOPIC, target_id=launch.id, level=L.WATCHING)
    await watches.watch(world.olivia, kind=K.TOPIC, target_id=launch.id, level=L.WATCHING)
    # when Acme's timeline gets a #launch post
    await _post(world, bus, world.max, "#launch is close")
    # then only the staff member hears of it
    assert await _reasons(world.gus) == []
    assert [r for r, _ in await _reasons(world.olivia)] == ["WATCHING"]


async def test_page_updates_reach_earlier_authors_unless_they_muted_the_page(
    world: World, bus: EventBus
) -> None:
    # given max wrote revision 2, anna watches the project but muted this page
    await pages.update_page(world.max, bus, page_id=world.portal_page.id, base_revision=1, body="a")
    await watches.watch(world.anna, kind=K.PROJECT, target_id=world.portal.id, level=L.WATCHING)
    await watches.watch(world.anna, kind=K.PAGE, target_id=world.portal_page.id, level=L.MUTED)
    # when sam writes revision 3
    await pages.update_page(world.sam, bus, page_id=world.portal_page.id, base_revision=2, body="b")
    # then max (earlier author) is told, anna is not
    assert [r for r, _ in await _reasons(world.max)] == ["PARTICIPATING"]
    assert await _reasons(world.anna) == []


async def test_status_changes_reach_watchers(world: World, bus: EventBus) -> None:
    await watches.watch(world.anna, kind=K.PROJECT, target_id=world.portal.id, level=L.WATCHING)
    await projects.change_project_status(
        world.sam, bus, project_id=world.portal.id, status=ProjectStatus.ACTIVE
    )
    assert [r for r, _ in await _reasons(world.anna)] == ["WATCHING"]


async def test_mark_read_some_then_all(api: Api, world: World, bus: EventBus) -> None:
    for n in range(3):
        await _post(world, bus, world.sam, f"@anna item {n}")
    inbox = await api(INBOX, as_user=world.anna)
    first_id = inbox.data["notifications"]["edges"][0]["node"]["id"]
    # when someone else tries, nothing changes
    foreign = await api(MARK, {"ids": [first_id]}, as_user=world.max)
    assert foreign.data == {"markNotificationsRead": {"marked": 0, "unreadCount": 0}}
    # when anna marks one, then all
    one = await api(MARK, {"ids": [first_id]}, as_user=world.anna)
    rest = await api(MARK, {"ids": None}, as_user=world.anna)
    # then
    assert one.data == {"markNotificationsRead": {"marked": 1, "unreadCount": 2}}
    assert rest.data == {"markNotificationsRead": {"marked": 2, "unreadCount": 0}}
    unread = await api(INBOX, {"unread": True}, as_user=world.anna)
    assert unread.data["notifications"]["edges"] == []
    assert unread.data["notifications"]["unreadCount"] == 0


async def test_notifications_of_a_project_one_left_are_no_longer_shown(
    api: Api, world: World, bus: EventBus
) -> None:
    await _post(world, bus, world.sam, "@max welcome")
    await projects.remove_project_member(
        world.sam, bus, project_id=world.portal.id, user_id=world.max.id
    )
    inbox = await api(INBOX, as_user=world.max)
    assert inbox.data["notifications"] == {"unreadCount": 0, "totalCount": 0, "edges": []}


FEED = """
subscription ($after: String) { myFeed(after: $after) {
  __typename ... on TimelineEvent { cursor } ... on MicropostPosted { micropost { body } } } }
"""
UNREAD = "subscription { unreadNotificationCount }"


@pytest.fixture
async def address(app: Starlette) -> AsyncIterator[str]:
    async with serve(app) as host_and_port:
        yield host_and_port


async def test_my_feed_streams_what_notifies_me_and_nothing_else(
    api: Api, world: World, bus: EventBus, address: str
) -> None:
    async with GraphQLSocket.open(address, api.token_for(world.anna)) as sock:
        assert (await sock.receive())["type"] == "connection_ack"
        await sock.subscribe("feed", FEED, {"after": encode_cursor(0)})
        await until_subscribed(bus, feed_channel(world.anna.id))
        await _post(world, bus, world.sam, "not for anna")
        await _post(world, bus, world.sam, "@anna for anna")
        message = await sock.receive()
    assert message["payload"]["data"]["myFeed"]["micropost"] == {"body": "@anna for anna"}


async def test_the_unread_count_follows_new_and_read_notifications(
    api: Api, world: World, bus: EventBus, address: str
) -> None:
    async with GraphQLSocket.open(address, api.token_for(world.anna)) as sock:
        assert (await sock.receive())["type"] == "connection_ack"
        await sock.subscribe("n", UNREAD, {})
        counts = [(await sock.receive())["payload"]["data"]["unreadNotificationCount"]]
        await _post(world, bus, world.sam, "@anna one")
        counts.append((await sock.receive())["payload"]["data"]["unreadNotificationCount"])
        await api(MARK, {"ids": None}, as_user=world.anna)
        counts.append((await sock.receive())["payload"]["data"]["unreadNotificationCount"])
    assert counts == [0, 1, 0]


async def test_an_unread_count_that_fell_behind_recounts_instead_of_failing(
    api: Api, world: World, bus: EventBus, address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a subscriber whose queue holds a single signal
    monkeypatch.setattr(bus.fanout, "_limit", 1)
    async with GraphQLSocket.open(address, api.token_for(world.anna)) as sock:
        assert (await sock.receive())["type"] == "connection_ack"
        await sock.subscribe("n", UNREAD, {})
        assert (await sock.receive())["payload"]["data"]["unreadNotificationCount"] == 0
        # when many changes arrive before it reads one
        await _post(world, bus, world.sam, "@anna one")
        for _ in range(5):
            await bus.inbox_changed(world.anna.id)
        await _post(world, bus, world.sam, "@anna two")
        # then it still answers counts, and the right one at the end
        counts = [(await sock.receive())["payload"]["data"]["unreadNotificationCount"]]
        while counts[-1] != 2:
            message = await sock.receive()
            assert message["type"] == "next", message
            counts.append(message["payload"]["data"]["unreadNotificationCount"])
    assert counts[-1] == 2


async def test_nobody_reads_another_users_notification_by_id(
    api: Api, world: World, bus: EventBus
) -> None:
    # given anna's notification
    await _post(world, bus, world.sam, "@anna private")
    inbox = await api(INBOX, as_user=world.anna)
    [edge] = inbox.data["notifications"]["edges"]
    node = "query ($id: ID!) { node(id: $id) { ... on Notification { reason } } }"
    # when her colleague and another customer's contact ask for it
    colleague = await api(node, {"id": edge["node"]["id"]}, as_user=world.max)
    stranger = await api(node, {"id": edge["node"]["id"]}, as_user=world.gina)
    own = await api(node, {"id": edge["node"]["id"]}, as_user=world.anna)
    # then only she reads it
    assert colleague.codes == stranger.codes == ["NOT_FOUND"]
    assert colleague.data == stranger.data == {"node": None}
    assert own.data == {"node": {"reason": "MENTIONED"}}
