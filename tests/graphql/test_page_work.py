"""The work a page request can cause stays bounded: diffs of any two texts (linear plus a
fixed budget, and computed once however many aliases, readers or subscribers ask), merges
(refused rather than run past the budget) and Markdown of large bodies (off the event
loop). Times are never asserted: the amount of work is, by counting it."""

from __future__ import annotations

import random
import re
import threading
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from starlette.applications import Starlette

from actions import pages
from domain import diffing, markdown
from graphql_schema.pages import types as page_types
from models import Page, PageDraft, PageRevision
from realtime.bus import EventBus
from realtime.channels import project_channel
from tests.conftest import Api, gid
from tests.live import GraphQLSocket, serve, until_subscribed
from tests.world import World

DIFF = """
query ($id: ID!, $from: Int!, $to: Int!) {
  page(id: $id) {
    diff(fromRevision: $from, toRevision: $to) {
      exact truncated unified
      hunks { oldStart oldLines newStart newLines lines { kind text } }
    }
  }
}
"""

UPDATE = """
mutation ($input: UpdatePageInput!) {
  updatePage(input: $input) { merged page { body revision } }
}
"""


def _lines(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def _alternating(count: int, first: str, second: str) -> str:
    return _lines([first if i % 2 == 0 else second for i in range(count)])


def _checklist(count: int) -> str:
    return _lines(["- [ ] item"] * count)


def _checked_every_other(count: int) -> str:
    return _lines(["- [x] item" if i % 2 else "- [ ] item" for i in range(count)])


def _random_lines(count: int, seed: int) -> str:
    chosen = random.Random(seed)
    return _lines([chosen.choice("ab") for _ in range(count)])


def _apply(old: str, unified: str) -> str:
    """The new text, from the old one and a unified diff of them."""
    old_lines = old.splitlines()
    out: list[str] = []
    at = 0
    for line in unified.splitlines()[2:]:
        if hunk := re.match(r"@@ -(\d+)(?:,(\d+))? ", line):
            start, count = int(hunk[1]), int(hunk[2] or 1)
            until = start - 1 if count else start
            out += old_lines[at:until]
            at = until
        elif line[0] in " -":
            assert old_lines[at] == line[1:]
            at += 1
            if line[0] == " ":
                out.append(line[1:])
        else:
            out.append(line[1:])
    return _lines(out + old_lines[at:]) if out or old_lines[at:] else ""


async def _page_with(world: World, bus: EventBus, *bodies: str) -> Page:
    """A page of the portal project whose revisions 1, 2, ... have these bodies."""
    page = await pages.create_page(
        world.sam, bus, project_id=world.portal.id, title="Checklist", body=bodies[0]
    )
    for number, body in enumerate(bodies[1:], start=1):
        await pages.update_page(world.sam, bus, page_id=page.id, base_revision=number, body=body)
    return page


async def _diff(api: Api, world: World, page: Page, span: tuple[int, int] = (1, 2)) -> Any:
    variables = {"id": gid(page), "from": span[0], "to": span[1]}
    result = await api(DIFF, variables, as_user=world.max)
    assert result.errors == [], result.errors
    return result.data["page"]["diff"]


async def test_eight_thousand_alternating_lines_differ_by_one_line_at_each_end(
    api: Api, world: World, bus: EventBus
) -> None:
    # given a page of 8,000 lines a/b updated to b/a (a quadratic case of the old matcher)
    old, new = _alternating(8_000, "a", "b"), _alternating(8_000, "b", "a")
    page = await _page_with(world, bus, old, new)
    # when a contact reads the diff
    diff = await _diff(api, world, page)
    # then it is the shortest one: the first line removed, an "a" added at the end
    spans = [(h["oldStart"], h["oldLines"], h["newStart"], h["newLines"]) for h in diff["hunks"]]
    assert spans == [(1, 4, 1, 3), (7998, 3, 7997, 4)]
    assert diff["hunks"][0]["lines"][0] == {"kind": "REMOVED", "text": "a"}
    assert diff["hunks"][1]["lines"][-1] == {"kind": "ADDED", "text": "a"}
    assert (diff["exact"], diff["truncated"]) == (True, False)
    assert _apply(old, diff["unified"]) == new


async def test_a_checklist_with_every_other_item_checked_diffs_exactly(
    api: Api, world: World, bus: EventBus
) -> None:
    old, new = _checklist(600), _checked_every_other(600)
    page = await _page_with(world, bus, old, new)
    diff = await _diff(api, world, page)
    kinds = [line["kind"] for hunk in diff["hunks"] for line in hunk["lines"]]
    assert (kinds.count("REMOVED"), kinds.count("ADDED")) == (300, 300)
    assert diff["exact"] is True
    assert _apply(old, diff["unified"]) == new


@pytest.mark.slow  # texts at the size limit of the diff's budget
async def test_texts_too_different_to_align_in_budget_give_a_coarser_correct_diff(
    api: Api, world: World, bus: EventBus
) -> None:
    # given two unrelated 200,000-character pages of the same two lines in random order
    old, new = _random_lines(100_000, seed=1), _random_lines(100_000, seed=2)
    page = await _page_with(world, bus, old, new)
    # when the diff is read
    diff = await _diff(api, world, page)
    # then it says it is coarse, shows 2,000 lines, and the unified diff still gives the
    # new text from the old one
    assert (diff["exact"], diff["truncated"]) == (False, True)
    assert sum(len(hunk["lines"]) for hunk in diff["hunks"]) == page_types.DIFF_LINES_SHOWN
    assert _apply(old, diff["unified"]) == new


@pytest.mark.slow  # texts at the size limit of the diff's budget
def test_every_diff_stays_within_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    # given a budget of steps that the matcher counts
    spent: list[int] = []
    real = diffing._myers

    def counted(a: Any, b: Any, budget: diffing.Budget) -> Any:
        before = budget.remaining
        result = real(a, b, budget)
        spent.append(before - budget.remaining)
        return result

    monkeypatch.setattr(diffing, "_myers", counted)
    shapes = [
        (_alternating(20_000, "a", "b"), _alternating(20_000, "b", "a")),
        (_checklist(6_000), _checked_every_other(6_000)),
        (_random_lines(50_000, seed=3), _random_lines(50_000, seed=4)),
        (_lines([str(i) for i in range(30_000)]), _lines([str(i) for i in range(30_000)][::-1])),
    ]
    for old, new in shapes:
        spent.clear()
        diff = diffing.diff_text(old, new)
        # then no diff took more than the budget, and each is a correct diff
        assert sum(spent) <= diffing.MYERS_BUDGET
        assert _apply(old, diff.unified) == new


async def test_fifteen_aliases_of_one_diff_compute_it_once(
    api: Api, world: World, bus: EventBus
) -> None:
    page = await _page_with(world, bus, _checklist(600), _checked_every_other(600))
    fields = " ".join(
        f"d{i}: diff(fromRevision: 1, toRevision: 2) {{ hunks {{ oldStart }} }}" for i in range(15)
    )
    before = diffing.computations
    result = await api(
        f"query ($id: ID!) {{ page(id: $id) {{ {fields} }} }}", {"id": gid(page)}, as_user=world.max
    )
    assert result.errors == []
    assert len({str(value) for value in result.data["page"].values()}) == 1
    assert diffing.computations - before == 1
    # and later readers find it computed
    await _diff(api, world, page)
    assert diffing.computations - before == 1


@pytest.mark.slow  # a request's whole diff allowance spent
async def test_one_request_spends_at_most_its_allowance_on_diffs(
    api: Api, world: World, bus: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given four pages whose diffs need 721,800 steps each, and an allowance that does
    # not refill during the test
    monkeypatch.setattr(diffing, "_clock", lambda: 0.0)
    spent: list[int] = []
    real = diffing._myers

    def counted(a: Any, b: Any, budget: diffing.Budget) -> Any:
        before = budget.remaining
        result = real(a, b, budget)
        spent.append(before - budget.remaining)
        return result

    monkeypatch.setattr(diffing, "_myers", counted)
    old, new = _checklist(1_200), _checked_every_other(1_200)
    ids = [gid(await _page_with(world, bus, old, new)) for _ in range(4)]
    fields = " ".join(
        f"p{n}: page(id: {page_id!r}) {{ diff(fromRevision: 1, toRevision: 2) {{ exact }} }}"
        for n, page_id in enumerate(ids)
    ).replace("'", '"')
    # when one request asks for all four
    first = await api(f"{{ {fields} }}", as_user=world.max)
    # then it spent no more than its allowance: two exact diffs, two coarser ones
    exact = [page["diff"]["exact"] for page in first.data.values()]
    assert sorted(exact) == [False, False, True, True]
    assert sum(spent) <= diffing.ALLOWANCE_BURST
    # and the coarser ones were not kept: the next request computes them exactly
    again = await api(f"{{ {fields} }}", as_user=world.max)
    assert [page["diff"]["exact"] for page in again.data.values()] == [True] * 4


@pytest.mark.slow  # a diff of the largest size
async def test_a_large_diff_is_computed_off_the_event_loop(
    api: Api, world: World, bus: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[threading.Thread] = []
    real = diffing.diff_text

    def recorded(*args: Any, **kwargs: Any) -> diffing.Diff:
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(page_types, "diff_text", recorded)
    page = await _page_with(world, bus, _checklist(6_000), _checked_every_other(6_000))
    await _diff(api, world, page)
    assert threads
    assert threads[0] is not threading.main_thread()


SUBSCRIBERS = [
    "subscription ($p: ID!) { projectTimeline(projectId: $p) {"
    " ... on PageUpdated { diff { hunks { oldStart } } } } }",
    "subscription ($p: ID!) { projectTimeline(projectId: $p) {"
    " ... on PageUpdated { revision diff { unified } } } }",
    "subscription ($p: ID!) { projectTimeline(projectId: $p) {"
    " ... on PageUpdated { a: diff { exact } b: diff { truncated } } } }",
]


@pytest.fixture
async def address(app: Starlette) -> AsyncIterator[str]:
    async with serve(app) as host_and_port:
        yield host_and_port


@pytest.mark.parametrize("count", [1, 6])
async def test_an_update_is_diffed_once_for_all_its_subscribers(
    api: Api, world: World, bus: EventBus, address: str, count: int
) -> None:
    # given subscribers of the project's timeline with different selections of the diff
    page = await _page_with(world, bus, _checklist(600))
    readers = [world.max, world.anna, world.sam, world.admin]
    async with AsyncExitStack() as stack:
        sockets = []
        for n in range(count):
            reader = readers[n % len(readers)]
            sock = await stack.enter_async_context(
                GraphQLSocket.open(address, api.token_for(reader))
            )
            assert (await sock.receive())["type"] == "connection_ack"
            await sock.subscribe("s", SUBSCRIBERS[n % len(SUBSCRIBERS)], {"p": gid(world.portal)})
            sockets.append(sock)
        await until_subscribed(bus, project_channel(world.portal.id), count)
        before = diffing.computations
        # when the page is updated
        await pages.update_page(
            world.sam, bus, page_id=page.id, base_revision=1, body=_checked_every_other(600)
        )
        events = []
        for sock in sockets:
            message = await sock.receive()
            assert message["type"] == "next", message
            events.append(message["payload"]["data"]["projectTimeline"])
    # then every subscriber got it, and the diff was computed once
    assert all(event for event in events)
    assert diffing.computations - before == 1


async def test_edits_of_different_checklist_items_merge(
    api: Api, world: World, bus: EventBus
) -> None:
    # given a checklist of 600 equal lines; sam checks the first item
    items = ["- [ ] item"] * 600
    page = await _page_with(world, bus, _lines(items), _lines(["- [x] item", *items[1:]]))
    # when max, still on revision 1, checks the last one
    mine = _lines([*items[:-1], "- [x] item"])
    variables = {"input": {"pageId": gid(page), "baseRevision": 1, "body": mine}}
    result = await api(UPDATE, variables, as_user=world.max)
    # then both checks are kept
    assert result.errors == []
    assert result.data["updatePage"]["merged"] is True
    body = result.data["updatePage"]["page"]["body"]
    assert body == _lines(["- [x] item", *items[1:-1], "- [x] item"])


@pytest.mark.slow  # texts at the size limit of the merge's budget
async def test_a_merge_too_large_to_align_is_refused_and_the_edit_kept(
    api: Api, world: World, bus: EventBus
) -> None:
    # given a page rewritten since revision 1 (unrelated random lines)
    base, current = _random_lines(60_000, seed=5), _random_lines(60_000, seed=6)
    page = await _page_with(world, bus, base, current)
    # when max submits his own rewrite made on revision 1
    mine = _random_lines(60_000, seed=7)
    variables = {"input": {"pageId": gid(page), "baseRevision": 1, "body": mine}}
    result = await api(UPDATE, variables, as_user=world.max)
    # then it is refused as a conflict that says why, and nothing is lost
    assert result.codes == ["CONFLICT"]
    error = result.errors[0]
    assert "too many places" in error["message"]
    assert error["extensions"]["draftSaved"] is True
    assert error["extensions"]["currentRevision"] == 2
    assert (await Page.get(id=page.id)).body == current
    assert await PageRevision.filter(page_id=page.id).count() == 2
    assert (await PageDraft.get(page_id=page.id, author_id=world.max.id)).body == mine


LARGE_BODIES = {
    "list items": "- a\n" * 50_000,
    "nested quotes": "> " * 100_000,
    "nested lists": "".join("  " * (i % 40) + "- x\n" for i in range(6_000)),
    "links": "[a](https://example.com/) " * 7_600,
    "emphasis": "*a _b **c " * 20_000,
    "table": "|a|b|\n|-|-|\n" + "|x|y|\n" * 33_000,
}


@pytest.mark.slow  # bodies of the largest size
@pytest.mark.parametrize("shape", list(LARGE_BODIES))
async def test_a_large_body_is_rendered_off_the_event_loop(
    world: World, bus: EventBus, monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    # given a page body of nearly 200,000 characters of one kind of markup
    body = LARGE_BODIES[shape][:199_990]
    threads: list[threading.Thread] = []
    real = markdown.render_markdown

    def recorded(source: str) -> str:
        threads.append(threading.current_thread())
        return real(source)

    monkeypatch.setattr(markdown, "render_markdown", recorded)
    # when the page is created with it and then updated
    page = await _page_with(world, bus, body, body + "\n\nthe end\n")
    # then it was rendered in a worker thread, both times
    assert len(threads) == 2
    assert all(thread is not threading.main_thread() for thread in threads)
    assert (await Page.get(id=page.id)).body_html.endswith("the end</p>\n")
