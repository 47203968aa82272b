"""Concept pages through the API: revisions with an optimistic base, restores, visibility."""

from __future__ import annotations

from typing import Any

import pytest

from actions import pages
from models import AuditEntry, Event, EventKind, Page, PageDraft, PageRevision, User
from realtime.bus import EventBus
from tests.conftest import Api, Result, gid
from tests.world import World

REVISION_FIELDS = "number summary title body author { handle }"

CREATE_PAGE = f"""
mutation ($input: CreatePageInput!) {{
  createPage(input: $input) {{
    page {{
      title body bodyHtml visibility revision createdBy {{ handle }}
      revisions {{ totalCount edges {{ node {{ {REVISION_FIELDS} }} }} }}
    }}
  }}
}}
"""

UPDATE_PAGE = f"""
mutation ($input: UpdatePageInput!) {{
  updatePage(input: $input) {{
    page {{ title body bodyHtml revision }}
    revision {{ {REVISION_FIELDS} }}
  }}
}}
"""

RESTORE = UPDATE_PAGE.replace("UpdatePageInput", "RestorePageRevisionInput").replace(
    "updatePage", "restorePageRevision"
)

PAGE = f"""
query ($id: ID!) {{
  page(id: $id) {{
    title body revision
    revisions {{ edges {{ node {{ {REVISION_FIELDS} }} }} }}
  }}
}}
"""

PROJECT_PAGES = """
query ($id: ID!) { project(id: $id) { pages { totalCount edges { node { title } } } } }
"""


async def _update(api: Api, editor: User, page: Page, base: int, **change: Any) -> Result:
    variables = {"input": {"pageId": gid(page), "baseRevision": base, **change}}
    return await api(UPDATE_PAGE, variables, as_user=editor)


async def _create(api: Api, author: User, project: Any, **fields: Any) -> Result:
    variables = {"input": {"projectId": gid(project), "title": "Acme rollout plan", **fields}}
    return await api(CREATE_PAGE, variables, as_user=author)


async def _restore(
    api: Api, editor: User, page: Page, revision: int, base: int | None = None
) -> Result:
    """Restore ``revision``, decided on ``base`` (the page's revision now when None)."""
    if base is None:
        base = (await Page.get(id=page.id)).revision
    variables = {"input": {"pageId": gid(page), "revision": revision, "baseRevision": base}}
    return await api(RESTORE, variables, as_user=editor)


async def _rows() -> tuple[int, int, int, int]:
    """Pages, revisions, events and audit entries other than the record of a refusal: what a
    refused input must leave as it was."""
    return (
        await Page.all().count(),
        await PageRevision.all().count(),
        await Event.all().count(),
        await AuditEntry.exclude(action="permission.denied").count(),
    )


async def _edit_twice(world: World, bus: EventBus) -> None:
    """Bring the portal page to revision 3."""
    for n in (2, 3):
        await pages.update_page(
            world.sam, bus, page_id=world.portal_page.id, base_revision=n - 1, body=f"Body {n}"
        )


async def test_a_new_page_has_revision_one(api: Api, world: World) -> None:
    # when
    result = await _create(api, world.max, world.portal, body="*Draft*", summary="First go")
    # then
    assert result.errors == []
    page = result.data["createPage"]["page"]
    assert page["revision"] == 1
    assert page["bodyHtml"] == "<p><em>Draft</em></p>\n"
    assert (page["visibility"], page["createdBy"]) == ("SHARED", {"handle": "max"})
    assert page["revisions"]["totalCount"] == 1
    assert page["revisions"]["edges"][0]["node"] == {
        "number": 1,
        "summary": "First go",
        "title": "Acme rollout plan",
        "body": "*Draft*",
        "author": {"handle": "max"},
    }
    row = await Page.get(title="Acme rollout plan")
    assert await PageRevision.filter(page_id=row.id).count() == 1
    assert await Event.filter(page_id=row.id, kind=EventKind.PAGE_CREATED).count() == 1


@pytest.mark.parametrize(
    ("change", "title", "body"),
    [
        ({"title": "Acme booking v2", "body": "# Goals v2"}, "Acme booking v2", "# Goals v2"),
        ({"title": "Acme booking v2"}, "Acme booking v2", "# Goals"),
        ({"body": ""}, "Acme booking concept", ""),
    ],
)
async def test_an_edit_from_the_current_revision_writes_the_next_one(
    api: Api, world: World, change: dict[str, str], title: str, body: str
) -> None:
    # when a contact who is a member of the project edits a shared page
    result = await _update(api, world.max, world.portal_page, 1, summary="Tidy", **change)
    # then
    assert result.errors == []
    assert result.data["updatePage"]["revision"] == {
        "number": 2,
        "summary": "Tidy",
        "title": title,
        "body": body,
        "author": {"handle": "max"},
    }
    page = (await api(PAGE, {"id": gid(world.portal_page)}, as_user=world.anna)).data["page"]
    assert (page["title"], page["body"], page["revision"]) == (title, body, 2)
    assert [e["node"]["number"] for e in page["revisions"]["edges"]] == [2, 1]
    events = await Event.filter(page_id=world.portal_page.id, kind=EventKind.PAGE_UPDATED)
    assert [(e.actor_id, e.payload["revision"]) for e in events] == [(world.max.id, 2)]


