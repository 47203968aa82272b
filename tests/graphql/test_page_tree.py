"""Concept pages form a tree within a project, and each page has its own discussion: a
thread of comments that are posts on the project's timeline attached to the page."""

from __future__ import annotations

from typing import Any

import pytest

from actions import pages, watches
from models import Micropost, Notification, Page, User, Visibility, WatchLevel, WatchTargetKind
from realtime.bus import EventBus
from tests.conftest import Api, Result, gid
from tests.world import World

CREATE = """
mutation ($project: ID!, $title: String!, $parent: ID, $visibility: Visibility = SHARED) {
  createPage(input: {projectId: $project, title: $title, parentId: $parent,
                     visibility: $visibility}) {
    page { id title parent { title } }
  }
}
"""

MOVE = """
mutation ($page: ID!, $parent: ID, $from: ID) {
  movePage(input: {pageId: $page, parentId: $parent, fromParentId: $from}) {
    page { title parent { title } }
  }
}
"""

TREE = """
query ($id: ID!) {
  page(id: $id) {
    title parent { title }
    children { totalCount edges { node { title } } }
    comments { totalCount edges { node { body visibility page { title }
      replies { edges { node { body page { title } } } } } } }
  }
}
"""

COMMENT = """
mutation ($project: ID!, $page: ID, $body: String!, $replyTo: ID) {
  postMicropost(input: {projectId: $project, pageId: $page, body: $body,
                        inReplyToId: $replyTo}) {
    micropost { id body visibility page { title } }
  }
}
"""


async def _tree(api: Api, reader: User, page: Any) -> Any:
    result = await api(TREE, {"id": gid(page)}, as_user=reader)
    assert result.errors == [], result.errors
    return result.data["page"]


async def _create(api: Api, author: User, project: Any, title: str, **more: Any) -> Result:
    return await api(CREATE, {"project": gid(project), "title": title, **more}, as_user=author)


async def test_pages_nest_and_move(api: Api, world: World) -> None:
    # given a page under the booking concept, and one under that
    child = await _create(
        api, world.max, world.portal, "Booking: yard", parent=gid(world.portal_page)
    )
    assert child.data["createPage"]["page"]["parent"] == {"title": "Acme booking concept"}
    child_id = child.data["createPage"]["page"]["id"]
    grandchild = await _create(api, world.max, world.portal, "Yard: gates", parent=child_id)
    grandchild_id = grandchild.data["createPage"]["page"]["id"]
    tree = await _tree(api, world.anna, world.portal_page)
    assert tree["children"]["edges"] == [{"node": {"title": "Booking: yard"}}]
    # when the grandchild moves to the top
    moved = await api(
        MOVE, {"page": grandchild_id, "parent": None, "from": child_id}, as_user=world.max
    )
    # then
    assert moved.data["movePage"]["page"] == {"title": "Yard: gates", "parent": None}
    assert (await Page.get(title="Yard: gates")).parent_id is None


async def test_a_move_that_would_make_a_cycle_is_refused_and_changes_nothing(
    api: Api, world: World, bus: EventBus
) -> None:
    child = await pages.create_page(
        world.sam, bus, project_id=world.portal.id, title="Child", parent_id=world.portal_page.id
    )
    grandchild = await pages.create_page(
        world.sam, bus, project_id=world.portal.id, title="Grandchild", parent_id=child.id
    )
    # the top page under itself, its child or its grandchild
    for parent in (world.portal_page, child, grandchild):
        result = await api(
            MOVE,
            {"page": gid(world.portal_page), "parent": gid(parent), "from": None},
            as_user=world.sam,
        )
        assert result.codes == ["BAD_USER_INPUT"], parent
        assert "under itself or one of its own subpages" in result.errors[0]["message"]
    assert (await Page.get(id=world.portal_page.id)).parent_id is None
    assert (await Page.get(id=child.id)).parent_id == world.portal_page.id


@pytest.mark.parametrize(
    ("parent", "code"),
    [
        ("loyalty_page", "NOT_FOUND"),  # another customer's page
        ("portal_internal_page", "NOT_FOUND"),  # a page max may not see
    ],
)
async def test_a_parent_the_author_may_not_see_is_not_found(
    api: Api, world: World, parent: str, code: str
) -> None:
    result = await _create(api, world.max, world.portal, "Mine", parent=gid(getattr(world, parent)))
    assert result.codes == [code]
    assert not await Page.filter(title="Mine").exists()


