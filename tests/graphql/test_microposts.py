"""Microposts through the API: mentions, topics, replies, edits, rendering and the timeline."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from models import (
    Event,
    EventKind,
    Micropost,
    MicropostEdit,
    MicropostMention,
    Project,
    Topic,
    User,
    Visibility,
)
from tests.conftest import Api, Result, gid
from tests.world import World

POST = """
mutation ($input: PostMicropostInput!) {
  postMicropost(input: $input) {
    micropost {
      id body bodyHtml visibility editedAt
      author { handle }
      parent { id }
      mentions { handle }
      topics { name }
    }
  }
}
"""

EDIT = """
mutation ($input: EditMicropostInput!) {
  editMicropost(input: $input) {
    micropost {
      body editedAt
      edits { previousBody editor { handle } }
      mentions { handle }
      topics { name }
    }
  }
}
"""

TIMELINE = """
query ($id: ID!, $first: Int!, $after: String) {
  project(id: $id) {
    timeline(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { body visibility } }
    }
  }
}
"""

REPLIES = """
query ($id: ID!) {
  node(id: $id) {
    ... on Micropost {
      replyCount
      replies { totalCount edges { node { body visibility parent { body } } } }
    }
  }
}
"""

TOPIC = """
query ($name: String!) {
  topic(name: $name) { name microposts { totalCount edges { node { body } } } }
}
"""


async def _post(api: Api, author: User, project: Project, body: str, **extra: Any) -> Result:
    return await api(
        POST, {"input": {"projectId": gid(project), "body": body, **extra}}, as_user=author
    )


async def _edit(api: Api, editor: User, post: Micropost | str, body: str) -> Result:
    post_id = post if isinstance(post, str) else gid(post)
    return await api(EDIT, {"input": {"micropostId": post_id, "body": body}}, as_user=editor)


async def _rows() -> tuple[int, int, int]:
    """Posts, edits and events: what a refused input must leave as it was."""
    return (
        await Micropost.all().count(),
        await MicropostEdit.all().count(),
        await Event.all().count(),
    )


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("visibility", "body", "mentioned"),
    [
        ("SHARED", "Hi @max @Anna @olivia @mia @gus @nobody", ["anna", "max", "olivia"]),
        ("INTERNAL", "Note for @max @anna @stan", ["stan"]),
    ],
)
async def test_mentions_resolve_only_to_users_who_may_read_the_post(
    api: Api, world: World, visibility: str, body: str, mentioned: list[str]
) -> None:
    # when
    result = await _post(api, world.sam, world.portal, body, visibility=visibility)
    # then
    assert result.errors == []
    post = result.data["postMicropost"]["micropost"]
    assert sorted(m["handle"] for m in post["mentions"]) == mentioned
    assert post["body"] == body
    stored = await Micropost.get(body=body)
    assert await MicropostMention.filter(micropost_id=stored.id).count() == len(mentioned)


async def test_topics_are_lower_cased_deduplicated_and_shared_across_projects(
    api: Api, world: World
) -> None:
    # when
    first = await _post(api, world.sam, world.portal, "Review #Design and #design, `#code`")
    await _post(api, world.olivia, world.loyalty, "Globex #DESIGN")
    # then
    assert first.data["postMicropost"]["micropost"]["topics"] == [{"name": "design"}]
    assert await Topic.filter(name="design").count() == 1
    assert not await Topic.filter(name="code").exists()
    for viewer, count in ((world.sam, 2), (world.max, 1), (world.gus, 1)):
        topic = (await api(TOPIC, {"name": "#Design"}, as_user=viewer)).data["topic"]
        assert topic["name"] == "design"
        assert topic["microposts"]["totalCount"] == count
    unseen = await api(TOPIC, {"name": "design"}, as_user=world.mia)  # in no post mia may see
    assert unseen.codes == ["NOT_FOUND"]


async def test_a_reply_is_listed_under_its_post_and_not_on_the_timeline(
    api: Api, world: World
) -> None:
    # when
    result = await _post(
        api, world.max, world.portal, "Thanks!", inReplyToId=gid(world.portal_post)
    )
    # then
    assert result.errors == []
    reply = result.data["postMicropost"]["micropost"]
    assert reply["parent"] == {"id": gid(world.portal_post)}
    thread = (await api(REPLIES, {"id": gid(world.portal_post)}, as_user=world.anna)).data
    assert thread["node"]["replyCount"] == 1
    assert thread["node"]["replies"]["edges"] == [
        {
            "node": {
                "body": "Thanks!",
                "visibility": "SHARED",
                "parent": {"body": world.portal_post.body},
            }
        }
    ]
    timeline = await api(TIMELINE, {"id": gid(world.portal), "first": 10}, as_user=world.max)
    assert timeline.data["project"]["timeline"]["totalCount"] == 1


async def test_a_reply_to_an_internal_note_is_internal(api: Api, world: World) -> None:
    # when
    result = await _post(
        api, world.sam, world.portal, "Agreed", inReplyToId=gid(world.portal_internal_post)
    )
    # then
    assert result.data["postMicropost"]["micropost"]["visibility"] == "INTERNAL"
    reply = await Micropost.get(body="Agreed")
    assert reply.visibility is Visibility.INTERNAL
    event = await Event.get(micropost_id=reply.id)
    assert event.visibility is Visibility.INTERNAL


@pytest.mark.parametrize(
    ("author", "project", "parent", "code"),
    [
        ("sam", "pilot", "portal_post", "BAD_USER_INPUT"),  # another project of the customer
        ("admin", "loyalty", "portal_post", "BAD_USER_INPUT"),  # another customer's project
        ("gus", "loyalty", "portal_post", "NOT_FOUND"),  # a post gus may not see
        ("max", "portal", "portal_internal_post", "NOT_FOUND"),  # internal: staff only
    ],
)
async def test_a_reply_outside_the_posts_reach_is_refused(
    api: Api, world: World, author: str, project: str, parent: str, code: str
) -> None:
    # given
    before = await _rows()
    # when
    result = await _post(
        api,
        world.users()[author],
        getattr(world, project),
        "A reply",
        inReplyToId=gid(getattr(world, parent)),
    )
    # then
    assert result.data == {"postMicropost": None}
    assert result.codes == [code]
    assert await _rows() == before


async def test_reply_count_counts_only_replies_the_viewer_may_see(api: Api, world: World) -> None:
    # given
    parent = {"inReplyToId": gid(world.portal_post)}
    await _post(api, world.max, world.portal, "Shared reply", **parent)
    await _post(api, world.sam, world.portal, "Staff aside", visibility="INTERNAL", **parent)
    # when
    as_staff = (await api(REPLIES, {"id": gid(world.portal_post)}, as_user=world.sam)).data
    as_contact = (await api(REPLIES, {"id": gid(world.portal_post)}, as_user=world.max)).data
    # then
    assert as_staff["node"]["replyCount"] == 2
    assert as_staff["node"]["replies"]["totalCount"] == 2
    assert as_contact["node"]["replyCount"] == 1
    assert [e["node"]["body"] for e in as_contact["node"]["replies"]["edges"]] == ["Shared reply"]


async def test_editing_keeps_the_earlier_texts_and_relinks_references(
    api: Api, world: World
) -> None:
    # given
    original = world.portal_post.body
    await _edit(api, world.sam, world.portal_post, "Second text")
    # when
    result = await _edit(api, world.sam, world.portal_post, "Third text #release @anna")
    # then
    assert result.errors == []
    post = result.data["editMicropost"]["micropost"]
    assert post["body"] == "Third text #release @anna"
    assert post["editedAt"] is not None
    assert post["edits"] == [
        {"previousBody": original, "editor": {"handle": "sam"}},
        {"previousBody": "Second text", "editor": {"handle": "sam"}},
    ]
    assert post["mentions"] == [{"handle": "anna"}]
    assert post["topics"] == [{"name": "release"}]
    assert await MicropostEdit.filter(micropost_id=world.portal_post.id).count() == 2
    edited = Event.filter(micropost_id=world.portal_post.id, kind=EventKind.MICROPOST_EDITED)
    assert await edited.count() == 2


async def test_editing_to_the_same_text_records_nothing(api: Api, world: World) -> None:
    # given
    before = await _rows()
    # when
    result = await _edit(api, world.sam, world.portal_post, world.portal_post.body)
    # then
    assert result.errors == []
    assert result.data["editMicropost"]["micropost"]["editedAt"] is None
    assert await _rows() == before


@pytest.mark.parametrize(
    ("editor", "code"),
    [
        ("anna", "FORBIDDEN"),
        ("max", "FORBIDDEN"),
        ("admin", "FORBIDDEN"),
        ("stan", "FORBIDDEN"),
        ("gus", "NOT_FOUND"),
    ],
)
async def test_only_the_author_may_edit(api: Api, world: World, editor: str, code: str) -> None:
    # given
    before = await _rows()
    # when
    result = await _edit(api, world.users()[editor], world.portal_post, "Hijacked")
    # then
    assert result.data == {"editMicropost": None}
    assert result.codes == [code]
    assert await _rows() == before
    assert (await Micropost.get(id=world.portal_post.id)).body == world.portal_post.body


@pytest.mark.parametrize(("viewer", "bodies"), [("sam", 2), ("admin", 2), ("anna", 1), ("max", 1)])
async def test_internal_notes_are_on_the_timeline_for_staff_only(
    api: Api, world: World, viewer: str, bodies: int
) -> None:
    # when
    result = await api(
        TIMELINE, {"id": gid(world.portal), "first": 10}, as_user=world.users()[viewer]
    )
    # then
    timeline = result.data["project"]["timeline"]
    assert timeline["totalCount"] == bodies
    expected = [world.portal_internal_post.body, world.portal_post.body][-bodies:]
    assert [e["node"]["body"] for e in timeline["edges"]] == expected


async def test_a_body_of_the_maximum_length_is_accepted(api: Api, world: World) -> None:
    # when
    result = await _post(api, world.max, world.portal, "x" * 5_000)
    # then
    assert result.errors == []
    assert len(result.data["postMicropost"]["micropost"]["body"]) == 5_000


@pytest.mark.parametrize("body", ["", "  \n\t ", "x" * 5_001])
async def test_an_empty_or_too_long_body_is_refused_and_writes_nothing(
    api: Api, world: World, body: str
) -> None:
    # given
    before = await _rows()
    # when
    posted = await _post(api, world.max, world.portal, body)
    edited = await _edit(api, world.sam, world.portal_post, body)
    # then
    for result in (posted, edited):
        assert result.codes == ["BAD_USER_INPUT"]
        assert result.errors[0]["extensions"]["field"] == "body"
    assert "5,001" in posted.errors[0]["message"] or not body.strip()
    assert await _rows() == before


@pytest.mark.parametrize(
    ("author", "visibility", "code"),
    [
        ("max", "INTERNAL", "FORBIDDEN"),
        ("stan", "SHARED", "FORBIDDEN"),
        ("mia", "SHARED", "NOT_FOUND"),
    ],
)
async def test_posting_beyond_ones_rights_is_refused(
    api: Api, world: World, author: str, visibility: str, code: str
) -> None:
    # given
    before = await _rows()
    # when
    result = await _post(api, world.users()[author], world.portal, "Hello", visibility=visibility)
    # then
    assert result.codes == [code]
    assert await _rows() == before


@pytest.mark.parametrize("visibility", ["SHARED", "INTERNAL"])
async def test_each_post_and_edit_writes_one_event_with_its_visibility(
    api: Api, world: World, visibility: str
) -> None:
    # when
    posted = await _post(api, world.sam, world.portal, "Draft", visibility=visibility)
    await _edit(api, world.sam, posted.data["postMicropost"]["micropost"]["id"], "Final")
    # then
    post = await Micropost.get(body="Final")
    events = await Event.filter(micropost_id=post.id).order_by("id")
    assert [(e.kind, e.visibility.value, e.actor_id) for e in events] == [
        (EventKind.MICROPOST_POSTED, visibility, world.sam.id),
        (EventKind.MICROPOST_EDITED, visibility, world.sam.id),
    ]
    assert {e.project_id for e in events} == {world.portal.id}


@pytest.mark.parametrize(
    ("body", "present", "absent"),
    [
        ("<script>alert(1)</script>", "&lt;script&gt;", "<script"),
        ('<img src=x onerror="alert(1)">', "&lt;img", "<img"),
        ("[x](javascript:alert(1))", "[x](javascript:alert(1))", "<a"),
        ("[x](JaVaScRiPt:alert(1))", "JaVaScRiPt", "href"),
        ("[x](data:text/html;base64,PHNjcmlwdD4=)", "data:text/html", "href"),
        ("**Bold** [site](https://example.com)", '<a href="https://example.com"', "<script"),
    ],
)
async def test_markdown_is_rendered_to_safe_html(
    api: Api, world: World, body: str, present: str, absent: str
) -> None:
    # when
    result = await _post(api, world.max, world.portal, body)
    # then
    html = result.data["postMicropost"]["micropost"]["bodyHtml"]
    assert present in html
    assert absent not in html


async def test_links_are_marked_as_user_content(api: Api, world: World) -> None:
    # when
    result = await _post(api, world.max, world.portal, "**Bold** [site](https://example.com)")
    # then
    assert result.data["postMicropost"]["micropost"]["bodyHtml"] == (
        '<p><strong>Bold</strong> <a href="https://example.com" '
        'rel="nofollow noopener noreferrer ugc">site</a></p>\n'
    )


async def test_the_timeline_pages_newest_first_without_duplicates_or_gaps(
    api: Api, world: World
) -> None:
    # given
    for n in range(7):
        await _post(api, world.max, world.portal, f"Update {n}")
    expected = [f"Update {n}" for n in reversed(range(7))] + [world.portal_post.body]
    seen: list[str] = []
    after = None
    # when
    for _ in range(5):
        variables = {"id": gid(world.portal), "first": 3, "after": after}
        page = (await api(TIMELINE, variables, as_user=world.max)).data["project"]["timeline"]
        assert page["totalCount"] == len(expected)
        seen += [edge["node"]["body"] for edge in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    # then
    assert seen == expected


@pytest.mark.parametrize(
    ("first", "after"),
    [
        (101, None),
        (-1, None),
        (3, "garbage"),
        (3, "!!!"),
        (3, _cursor("cursor:abc")),
        (3, _cursor("page:5")),
        (3, _cursor("cursor:-5")),
        (3, _cursor("cursor:3000000000")),  # beyond any row id: PostgreSQL would fail on it
        (3, _cursor("cursor:" + "9" * 30)),
    ],
)
async def test_an_invalid_page_request_is_bad_user_input(
    api: Api, world: World, first: int, after: str | None
) -> None:
    # when
    variables = {"id": gid(world.portal), "first": first, "after": after}
    result = await api(TIMELINE, variables, as_user=world.max)
    # then
    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["path"] == ["project", "timeline"]