async def test_an_overlapping_edit_of_an_older_revision_is_a_conflict_and_writes_no_revision(
    api: Api, world: World, bus: EventBus
) -> None:
    # given
    await _edit_twice(world, bus)
    before = await _rows()
    # when
    result = await _update(api, world.max, world.portal_page, 2, body="My older edit")
    # then
    assert result.data == {"updatePage": None}
    assert result.codes == ["CONFLICT"]
    assert result.errors[0]["extensions"]["currentRevision"] == 3
    assert "revision 3" in result.errors[0]["message"]
    assert await _rows() == before
    assert (await Page.get(id=world.portal_page.id)).body == "Body 3"
    # the edit is not lost: it is max's draft (tests/graphql/test_page_merges.py)
    draft = await PageDraft.get(page_id=world.portal_page.id)
    assert (draft.author_id, draft.base_revision, draft.body) == (world.max.id, 2, "My older edit")


@pytest.mark.parametrize("base", [4, 0, -1])
async def test_a_base_revision_that_does_not_exist_is_bad_user_input(
    api: Api, world: World, bus: EventBus, base: int
) -> None:
    # given
    await _edit_twice(world, bus)
    before = await _rows()
    # when
    result = await _update(api, world.max, world.portal_page, base, body="Jump ahead")
    # then
    assert result.codes == ["BAD_USER_INPUT"]
    error = result.errors[0]
    assert (error["extensions"]["field"], error["extensions"]["currentRevision"]) == (
        "baseRevision",
        3,
    )
    assert await _rows() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({}, None),  # nothing to change
        ({"summary": "Only a summary"}, None),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"body": "x" * 200_001}, "body"),
        ({"body": "ok", "summary": "x" * 501}, "summary"),
    ],
)
async def test_an_invalid_edit_is_bad_user_input_and_writes_nothing(
    api: Api, world: World, change: dict[str, str], field: str | None
) -> None:
    # given
    before = await _rows()
    # when
    result = await _update(api, world.sam, world.portal_page, 1, **change)
    # then: refused by the action, or before it ran (a body over the limit)
    assert not (result.data or {}).get("updatePage")
    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0].get("extensions", {}).get("field") == field
    assert await _rows() == before


async def test_a_body_of_the_maximum_length_is_accepted(api: Api, world: World) -> None:
    # when
    created = await _create(api, world.sam, world.portal, body="a" * 200_000)
    updated = await _update(api, world.sam, world.portal_page, 1, body="b" * 200_000)
    # then
    assert created.errors == updated.errors == []
    assert len((await Page.get(title="Acme rollout plan")).body) == 200_000
    assert len((await Page.get(id=world.portal_page.id)).body) == 200_000


@pytest.mark.parametrize(
    "fields", [{"title": ""}, {"title": " \t "}, {"body": "x" * 200_001}, {"summary": "x" * 501}]
)
async def test_an_invalid_new_page_is_bad_user_input_and_writes_nothing(
    api: Api, world: World, fields: dict[str, str]
) -> None:
    # given
    before = await _rows()
    # when
    result = await _create(api, world.sam, world.portal, **fields)
    # then: refused by the action, or before it ran (a body over the limit)
    assert not (result.data or {}).get("createPage")
    assert result.codes == ["BAD_USER_INPUT"]
    assert await _rows() == before


async def test_restoring_writes_the_old_text_as_a_new_revision(
    api: Api, world: World, bus: EventBus
) -> None:
    # given
    await _edit_twice(world, bus)
    # when
    result = await _restore(api, world.max, world.portal_page, 1)
    # then
    assert result.errors == []
    assert result.data["restorePageRevision"]["revision"] == {
        "number": 4,
        "summary": "Restored revision 1",
        "title": "Acme booking concept",
        "body": "# Goals",
        "author": {"handle": "max"},
    }
    assert result.data["restorePageRevision"]["page"] == {
        "title": "Acme booking concept",
        "body": "# Goals",
        "bodyHtml": "<h1>Goals</h1>\n",
        "revision": 4,
    }
    assert await PageRevision.filter(page_id=world.portal_page.id).count() == 4
    entry = await AuditEntry.get(action="page.restored")
    assert (entry.actor_id, entry.target) == (world.max.id, f"page:{world.portal_page.id}")
    assert entry.details == {"restored": 1, "revision": 4}
    assert (
        await Event.filter(page_id=world.portal_page.id, kind=EventKind.PAGE_UPDATED).count() == 3
    )


