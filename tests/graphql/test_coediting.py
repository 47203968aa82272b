"""No write to a page drops a change its writer had not seen: restores name the revision
they were decided on and merge like edits, moves name where the page was, and random
interleavings of edits, restores and conflict resolutions by several writers keep every line
a writer did not knowingly remove."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actions import pages
from domain.errors import Conflict
from models import AuditEntry, Event, Notification, Page, PageDraft, PageRevision, User
from realtime.bus import EventBus
from tests.conftest import Api, Result, gid
from tests.world import World

LAUNCH = "# Launch\n\nScope: booking.\n\nOwner: Sam.\n"
DECISION = "\nDECISION: ship on Monday\n"
RISKS = "\nRisks: none yet.\n"

RESTORE = """
mutation ($input: RestorePageRevisionInput!) {
  restorePageRevision(input: $input) { merged page { body revision } revision { number } }
}
"""
UPDATE = """
mutation ($input: UpdatePageInput!) {
  updatePage(input: $input) { merged page { body revision } revision { number } }
}
"""
DRAFT = """
query ($id: ID!) { page(id: $id) { draft { baseRevision proposal { currentRevision
  conflictCount body { __typename ... on MergedLines { text }
  ... on PageConflictHunk { base current yours } } } } } }
"""


async def _launch_page(world: World, bus: EventBus) -> Page:
    """A page of sam's at revision 3: anna's revision 2 widens the scope, her revision 3
    adds a decision at the end."""
    page = await pages.create_page(
        world.sam, bus, project_id=world.portal.id, title="Launch", body=LAUNCH
    )
    wider = LAUNCH.replace("booking.", "booking and billing.")
    await pages.update_page(world.anna, bus, page_id=page.id, base_revision=1, body=wider)
    await pages.update_page(
        world.anna, bus, page_id=page.id, base_revision=2, body=wider + DECISION
    )
    return page


async def _restore(api: Api, user: User, page: Page, revision: int, base: int) -> Result:
    variables = {"input": {"pageId": gid(page), "revision": revision, "baseRevision": base}}
    return await api(RESTORE, variables, as_user=user)


async def _counts(page: Page) -> tuple[int, int, int, int]:
    """Revisions, events and notifications of the page, and restores audited."""
    return (
        await PageRevision.filter(page_id=page.id).count(),
        await Event.filter(page_id=page.id).count(),
        await Notification.filter(event__page_id=page.id).count(),
        await AuditEntry.filter(action="page.restored").count(),
    )


async def test_a_restore_keeps_what_was_written_after_the_revision_it_was_decided_on(
    api: Api, world: World, bus: EventBus
) -> None:
    # given anna's revisions 2 and 3 (3 adds the decision); sam decided on revision 2
    page = await _launch_page(world, bus)
    twin = await _launch_page(world, bus)
    # when sam restores revision 1, decided on revision 2
    result = await _restore(api, world.sam, page, 1, base=2)
    # then revision 4 undoes revision 2 and keeps the decision, and says it merged
    assert result.errors == []
    restored = result.data["restorePageRevision"]
    assert restored["page"] == {"body": LAUNCH + DECISION, "revision": 4}
    assert restored["merged"] is True
    # as the same undo through updatePage from revision 2 does
    variables = {"input": {"pageId": gid(twin), "baseRevision": 2, "body": LAUNCH}}
    undo = await api(UPDATE, variables, as_user=world.sam)
    assert undo.data["updatePage"]["page"]["body"] == restored["page"]["body"]
    # and anna, whose revisions these are, is told of revision 4
    latest = await Event.filter(page_id=page.id).order_by("-id").first()
    assert latest is not None
    assert latest.payload["revision"] == 4
    assert await Notification.filter(user_id=world.anna.id, event_id=latest.id).exists()
    entry = await AuditEntry.get(action="page.restored", target=f"page:{page.id}")
    assert entry.details == {"restored": 1, "revision": 4}


async def test_a_restore_over_lines_changed_since_is_a_conflict_kept_as_a_draft(
    api: Api, world: World, bus: EventBus
) -> None:
    # given anna's revision 4 changes the scope line again, after sam read revision 2
    page = await _launch_page(world, bus)
    body = (await Page.get(id=page.id)).body
    await pages.update_page(
        world.anna,
        bus,
        page_id=page.id,
        base_revision=3,
        body=body.replace("booking and billing.", "booking, billing, reports."),
    )
    before = await _counts(page)
    # when sam restores revision 1, decided on revision 2
    result = await _restore(api, world.sam, page, 1, base=2)
    # then nothing is written, and the conflict is offered as sam's draft to finish
    assert result.codes == ["CONFLICT"]
    assert result.errors[0]["extensions"]["conflicts"][0]["current"] == (
        "Scope: booking, billing, reports.\n"
    )
    assert await _counts(page) == before
    draft = (await api(DRAFT, {"id": gid(page)}, as_user=world.sam)).data["page"]["draft"]
    assert draft["baseRevision"] == 2
    proposal = draft["proposal"]
    assert (proposal["currentRevision"], proposal["conflictCount"]) == (4, 1)
    assert proposal["body"][-1] == {
        "__typename": "MergedLines",
        "text": "\nOwner: Sam.\n" + DECISION,
    }


@pytest.mark.parametrize("base", [3, 2])
async def test_restoring_the_text_the_page_has_writes_nothing_and_tells_nobody(
    api: Api, world: World, bus: EventBus, base: int
) -> None:
    # given the page at revision 3
    page = await _launch_page(world, bus)
    before = await _counts(page)
    # when sam restores revision 3 (decided on 3, or on 2 when 3 was not yet seen)
    result = await _restore(api, world.sam, page, 3, base=base)
    # then the answer is revision 3, and no revision, event, notification or audit entry
    assert result.errors == []
    assert result.data["restorePageRevision"]["revision"] == {"number": 3}
    assert await _counts(page) == before
    # as for an updatePage that changes nothing
    body = (await Page.get(id=page.id)).body
    variables = {"input": {"pageId": gid(page), "baseRevision": 3, "body": body}}
    same = await api(UPDATE, variables, as_user=world.sam)
    assert same.data["updatePage"]["revision"] == {"number": 3}
    assert await _counts(page) == before


async def test_a_restore_without_its_base_revision_is_refused_with_what_to_send(
    api: Api, world: World, bus: EventBus
) -> None:
    page = await _launch_page(world, bus)
    before = await _counts(page)
    # when a client written before restores named their base restores without it
    missing = await api(RESTORE, {"input": {"pageId": gid(page), "revision": 1}}, as_user=world.sam)
    # then it is BAD_USER_INPUT naming the field, and nothing is written
    assert missing.codes == ["BAD_USER_INPUT"]
    assert "baseRevision" in missing.errors[0]["message"]
    # an unknown base is refused too, with the current revision
    unknown = await _restore(api, world.sam, page, 1, base=9)
    assert unknown.codes == ["BAD_USER_INPUT"]
    assert unknown.errors[0]["extensions"]["currentRevision"] == 3
    assert await _counts(page) == before


@pytest.mark.parametrize(("user", "code"), [("stan", "FORBIDDEN"), ("gina", "NOT_FOUND")])
async def test_who_may_not_restore(
    api: Api, world: World, bus: EventBus, user: str, code: str
) -> None:
    page = await _launch_page(world, bus)
    before = await _counts(page)
    result = await _restore(api, world.users()[user], page, 1, base=3)
    assert result.codes == [code]
    assert await _counts(page) == before


async def test_a_move_and_an_edit_at_once_keep_both(world: World, bus: EventBus) -> None:
    # given a page and a parent for it
    page = await _launch_page(world, bus)
    parent = await pages.create_page(world.sam, bus, project_id=world.portal.id, title="Plans")
    edited = (await Page.get(id=page.id)).body + RISKS
    # when anna edits revision 3 while sam moves the page
    await asyncio.gather(
        pages.update_page(world.anna, bus, page_id=page.id, base_revision=3, body=edited),
        pages.move_page(world.sam, page_id=page.id, parent_id=parent.id, from_parent_id=None),
    )
    # then the page is under its parent and has every line of both writers
    final = await Page.get(id=page.id)
    assert final.parent_id == parent.id
    assert final.body == (await PageRevision.get(page_id=page.id, number=3)).body + RISKS


@pytest.mark.slow  # texts at the size limit of the diff's budget
async def test_a_draft_too_different_to_merge_line_by_line_is_offered_whole(
    api: Api, world: World, bus: EventBus
) -> None:
    # given a page rewritten since revision 1, and max's own rewrite of revision 1, both of
    # random lines that cannot be aligned within the work a merge may take
    def rewrite(seed: int) -> str:
        chosen = random.Random(seed)
        return "".join(f"{chosen.choice('ab')}\n" for _ in range(60_000))

    base, current, mine = rewrite(5), rewrite(6), rewrite(7)
    page = await pages.create_page(
        world.sam, bus, project_id=world.portal.id, title="Rewrite", body=base
    )
    await pages.update_page(world.sam, bus, page_id=page.id, base_revision=1, body=current)
    with pytest.raises(Conflict):
        await pages.update_page(world.max, bus, page_id=page.id, base_revision=1, body=mine)
    # when max edits again from his draft
    draft = (await api(DRAFT, {"id": gid(page)}, as_user=world.max)).data["page"]["draft"]
    # then the proposal chooses nothing for him: one hunk, the whole of each side
    assert draft["proposal"]["conflictCount"] == 1
    assert draft["proposal"]["body"] == [
        {"__typename": "PageConflictHunk", "base": base, "current": current, "yours": mine}
    ]


async def test_a_proposal_is_merged_once_however_many_aliases_ask(
    api: Api, world: World, bus: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given sam's restore of revision 1 decided on revision 2 conflicts, kept as his draft
    page = await _launch_page(world, bus)
    body = (await Page.get(id=page.id)).body
    changed = body.replace("booking and billing.", "booking only.")
    await pages.update_page(world.anna, bus, page_id=page.id, base_revision=3, body=changed)
    with pytest.raises(Conflict):
        await pages.restore_page_revision(
            world.sam, bus, page_id=page.id, revision=1, base_revision=2
        )
    merges: list[int] = []
    propose = pages._propose

    async def counted(draft: PageDraft, current: Page) -> pages.MergeProposal:
        merges.append(draft.id)
        return await propose(draft, current)

    monkeypatch.setattr(pages, "_propose", counted)
    # when a query asks for the proposal under ten aliases
    aliases = " ".join(
        f'p{n}: page(id: "{gid(page)}") {{ draft {{ proposal {{ conflictCount }} }} }}'
        for n in range(10)
    )
    result = await api(f"{{ {aliases} }}", as_user=world.sam)
    # then each answers it, and the merge was made once
    assert result.errors == []
    assert {a["draft"]["proposal"]["conflictCount"] for a in result.data.values()} == {1}
    assert len(merges) == 1


MOVE = """
mutation ($input: MovePageInput!) { movePage(input: $input) { page { parent { title } } } }
"""


async def test_a_move_made_meanwhile_is_not_undone_by_another(
    api: Api, world: World, bus: EventBus
) -> None:
    # given a page at the top that sam and anna both see there, and two possible parents
    page = await _launch_page(world, bus)
    plans, archive = [
        await pages.create_page(world.sam, bus, project_id=world.portal.id, title=title)
        for title in ("Plans", "Archive")
    ]

    # when sam moves it under Plans, and then anna, who saw it at the top, under Archive
    def move(parent: Page) -> dict[str, Any]:
        return {"input": {"pageId": gid(page), "parentId": gid(parent), "fromParentId": None}}

    first = await api(MOVE, move(plans), as_user=world.sam)
    second = await api(MOVE, move(archive), as_user=world.anna)
    # then anna is told, and the page stays where sam put it
    assert first.data == {"movePage": {"page": {"parent": {"title": "Plans"}}}}
    assert second.codes == ["CONFLICT"]
    assert second.errors[0]["extensions"]["field"] == "fromParentId"
    assert (await Page.get(id=page.id)).parent_id == plans.id
    # a move to where the page is already is no conflict, and changes nothing
    same = await api(MOVE, move(plans), as_user=world.anna)
    assert same.data == {"movePage": {"page": {"parent": {"title": "Plans"}}}}
    # and a move that says where it saw the page moves it
    variables = {"input": {"pageId": gid(page), "parentId": None, "fromParentId": gid(plans)}}
    top = await api(MOVE, variables, as_user=world.anna)
    assert top.data == {"movePage": {"page": {"parent": None}}}


async def test_a_move_that_does_not_say_where_the_page_was_is_refused(
    api: Api, world: World, bus: EventBus
) -> None:
    page = await _launch_page(world, bus)
    parent = await pages.create_page(world.sam, bus, project_id=world.portal.id, title="Plans")
    variables = {"input": {"pageId": gid(page), "parentId": gid(parent)}}
    result = await api(MOVE, variables, as_user=world.sam)
    assert result.codes == ["BAD_USER_INPUT"]
    assert "fromParentId" in result.errors[0]["message"]
    assert (await Page.get(id=page.id)).parent_id is None


# --- the kind: random interleavings -------------------------------------------------------


@dataclass
class Write:
    """What one committed revision was written from: the revision its writer had seen, and
    the text the writer asked for (their edit, the restored text, or their resolution)."""

    base: int
    wanted: str


@dataclass
class Story:
    page: Page
    seen: dict[int, int]  # writer -> the revision they last read
    writes: dict[int, Write] = field(default_factory=dict)  # revision -> how it was made
    fresh: int = 0

    def line(self) -> str:
        self.fresh += 1
        return f"line {self.fresh}\n"


async def _text(page: Page, revision: int) -> str:
    return (await PageRevision.get(page_id=page.id, number=revision)).body


def _edited(story: Story, text: str, kind: str, at: int) -> str:
    lines = text.splitlines(keepends=True)
    where = at % (len(lines) + 1)
    if kind == "insert" or not lines:
        lines.insert(where, story.line())
    elif kind == "delete":
        del lines[where % len(lines)]
    else:
        lines[where % len(lines)] = story.line()
    return "".join(lines)


@dataclass(frozen=True)
class Plan:
    """One writer's next step, drawn before any step of a round runs (so that the draws do
    not depend on which concurrent write the database serialises first)."""

    action: str  # read, edit or restore
    kind: str  # insert, delete or replace a line
    at: int  # where (modulo the lines), or which revision to restore (modulo the base)
    choices: tuple[str, ...]  # the side kept of each conflicting hunk met, in order


plans = st.builds(
    Plan,
    action=st.sampled_from(["read", "edit", "edit", "restore"]),
    kind=st.sampled_from(["insert", "delete", "replace"]),
    at=st.integers(0, 50),
    choices=st.lists(st.sampled_from(["current", "yours", "both"]), min_size=8, max_size=8).map(
        tuple
    ),
)


async def _resolve(story: Story, writer: User, bus: EventBus, plan: Plan, api: Api) -> None:
    """Finish the writer's draft from its proposal, choosing a side of each hunk, until it
    is written (a colleague may save in between)."""
    choices = iter(plan.choices * 8)
    for _ in range(5):
        result = await api(DRAFT, {"id": gid(story.page)}, as_user=writer)
        proposal = result.data["page"]["draft"]["proposal"]
        chosen = ""
        for part in proposal["body"]:
            if part["__typename"] == "MergedLines":
                chosen += part["text"]
                continue
            side = next(choices)
            chosen += part["current"] + part["yours"] if side == "both" else part[side]
        base = proposal["currentRevision"]
        write = pages.update_page(
            writer, bus, page_id=story.page.id, base_revision=base, body=chosen
        )
        if await _commit(story, writer, base, chosen, write):
            return
    raise AssertionError("a resolution did not get written in five attempts")


async def _commit(story: Story, writer: User, base: int, wanted: str, write: Any) -> bool:
    """Run one write; False when it answered CONFLICT."""
    try:
        update: pages.PageUpdate = await write
    except Conflict:
        return False
    if update.written:
        story.writes[update.revision.number] = Write(base, wanted)
    story.seen[writer.id] = update.revision.number
    return True


async def _step(story: Story, writer: User, bus: EventBus, plan: Plan, api: Api) -> None:
    page_id = story.page.id
    base = story.seen[writer.id]
    if plan.action == "read":
        story.seen[writer.id] = (await Page.get(id=page_id)).revision
        return
    if plan.action == "edit":
        wanted = _edited(story, await _text(story.page, base), plan.kind, plan.at)
        write = pages.update_page(writer, bus, page_id=page_id, base_revision=base, body=wanted)
    else:
        revision = plan.at % base + 1
        wanted = await _text(story.page, revision)
        write = pages.restore_page_revision(
            writer, bus, page_id=page_id, revision=revision, base_revision=base
        )
    if not await _commit(story, writer, base, wanted, write):
        await _resolve(story, writer, bus, plan, api)


@pytest.mark.slow  # a hypothesis search
@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rounds=st.lists(
        st.lists(st.tuples(st.sampled_from(["sam", "anna", "max"]), plans), min_size=1, max_size=2),
        min_size=1,
        max_size=10,
    )
)
async def test_no_interleaving_of_writes_drops_a_line_its_writer_had_not_seen(
    api: Api, world: World, bus: EventBus, rounds: list[list[tuple[str, Plan]]]
) -> None:
    # given a page of four lines that sam, anna and max have all read at revision 1
    writers = {name: world.users()[name] for name in ("sam", "anna", "max")}
    await PageDraft.all().delete()
    start = "".join(f"first {n}\n" for n in range(4))
    page = await pages.create_page(
        world.sam, bus, project_id=world.portal.id, title="Story", body=start
    )
    story = Story(page, {w.id: 1 for w in writers.values()})
    # when they read, edit and restore in turns, two of them at the same moment at times,
    # and finish each conflict from its proposal
    for steps in rounds:
        together = dict(steps)  # one step per writer and round
        await asyncio.gather(
            *(_step(story, writers[name], bus, plan, api) for name, plan in together.items())
        )
    # then every line a revision lost was in the text its writer had read and not in the
    # text the writer asked for: nobody dropped a line they had not seen
    final = (await Page.get(id=page.id)).revision
    for number in range(2, final + 1):
        before = set((await _text(page, number - 1)).splitlines())
        after = set((await _text(page, number)).splitlines())
        write = story.writes[number]
        seen = set((await _text(page, write.base)).splitlines())
        wanted = set(write.wanted.splitlines())
        for lost in before - after:
            assert lost in seen, (number, lost, write)
            assert lost not in wanted, (number, lost, write)
