"""Watches through the API: levels, one row per target, inheritance and what stays visible."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from actions import microposts, projects, watches
from models import (
    DocumentType,
    LibraryDocument,
    LibraryFolder,
    Topic,
    User,
    Watch,
    WatchLevel,
    WatchTargetKind,
)
from realtime.bus import EventBus
from tests.conftest import Api, Result, gid
from tests.world import World

L = WatchLevel
K = WatchTargetKind

TARGET = """
target {
  __typename
  ... on Customer { name }
  ... on Project { name }
  ... on Page { name: title }
  ... on Topic { name }
  ... on LibraryFolder { name }
  ... on LibraryDocument { name: title }
}
"""

WATCH = f"""
mutation ($input: WatchInput!) {{ watch(input: $input) {{ watch {{ id level {TARGET} }} }} }}
"""

UNWATCH = "mutation ($input: UnwatchInput!) { unwatch(input: $input) { removed } }"

WATCHES = f"""
query {{ watches(first: 20) {{ totalCount edges {{ node {{ level {TARGET} }} }} }} }}
"""

LEVELS = """
query ($customer: ID!, $portal: ID!, $page: ID!, $pilot: ID!) {
  customer(id: $customer) { viewerWatchLevel }
  portal: project(id: $portal) { viewerWatchLevel }
  page(id: $page) { viewerWatchLevel }
  pilot: project(id: $pilot) { viewerWatchLevel }
}
"""

REMOVE_MEMBER = """
mutation ($input: ProjectMemberInput!) { removeProjectMember(input: $input) { user { id } } }
"""

TOPIC_LEVEL = "query ($name: String!) { topic(name: $name) { viewerWatchLevel } }"

# kind -> (World attribute or topic name, typename, displayed name)
TARGETS: dict[K, tuple[str, str, str]] = {
    K.CUSTOMER: ("acme", "Customer", "Acme Logistics"),
    K.PROJECT: ("portal", "Project", "Acme warehouse portal"),
    K.PAGE: ("portal_page", "Page", "Acme booking concept"),
    K.TOPIC: ("launch", "Topic", "launch"),
    K.FOLDER: ("", "LibraryFolder", "Manuals"),
    K.DOCUMENT: ("", "LibraryDocument", "Operating manual"),
}


async def _target(world: World, kind: K) -> Any:
    name = TARGETS[kind][0]
    if kind is K.FOLDER:  # of the shared library
        return await LibraryFolder.create(name="Manuals")
    if kind is K.DOCUMENT:  # shared with every customer, published
        return await LibraryDocument.create(
            title="Operating manual",
            type=DocumentType.MANUAL,
            owner_id=world.sam.id,
            valid_from=datetime.now(UTC) - timedelta(days=1),
        )
    return await Topic.get(name=name) if kind is K.TOPIC else getattr(world, name)


async def _watch(api: Api, user: User, target: Any, level: str = "WATCHING") -> Result:
    variables = {"input": {"targetId": gid(target), "level": level}}
    return await api(WATCH, variables, as_user=user)


async def _watch_rows() -> int:
    return await Watch.all().count()


@pytest.mark.parametrize("level", list(L))
@pytest.mark.parametrize("kind", list(K))
async def test_a_user_watches_each_kind_of_target_at_each_level(
    api: Api, world: World, kind: K, level: L
) -> None:
    # given
    target = await _target(world, kind)
    _, typename, name = TARGETS[kind]
    # when
    result = await _watch(api, world.max, target, level.value)
    # then
    assert result.errors == []
    watch = result.data["watch"]["watch"]
    assert watch["level"] == level.value
    assert watch["target"] == {"__typename": typename, "name": name}
    row = await Watch.get(user_id=world.max.id)
    assert (row.kind, row.level, row.target_key) == (kind, level, f"{kind.value}:{target.id}")
    assert getattr(row, f"{kind.value.lower()}_id") == target.id


@pytest.mark.parametrize("kind", list(K))
async def test_watching_again_changes_the_level_of_the_one_watch(
    api: Api, world: World, kind: K
) -> None:
    # given
    target = await _target(world, kind)
    first = await _watch(api, world.max, target, "WATCHING")
    # when
    second = await _watch(api, world.max, target, "MUTED")
    # then
    assert second.data["watch"]["watch"]["id"] == first.data["watch"]["watch"]["id"]
    assert second.data["watch"]["watch"]["level"] == "MUTED"
    assert [w.level for w in await Watch.filter(user_id=world.max.id)] == [L.MUTED]


@pytest.mark.parametrize("kind", list(K))
async def test_unwatching_removes_the_watch_once(api: Api, world: World, kind: K) -> None:
    # given
    target = await _target(world, kind)
    await _watch(api, world.max, target)
    variables = {"input": {"targetId": gid(target)}}
    # when
    first = await api(UNWATCH, variables, as_user=world.max)
    second = await api(UNWATCH, variables, as_user=world.max)
    # then
    assert first.data == {"unwatch": {"removed": True}}
    assert second.data == {"unwatch": {"removed": False}}
    assert await _watch_rows() == 0


async def test_watches_lists_only_the_viewers_own(api: Api, world: World) -> None:
    # given
    await _watch(api, world.max, world.portal, "PARTICIPATING")
    await _watch(api, world.max, world.acme)
    await _watch(api, world.anna, world.pilot)
    await _watch(api, world.gus, world.loyalty)
    # when
    result = await api(WATCHES, as_user=world.max)
    # then
    assert result.data["watches"] == {
        "totalCount": 2,
        "edges": [
            {
                "node": {
                    "level": "PARTICIPATING",
                    "target": {"__typename": "Project", "name": "Acme warehouse portal"},
                }
            },
            {
                "node": {
                    "level": "WATCHING",
                    "target": {"__typename": "Customer", "name": "Acme Logistics"},
                }
            },
        ],
    }


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ([], (None, None, None, None)),
        ([(K.CUSTOMER, L.WATCHING)], (L.WATCHING,) * 4),
        (
            [(K.CUSTOMER, L.WATCHING), (K.PAGE, L.MUTED)],
            (L.WATCHING, L.WATCHING, L.MUTED, L.WATCHING),
        ),
        (
            [(K.CUSTOMER, L.WATCHING), (K.PROJECT, L.PARTICIPATING)],
            (L.WATCHING, L.PARTICIPATING, L.PARTICIPATING, L.WATCHING),
        ),
        (
            [(K.CUSTOMER, L.MUTED), (K.PROJECT, L.WATCHING)],
            (L.MUTED, L.WATCHING, L.WATCHING, L.MUTED),
        ),
        ([(K.PROJECT, L.MUTED), (K.PAGE, L.WATCHING)], (None, L.MUTED, L.WATCHING, None)),
    ],
)
async def test_the_most_specific_watch_applies(
    api: Api,
    world: World,
    given: list[tuple[K, L]],
    expected: tuple[L | None, L | None, L | None, L | None],
) -> None:
    # given
    for kind, level in given:
        target = await _target(world, kind)
        await watches.watch(world.anna, kind=kind, target_id=target.id, level=level)
    variables = {
        "customer": gid(world.acme),
        "portal": gid(world.portal),
        "page": gid(world.portal_page),
        "pilot": gid(world.pilot),
    }
    # when
    result = await api(LEVELS, variables, as_user=world.anna)
    # then
    assert result.errors == []
    levels = [
        result.data[key]["viewerWatchLevel"] for key in ("customer", "portal", "page", "pilot")
    ]
    assert levels == [level.value if level else None for level in expected]


async def test_a_topic_shows_the_viewers_own_level(api: Api, world: World) -> None:
    # given
    topic = await Topic.get(name="launch")
    await _watch(api, world.max, topic, "PARTICIPATING")
    # when
    mine = await api(TOPIC_LEVEL, {"name": "#Launch"}, as_user=world.max)
    theirs = await api(TOPIC_LEVEL, {"name": "launch"}, as_user=world.gus)
    # then
    assert mine.data == {"topic": {"viewerWatchLevel": "PARTICIPATING"}}
    assert theirs.data == {"topic": {"viewerWatchLevel": None}}


@pytest.mark.parametrize(
    ("viewer", "target"),
    [
        ("anna", "globex"),
        ("anna", "loyalty"),
        ("anna", "loyalty_page"),
        ("max", "pilot"),  # Acme's, but max is no member
        ("max", "portal_internal_page"),
        ("gus", "portal_page"),
        ("gus", "acme_topic"),  # a topic only Acme's posts use
    ],
)
async def test_watching_what_one_may_not_see_is_not_found_and_writes_nothing(
    api: Api, world: World, bus: EventBus, viewer: str, target: str
) -> None:
    # given
    await microposts.post_micropost(
        world.sam, bus, project_id=world.portal.id, body="Only here: #acme-rollout"
    )
    objects = {"acme_topic": await Topic.get(name="acme-rollout")}
    unseen = objects.get(target) or getattr(world, target)
    user = world.users()[viewer]
    # when
    watched = await _watch(api, user, unseen)
    unwatched = await api(UNWATCH, {"input": {"targetId": gid(unseen)}}, as_user=user)
    # then
    assert watched.data == {"watch": None}
    assert watched.codes == unwatched.codes == ["NOT_FOUND"]
    assert await _watch_rows() == 0


@pytest.mark.parametrize(
    ("target_id", "code"),
    [
        ("micropost", "NOT_FOUND"),  # not something one can watch
        ("user", "NOT_FOUND"),
        ("not-an-id", "BAD_USER_INPUT"),
    ],
)
async def test_watching_something_that_is_not_a_target_is_refused(
    api: Api, world: World, target_id: str, code: str
) -> None:
    # given
    ids = {"micropost": gid(world.portal_post), "user": gid(world.sam)}
    variables = {"input": {"targetId": ids.get(target_id, target_id)}}
    # when
    result = await api(WATCH, variables, as_user=world.max)
    # then
    assert result.codes == [code]
    assert await _watch_rows() == 0


async def test_a_watch_on_what_one_can_no_longer_see_has_no_target(api: Api, world: World) -> None:
    # given
    await _watch(api, world.max, world.acme)
    await _watch(api, world.max, world.portal)
    await _watch(api, world.max, world.portal_page, "MUTED")
    member = {"input": {"projectId": gid(world.portal), "userId": gid(world.max)}}
    assert (await api(REMOVE_MEMBER, member, as_user=world.sam)).errors == []
    # when
    result = await api(WATCHES, as_user=world.max)
    # then
    assert result.errors == []
    assert [e["node"] for e in result.data["watches"]["edges"]] == [
        {"level": "WATCHING", "target": {"__typename": "Customer", "name": "Acme Logistics"}},
        {"level": "WATCHING", "target": None},
        {"level": "MUTED", "target": None},
    ]
    assert await Watch.filter(user_id=world.max.id).count() == 3


WATCH_IDS = "{ watches { edges { node { id target { __typename } } } } }"
UNWATCH_BY_ID = "mutation ($id: ID!) { unwatch(input: {targetId: $id}) { removed } }"


async def test_a_watch_whose_target_is_out_of_sight_can_still_be_removed(
    api: Api, world: World, bus: EventBus
) -> None:
    # given max watches the portal, then loses access to it
    await _watch(api, world.max, world.portal, "WATCHING")
    await projects.remove_project_member(
        world.sam, bus, project_id=world.portal.id, user_id=world.max.id
    )
    [edge] = (await api(WATCH_IDS, as_user=world.max)).data["watches"]["edges"]
    assert edge["node"]["target"] is None
    # when he removes it by the watch's own ID
    result = await api(UNWATCH_BY_ID, {"id": edge["node"]["id"]}, as_user=world.max)
    # then
    assert result.data == {"unwatch": {"removed": True}}
    assert await Watch.filter(user_id=world.max.id).count() == 0


async def test_nobody_removes_another_users_watch_by_its_id(api: Api, world: World) -> None:
    watched = await _watch(api, world.max, world.portal, "WATCHING")
    watch_id = watched.data["watch"]["watch"]["id"]
    result = await api(UNWATCH_BY_ID, {"id": watch_id}, as_user=world.anna)
    assert result.codes == ["NOT_FOUND"]
    assert await Watch.filter(user_id=world.max.id).count() == 1