@pytest.mark.parametrize("revision", [2, 0, -1])
async def test_restoring_an_unknown_revision_is_not_found(
    api: Api, world: World, revision: int
) -> None:
    # given
    before = await _rows()
    # when
    result = await _restore(api, world.sam, world.portal_page, revision)
    # then
    assert result.data == {"restorePageRevision": None}
    assert result.codes == ["NOT_FOUND"]
    assert await _rows() == before


@pytest.mark.parametrize("author", ["anna", "max"])
async def test_contacts_cannot_create_internal_pages(api: Api, world: World, author: str) -> None:
    # given
    before = await _rows()
    # when
    result = await _create(api, world.users()[author], world.portal, visibility="INTERNAL")
    # then
    assert result.data == {"createPage": None}
    assert result.codes == ["FORBIDDEN"]
    assert await _rows() == before


@pytest.mark.parametrize(
    ("viewer", "titles"),
    [
        ("sam", ["Acme booking concept", "Acme pricing internals"]),
        ("stan", ["Acme booking concept", "Acme pricing internals"]),
        ("anna", ["Acme booking concept"]),
        ("max", ["Acme booking concept"]),
    ],
)
async def test_internal_pages_are_listed_for_staff_only(
    api: Api, world: World, viewer: str, titles: list[str]
) -> None:
    # when
    result = await api(PROJECT_PAGES, {"id": gid(world.portal)}, as_user=world.users()[viewer])
    # then
    listed = result.data["project"]["pages"]
    assert [e["node"]["title"] for e in listed["edges"]] == titles
    assert listed["totalCount"] == len(titles)


@pytest.mark.parametrize("viewer", ["anna", "max", "gus"])
async def test_an_internal_page_is_not_found_for_contacts(
    api: Api, world: World, viewer: str
) -> None:
    # given
    contact = world.users()[viewer]
    before = await _rows()
    # when
    read = await api(PAGE, {"id": gid(world.portal_internal_page)}, as_user=contact)
    edit = await _update(api, contact, world.portal_internal_page, 1, body="Leaked?")
    restore = await _restore(api, contact, world.portal_internal_page, 1)
    # then
    assert read.data == {"page": None}
    for result in (read, edit, restore):
        assert result.codes == ["NOT_FOUND"]
    assert await _rows() == before


@pytest.mark.parametrize(
    ("editor", "code"),
    [("mia", "NOT_FOUND"), ("gus", "NOT_FOUND"), ("stan", "FORBIDDEN"), ("olivia", "FORBIDDEN")],
)
async def test_who_may_not_edit_a_shared_page(
    api: Api, world: World, editor: str, code: str
) -> None:
    # given
    before = await _rows()
    # when
    result = await _update(api, world.users()[editor], world.portal_page, 1, body="Mine now")
    # then
    assert result.codes == [code]
    assert await _rows() == before


@pytest.mark.parametrize(
    ("body", "html"),
    [
        ("## Scope\n\n- one\n- two", "<h2>Scope</h2>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"),
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"),
        ("[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>\n"),
    ],
)
async def test_the_body_is_rendered_to_safe_html(
    api: Api, world: World, body: str, html: str
) -> None:
    # when
    result = await _update(api, world.max, world.portal_page, 1, body=body)
    # then
    assert result.data["updatePage"]["page"]["bodyHtml"] == html
    assert result.data["updatePage"]["revision"]["body"] == body


async def test_saving_unchanged_text_writes_no_revision(api: Api, world: World) -> None:
    # given
    revisions = await PageRevision.filter(page_id=world.portal_page.id).count()
    events = await Event.all().count()
    # when the editor saves without changing anything
    result = await api(
        "mutation ($p: ID!) { updatePage(input: {pageId: $p, baseRevision: 1, "
        'title: "Acme booking concept", body: "# Goals"}) '
        "{ page { revision } revision { number } } }",
        {"p": gid(world.portal_page)},
        as_user=world.sam,
    )
    # then the current revision answers, and nothing is written
    assert result.data == {"updatePage": {"page": {"revision": 1}, "revision": {"number": 1}}}
    assert await PageRevision.filter(page_id=world.portal_page.id).count() == revisions
    assert await Event.all().count() == events
