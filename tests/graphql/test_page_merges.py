"""Co-editing a concept page: an edit of an older revision is merged with what was written
since, overlapping edits are refused with both sides and kept as the author's draft, and
any two revisions can be compared."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from actions import pages
from domain.errors import Conflict
from models import Event, EventKind, Page, PageDraft, PageRevision, User
from realtime.bus import EventBus
from tests.conftest import Api, Result, gid
from tests.world import World

BASE = "# Booking concept\n\nGoals: three taps.\n\nOffline in the yard.\n\nPilot in May.\n"

UPDATE = """
mutation ($input: UpdatePageInput!) {
  updatePage(input: $input) { merged page { title body revision } revision { number } }
}
"""

PAGE = """
query ($id: ID!, $from: Int!, $to: Int!) {
  page(id: $id) {
    revision body
    draft { baseRevision title body }
    diff(fromRevision: $from, toRevision: $to) {
      fromRevision toRevision titleChanged unified
      hunks { oldStart oldLines newStart newLines lines { kind text } }
    }
  }
}
"""

DISCARD = "mutation ($id: ID!) { discardPageDraft(input: {pageId: $id}) { discarded } }"


@pytest.fixture
async def page(world: World, bus: EventBus) -> Page:
    """The portal page at revision 2 with a body of four paragraphs."""
    await pages.update_page(
        world.sam, bus, page_id=world.portal_page.id, base_revision=1, body=BASE
    )
    return await Page.get(id=world.portal_page.id)


async def _update(api: Api, editor: User, page: Page, base: int, **change: object) -> Result:
    variables = {"input": {"pageId": gid(page), "baseRevision": base, **change}}
    return await api(UPDATE, variables, as_user=editor)


async def _page(api: Api, reader: User, page: Page, diff: tuple[int, int] = (1, 1)) -> Any:
    variables = {"id": gid(page), "from": diff[0], "to": diff[1]}
    result = await api(PAGE, variables, as_user=reader)
    assert result.errors == [], result.errors
    return result.data["page"]


async def test_edits_of_different_paragraphs_from_the_same_revision_both_survive(
    api: Api, world: World, page: Page
) -> None:
    # given sam and max both open revision 2; sam saves first
    sams = BASE.replace("three taps", "two taps")
    first = await _update(api, world.sam, page, 2, body=sams, summary="Fewer taps")
    assert first.data["updatePage"]["merged"] is False
    # when max saves his edit of another paragraph, made on revision 2
    maxs = BASE.replace("Pilot in May.", "Pilot in June.")
    result = await _update(api, world.max, page, 2, body=maxs, summary="Later pilot")
    # then both edits are in revision 4, which says it was merged
    assert result.errors == []
    update = result.data["updatePage"]
    assert update["merged"] is True
    assert update["revision"] == {"number": 4}
    expected = BASE.replace("three taps", "two taps").replace("in May", "in June")
    assert update["page"] == {"title": "Acme booking concept", "body": expected, "revision": 4}
    events = await Event.filter(page_id=page.id, kind=EventKind.PAGE_UPDATED).order_by("id")
    assert [(e.actor_id, e.payload["revision"]) for e in events][-2:] == [
        (world.sam.id, 3),
        (world.max.id, 4),
    ]
    assert await PageDraft.all().count() == 0


async def test_overlapping_edits_are_a_conflict_with_both_sides_and_a_draft(
    api: Api, world: World, bus: EventBus, page: Page
) -> None:
    # given sam changed the goals paragraph since revision 2
    await pages.update_page(
        world.sam,
        bus,
        page_id=page.id,
        base_revision=2,
        body=BASE.replace("three taps", "two taps"),
    )
    revisions_before = await PageRevision.filter(page_id=page.id).count()
    events_before = await Event.all().count()
    # when max submits his change of the same paragraph, made on revision 2
    mine = BASE.replace("three taps", "one tap").replace("Pilot in May.", "Pilot in June.")
    result = await _update(api, world.max, page, 2, body=mine)
    # then it is refused with the current revision and both sides of the hunk
    assert result.codes == ["CONFLICT"]
    assert result.data == {"updatePage": None}
    extensions = result.errors[0]["extensions"]
    assert extensions["currentRevision"] == 3
    assert extensions["draftSaved"] is True
    assert extensions["conflicts"] == [
        {
            "field": "body",
            "baseStartLine": 3,
            "base": "Goals: three taps.\n",
            "current": "Goals: two taps.\n",
            "yours": "Goals: one tap.\n",
        }
    ]
    # and nothing was written to the page, but max's text is his draft (nobody else's)
    assert await PageRevision.filter(page_id=page.id).count() == revisions_before
    assert await Event.all().count() == events_before
    assert (await _page(api, world.max, page))["draft"] == {
        "baseRevision": 2,
        "title": None,
        "body": mine,
    }
    assert (await _page(api, world.sam, page))["draft"] is None
    # when max resolves it on the current revision
    resolved = BASE.replace("three taps", "one or two taps").replace("in May", "in June")
    again = await _update(api, world.max, page, 3, body=resolved)
    # then it is written and the draft is gone
    assert again.errors == []
    assert again.data["updatePage"]["page"]["body"] == resolved
    assert (await _page(api, world.max, page))["draft"] is None


async def test_titles_merge_when_one_side_changed_them_and_conflict_otherwise(
    api: Api, world: World, page: Page
) -> None:
    await _update(api, world.sam, page, 2, title="Booking flow")
    # a body edit of revision 2 keeps sam's new title
    merged = await _update(api, world.max, page, 2, body=BASE + "\nQuestions?\n")
    assert merged.data["updatePage"]["page"]["title"] == "Booking flow"
    assert merged.data["updatePage"]["merged"] is True
    # a different title from revision 2 conflicts
    result = await _update(api, world.max, page, 2, title="Booking app")
    assert result.codes == ["CONFLICT"]
    [hunk] = result.errors[0]["extensions"]["conflicts"]
    assert hunk == {
        "field": "title",
        "baseStartLine": 1,
        "base": "Acme booking concept",
        "current": "Booking flow",
        "yours": "Booking app",
    }


async def test_a_draft_can_be_discarded_by_its_author_only(
    api: Api, world: World, bus: EventBus, page: Page
) -> None:
    await pages.update_page(world.sam, bus, page_id=page.id, base_revision=2, body="Rewritten")
    with pytest.raises(Conflict):
        await pages.update_page(world.max, bus, page_id=page.id, base_revision=2, body="Mine")
    # a colleague cannot touch it
    other = await api(DISCARD, {"id": gid(page)}, as_user=world.anna)
    assert other.data == {"discardPageDraft": {"discarded": False}}
    assert await PageDraft.filter(author_id=world.max.id).count() == 1
    # its author can, once
    first = await api(DISCARD, {"id": gid(page)}, as_user=world.max)
    second = await api(DISCARD, {"id": gid(page)}, as_user=world.max)
    assert first.data == {"discardPageDraft": {"discarded": True}}
    assert second.data == {"discardPageDraft": {"discarded": False}}
    # and a contact of another customer learns nothing about the page
    foreign = await api(DISCARD, {"id": gid(page)}, as_user=world.gina)
    assert foreign.codes == ["NOT_FOUND"]


async def test_any_two_revisions_can_be_compared(api: Api, world: World, page: Page) -> None:
    await _update(api, world.max, page, 2, body=BASE.replace("Pilot in May.", "Pilot in June."))
    # when max compares revision 2 with revision 3
    diff = (await _page(api, world.max, page, diff=(2, 3)))["diff"]
    # then
    assert (diff["fromRevision"], diff["toRevision"], diff["titleChanged"]) == (2, 3, False)
    [hunk] = diff["hunks"]
    assert (hunk["oldStart"], hunk["oldLines"], hunk["newStart"], hunk["newLines"]) == (4, 4, 4, 4)
    assert [(line["kind"], line["text"]) for line in hunk["lines"]] == [
        ("CONTEXT", ""),
        ("CONTEXT", "Offline in the yard."),
        ("CONTEXT", ""),
        ("REMOVED", "Pilot in May."),
        ("ADDED", "Pilot in June."),
    ]
    assert diff["unified"].splitlines()[:3] == [
        "--- revision 2",
        "+++ revision 3",
        "@@ -4,4 +4,4 @@",
    ]
    # backwards, and from the first revision, work too
    back = (await _page(api, world.max, page, diff=(3, 1)))["diff"]
    assert back["titleChanged"] is False
    assert back["unified"].endswith("+# Goals\n")
    # an unknown revision is NOT_FOUND
    result = await api(PAGE, {"id": gid(page), "from": 1, "to": 9}, as_user=world.max)
    assert result.codes == ["NOT_FOUND"]


@pytest.mark.parametrize("order", ["sam first", "max first", "at once"])
async def test_two_editors_saving_in_any_order_lose_no_word(
    world: World, bus: EventBus, page: Page, order: str
) -> None:
    # given both opened revision 2 and edited different paragraphs
    sams = BASE.replace("Offline in the yard.", "Offline in the yard and the depot.")
    maxs = BASE.replace("# Booking concept", "# Booking concept (draft)")

    async def sam() -> pages.PageUpdate:
        return await pages.update_page(world.sam, bus, page_id=page.id, base_revision=2, body=sams)

    async def max_() -> pages.PageUpdate:
        return await pages.update_page(world.max, bus, page_id=page.id, base_revision=2, body=maxs)

    # when they save in this order (or both at once: the database serialises them)
    if order == "sam first":
        updates = [await sam(), await max_()]
    elif order == "max first":
        updates = [await max_(), await sam()]
    else:
        updates = list(await asyncio.gather(sam(), max_()))
    # then revision 4 has both edits, and exactly one of the saves was merged
    final = await Page.get(id=page.id)
    assert final.revision == 4
    assert final.body == BASE.replace(
        "Offline in the yard.", "Offline in the yard and the depot."
    ).replace("# Booking concept", "# Booking concept (draft)")
    assert sorted(u.merged for u in updates) == [False, True]
    assert sorted(u.revision.number for u in updates) == [3, 4]


async def test_editors_of_the_same_line_at_once_keep_every_word(
    world: World, bus: EventBus, page: Page
) -> None:
    sams = BASE.replace("Pilot in May.", "Pilot in April.")
    maxs = BASE.replace("Pilot in May.", "Pilot in July.")
    results = await asyncio.gather(
        pages.update_page(world.sam, bus, page_id=page.id, base_revision=2, body=sams),
        pages.update_page(world.max, bus, page_id=page.id, base_revision=2, body=maxs),
        return_exceptions=True,
    )
    # one of them is written, the other refused; the refused text is its author's draft
    written = [r for r in results if isinstance(r, pages.PageUpdate)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert (len(written), len(refused)) == (1, 1)
    final = await Page.get(id=page.id)
    draft = await PageDraft.get()
    assert {final.body, draft.body} == {sams, maxs}
    assert draft.author_id == (world.max.id if final.body == sams else world.sam.id)


WHAT_CHANGED = """
{ notifications(first: 5) { edges { node { event {
  __typename ... on PageUpdated { revision summary diff { fromRevision toRevision unified } }
} } } } }
"""


async def test_a_watcher_is_told_what_changed_with_the_diff(
    api: Api, world: World, page: Page
) -> None:
    # when max edits the page sam wrote
    await _update(api, world.max, page, 2, body=BASE.replace("May", "June"), summary="Later")
    # then sam's notification carries the summary and the change itself
    edges = (await api(WHAT_CHANGED, as_user=world.sam)).data["notifications"]["edges"]
    updates = [
        e["node"]["event"] for e in edges if e["node"]["event"]["__typename"] == "PageUpdated"
    ]
    assert updates[0]["revision"] == 3
    assert updates[0]["summary"] == "Later"
    diff = updates[0]["diff"]
    assert (diff["fromRevision"], diff["toRevision"]) == (2, 3)
    assert "-Pilot in May.\n+Pilot in June." in diff["unified"]


async def test_any_revision_is_fetched_by_its_number(api: Api, world: World, page: Page) -> None:
    query = """query ($id: ID!, $n: Int!) { page(id: $id) {
      revisionByNumber(number: $n) { number body author { handle } } } }"""
    first = await api(query, {"id": gid(page), "n": 1}, as_user=world.anna)
    assert first.data["page"]["revisionByNumber"] == {
        "number": 1,
        "body": "# Goals",
        "author": {"handle": "sam"},
    }
    missing = await api(query, {"id": gid(page), "n": 7}, as_user=world.anna)
    assert missing.codes == ["NOT_FOUND"]
    assert missing.data == {"page": {"revisionByNumber": None}}


DRIVER_APP = "# Driver app\n\nBooking in 2 taps.\n\nModules:\n- Booking\n- Billing\n- Reports\n"

PROPOSAL = """
query ($id: ID!) { page(id: $id) { revision body draft { baseRevision body proposal {
  baseRevision currentRevision title conflictCount titleConflict { base current yours }
  body {
    __typename
    ... on MergedLines { text }
    ... on PageConflictHunk { field baseStartLine base current yours }
  }
} } } }
"""


async def _proposal(api: Api, reader: User, page: Page) -> Any:
    result = await api(PROPOSAL, {"id": gid(page)}, as_user=reader)
    assert result.errors == [], result.errors
    return result.data["page"]


@pytest.fixture
async def driver_app(world: World, bus: EventBus) -> Page:
    """The portal page at revision 4, whose third line is "Booking in 2 taps."."""
    for n, body in enumerate(("# Driver app\n", "# Driver app\n\nModules:\n", DRIVER_APP)):
        await pages.update_page(
            world.sam, bus, page_id=world.portal_page.id, base_revision=n + 1, body=body
        )
    return await Page.get(id=world.portal_page.id)


async def test_editing_again_after_a_conflict_starts_from_the_merge_not_the_old_draft(
    api: Api, world: World, bus: EventBus, driver_app: Page
) -> None:
    # given max edits the "2 taps" line from revision 4, while sam saves revision 5
    # changing the same line and "- Billing"
    maxs = DRIVER_APP.replace("2 taps.", "2 taps, offline too.")
    sams = DRIVER_APP.replace("2 taps.", "two taps.").replace(
        "- Billing", "- Billing and invoicing"
    )
    await pages.update_page(world.sam, bus, page_id=driver_app.id, base_revision=4, body=sams)
    conflict = await _update(api, world.max, driver_app, 4, body=maxs)
    assert conflict.codes == ["CONFLICT"]
    # when max edits again: his draft is offered merged with revision 5
    page = await _proposal(api, world.max, driver_app)
    proposal = page["draft"]["proposal"]
    # then sam's other change is applied and only the shared line is left to choose
    assert (proposal["baseRevision"], proposal["currentRevision"]) == (4, 5)
    assert (proposal["title"], proposal["titleConflict"], proposal["conflictCount"]) == (
        "Acme booking concept",
        None,
        1,
    )
    assert proposal["body"] == [
        {"__typename": "MergedLines", "text": "# Driver app\n\n"},
        {
            "__typename": "PageConflictHunk",
            "field": "body",
            "baseStartLine": 3,
            "base": "Booking in 2 taps.\n",
            "current": "Booking in two taps.\n",
            "yours": "Booking in 2 taps, offline too.\n",
        },
        {
            "__typename": "MergedLines",
            "text": "\nModules:\n- Booking\n- Billing and invoicing\n- Reports\n",
        },
    ]
    # when max keeps his side of the hunk and saves from revision 5
    chosen = "".join(
        part["yours"] if part["__typename"] == "PageConflictHunk" else part["text"]
        for part in proposal["body"]
    )
    saved = await _update(api, world.max, driver_app, proposal["currentRevision"], body=chosen)
    # then revision 6 has his line and sam's "Billing and invoicing", and no draft is left
    assert saved.errors == []
    assert saved.data["updatePage"]["page"]["body"] == (
        "# Driver app\n\nBooking in 2 taps, offline too.\n\n"
        "Modules:\n- Booking\n- Billing and invoicing\n- Reports\n"
    )
    assert saved.data["updatePage"]["revision"] == {"number": 6}
    assert (await _proposal(api, world.max, driver_app))["draft"] is None


async def test_a_proposal_follows_the_page_and_is_its_authors_alone(
    api: Api, world: World, bus: EventBus, driver_app: Page
) -> None:
    # given max's draft from revision 4 conflicts with sam's revision 5
    sams = DRIVER_APP.replace("2 taps.", "two taps.")
    await pages.update_page(world.sam, bus, page_id=driver_app.id, base_revision=4, body=sams)
    maxs = DRIVER_APP.replace("2 taps.", "one tap.")
    with pytest.raises(Conflict):
        await pages.update_page(world.max, bus, page_id=driver_app.id, base_revision=4, body=maxs)
    # when anna saves revision 6 elsewhere on the page
    later = sams.replace("- Reports", "- Reports\n- Exports")
    await pages.update_page(world.anna, bus, page_id=driver_app.id, base_revision=5, body=later)
    # then max's proposal is against revision 6 and has anna's line
    proposal = (await _proposal(api, world.max, driver_app))["draft"]["proposal"]
    assert proposal["currentRevision"] == 6
    assert proposal["body"][-1]["text"].endswith("- Reports\n- Exports\n")
    # and nobody else sees max's draft or its proposal
    assert (await _proposal(api, world.anna, driver_app))["draft"] is None
    assert (await _proposal(api, world.sam, driver_app))["draft"] is None


async def test_a_text_with_conflict_markers_is_refused_unless_meant(
    api: Api, world: World, driver_app: Page
) -> None:
    # given a text that still holds a conflict as markers
    marked = DRIVER_APP.replace(
        "Booking in 2 taps.\n",
        "<<<<<<< yours\nBooking in 1 tap.\n||||||| revision 4\nBooking in 2 taps.\n"
        "=======\nBooking in two taps.\n>>>>>>> revision 5\n",
    )
    before = await PageRevision.filter(page_id=driver_app.id).count()
    # when it is saved as it is
    refused = await _update(api, world.max, driver_app, 4, body=marked)
    # then it is refused, naming the markers, and nothing is written
    assert refused.codes == ["BAD_USER_INPUT"]
    assert "conflict markers" in refused.errors[0]["message"]
    assert refused.errors[0]["extensions"]["field"] == "body"
    assert await PageRevision.filter(page_id=driver_app.id).count() == before
    # when the page is meant to show them (a guide to merging, say)
    meant = await _update(api, world.max, driver_app, 4, body=marked, allowConflictMarkers=True)
    # then it is saved, and later edits that keep them need no flag
    assert meant.errors == []
    again = await _update(api, world.sam, driver_app, 5, body=marked + "\nSee also: git.\n")
    assert again.errors == []
    # a title with markers is refused too; a setext heading's ======= line is no marker
    title = await _update(api, world.max, driver_app, 6, title=">>>>>>> revision 5")
    assert title.codes == ["BAD_USER_INPUT"]
    setext = await _update(api, world.max, driver_app, 6, body="Driver app\n=======\n")
    assert setext.errors == []
