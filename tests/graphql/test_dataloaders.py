"""Reading a timeline, a page's comments or an inbox costs the same number of SQL queries
for 5 items as for 50."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from actions import microposts, watches
from realtime.bus import EventBus
from tests.conftest import Api, gid
from tests.world import World

TIMELINE = """
query Timeline($id: ID!, $first: Int!) {
  project(id: $id) {
    timeline(first: $first) {
      edges { node { body author { name handle } topics { name } replyCount mentions { name } } }
    }
  }
}
"""


COMMENTS = """
query Comments($id: ID!, $first: Int!) {
  page(id: $id) { comments(first: $first) { edges { node { body page { title } } } } }
}
"""

INBOX = """
query Inbox($first: Int!) {
  notifications(first: $first) { edges { node { reason event { __typename } } } }
}
"""


class _QueryCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.lstrip().upper().startswith(("SELECT", "WITH")):
            self.statements.append(message)


@contextmanager
def count_queries() -> Iterator[_QueryCounter]:
    logger = logging.getLogger("tortoise.db_client")
    counter = _QueryCounter()
    level = logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)


async def _fill_timeline(world: World, bus: EventBus, posts: int) -> None:
    authors = [world.sam, world.max, world.anna]
    for n in range(posts):
        post = await microposts.post_micropost(
            authors[n % 3], bus, project_id=world.portal.id, body=f"Update {n} #topic{n % 4} @max"
        )
        if n % 2:
            await microposts.post_micropost(
                world.anna, bus, project_id=world.portal.id, body="ok", parent_id=post.id
            )


async def _queries_for(api: Api, world: World, first: int) -> int:
    with count_queries() as counter:
        result = await api(TIMELINE, {"id": gid(world.portal), "first": first}, as_user=world.max)
    assert result.errors == []
    edges = result.data["project"]["timeline"]["edges"]
    assert len(edges) == first
    assert all(edge["node"]["author"]["name"] for edge in edges)
    return len(counter.statements)


async def test_timeline_queries_do_not_grow_with_the_number_of_posts(
    api: Api, world: World, bus: EventBus
) -> None:
    # given a timeline with more than 50 posts, half of them with replies
    await _fill_timeline(world, bus, 55)
    # when
    for_five = await _queries_for(api, world, 5)
    for_fifty = await _queries_for(api, world, 50)
    # then
    assert for_five > 0
    assert for_fifty == for_five


async def test_the_counter_sees_queries_that_grow_with_the_data(
    world: World, bus: EventBus
) -> None:
    # given a naive loop that loads each author separately
    await _fill_timeline(world, bus, 6)
    from models import Micropost, User

    with count_queries() as counter:
        for post in await Micropost.all():
            await User.get(id=post.author_id)
    # then the counter notices: one query per post plus the list
    assert len(counter.statements) == 1 + await Micropost.all().count()


async def _count(api: Api, world: World, query: str, variables: dict[str, object]) -> int:
    with count_queries() as counter:
        result = await api(query, variables, as_user=world.max)
    assert result.errors == []
    return len(counter.statements)


async def test_comments_and_the_inbox_read_their_pages_and_events_in_one_query(
    api: Api, world: World, bus: EventBus
) -> None:
    # given 55 comments on a page, each mentioning max (so each one notifies him)
    for n in range(55):
        await microposts.post_micropost(
            world.sam, bus, project_id=world.portal.id, body=f"Note {n} @max",
            page_id=world.portal_page.id,
        )  # fmt: skip
    # when max reads 5, then 50, of the comments (each with its page) and of his inbox
    page = gid(world.portal_page)
    comments = [await _count(api, world, COMMENTS, {"id": page, "first": n}) for n in (5, 50)]
    inbox = [await _count(api, world, INBOX, {"first": n}) for n in (5, 50)]
    # then fifty cost what five do
    assert comments[0] == comments[1] > 0
    assert inbox[0] == inbox[1] > 0


TOPIC_WATCH_LEVELS = """
query TopicLevels($id: ID!, $first: Int!) {
  project(id: $id) {
    timeline(first: $first) { edges { node { topics { name viewerWatchLevel } } } }
  }
}
"""

PROJECT_WATCH_LEVELS = """
query ProjectLevels($id: ID!, $first: Int!) {
  project(id: $id) {
    timeline(first: $first) { edges { node { project { viewerWatchLevel } } } }
  }
}
"""


async def test_watch_levels_on_a_timeline_are_read_in_one_query(
    api: Api, world: World, bus: EventBus
) -> None:
    # given a timeline of 55 posts with four topics, max watching one topic and the project
    await _fill_timeline(world, bus, 55)
    from models import Topic, WatchLevel, WatchTargetKind

    topic = await Topic.get(name="topic1")
    await watches.watch(
        world.max, kind=WatchTargetKind.TOPIC, target_id=topic.id, level=WatchLevel.WATCHING
    )
    await watches.watch(
        world.max, kind=WatchTargetKind.PROJECT, target_id=world.portal.id, level=WatchLevel.MUTED
    )
    # when max reads 5, then 50, posts with their topics' or their project's watch levels
    topic_counts, project_counts = [], []
    for first in (5, 50):
        variables = {"id": gid(world.portal), "first": first}
        with count_queries() as counter:
            result = await api(TOPIC_WATCH_LEVELS, variables, as_user=world.max)
        assert result.errors == []
        nodes = [edge["node"] for edge in result.data["project"]["timeline"]["edges"]]
        levels = {t["name"]: t["viewerWatchLevel"] for node in nodes for t in node["topics"]}
        assert levels == {"topic0": None, "topic1": "WATCHING", "topic2": None, "topic3": None}
        topic_counts.append(len(counter.statements))
        with count_queries() as counter:
            result = await api(PROJECT_WATCH_LEVELS, variables, as_user=world.max)
        assert result.errors == []
        nodes = [edge["node"] for edge in result.data["project"]["timeline"]["edges"]]
        assert [node["project"]["viewerWatchLevel"] for node in nodes] == ["MUTED"] * first
        project_counts.append(len(counter.statements))
    # then fifty cost what five do
    assert topic_counts[0] == topic_counts[1] > 0
    assert project_counts[0] == project_counts[1] > 0