async def test_a_parent_in_another_project_or_an_internal_parent_of_a_shared_page_is_refused(
    api: Api, world: World, bus: EventBus
) -> None:
    pilot_page = await pages.create_page(world.sam, bus, project_id=world.pilot.id, title="Pilot")
    other_project = await _create(api, world.sam, world.portal, "X", parent=gid(pilot_page))
    under_internal = await _create(
        api, world.sam, world.portal, "Y", parent=gid(world.portal_internal_page)
    )
    internal_ok = await _create(
        api,
        world.sam,
        world.portal,
        "Z",
        parent=gid(world.portal_internal_page),
        visibility="INTERNAL",
    )
    assert other_project.codes == ["BAD_USER_INPUT"]
    assert under_internal.codes == ["BAD_USER_INPUT"]
    assert "internal" in under_internal.errors[0]["message"]
    assert internal_ok.errors == []


async def test_a_contact_sees_only_the_children_they_may_read(
    api: Api, world: World, bus: EventBus
) -> None:
    await pages.create_page(
        world.sam,
        bus,
        project_id=world.portal.id,
        title="Margins (internal)",
        parent_id=world.portal_page.id,
        visibility=Visibility.INTERNAL,
    )
    await pages.create_page(
        world.sam, bus, project_id=world.portal.id, title="FAQ", parent_id=world.portal_page.id
    )
    staff = await _tree(api, world.sam, world.portal_page)
    contact = await _tree(api, world.anna, world.portal_page)
    assert staff["children"]["totalCount"] == 2
    assert contact["children"] == {"totalCount": 1, "edges": [{"node": {"title": "FAQ"}}]}


async def test_a_page_has_its_own_discussion(api: Api, world: World, bus: EventBus) -> None:
    # given sam watches the page
    await watches.watch(
        world.sam,
        kind=WatchTargetKind.PAGE,
        target_id=world.portal_page.id,
        level=WatchLevel.WATCHING,
    )
    variables = {"project": gid(world.portal), "page": gid(world.portal_page)}
    # when max comments and anna replies
    comment = await api(COMMENT, {**variables, "body": "Three taps is a lot"}, as_user=world.max)
    assert comment.errors == []
    posted = comment.data["postMicropost"]["micropost"]
    assert posted["page"] == {"title": "Acme booking concept"}
    reply = await api(
        COMMENT,
        {"project": gid(world.portal), "body": "Agreed", "replyTo": posted["id"]},
        as_user=world.anna,
    )
    assert reply.data["postMicropost"]["micropost"]["page"] == {"title": "Acme booking concept"}
    # then the page shows the thread
    comments = (await _tree(api, world.anna, world.portal_page))["comments"]
    assert comments["totalCount"] == 1
    [node] = [edge["node"] for edge in comments["edges"]]
    assert node["body"] == "Three taps is a lot"
    assert node["replies"]["edges"] == [
        {"node": {"body": "Agreed", "page": {"title": "Acme booking concept"}}}
    ]
    # and the page's watcher was told of both
    told = await Notification.filter(user_id=world.sam.id).prefetch_related("event")
    assert {n.event.micropost_id for n in told} >= {
        (await Micropost.get(body="Three taps is a lot")).id,
        (await Micropost.get(body="Agreed")).id,
    }


async def test_comments_follow_the_page_rules(api: Api, world: World, bus: EventBus) -> None:
    project = gid(world.portal)
    # a comment on an internal page is an internal note, and only staff may write it
    staff = await api(
        COMMENT,
        {"project": project, "page": gid(world.portal_internal_page), "body": "Margin ok"},
        as_user=world.sam,
    )
    assert staff.data["postMicropost"]["micropost"]["visibility"] == "INTERNAL"
    contact = await api(
        COMMENT,
        {"project": project, "page": gid(world.portal_internal_page), "body": "?"},
        as_user=world.max,
    )
    assert contact.codes == ["NOT_FOUND"]
    # a page of another project, or another customer's page
    pilot_page = await pages.create_page(world.sam, bus, project_id=world.pilot.id, title="Pilot")
    elsewhere = await api(
        COMMENT, {"project": project, "page": gid(pilot_page), "body": "x"}, as_user=world.sam
    )
    foreign = await api(
        COMMENT,
        {"project": project, "page": gid(world.loyalty_page), "body": "x"},
        as_user=world.max,
    )
    assert elsewhere.codes == ["BAD_USER_INPUT"]
    assert foreign.codes == ["NOT_FOUND"]
    assert not await Micropost.filter(body__in=["?", "x"]).exists()
